// DynamoDB access of the referrals context. A referral is one item (history included) carrying its
// worklist keys; every move replaces it with a Put conditioned on the status and version read, in
// one transaction with its outbox event(s), the capacity counter and the "referred to" item.
import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { referral, type Referral, type ReferralStatus } from '#schemas/referrals';
import { ddb, decodeToken, encodeToken, tableName, TransactionConflict, writeTransaction, type TxItem } from '#shared/db';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import type { PendingEvent } from './domain.ts';
import {
  capacityKey, incomingKey, incomingPartition, outgoingKey, outgoingPartition, referralKey, referredToKey, SLA_PARTITION, slaQueueKey,
} from './keys.ts';

// Stored shapes are parsed on read (keys and other unknown attributes are stripped).
const referralItem = z.object({ ...referral.shape, version: z.number().int().nonnegative() });
export type StoredReferral = z.infer<typeof referralItem>;

const referredToItem = z.object({ personId: z.string(), institutionId: z.string(), referralId: z.string(), status: z.string(), at: z.string() });
export type ReferredTo = z.infer<typeof referredToItem>;

export const toReferral = ({ version: _v, ...r }: StoredReferral): Referral => r;

function itemOf(r: Referral, version: number): Record<string, unknown> {
  return {
    ...referralKey(r.referralId),
    ...incomingKey(r.toInstitutionId, r.status, r.updatedAt, r.referralId),
    ...outgoingKey(r.fromInstitutionId, r.status, r.updatedAt, r.referralId),
    // Only submitted referrals are on the SLA queue (a sparse index).
    ...(r.status === 'submitted' && r.slaDueAt ? slaQueueKey(r.slaDueAt, r.referralId) : {}),
    entity: 'referral',
    ...r,
    version,
  };
}

export async function getReferral(referralId: string): Promise<StoredReferral | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: referralKey(referralId), ConsistentRead: true }));
  return Item ? referralItem.parse(Item) : undefined;
}

const events = (list: readonly PendingEvent[], ctx: EventContext): TxItem[] => list.map((e) => outboxEvent(e.def, e.input, ctx));

export async function insertReferral(r: Referral, announce: PendingEvent, extras: TxItem[], ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: { Put: { TableName: tableName(), Item: itemOf(r, 0), ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed: () => new Error(`referral id ${r.referralId} collided`),
    },
    ...events([announce], ctx),
    ...extras,
  ]);
}

/**
 * Writes a move: the referral as `next`, only if it is still in the status and version it was read
 * in. Another move got there first → 409 invalid-transition; the same status but a newer version
 * (it moved away and back) → TransactionConflict, so the caller re-reads and decides again.
 */
export async function writeMove(before: StoredReferral, next: Referral, announce: readonly PendingEvent[], extras: TxItem[], ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: itemOf(next, before.version + 1),
          ConditionExpression: '#status = :status AND #version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':status': before.status, ':version': before.version },
        },
      },
      onConditionFailed: (current) => {
        const status = current?.status as ReferralStatus | undefined;
        if (status && status !== before.status) {
          return problem('invalid-transition', `referral ${before.referralId} became ${status} concurrently; cannot make it ${next.status}`);
        }
        return new TransactionConflict('referral changed concurrently');
      },
    },
    ...events(announce, ctx),
    ...extras,
  ]);
}

/** Links a downward referral to its upward one, which must still be completed and addressed to the caller. */
export function linkDownward(upwardReferralId: string, downwardReferralId: string, hospitalId: string): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: referralKey(upwardReferralId),
        UpdateExpression: 'SET #down = list_append(if_not_exists(#down, :empty), :ids)',
        ConditionExpression: '#status = :completed AND #to = :hospital',
        ExpressionAttributeNames: { '#status': 'status', '#to': 'toInstitutionId', '#down': 'downwardReferralIds' },
        ExpressionAttributeValues: { ':empty': [], ':ids': [downwardReferralId], ':completed': 'completed', ':hospital': hospitalId },
      },
    },
    onConditionFailed: () => problem('invalid-transition', `upward referral ${upwardReferralId} is not completed`),
  };
}

// ── capacity ──

/** Takes one slot; the condition is what makes racing accepts unable to oversell the day. */
export function takeSlot(institutionId: string, department: string, day: string, dailyCapacity: number): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: capacityKey(institutionId, department, day),
        UpdateExpression: 'SET #used = if_not_exists(#used, :zero) + :one, #cap = :cap, #inst = :inst, #dept = :dept, #day = :day, #entity = :entity',
        ConditionExpression: 'attribute_not_exists(#used) OR #used < :cap',
        ExpressionAttributeNames: { '#used': 'used', '#cap': 'dailyCapacity', '#inst': 'institutionId', '#dept': 'department', '#day': 'day', '#entity': 'entity' },
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':cap': dailyCapacity, ':inst': institutionId, ':dept': department, ':day': day, ':entity': 'referralCapacity' },
      },
    },
    onConditionFailed: () => problem('conflict', `no ${department} capacity left at ${institutionId} on ${day}`),
  };
}

export function releaseSlot(institutionId: string, department: string, day: string): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: capacityKey(institutionId, department, day),
        UpdateExpression: 'SET #used = #used - :one',
        ConditionExpression: '#used >= :one',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':one': 1 },
      },
    },
    onConditionFailed: () => new Error(`capacity counter of ${institutionId} ${department} ${day} is already 0`),
  };
}

/** Slots used on `day`, by institution, in one BatchGetItem per 100 institutions. */
export async function slotsUsed(institutionIds: readonly string[], department: string, day: string): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  for (let i = 0; i < institutionIds.length; i += 100) {
    let pending: Record<string, unknown>[] = institutionIds.slice(i, i + 100).map((id) => capacityKey(id, department, day));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt > 8) throw Object.assign(new Error('BatchGetItem left keys unprocessed'), { name: 'ThrottlingException' });
      if (attempt) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const res = await ddb.send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ProjectionExpression: '#inst, #used', ExpressionAttributeNames: { '#inst': 'institutionId', '#used': 'used' } } } }));
      for (const item of res.Responses?.[tableName()] ?? []) used.set(String(item.institutionId), Number(item.used ?? 0));
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return used;
}

// ── "referred to" (read by the vouchers context) ──

export async function getReferredTo(personId: string, institutionId: string): Promise<ReferredTo | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: referredToKey(personId, institutionId), ConsistentRead: true }));
  return Item ? referredToItem.parse(Item) : undefined;
}

/**
 * The write that applies a decision about the "referred to" item, conditioned on the item still
 * being what the decision was made from (else TransactionConflict: read again, decide again).
 */
export function referredToWrite(change: 'put' | 'delete' | 'keep', next: Referral, seen: ReferredTo | undefined): TxItem | undefined {
  const Key = referredToKey(next.personId, next.toInstitutionId);
  const unchanged = seen
    ? { ConditionExpression: '#ref = :seen', ExpressionAttributeNames: { '#ref': 'referralId' }, ExpressionAttributeValues: { ':seen': seen.referralId } }
    : { ConditionExpression: 'attribute_not_exists(PK)' };
  const raced = () => new TransactionConflict('referred-to item changed concurrently');
  switch (change) {
    case 'put':
      return {
        write: {
          Put: {
            TableName: tableName(),
            Item: { ...Key, entity: 'referredTo', personId: next.personId, institutionId: next.toInstitutionId, referralId: next.referralId, status: next.status, at: next.updatedAt },
            ...unchanged,
          },
        },
        onConditionFailed: raced,
      };
    case 'delete':
      return { write: { Delete: { TableName: tableName(), Key, ...unchanged } }, onConditionFailed: raced };
    case 'keep':
      // Kept because a newer referral owns it: make sure it still does.
      return seen ? { write: { ConditionCheck: { TableName: tableName(), Key, ...unchanged } }, onConditionFailed: raced } : undefined;
  }
}

// ── worklists and the SLA queue ──

export async function listBox(box: 'incoming' | 'outgoing', institutionId: string, status: ReferralStatus | undefined, limit: number, nextToken?: string) {
  const [index, partition] = box === 'incoming' ? (['GSI1', incomingPartition(institutionId)] as const) : (['GSI2', outgoingPartition(institutionId)] as const);
  const pk = `${index}PK`;
  const sk = `${index}SK`;
  const start = decodeToken(nextToken, { [pk]: partition });
  // A token from the unfiltered list (or another status) would start outside this key range.
  if (start && status && !start[sk]?.startsWith(`${status}#`)) {
    throw problem('validation-failed', 'nextToken belongs to another list', [{ path: 'nextToken', message: 'invalid token' }]);
  }
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: index,
      KeyConditionExpression: status ? '#pk = :pk AND begins_with(#sk, :status)' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': pk, ...(status ? { '#sk': sk } : {}) },
      ExpressionAttributeValues: { ':pk': partition, ...(status ? { ':status': `${status}#` } : {}) },
      Limit: limit,
      ExclusiveStartKey: start,
    }),
  );
  return {
    items: (res.Items ?? []).map((i) => toReferral(referralItem.parse(i))),
    nextToken: encodeToken(res.LastEvaluatedKey),
  };
}

/** Submitted referrals whose SLA ran out by `now`, oldest first (the index is eventually consistent: re-read before acting). */
export async function overdueReferrals(now: Date, limit: number, startKey?: Record<string, unknown>) {
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK < :bound',
      // "~" sorts after every id character: everything due at or before now.
      ExpressionAttributeValues: { ':pk': SLA_PARTITION, ':bound': `${now.toISOString()}#~` },
      ProjectionExpression: '#ref',
      ExpressionAttributeNames: { '#ref': 'referralId' },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return { ids: (res.Items ?? []).map((i) => String(i.referralId)), next: res.LastEvaluatedKey };
}
