// DynamoDB access of the referrals context. A referral is one item (history included) carrying its
// worklist keys; every move replaces it with a Put conditioned on the status, version and receiver
// read, in one transaction with its outbox event(s), the capacity counter and the "referred to" item.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { referral, type Referral, type ReferralStatus } from '#schemas/referrals';
import { batchGet, ddb, decodeToken, encodeToken, tableName, TransactionConflict, writeTransaction, type TxItem } from '#shared/db';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import type { Actor, PendingEvent } from './domain.ts';
import {
  capacityKey, incomingKey, incomingPartition, LIVE_REFERRAL_IDS, outgoingKey, outgoingPartition, referralKey, referredToKey, slaQueueKey,
} from './keys.ts';

// Stored shapes are parsed on read (keys and other unknown attributes are stripped).
const referralItem = z.object({ ...referral.shape, version: z.number().int().nonnegative() });
export type StoredReferral = z.infer<typeof referralItem>;

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
 * Writes a move: the referral as `next`, only if it is still in the status, version and receiving
 * institution it was read with. The caller named the version it acted on (If-Match) and another
 * move got there first → 412 precondition-failed. Otherwise: another move got there first → 409 invalid-transition; the
 * receiver's move on a referral the platform (or the sender) sent elsewhere meanwhile → 409
 * invalid-transition as well (it lost; re-reading would only find it no longer addressed to the
 * caller); otherwise the same status but a newer version (it moved away and back) →
 * TransactionConflict, so the caller re-reads and decides again.
 */
export async function writeMove(
  before: StoredReferral, next: Referral, announce: readonly PendingEvent[], extras: TxItem[], ctx: EventContext, actor: Actor, ifMatch = false,
): Promise<void> {
  await writeTransaction([
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
        if (ifMatch && current && current.version !== before.version) {
          return problem('precondition-failed', `referral ${before.referralId} changed concurrently (version ${String(current.version)}); reload it`);
        }
        const status = current?.status as ReferralStatus | undefined;
        if (status && status !== before.status) {
          return problem('invalid-transition', `referral ${before.referralId} became ${status} concurrently; cannot make it ${next.status}`);
        }
        if (actor === 'receiver' && current && current.toInstitutionId !== before.toInstitutionId) {
          return problem('invalid-transition', `referral ${before.referralId} was sent to another institution concurrently; cannot make it ${next.status}`);
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
    // Not reachable by a client: the slot was taken in the transaction that made the referral
    // accepted, and only the one cancellation of that acceptance gives it back (a racing second
    // cancel loses on the referral's own condition first). Failing here means the counter was
    // changed outside the platform, or the province time zone changed in between: a 500 for the
    // operator, not a client error.
    onConditionFailed: () => new Error(`invariant broken: capacity counter of ${institutionId} ${department} ${day} is already 0`),
  };
}

/** Slots used on `day`, by institution (one BatchGetItem per 100 institutions). */
export async function slotsUsed(institutionIds: readonly string[], department: string, day: string): Promise<Map<string, number>> {
  const found = await batchGet(institutionIds.map((id) => capacityKey(id, department, day)), { consistent: false, projection: ['institutionId', 'used'] });
  return new Map([...found.values()].map((item) => [String(item.institutionId), Number(item.used ?? 0)]));
}

// ── "referred to" (read by the vouchers context; see keys.ts) ──

/**
 * Adds the referral to, or removes it from, the person's live referrals at the receiving
 * institution: a set update, commutative with any other referral's, so it needs no read and no
 * condition. The descriptive attributes are set either way, so the item is always well-formed.
 */
export function referredToUpdate(op: 'add' | 'remove', r: Pick<Referral, 'referralId' | 'personId' | 'toInstitutionId'>): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: referredToKey(r.personId, r.toInstitutionId),
        UpdateExpression: `${op === 'add' ? 'ADD' : 'DELETE'} #live :ids SET #entity = :entity, #person = :person, #inst = :inst`,
        ExpressionAttributeNames: { '#live': LIVE_REFERRAL_IDS, '#entity': 'entity', '#person': 'personId', '#inst': 'institutionId' },
        ExpressionAttributeValues: { ':ids': new Set([r.referralId]), ':entity': 'referredTo', ':person': r.personId, ':inst': r.toInstitutionId },
      },
    },
  };
}

// ── worklists (the SLA queue: functions/shared/sla-queue.ts, sweeper.ts) ──

export async function listBox(box: 'incoming' | 'outgoing', institutionId: string, status: ReferralStatus | undefined, limit: number, nextToken?: string): Promise<{ items: StoredReferral[]; nextToken?: string }> {
  const [index, partition] = box === 'incoming' ? (['GSI1', incomingPartition(institutionId)] as const) : (['GSI2', outgoingPartition(institutionId)] as const);
  const pk = `${index}PK`;
  const sk = `${index}SK`;
  const start = decodeToken(nextToken, { [pk]: partition }, status && `${status}#`);
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
    items: (res.Items ?? []).map((i) => referralItem.parse(i)),
    nextToken: encodeToken(res.LastEvaluatedKey),
  };
}
