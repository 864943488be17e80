// DynamoDB access of the prescriptions context: prescriptions, pharmacy stock, worklists, the expiry
// index, and the few items of other contexts it reads (people, institutions, drugs, referrals,
// settlements) through their owners' key builders.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { location } from '#schemas/common';
import { prescription, prescriptionStatuses, type StockLevel } from '#schemas/prescriptions';
import { cached } from '#shared/cache';
import { batchGet, ddb, decodeToken, encodeToken, keyOf, queryAll, tableName, TransactionConflict, writeTransaction, type StoredItem, type TxItem } from '#shared/db';
import { IDEMPOTENCY_RECORD_FIELDS, idempotencyRecordKey, type IdempotentRequest } from '#shared/idempotency';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import {
  PrescriptionAccepted, PrescriptionCancelled, PrescriptionDispensed, PrescriptionExpired, PrescriptionIssued,
  PharmacyStockChanged, PrescriptionReady, PrescriptionRejected, PrescriptionRouted, PrescriptionUnroutable,
} from '#events/prescriptions';
import { drugKey, institutionKey, personKey } from '../institutions/keys.ts';
import { institutionsInDistrict } from '../institutions/store.ts';
import { referralKey } from '../referrals/keys.ts';
import { prescriptionSettlementsKey, settlementDispenseKey, settlementKey } from '../vouchers/keys.ts';
import { settlementsNaming, stillSettled } from '../vouchers/paid-for.ts';
import {
  expiredProblem, holdsStock, isOpen, openStatuses, requiresValidity, stockChanges, transitions, viewFor,
  type Caller, type PharmacyInfo, type PrescriptionRecord, type ReferralView, type SettlementView, type StockAvailable, type StockChange,
} from './domain.ts';
import {
  expiryBound, expiryKey, expiryPartition, pharmacyListKey, pharmacyPartition, prescriberListKey, prescriberPartition,
  openTherapyKey, prescriptionKey, stockKey, stockPartition, waitingKey,
} from './keys.ts';

// ── prescriptions ──

// Stored as `validUntil`, not `expiresAt`: that name is the table's TTL attribute, and a prescription
// must outlive its validity (TTL would delete it once someone stored the time as a number).
const prescriptionItem = prescription
  .extend({ rejectedBy: z.array(z.string()), rev: z.number().int(), statusAt: z.string(), validUntil: z.string(), waitingIn: z.array(z.string()).optional() })
  .omit({ expiresAt: true });

function toItem(rx: PrescriptionRecord): Record<string, unknown> {
  const { expiresAt, ...rest } = rx;
  const open = (openStatuses as readonly string[]).includes(rx.status);
  return {
    ...prescriptionKey(rx.prescriptionId),
    entity: 'prescription',
    ...rest,
    validUntil: expiresAt,
    ...prescriberListKey(rx.prescriberId, rx.status, rx.statusAt, rx.prescriptionId),
    ...(rx.pharmacyId ? pharmacyListKey(rx.pharmacyId, rx.status, rx.statusAt, rx.prescriptionId) : {}),
    ...(open ? expiryKey(rx.prescriptionId, expiresAt) : {}),
  };
}

function fromItem(item: Record<string, unknown>): PrescriptionRecord {
  const { validUntil, ...rest } = prescriptionItem.parse(item);
  return { ...rest, expiresAt: validUntil };
}

/** The API view for `caller`: what it may read (see `viewFor`), without the lock revision and index bookkeeping. */
export function toApi(rx: PrescriptionRecord, caller: Caller) {
  const { rev: _rev, statusAt: _statusAt, waitingIn: _waitingIn, ...view } = viewFor(rx, caller);
  return view;
}

export async function getPrescription(prescriptionId: string): Promise<PrescriptionRecord | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: prescriptionKey(prescriptionId), ConsistentRead: true }));
  return Item ? fromItem(Item) : undefined;
}

/**
 * Writes a new prescription, its duplicate-therapy locks and its event; `idempotency`, the record of
 * the answer, goes first (see shared/idempotency).
 */
export async function putIssued(rx: PrescriptionRecord, ctx: EventContext, idempotency?: TxItem): Promise<void> {
  await writeTransaction([
    ...(idempotency ? [idempotency] : []),
    { write: { Put: { TableName: tableName(), Item: toItem(rx), ConditionExpression: 'attribute_not_exists(PK)' } } },
    ...rx.items.map(({ drugCode }, i): TxItem => ({
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...openTherapyKey(rx.personId, drugCode), entity: 'open-therapy', prescriptionId: rx.prescriptionId, drugCode },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      onConditionFailed: (open) =>
        duplicateTherapy([{ index: i, drugCode, prescriptionId: String(open?.prescriptionId) }]),
    })),
    outboxEvent(
      PrescriptionIssued,
      {
        ...base(rx),
        items: rx.items.map(({ drugCode, quantity }) => ({ drugCode, quantity })),
        nominatedPharmacyId: rx.nominatedPharmacyId,
        referralId: rx.referralId,
        expiresAt: rx.expiresAt,
      },
      ctx,
    ),
  ]);
}

/** 409: the person has an open prescription of these drugs (named, so the prescriber can act). */
export const duplicateTherapy = (open: ReadonlyArray<{ index: number; drugCode: string; prescriptionId: string }>) =>
  problem(
    'conflict',
    `an open prescription of ${open.map((o) => `${o.drugCode} (${o.prescriptionId})`).join(', ')} for this person exists: cancel it, or wait until it is dispensed or expires`,
    open.map((o) => ({ path: `body.items.${o.index}.drugCode`, message: `open prescription ${o.prescriptionId} of ${o.drugCode}` })),
  );

/** Raised when a reservation finds less stock than it read: the router picks again. */
/** The stock read is gone (a racing route took it): a lost race like any other, so route again. */
export class StockShortage extends TransactionConflict {
  override name = 'StockShortage';
}

/**
 * Writes `next` in place of `prev` with the stock effect of the move and its event, in one
 * transaction. Conditional on the status and revision read, so of two racing moves one wins and
 * the other gets TransactionConflict (callers read again and decide afresh). A move that needs the
 * prescription within its validity (accept, dispense, route) is also conditional on the validity
 * lasting past the move's time, so a move made at or after the deadline never wins, whatever it
 * read: 409 invalid-transition.
 */
export async function writeTransition(prev: PrescriptionRecord, next: PrescriptionRecord, ctx: EventContext, extra: TxItem[] = []): Promise<void> {
  const at = ctx.now.toISOString();
  // validUntil and `at` are both toISOString() output (UTC, milliseconds): they compare as strings.
  const withinValidity = requiresValidity(next.status);
  const changes = stockChanges(prev, next);
  const stock: TxItem[] = changes.map((c) => (c.reserve ? reserve(c.pharmacyId, c.drugCode, c.reserve, at) : consumeAndRelease(c, at)));
  const { record, waiting } = waitingEffect(prev, next);
  const ended = isOpen(prev.status) && !isOpen(next.status);
  // An ended prescription no longer blocks another of its drugs for the person (duplicate therapy).
  const unlocks: TxItem[] = ended
    ? prev.items.map(({ drugCode }) => ({
        write: {
          Delete: {
            TableName: tableName(),
            Key: openTherapyKey(prev.personId, drugCode),
            ConditionExpression: 'attribute_not_exists(PK) OR prescriptionId = :id',
            ExpressionAttributeValues: { ':id': prev.prescriptionId },
          },
        },
      }))
    : [];
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: toItem(record),
          ConditionExpression: `#status = :from AND #rev = :rev${withinValidity ? ' AND validUntil > :at' : ''}`,
          ExpressionAttributeNames: { '#status': 'status', '#rev': 'rev' },
          ExpressionAttributeValues: { ':from': prev.status, ':rev': prev.rev, ...(withinValidity ? { ':at': at } : {}) },
        },
      },
      onConditionFailed: (current) => {
        const unmoved = current?.status === prev.status && current?.rev === prev.rev;
        if (withinValidity && unmoved) return expiredProblem(actionInto(next.status), prev.expiresAt);
        return new TransactionConflict(`prescription ${prev.prescriptionId} moved concurrently`);
      },
    },
    ...stock,
    ...waiting,
    ...unlocks,
    ...extra,
    transitionEvent(prev, next, ctx),
  ]);
}

/** Writes readyAt (conditional on the status and revision read) and announces it: the patient is told to collect. */
export async function writeReady(prev: PrescriptionRecord, next: PrescriptionRecord, ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: toItem(next),
          ConditionExpression: '#status = :from AND #rev = :rev',
          ExpressionAttributeNames: { '#status': 'status', '#rev': 'rev' },
          ExpressionAttributeValues: { ':from': prev.status, ':rev': prev.rev },
        },
      },
      onConditionFailed: () => new TransactionConflict(`prescription ${prev.prescriptionId} moved concurrently`),
    },
    outboxEvent(PrescriptionReady, { ...base(next), previousStatus: prev.status, pharmacyId: next.pharmacyId! }, ctx),
  ]);
}

/** Entering `unroutable` puts the prescription on its waiting lists; leaving it takes it off them. */
function waitingEffect(prev: PrescriptionRecord, next: PrescriptionRecord): { record: PrescriptionRecord; waiting: TxItem[] } {
  const id = next.prescriptionId;
  if (next.status === 'unroutable' && prev.status !== 'unroutable') {
    const drugCodes = next.items.map((i) => i.drugCode);
    const waiting = (next.waitingIn ?? []).map((pk): TxItem => ({
      write: { Put: { TableName: tableName(), Item: { ...waitingKey(pk, id), entity: 'rx-waiting', prescriptionId: id, validUntil: next.expiresAt, drugCodes } } },
    }));
    return { record: next, waiting };
  }
  if (prev.status === 'unroutable' && next.status !== 'unroutable') {
    const { waitingIn: _off, ...record } = next;
    return { record, waiting: (prev.waitingIn ?? []).map((pk): TxItem => ({ write: { Delete: { TableName: tableName(), Key: waitingKey(pk, id) } } })) };
  }
  return { record: next, waiting: [] };
}

/**
 * The unroutable prescriptions on these waiting lists still valid at `now`, with the drugs each
 * needs, oldest first: what new stock or a newly designated pharmacy may make routable.
 */
export async function waitingOn(partitions: readonly string[], now: Date): Promise<WaitingEntry[]> {
  const entries = new Map<string, WaitingEntry>();
  for (const pk of partitions) {
    const items = await queryAll({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      FilterExpression: 'validUntil > :now',
      ExpressionAttributeValues: { ':pk': pk, ':now': now.toISOString() },
      ProjectionExpression: 'prescriptionId, drugCodes',
    });
    for (const entry of items.map((i) => waitingEntry.parse(i))) entries.set(entry.prescriptionId, entry);
  }
  // Prescription ids are time-ordered (ULIDs): the longest waiting first.
  return [...entries.values()].sort((a, b) => (a.prescriptionId < b.prescriptionId ? -1 : 1));
}

const waitingEntry = z.object({ prescriptionId: z.string(), drugCodes: z.array(z.string()) });
export type WaitingEntry = z.infer<typeof waitingEntry>;

/** The action whose target status is `to` (a status a move within validity leads to is the target of one action). */
const actionInto = (to: PrescriptionRecord['status']) => (Object.keys(transitions) as Array<keyof typeof transitions>).find((a) => transitions[a].to === to)!;

const base = (rx: PrescriptionRecord) => ({ prescriptionId: rx.prescriptionId, prescriberId: rx.prescriberId, personId: rx.personId, status: rx.status });
const quantities = (rx: PrescriptionRecord) => rx.items.map(({ drugCode, quantity }) => ({ drugCode, quantity }));

/**
 * The move's event. Its items say what the move did to the stock: reserved (routed), handed over
 * (a dispense), released (a rejection, or a cancellation or expiry of one that held stock).
 */
function transitionEvent(prev: PrescriptionRecord, next: PrescriptionRecord, ctx: EventContext): TxItem {
  const common = { ...base(next), previousStatus: prev.status };
  const changes = stockChanges(prev, next);
  const moved = (field: 'reserve' | 'consume' | 'release') => changes.filter((c) => c[field] > 0).map((c) => ({ drugCode: c.drugCode, quantity: c[field] }));
  const released = moved('release');
  switch (next.status) {
    case 'routed':
      return outboxEvent(PrescriptionRouted, { ...common, pharmacyId: next.pharmacyId!, items: quantities(next), nominated: next.pharmacyId === next.nominatedPharmacyId }, ctx);
    case 'unroutable':
      return outboxEvent(PrescriptionUnroutable, { ...common, rejectedBy: next.rejectedBy }, ctx);
    case 'accepted':
      return outboxEvent(PrescriptionAccepted, { ...common, pharmacyId: next.pharmacyId! }, ctx);
    case 'rejected':
      return outboxEvent(PrescriptionRejected, { ...common, pharmacyId: prev.pharmacyId!, items: quantities(next) }, ctx);
    case 'partially-dispensed':
    case 'dispensed':
      return outboxEvent(PrescriptionDispensed, { ...common, pharmacyId: next.pharmacyId!, settlementId: next.settlementId!, items: moved('consume') }, ctx);
    case 'cancelled':
      return outboxEvent(PrescriptionCancelled, { ...common, pharmacyId: next.pharmacyId, ...(released.length ? { items: released } : {}) }, ctx);
    case 'expired':
      return outboxEvent(PrescriptionExpired, { ...common, pharmacyId: next.pharmacyId, ...(released.length ? { items: released } : {}) }, ctx);
    case 'issued':
      throw new Error('issued is not reached by a transition');
  }
}

// ── stock ──

// Reservations move units between `available` and `reserved` with conditions that keep both at or
// above zero, however many routes race for the last units.
function reserve(pharmacyId: string, drugCode: string, quantity: number, at: string): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: stockKey(pharmacyId, drugCode),
        UpdateExpression: 'SET available = available - :q, reserved = if_not_exists(reserved, :zero) + :q, updatedAt = :at',
        ConditionExpression: 'available >= :q',
        ExpressionAttributeValues: { ':q': quantity, ':zero': 0, ':at': at },
      },
    },
    onConditionFailed: () => new StockShortage(`${pharmacyId} has fewer than ${quantity} of ${drugCode}`),
  };
}

/** A reservation that is not there means the books are broken: fail loudly rather than go negative. */
const missingReservation = (pharmacyId: string, drugCode: string) => () =>
  new Error(`stock of ${drugCode} at ${pharmacyId} holds less than the reservation being released`);

/**
 * Packs leaving a reservation: handed over (`consume`, counted as dispensed) or given back to what
 * is available (`release`), in one update of the stock item.
 */
function consumeAndRelease(c: StockChange, at: string): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: stockKey(c.pharmacyId, c.drugCode),
        UpdateExpression: 'SET reserved = reserved - :out, available = available + :release, dispensed = if_not_exists(dispensed, :zero) + :consume, updatedAt = :at',
        ConditionExpression: 'reserved >= :out',
        ExpressionAttributeValues: { ':out': c.consume + c.release, ':release': c.release, ':consume': c.consume, ':zero': 0, ':at': at },
      },
    },
    onConditionFailed: missingReservation(c.pharmacyId, c.drugCode),
  };
}

const stockItem = z.object({
  drugCode: z.string(),
  available: z.number().int(),
  reserved: z.number().int().default(0),
  dispensed: z.number().int().default(0),
});

const toLevel = (raw: Record<string, unknown>): StockLevel => {
  const s = stockItem.parse(raw);
  return { drugCode: s.drugCode, onHand: s.available + s.reserved, available: s.available, reserved: s.reserved, dispensed: s.dispensed };
};

const onHandOf = (item: StoredItem | undefined) => (item ? Number(item.available ?? 0) + Number(item.reserved ?? 0) : 0);

/**
 * Sets on-hand quantities, all or nothing: available becomes on hand minus what is reserved, in the
 * update itself, and an on-hand count below the reservations is refused. An item with
 * `expectedOnHand` is set only if its count is still that: read first, then written on condition
 * that available and reserved are as read (a reservation meanwhile moves units between them without
 * changing the count: a TransactionConflict, for the caller to start over). The
 * PharmacyStockChanged event goes with it (it may make waiting prescriptions routable).
 */
export async function setStock(
  pharmacy: { id: string; district: string }, items: ReadonlyArray<{ drugCode: string; quantity: number; expectedOnHand?: number }>, ctx: EventContext,
): Promise<StockLevel[]> {
  const pharmacyId = pharmacy.id;
  const at = ctx.now.toISOString();
  const checked = items.filter((i) => i.expectedOnHand !== undefined);
  const seen = checked.length ? await batchGet(checked.map((i) => stockKey(pharmacyId, i.drugCode))) : new Map<string, StoredItem>();
  const seenOf = (drugCode: string) => seen.get(keyOf(stockKey(pharmacyId, drugCode)));
  // A refusal names the line it is about (drug codes are unique in the request).
  const line = (drugCode: string) => `body.items.${items.findIndex((i) => i.drugCode === drugCode)}`;
  const changed = (drugCode: string, now: number) => ({ path: `${line(drugCode)}.expectedOnHand`, message: `${drugCode} is now ${now} on hand` });
  const stale = checked.filter((i) => onHandOf(seenOf(i.drugCode)) !== i.expectedOnHand);
  if (stale.length) throw problem('precondition-failed', 'the stock changed since it was read; nothing was changed', stale.map((i) => changed(i.drugCode, onHandOf(seenOf(i.drugCode)))));
  await writeTransaction([
    ...items.map(({ drugCode, quantity, expectedOnHand }): TxItem => {
      const before = expectedOnHand === undefined ? undefined : seenOf(drugCode);
      const asRead = expectedOnHand === undefined ? '' : before ? ' AND available = :a AND reserved = :r' : ' AND attribute_not_exists(PK)';
      return {
        write: {
          Update: {
            TableName: tableName(),
            Key: stockKey(pharmacyId, drugCode),
            UpdateExpression:
              'SET available = :q - if_not_exists(reserved, :zero), reserved = if_not_exists(reserved, :zero), ' +
              'pharmacyId = :p, drugCode = :d, entity = :e, updatedAt = :at',
            ConditionExpression: `(attribute_not_exists(reserved) OR reserved <= :q)${asRead}`,
            ExpressionAttributeValues: {
              ':q': quantity, ':zero': 0, ':p': pharmacyId, ':d': drugCode, ':e': 'stock', ':at': at,
              ...(before ? { ':a': Number(before.available ?? 0), ':r': Number(before.reserved ?? 0) } : {}),
            },
          },
        },
        onConditionFailed: (current) => {
          if (expectedOnHand !== undefined && (current?.available !== before?.available || current?.reserved !== before?.reserved)) {
            if (onHandOf(current) !== expectedOnHand) return problem('precondition-failed', 'the stock changed since it was read; nothing was changed', [changed(drugCode, onHandOf(current))]);
            return new TransactionConflict(`${drugCode} was reserved from meanwhile`);
          }
          return problem(
            'conflict',
            `${drugCode}: ${quantity} on hand is below the ${String(current?.reserved)} units reserved for prescriptions routed here; nothing was changed`,
            [{ path: `${line(drugCode)}.quantity`, message: `${quantity} on hand is below the ${String(current?.reserved)} units reserved` }],
          );
        },
      };
    }),
    outboxEvent(PharmacyStockChanged, { pharmacyId, district: pharmacy.district, drugCodes: items.map((i) => i.drugCode) }, ctx),
  ]);
  const keys = items.map((i) => stockKey(pharmacyId, i.drugCode));
  const levels = await batchGet(keys);
  return keys.map((k) => toLevel(levels.get(keyOf(k))!));
}

export async function listStock(pharmacyId: string, limit: number, nextToken?: string) {
  const { PK, skPrefix } = stockPartition(pharmacyId);
  const start = decodeToken(nextToken, { PK }, skPrefix);
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': skPrefix },
      Limit: limit,
      ExclusiveStartKey: start,
    }),
  );
  return { items: (res.Items ?? []).map(toLevel), nextToken: encodeToken(res.LastEvaluatedKey) };
}

/** Units of one drug on the shelves (available + reserved) of each pharmacy that stocks it. */
export async function stockOnHand(pharmacyIds: readonly string[], drugCode: string): Promise<Map<string, number>> {
  const found = await batchGet(pharmacyIds.map((p) => stockKey(p, drugCode)), { consistent: false, projection: ['pharmacyId', 'available', 'reserved'] });
  const out = new Map<string, number>();
  for (const item of found.values()) {
    const s = z.object({ pharmacyId: z.string(), available: z.number().int(), reserved: z.number().int().default(0) }).parse(item);
    out.set(s.pharmacyId, s.available + s.reserved);
  }
  return out;
}

/** Available units of `drugCodes` at each pharmacy (consistent reads: a reservation follows). */
export async function availableStock(pharmacyIds: readonly string[], drugCodes: readonly string[]): Promise<Map<string, StockAvailable>> {
  const keys = pharmacyIds.flatMap((p) => drugCodes.map((d) => stockKey(p, d)));
  const found = await batchGet(keys, { consistent: true, projection: ['pharmacyId', 'drugCode', 'available'] });
  const out = new Map<string, Map<string, number>>(pharmacyIds.map((p) => [p, new Map()]));
  for (const item of found.values()) {
    const s = z.object({ pharmacyId: z.string(), drugCode: z.string(), available: z.number().int() }).parse(item);
    out.get(s.pharmacyId)?.set(s.drugCode, s.available);
  }
  return out;
}

// ── worklists and the expiry index ──

/** A pharmacy's routed prescriptions, or a prescriber's issued ones, optionally of one status. */
export async function listWorklist(caller: Caller & { inst: string }, status: string | undefined, limit: number, nextToken?: string) {
  const [index, pk, sk, partition] =
    caller.role === 'pharmacy'
      ? (['GSI2', 'GSI2PK', 'GSI2SK', pharmacyPartition(caller.inst)] as const)
      : (['GSI1', 'GSI1PK', 'GSI1SK', prescriberPartition(caller.inst)] as const);
  const start = decodeToken(nextToken, { [pk]: partition }, status && `${status}#`);
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: index,
      KeyConditionExpression: status ? `${pk} = :pk AND begins_with(${sk}, :status)` : `${pk} = :pk`,
      ExpressionAttributeValues: { ':pk': partition, ...(status ? { ':status': `${status}#` } : {}) },
      Limit: limit,
      ExclusiveStartKey: start,
    }),
  );
  return { items: (res.Items ?? []).map((i) => toApi(fromItem(i), caller)), nextToken: encodeToken(res.LastEvaluatedKey) };
}

/**
 * What a pharmacy holds: the ids of the prescriptions routed to it, accepted or partly dispensed there
 * (GSI2, a pharmacy's worklist), once each, oldest move first within a status. Ids only: the index is
 * eventually consistent, and each is read again before anything is done with it. Not a request path.
 */
export async function heldAt(pharmacyId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const status of prescriptionStatuses.filter(holdsStock)) {
    const items = await queryAll({
      TableName: tableName(),
      IndexName: 'GSI2',
      KeyConditionExpression: 'GSI2PK = :pk AND begins_with(GSI2SK, :status)',
      ExpressionAttributeValues: { ':pk': pharmacyPartition(pharmacyId), ':status': `${status}#` },
      ProjectionExpression: 'prescriptionId',
    });
    // One that moved on between two statuses' queries is listed once.
    for (const i of items) ids.add(String(i.prescriptionId));
  }
  return [...ids];
}

/**
 * The settlements that named the prescription and are not reversed, and the version of its list of
 * them (0: no list yet). A reversed one paid for nothing: its money went back.
 */
export async function paidAgainst(prescriptionId: string): Promise<{ settled: number; version: number }> {
  const { settled, version } = await stillSettled(await settlementsNaming(prescriptionId));
  return { settled: settled.length, version };
}

/**
 * Goes with a withdrawal: the list of the prescription's settlements is as it was read (`version`,
 * nothing settled on it), and moves on, so a settlement that read it before this move recomputes and
 * finds the prescription gone. A settlement meanwhile fails the withdrawal, which reads again.
 */
export function unpaidGuard(prescriptionId: string, version: number): TxItem {
  const moved = settlementsListMoved(prescriptionId);
  return {
    write: {
      Update: {
        ...moved,
        ConditionExpression: version === 0 ? 'attribute_not_exists(PK)' : 'version = :v',
        ExpressionAttributeValues: { ...moved.ExpressionAttributeValues, ...(version === 0 ? {} : { ':v': version }) },
      },
    },
    onConditionFailed: () => new TransactionConflict(`the settlements of prescription ${prescriptionId} changed meanwhile`),
  };
}

/** The pharmacy a route chose is no longer designated (the router's district list is up to a minute old). */
export class NotDesignated extends TransactionConflict {
  override name = 'NotDesignated';
  constructor(readonly pharmacyId: string) {
    super(`${pharmacyId} is no longer a designated pharmacy`);
  }
}

/** Goes with a route: the pharmacy is designated when the route commits, whatever the router's list said. */
export function designatedGuard(pharmacyId: string): TxItem {
  return {
    write: {
      ConditionCheck: {
        TableName: tableName(),
        Key: institutionKey(pharmacyId),
        ConditionExpression: 'designated = :yes',
        ExpressionAttributeValues: { ':yes': true },
      },
    },
    onConditionFailed: () => new NotDesignated(pharmacyId),
  };
}

/**
 * One page of prescriptions of an expiry shard whose validity ended at or before `now`. Small pages:
 * each id listed costs a transaction anyway, and a sweep that stops at its budget reads little waste.
 */
export async function overduePage(shard: number, now: Date, startKey?: Record<string, unknown>, limit = 25) {
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK <= :bound',
      ExpressionAttributeValues: { ':pk': expiryPartition(shard), ':bound': expiryBound(now) },
      ProjectionExpression: 'prescriptionId, pharmacyId',
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  const due = (res.Items ?? []).map((i) => ({ prescriptionId: String(i.prescriptionId), ...(i.pharmacyId ? { pharmacyId: String(i.pharmacyId) } : {}) }));
  return { due, next: res.LastEvaluatedKey };
}

// ── what other contexts own (read through their key builders) ──

const institutionView = z.object({
  id: z.string(),
  type: z.enum(['clinic', 'hospital', 'pharmacy']),
  district: z.string(),
  designated: z.boolean(),
  location: location.optional(),
});
export type InstitutionView = z.infer<typeof institutionView>;

/**
 * The registered pharmacies of one district, as routing sees them. They change rarely (an operator
 * registers them) and every route of a district needs them: kept a minute per container.
 */
export const districtPharmacies = cached(60_000, async (district: string): Promise<PharmacyInfo[]> =>
  (await institutionsInDistrict('pharmacy', district)).map(({ id, district, designated, location: loc }) => ({ id, district, designated, ...(loc ? { location: loc } : {}) })),
);

/** The person's district (only that: routing needs nothing else of the person). */
export async function getPersonDistrict(personId: string): Promise<string | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: personKey(personId), ProjectionExpression: 'district' }));
  return Item ? z.object({ district: z.string() }).parse(Item).district : undefined;
}

/** Which of `codes` are in the drug catalog. */
export async function knownDrugs(codes: readonly string[]): Promise<Set<string>> {
  const found = await batchGet(codes.map(drugKey), { consistent: false, projection: ['drugCode'] });
  return new Set([...found.values()].map((i) => String(i.drugCode)));
}

const referralView = z.object({ personId: z.string(), fromInstitutionId: z.string(), toInstitutionId: z.string() });

export interface IssueInputs {
  /** The record of an earlier answer to the same Idempotency-Key. */
  idempotency?: StoredItem;
  /** Open prescriptions of these drugs for the person (duplicate therapy), by item index. */
  openTherapies: Array<{ index: number; drugCode: string; prescriptionId: string }>;
  nominated?: InstitutionView;
  enrolled: boolean;
  /** The patient's name and masked ID, copied onto the prescription (a 处方 names its patient). */
  patient?: { name: string; nationalIdMasked: string };
  knownDrugs: Set<string>;
  /** Drugs of the catalog that may not be on a long prescription (longTermAllowed: false). */
  notLongTerm: Set<string>;
  referral?: ReferralView;
}

/**
 * Everything issuing a prescription checks, in one BatchGetItem: the nominated pharmacy, the person
 * (existence, name and masked ID: nothing else of theirs is read), the drugs, the referral.
 */
export async function loadIssueInputs(q: {
  nominatedPharmacyId?: string;
  personId: string;
  drugCodes: readonly string[];
  referralId?: string;
  idempotency?: IdempotentRequest;
}): Promise<IssueInputs> {
  const keys = {
    idempotency: q.idempotency ? idempotencyRecordKey(q.idempotency.institutionId, q.idempotency.operation, q.idempotency.key) : undefined,
    nominated: q.nominatedPharmacyId ? institutionKey(q.nominatedPharmacyId) : undefined,
    person: personKey(q.personId),
    referral: q.referralId ? referralKey(q.referralId) : undefined,
  };
  const drugKeys = q.drugCodes.map(drugKey);
  const therapyKeys = q.drugCodes.map((d) => openTherapyKey(q.personId, d));
  const found = await batchGet([...Object.values(keys).filter((k) => k !== undefined), ...drugKeys, ...therapyKeys], {
    consistent: true,
    // Only what the checks need, from each kind of item; of the person, the name and masked ID the prescription carries.
    projection: ['id', 'type', 'district', 'designated', 'location', 'drugCode', 'personId', 'prescriptionId', 'fromInstitutionId', 'toInstitutionId', 'name', 'nationalIdMasked', 'longTermAllowed', ...IDEMPOTENCY_RECORD_FIELDS],
  });
  const get = (k: { PK: string; SK: string } | undefined) => (k ? found.get(keyOf(k)) : undefined);
  const institution = (k: { PK: string; SK: string } | undefined) => {
    const item = get(k);
    return item ? institutionView.parse(item) : undefined;
  };
  const referral = get(keys.referral);
  return {
    idempotency: get(keys.idempotency),
    nominated: institution(keys.nominated),
    enrolled: found.has(keyOf(keys.person)),
    patient: patientOf(get(keys.person)),
    knownDrugs: new Set(drugKeys.flatMap((k) => (found.has(keyOf(k)) ? [String(found.get(keyOf(k))!.drugCode)] : []))),
    notLongTerm: new Set(drugKeys.flatMap((k) => (found.get(keyOf(k))?.longTermAllowed === false ? [String(found.get(keyOf(k))!.drugCode)] : []))),
    referral: referral ? referralView.parse(referral) : undefined,
    openTherapies: therapyKeys.flatMap((k, i) => (found.has(keyOf(k)) ? [{ index: i, drugCode: q.drugCodes[i]!, prescriptionId: String(found.get(keyOf(k))!.prescriptionId) }] : [])),
  };
}

const patientOf = (item: Record<string, unknown> | undefined) =>
  item && typeof item.name === 'string' && typeof item.nationalIdMasked === 'string' ? { name: item.name, nationalIdMasked: item.nationalIdMasked } : undefined;

const settlementView = z.object({
  settlementId: z.string(),
  personId: z.string(),
  institutionId: z.string(),
  status: z.string(),
  prescriptionId: z.string().optional(),
  settledAt: z.string(),
  items: z.array(z.object({ drugCode: z.string(), quantity: z.number().int() })),
});

export async function getSettlement(settlementId: string): Promise<SettlementView | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: settlementKey(settlementId), ConsistentRead: true }));
  return Item ? settlementView.parse(Item) : undefined;
}

/**
 * The writes a dispense adds to its transition: the settlement is still settled, of this person, at
 * this pharmacy (a reversal racing the dispense loses one way or the other), now marked handed over
 * against, and it has paid for no other prescription's dispense (for this one's earlier dispenses it
 * may: what it has left to pay for is checked against the prescription, whose version the
 * transition holds).
 */
export function dispenseGuards(rx: PrescriptionRecord, settlementId: string, now: Date): TxItem[] {
  return [
    {
      // The first dispense against it is written on the settlement too: 当日结算 then knows, without
      // reading each prescription, that it can no longer be reversed.
      write: {
        Update: {
          TableName: tableName(),
          Key: settlementKey(settlementId),
          UpdateExpression: 'SET handedOverAt = if_not_exists(handedOverAt, :now)',
          ConditionExpression: '#status = :settled AND personId = :person AND institutionId = :inst',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':settled': 'settled', ':person': rx.personId, ':inst': rx.pharmacyId, ':now': now.toISOString() },
        },
      },
      onConditionFailed: () => new TransactionConflict(`settlement ${settlementId} changed concurrently`),
    },
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...settlementDispenseKey(settlementId), entity: 'settlement-use', settlementId, prescriptionId: rx.prescriptionId },
          ConditionExpression: 'attribute_not_exists(PK) OR prescriptionId = :rx',
          ExpressionAttributeValues: { ':rx': rx.prescriptionId },
        },
      },
      onConditionFailed: (current) => problem('conflict', `settlement ${settlementId} already paid for prescription ${String(current?.prescriptionId)}`),
    },
    // The list of settlements that named it moves on: a settlement naming this prescription that
    // read it before this dispense recomputes.
    { write: { Update: settlementsListMoved(rx.prescriptionId) } },
  ];
}

/**
 * The update that moves a prescription's list of settlements on (made if none yet), so that a
 * settlement that read it before recomputes (vouchers/store.ts writes the list under its version).
 */
function settlementsListMoved(prescriptionId: string) {
  return {
    TableName: tableName(),
    Key: prescriptionSettlementsKey(prescriptionId),
    UpdateExpression: 'SET settlements = if_not_exists(settlements, :none), entity = :entity, prescriptionId = :rx ADD version :one',
    ExpressionAttributeValues: { ':none': [] as unknown[], ':entity': 'prescription-settlements', ':rx': prescriptionId, ':one': 1 },
  };
}
