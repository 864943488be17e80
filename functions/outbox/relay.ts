// Outbox relay: the table stream (filtered to inserted outbox items) → PutEvents on the province bus.
// On a failure it reports the first unpublished record, so the stream retries from there: nothing
// is lost, and what is published twice is absorbed by idempotent consumers. Records the stream gave
// up on are republished from the table by infra/ops/republish-outbox.ts, with the same two functions.
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { OUTBOX_PREFIX, type OutboxItem } from '#shared/outbox';

const eventBridge = new EventBridgeClient({});
const busName = requireEnv('EVENT_BUS_NAME');
/** PutEvents takes at most 10 entries. */
export const PUT_EVENTS_BATCH = 10;

/** The PutEvents entry of an outbox item; its event id is the item's key after the prefix. */
export function outboxEntry(item: OutboxItem): PutEventsRequestEntry {
  const occurredAt = (JSON.parse(item.detail) as { occurredAt?: string }).occurredAt;
  return {
    EventBusName: busName,
    Source: item.source,
    DetailType: item.detailType,
    Detail: item.detail,
    Time: occurredAt ? new Date(occurredAt) : undefined,
  };
}

export const outboxEventId = (item: Pick<OutboxItem, 'PK'>) => item.PK.slice(OUTBOX_PREFIX.length);

/**
 * One PutEvents call (at most PUT_EVENTS_BATCH entries): the index of the first entry not published,
 * or -1 when all were. Failures are logged, not thrown: the caller decides how to retry.
 */
export async function putEntries(entries: PutEventsRequestEntry[]): Promise<number> {
  try {
    const res = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
    let firstFailed = (res.Entries ?? []).findIndex((e) => !!e.ErrorCode);
    if (firstFailed === -1 && (res.FailedEntryCount ?? 0) > 0) firstFailed = 0;
    if (firstFailed >= 0) {
      const failed = res.Entries?.[firstFailed];
      logger.warn('PutEvents rejected entries', { failedCount: res.FailedEntryCount, errorCode: failed?.ErrorCode });
    }
    return firstFailed;
  } catch (err) {
    logger.warn('PutEvents failed', { errorName: (err as Error).name, message: (err as Error).message });
    return 0;
  }
}

function toItem(record: DynamoDBRecord): OutboxItem | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>) as OutboxItem;
  return item.PK?.startsWith(OUTBOX_PREFIX) ? item : undefined;
}

export async function relay(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const pending = event.Records.flatMap((record) => {
    const item = toItem(record);
    return item ? [{ record, id: outboxEventId(item), entry: outboxEntry(item) }] : [];
  });
  // One line per invocation, not per event: which events left, to follow one from write to consumer.
  const published: string[] = [];
  const done = (failed?: DynamoDBRecord): DynamoDBBatchResponse => {
    if (published.length) logger.info('published', { count: published.length, eventIds: published });
    return { batchItemFailures: failed ? [{ itemIdentifier: failed.dynamodb!.SequenceNumber! }] : [] };
  };
  for (let i = 0; i < pending.length; i += PUT_EVENTS_BATCH) {
    const batch = pending.slice(i, i + PUT_EVENTS_BATCH);
    const firstFailed = await putEntries(batch.map((p) => p.entry));
    published.push(...batch.slice(0, firstFailed === -1 ? batch.length : firstFailed).map((p) => p.id));
    if (firstFailed >= 0) {
      logger.warn('the stream will retry from the first unpublished record', { eventId: batch[firstFailed]!.id });
      return done(batch[firstFailed]!.record);
    }
  }
  return done();
}

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(relay);
