// DynamoDB access of the webhooks context: subscriptions under their institution (with a count item
// that caps them, moved in the same transaction as each create and delete), and deliveries under
// their subscription, each one item that its attempts update.
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { deliveryAttempt, deliveryStatuses, webhook, webhookDelivery, type Webhook, type WebhookDelivery } from '#schemas/webhooks';
import { epochSeconds } from '#shared/clock';
import { ddb, decodeToken, encodeToken, newestFirstPage, tableName, writeTransaction } from '#shared/db';
import { problem } from '#shared/errors';
import type { AttemptOutcome } from './policy.ts';
import { DELIVERY_SK_PREFIX, deliveriesPartition, deliveryKey, WEBHOOK_SK_PREFIX, webhookCountKey, webhookKey, webhooksPartition } from './keys.ts';
import { MAX_WEBHOOKS_PER_INSTITUTION, previousStillSigns } from './policy.ts';

/** Recent deliveries: a month of them, then DynamoDB's TTL removes them. */
const DELIVERY_TTL_SECONDS = 30 * 24 * 3600;
/** Attempts shown (the schedule makes at most 13; a message SQS delivered twice may add one). */
const MAX_ATTEMPTS_SHOWN = 20;

const webhookItem = webhook.extend({
  institutionId: z.string(),
  /** KMS ciphertext of the signing secret, base64 (secret-box.ts); never the secret. */
  secretCiphertext: z.string().min(1),
  /** The secret the last change replaced, still signed with until previousSecretExpiresAt. */
  previousSecretCiphertext: z.string().min(1).optional(),
});
export type StoredWebhook = z.infer<typeof webhookItem>;

/** The subscription as its owner reads it: no secret, and the replaced one's day only while it lasts. */
export const toWebhook = (w: StoredWebhook, now: Date): Webhook => ({
  webhookId: w.webhookId, url: w.url, events: w.events, createdAt: w.createdAt,
  ...(previousStillSigns(w, now) ? { previousSecretExpiresAt: w.previousSecretExpiresAt } : {}),
});

/**
 * A new secret for the institution's subscription; the one it replaces is kept (signed with too)
 * until `previousUntil`. A second change within that day drops the oldest. Undefined when the
 * institution has no subscription by that id.
 */
export async function replaceSecret(institutionId: string, webhookId: string, secretCiphertext: string, previousUntil: string): Promise<StoredWebhook | undefined> {
  try {
    const { Attributes } = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(institutionId, webhookId),
        // Operands read the item as it was: the previous secret is the one being replaced.
        UpdateExpression: 'SET previousSecretCiphertext = secretCiphertext, secretCiphertext = :secret, previousSecretExpiresAt = :until',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':secret': secretCiphertext, ':until': previousUntil },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return webhookItem.parse(Attributes);
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

export async function insertWebhook(w: StoredWebhook): Promise<void> {
  await writeTransaction([
    {
      write: {
        Update: {
          TableName: tableName(),
          Key: webhookCountKey(w.institutionId),
          UpdateExpression: 'SET #count = if_not_exists(#count, :zero) + :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': MAX_WEBHOOKS_PER_INSTITUTION },
        },
      },
      onConditionFailed: () => problem('conflict', `an institution has at most ${MAX_WEBHOOKS_PER_INSTITUTION} webhooks; delete one first`),
    },
    {
      write: { Put: { TableName: tableName(), Item: { ...webhookKey(w.institutionId, w.webhookId), entity: 'webhook', ...w }, ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed: () => new Error(`webhook id ${w.webhookId} collided`),
    },
  ]);
}

/** The subscription, if it belongs to that institution (another's id is simply not there). */
export async function getWebhook(institutionId: string, webhookId: string): Promise<StoredWebhook | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: webhookKey(institutionId, webhookId), ConsistentRead: true }));
  return Item ? webhookItem.parse(Item) : undefined;
}

/** Deletes the subscription of that institution; false when it has none by that id. */
export async function deleteWebhook(institutionId: string, webhookId: string): Promise<boolean> {
  try {
    await writeTransaction([
      {
        write: { Delete: { TableName: tableName(), Key: webhookKey(institutionId, webhookId), ConditionExpression: 'attribute_exists(PK)' } },
        onConditionFailed: () => new NoSuchWebhook(),
      },
      {
        write: {
          Update: {
            TableName: tableName(),
            Key: webhookCountKey(institutionId),
            UpdateExpression: 'SET #count = #count - :one',
            ConditionExpression: '#count > :zero',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
          },
        },
      },
    ]);
    return true;
  } catch (err) {
    if (err instanceof NoSuchWebhook) return false;
    throw err;
  }
}
class NoSuchWebhook extends Error {}

export async function listWebhooks(institutionId: string, page: { limit: number; nextToken?: string }): Promise<{ items: StoredWebhook[]; nextToken?: string }> {
  const partition = { PK: webhooksPartition(institutionId) };
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': partition.PK, ':prefix': WEBHOOK_SK_PREFIX },
      Limit: page.limit,
      ExclusiveStartKey: decodeToken(page.nextToken, partition, WEBHOOK_SK_PREFIX),
    }),
  );
  return { items: (res.Items ?? []).map((i) => webhookItem.parse(i)), nextToken: encodeToken(res.LastEvaluatedKey) };
}

/** Every subscription of the institution (at most MAX_WEBHOOKS_PER_INSTITUTION: one page). */
export const webhooksOf = async (institutionId: string) => (await listWebhooks(institutionId, { limit: MAX_WEBHOOKS_PER_INSTITUTION + 1 })).items;

// ── deliveries ──

const deliveryItem = webhookDelivery.extend({
  webhookId: z.string(),
  institutionId: z.string(),
  attempts: z.array(deliveryAttempt).default([]).transform((a) => a.slice(-MAX_ATTEMPTS_SHOWN)),
});
export type StoredDelivery = z.infer<typeof deliveryItem>;

export const toDelivery = ({ webhookId: _w, institutionId: _i, ...d }: StoredDelivery): WebhookDelivery => d;

export interface NewDelivery {
  deliveryId: string;
  webhookId: string;
  institutionId: string;
  eventId: string;
  type: string;
  occurredAt: string;
  /** The message's data, so the list can say what a delivery was about. */
  data: Record<string, string>;
}

/**
 * Records a delivery before it is queued. The same event for the same subscription makes the same
 * item: when it exists already (the event came twice), returns its status, so the caller queues
 * again only one that is not finished.
 */
export async function recordDelivery(d: NewDelivery, now: Date): Promise<{ created: true } | { created: false; status: (typeof deliveryStatuses)[number] }> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...deliveryKey(d.webhookId, d.occurredAt, d.deliveryId),
          entity: 'webhookDelivery',
          // Named, not spread: the queued message it is called with also carries the whole body.
          deliveryId: d.deliveryId,
          webhookId: d.webhookId,
          institutionId: d.institutionId,
          eventId: d.eventId,
          type: d.type,
          occurredAt: d.occurredAt,
          data: d.data,
          status: 'pending',
          attempts: [],
          createdAt: now.toISOString(),
          expiresAt: epochSeconds(now) + DELIVERY_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { created: true };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const status = z.enum(deliveryStatuses).catch('pending').parse((err.Item as Record<string, { S?: string }> | undefined)?.status?.S);
    return { created: false, status };
  }
}

export async function getDelivery(webhookId: string, occurredAt: string, deliveryId: string): Promise<StoredDelivery | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: deliveryKey(webhookId, occurredAt, deliveryId), ConsistentRead: true }));
  return Item ? deliveryItem.parse(Item) : undefined;
}

/** Appends an attempt and sets the delivery's status (and when it is tried next, if it is). */
export async function recordAttempt(
  key: { webhookId: string; occurredAt: string; deliveryId: string },
  attempt: AttemptOutcome & { at: string },
  status: 'retrying' | 'delivered' | 'failed',
  nextAttemptAt?: string,
): Promise<void> {
  const { ok: _ok, ...kept } = attempt;
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: deliveryKey(key.webhookId, key.occurredAt, key.deliveryId),
      UpdateExpression: `SET #status = :status, attempts = list_append(if_not_exists(attempts, :none), :attempt)${nextAttemptAt ? ', nextAttemptAt = :next' : ''} ${nextAttemptAt ? '' : 'REMOVE nextAttemptAt'}`,
      // A delivery the TTL removed stays removed.
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': status, ':attempt': [kept], ':none': [], ...(nextAttemptAt ? { ':next': nextAttemptAt } : {}) },
    }),
  ).catch((err: unknown) => {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  });
}

export function listDeliveries(webhookId: string, page: { limit: number; nextToken?: string }): Promise<{ items: StoredDelivery[]; nextToken?: string }> {
  return newestFirstPage(deliveriesPartition(webhookId), { ...page, sortKeyPrefix: DELIVERY_SK_PREFIX }, (i) => deliveryItem.parse(i));
}
