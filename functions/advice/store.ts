// DynamoDB access of the advice context. A request is one item (history included) carrying its
// worklist keys and, while open, its place on the SLA queue; every move replaces it with a Put
// conditioned on the status, version and receiver read, in one transaction with its outbox event.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { adviceRequest, type AdviceRequest, type AdviceStatus } from '#schemas/advice';
import { ddb, decodeToken, encodeToken, tableName, TransactionConflict, writeTransaction, type TxItem } from '#shared/db';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import type { PendingEvent } from './domain.ts';
import { adviceKey, incomingKey, incomingPartition, outgoingKey, outgoingPartition, slaQueueKey } from './keys.ts';

const adviceItem = z.object({ ...adviceRequest.shape, version: z.number().int().nonnegative() });
export type StoredAdvice = z.infer<typeof adviceItem>;

function itemOf(a: AdviceRequest, version: number): Record<string, unknown> {
  return {
    ...adviceKey(a.adviceId),
    ...incomingKey(a.toInstitutionId, a.status, a.updatedAt, a.adviceId),
    ...outgoingKey(a.fromInstitutionId, a.status, a.updatedAt, a.adviceId),
    ...(a.status === 'open' && a.slaDueAt ? slaQueueKey(a.slaDueAt, a.adviceId) : {}),
    entity: 'advice',
    ...a,
    version,
  };
}

export async function getAdvice(adviceId: string): Promise<StoredAdvice | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: adviceKey(adviceId), ConsistentRead: true }));
  return Item ? adviceItem.parse(Item) : undefined;
}

const eventItems = (list: readonly PendingEvent[], ctx: EventContext): TxItem[] => list.map((e) => outboxEvent(e.def, e.input, ctx));

export async function insertAdvice(a: AdviceRequest, announce: PendingEvent, ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: { Put: { TableName: tableName(), Item: itemOf(a, 0), ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed: () => new Error(`advice id ${a.adviceId} collided`),
    },
    ...eventItems([announce], ctx),
  ]);
}

/**
 * The write of a move, as transaction items: the request as `next` only if it is still in the
 * status, version and receiver it was read with. Lost to another move: 412 when the caller named
 * the version it acted on (If-Match), else 409 invalid-transition when the status changed, else
 * (moved away and back) TransactionConflict, so the caller re-reads and decides again.
 */
export function moveItems(before: StoredAdvice, next: AdviceRequest, announce: readonly PendingEvent[], ctx: EventContext, pinned = false): TxItem[] {
  return [
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: itemOf(next, before.version + 1),
          ConditionExpression: '#status = :status AND #version = :version AND #to = :to',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#to': 'toInstitutionId' },
          ExpressionAttributeValues: { ':status': before.status, ':version': before.version, ':to': before.toInstitutionId },
        },
      },
      onConditionFailed: (current) => {
        if (pinned && current && current.version !== before.version) {
          return problem('precondition-failed', `advice request ${before.adviceId} changed concurrently; reload it`);
        }
        const status = current?.status as AdviceStatus | undefined;
        if (status && status !== before.status) return problem('invalid-transition', `advice request ${before.adviceId} became ${status} concurrently`);
        if (current && current.toInstitutionId !== before.toInstitutionId) {
          return problem('invalid-transition', `advice request ${before.adviceId} was sent to another institution concurrently`);
        }
        return new TransactionConflict('advice request changed concurrently');
      },
    },
    ...eventItems(announce, ctx),
  ];
}

export async function writeMove(before: StoredAdvice, next: AdviceRequest, announce: readonly PendingEvent[], ctx: EventContext, pinned = false): Promise<void> {
  await writeTransaction(moveItems(before, next, announce, ctx, pinned));
}

export async function listBox(box: 'incoming' | 'outgoing', institutionId: string, status: AdviceStatus | undefined, limit: number, nextToken?: string) {
  const [index, partition] = box === 'incoming' ? (['GSI1', incomingPartition(institutionId)] as const) : (['GSI2', outgoingPartition(institutionId)] as const);
  const pk = `${index}PK`;
  const sk = `${index}SK`;
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: index,
      KeyConditionExpression: status ? '#pk = :pk AND begins_with(#sk, :status)' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': pk, ...(status ? { '#sk': sk } : {}) },
      ExpressionAttributeValues: { ':pk': partition, ...(status ? { ':status': `${status}#` } : {}) },
      Limit: limit,
      ExclusiveStartKey: decodeToken(nextToken, { [pk]: partition }, status && `${status}#`),
    }),
  );
  return { items: (res.Items ?? []).map((i) => adviceItem.parse(i)), nextToken: encodeToken(res.LastEvaluatedKey) };
}
