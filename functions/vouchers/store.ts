// DynamoDB access of the vouchers context. A settlement is one BatchGetItem (everything it
// depends on) and one TransactWriteItems (settlement, code use, balances, idempotency record,
// outbox): two round trips.
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { prescriptionStatus } from '#schemas/prescriptions';
import { settlement, traceCodeSale, voucher, type Settlement, type TraceCodeSale, type Voucher } from '#schemas/vouchers';
import { epochSeconds } from '#shared/clock';
import { batchGet, ddb, decodeToken, encodeToken, keyOf, tableName, TransactionConflict, writeTransaction, type StoredItem, type TableKey, type TxItem } from '#shared/db';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import { SettlementCompleted, SettlementReversed, VoucherActivated, VoucherResumed, VoucherSuspended } from '#events/vouchers';
import { drugKey, personKey } from '../institutions/keys.ts';
import { prescriptionKey } from '../prescriptions/keys.ts';
import { referredToKey } from '../referrals/keys.ts';
import { voucherTransitions } from './domain.ts';
import { idempotencyRecord, idempotencyRecordKey, type IdempotentRequest } from '#shared/idempotency';
import {
  codeUseKey, mutualAidPayerKey, personVoucherKey, prescriptionSettlementsKey, SETTLE_OPERATION, settlementDispenseKey, settlementKey, traceCodeKey, voucherKey,
} from './keys.ts';
import { prescriptionSettlements, settlementsNaming, stillSettled, type PaidFor, type PaidForList } from './paid-for.ts';

const voucherItem = z.object(voucher.shape);
const quantities = z.array(z.object({ drugCode: z.string(), quantity: z.number() }));
const prescriptionRef = z.object({
  personId: z.string(), pharmacyId: z.string().optional(), status: prescriptionStatus, items: quantities, dispensed: quantities.optional(),
  dispenses: z.array(z.object({ settlementId: z.string(), items: quantities })).optional(),
});
const settlementItem = z.object(settlement.shape);
const traceCodeSaleItem = z.object(traceCodeSale.shape);

// ── vouchers ──

/**
 * A voucher as stored: the API representation plus the channel clients (token `sub`) that activated
 * it; only they, and operators, act on it.
 */
export interface VoucherRecord {
  voucher: Voucher;
  channelClients: ReadonlySet<string>;
}

export async function getVoucher(voucherId: string): Promise<VoucherRecord | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: voucherKey(voucherId), ConsistentRead: true }));
  if (!Item) return undefined;
  const clients = Item.channelClients instanceof Set ? [...(Item.channelClients as Set<string>)] : [];
  return { voucher: voucherItem.parse(Item), channelClients: new Set(clients) };
}

/** Whether the channel app `client` activated the person's voucher (it then acts for the person). */
export async function activatedBy(personId: string, client: string): Promise<boolean> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: personVoucherKey(personId), ConsistentRead: true }));
  if (!Item) return false;
  return (await getVoucher(String(Item.voucherId)))?.channelClients.has(client) ?? false;
}

class AlreadyActivated extends Error {
  constructor(readonly voucherId: string) {
    super('already activated');
  }
}

/**
 * Activates a voucher for `client` (the channel app's token `sub`); if the person already has one,
 * adds `client` to the clients that activated it and returns it with `created: false`.
 */
export async function activateVoucher(v: Voucher, client: string, ctx: EventContext): Promise<{ voucher: Voucher; created: boolean }> {
  try {
    await writeTransaction([
      {
        write: { Put: { TableName: tableName(), Item: { ...personVoucherKey(v.personId), voucherId: v.voucherId }, ConditionExpression: 'attribute_not_exists(PK)' } },
        onConditionFailed: (current) => new AlreadyActivated(String(current?.voucherId)),
      },
      {
        write: {
          Put: { TableName: tableName(), Item: { ...voucherKey(v.voucherId), entity: 'voucher', ...v, channelClients: new Set([client]) }, ConditionExpression: 'attribute_not_exists(PK)' },
        },
      },
      outboxEvent(VoucherActivated, { voucherId: v.voucherId, personId: v.personId, channel: v.channel }, ctx),
    ]);
    return { voucher: v, created: true };
  } catch (err) {
    if (!(err instanceof AlreadyActivated)) throw err;
    const res = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: voucherKey(err.voucherId),
        UpdateExpression: 'ADD channelClients :client',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':client': new Set([client]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { voucher: voucherItem.parse(res.Attributes), created: false };
  }
}

export async function transitionVoucher(current: Voucher, action: keyof typeof voucherTransitions, ctx: EventContext): Promise<Voucher> {
  const voucherId = current.voucherId;
  const t = voucherTransitions[action];
  if (!(t.from as readonly string[]).includes(current.status)) {
    throw problem('invalid-transition', `cannot ${action} a voucher that is ${current.status}`);
  }
  const next: Voucher = { ...current, status: t.to, updatedAt: ctx.now.toISOString() };
  const event = action === 'suspend' ? VoucherSuspended : VoucherResumed;
  await writeTransaction([
    {
      write: {
        Update: {
          TableName: tableName(),
          Key: voucherKey(voucherId),
          UpdateExpression: 'SET #s = :to, updatedAt = :now',
          ConditionExpression: '#s = :from',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':to': t.to, ':from': current.status, ':now': ctx.now.toISOString() },
        },
      },
      onConditionFailed: (now) => problem('invalid-transition', `cannot ${action} a voucher that is ${String(now?.status)}`),
    },
    outboxEvent(event, { voucherId, personId: current.personId, channel: current.channel }, ctx),
  ]);
  return next;
}

// ── settlements ──

export interface SettlementInputs {
  idempotency?: StoredItem;
  voucher?: Voucher;
  person?: StoredItem;
  codeUsed: boolean;
  referral?: StoredItem;
  /** The prescription the request names, as far as a settlement checks it. */
  prescription?: z.infer<typeof prescriptionRef>;
  drugs: Map<string, StoredItem>;
  /** The person's payer under family mutual aid, if bound: the pointer, and the payer's person item. */
  mutualAid?: { bindingId: string; payerPersonId: string; payer?: StoredItem };
  /** Trace codes of the request already sold (not returned) somewhere in the province, with that sale. */
  soldTraceCodes: SoldTraceCode[];
  /**
   * The settlements that named the prescription and are not reversed, with the version of their list
   * (0: no list yet).
   */
  paidFor?: PaidForList;
}

/**
 * Everything a settlement (or its quote) depends on, in one BatchGetItem (retrying unprocessed
 * keys): the idempotency record, the voucher, the person, the code's use, the referral, the named
 * prescription, the drugs, the trace codes' sales and the person's mutual-aid payer. Only a person
 * with a payer costs a second read (the payer's balances).
 */
export async function loadSettlementInputs(q: {
  institutionId: string;
  idempotencyKey?: string;
  voucherId: string;
  personId: string;
  jti: string;
  drugCodes: string[];
  prescriptionId?: string;
  traceCodes: string[];
}): Promise<SettlementInputs> {
  const keys = {
    ...(q.idempotencyKey ? { idempotency: idempotencyRecordKey(q.institutionId, SETTLE_OPERATION, q.idempotencyKey) } : {}),
    voucher: voucherKey(q.voucherId),
    person: personKey(q.personId),
    code: codeUseKey(q.jti),
    referral: referredToKey(q.personId, q.institutionId),
    payer: mutualAidPayerKey(q.personId),
    ...(q.prescriptionId ? { prescription: prescriptionKey(q.prescriptionId), paidFor: prescriptionSettlementsKey(q.prescriptionId) } : {}),
  };
  const drugKeys = [...new Set(q.drugCodes)].map((c) => [c, drugKey(c)] as const);
  const traceKeys = q.traceCodes.map((c) => [c, traceCodeKey(c)] as const);
  const found = await batchGet([...Object.values(keys), ...drugKeys.map(([, k]) => k), ...traceKeys.map(([, k]) => k)]);
  const get = (k: TableKey | undefined) => (k ? found.get(keyOf(k)) : undefined);
  const pointer = get(keys.payer);
  const mutualAid = pointer ? { bindingId: String(pointer.bindingId), payerPersonId: String(pointer.payerPersonId) } : undefined;
  return {
    idempotency: get(keys.idempotency),
    voucher: found.has(keyOf(keys.voucher)) ? voucherItem.parse(get(keys.voucher)) : undefined,
    person: get(keys.person),
    codeUsed: found.has(keyOf(keys.code)),
    referral: get(keys.referral),
    prescription: keys.prescription && found.has(keyOf(keys.prescription)) ? prescriptionRef.parse(get(keys.prescription)) : undefined,
    drugs: new Map(drugKeys.flatMap(([code, k]) => (found.has(keyOf(k)) ? [[code, found.get(keyOf(k))!]] : []))),
    mutualAid: mutualAid && { ...mutualAid, payer: (await batchGet([personKey(mutualAid.payerPersonId)])).get(keyOf(personKey(mutualAid.payerPersonId))) },
    soldTraceCodes: traceKeys.flatMap(([code, k]) => soldAs(code, get(k))),
    ...(keys.paidFor ? { paidFor: await stillSettled(get(keys.paidFor)) } : {}),
  };
}

/** A trace code sold (not returned), where and in which settlement: what an operator's alert names. */
export interface SoldTraceCode { code: string; institutionId: string; settlementId: string }
export const soldAs = (code: string, item: StoredItem | undefined): SoldTraceCode[] =>
  item?.status === 'sold' ? [{ code, institutionId: String(item.institutionId), settlementId: String(item.settlementId) }] : [];

/** A person's balances after a settlement, and the version they were computed from. */
export interface BalancesWrite {
  personId: string;
  version: number;
  personalAccountFen: number;
  annualPooledUsedFen: number;
  deductibleMetFen: number;
  pooledYear: number;
}

export interface SettlementWrite {
  settlement: Settlement;
  /** Calendar day of the settlement in the province: its reconciliation partition. */
  day: string;
  jti: string;
  codeExpiresAt: Date;
  person: BalancesWrite;
  /** The payer's account after paying mutual aid, with the binding it paid under. */
  payer?: { bindingId: string; personId: string; version: number; personalAccountFen: number };
  idempotency: IdempotentRequest;
  /** For a settlement naming a prescription: the settlements that named it before, and their list's version. */
  paidFor?: PaidForList;
}

/** A trace code of this request was sold meanwhile (the write's condition): the caller says which. */
export class TraceCodeSold extends Error {
  constructor(readonly code: string) {
    super(`trace code ${code} already sold`);
  }
}

/** The balances item, guarded by the version the split was computed from (racing settlements recompute). */
function balancesUpdate(key: TableKey, version: number, set: string, values: Record<string, unknown>): TxItem {
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: key,
        UpdateExpression: `SET ${set}, balanceVersion = :next`,
        ConditionExpression: version === 0 ? 'attribute_not_exists(balanceVersion)' : 'balanceVersion = :v',
        ExpressionAttributeValues: { ...values, ':next': version + 1, ...(version === 0 ? {} : { ':v': version }) },
      },
    },
    onConditionFailed: () => new TransactionConflict('balances changed since they were read'),
  };
}

export async function writeSettlement(w: SettlementWrite, ctx: EventContext): Promise<void> {
  const s = w.settlement;
  const items: TxItem[] = [
    // First: a repeated Idempotency-Key must be answered from its record, whatever else failed.
    idempotencyRecord(w.idempotency, { status: 201, body: s, location: `/settlements/${s.settlementId}` }, ctx.now),
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...codeUseKey(w.jti), settlementId: s.settlementId, expiresAt: epochSeconds(w.codeExpiresAt) + 3600 },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      onConditionFailed: () => problem('code-already-used', 'this voucher code has already been used; ask the patient to show a new one'),
    },
    {
      write: {
        ConditionCheck: {
          TableName: tableName(),
          Key: voucherKey(s.voucherId),
          ConditionExpression: '#s = :active',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
        },
      },
      onConditionFailed: () => problem('voucher-not-active', 'the voucher was suspended'),
    },
    balancesUpdate(personKey(w.person.personId), w.person.version, 'personalAccountFen = :bal, annualPooledUsedFen = :used, deductibleMetFen = :met, pooledYear = :year', {
      ':bal': w.person.personalAccountFen,
      ':used': w.person.annualPooledUsedFen,
      ':met': w.person.deductibleMetFen,
      ':year': w.person.pooledYear,
    }),
    ...(w.payer
      ? [
          // The binding still stands (a revocation racing this settlement loses one way or the other)…
          {
            write: {
              ConditionCheck: {
                TableName: tableName(),
                Key: mutualAidPayerKey(w.person.personId),
                ConditionExpression: 'bindingId = :b',
                ExpressionAttributeValues: { ':b': w.payer.bindingId },
              },
            },
            onConditionFailed: () => new TransactionConflict('the mutual-aid binding changed since it was read'),
          } satisfies TxItem,
          // …and the payer's balance is guarded like the person's own.
          balancesUpdate(personKey(w.payer.personId), w.payer.version, 'personalAccountFen = :bal', { ':bal': w.payer.personalAccountFen }),
        ]
      : []),
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: {
            ...settlementKey(s.settlementId),
            GSI1PK: settlementDayKey(s.institutionId, w.day),
            GSI1SK: `${s.settledAt}#${s.settlementId}`,
            entity: 'settlement',
            ...s,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    },
    // One code, one sale in the province: never sold, or returned by a reversal.
    ...s.items.flatMap((line) =>
      (line.traceCodes ?? []).map((code): TxItem => ({
        write: {
          Put: {
            TableName: tableName(),
            Item: { ...traceCodeKey(code), entity: 'trace-code', code, status: 'sold', drugCode: line.drugCode, settlementId: s.settlementId, institutionId: s.institutionId, soldAt: s.settledAt },
            ConditionExpression: 'attribute_not_exists(PK) OR #s = :returned',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':returned': 'returned' },
          },
        },
        onConditionFailed: () => new TraceCodeSold(code),
      })),
    ),
    ...(s.prescriptionId && w.paidFor ? [paidForWrite(s, w.paidFor)] : []),
    outboxEvent(SettlementCompleted, eventDetail(s), ctx),
  ];
  await writeTransaction(items);
}

/**
 * The prescription's list of settlements, now those still settled and this one, under the version
 * they were read at: a settlement or a dispense racing this one for the same prescription makes it
 * recompute.
 */
function paidForWrite(s: Settlement, paidFor: PaidForList): TxItem {
  const mine: PaidFor = { settlementId: s.settlementId, items: s.items.map(({ drugCode, quantity }) => ({ drugCode, quantity })) };
  return {
    write: {
      Put: {
        TableName: tableName(),
        Item: { ...prescriptionSettlementsKey(s.prescriptionId!), entity: 'prescription-settlements', prescriptionId: s.prescriptionId, settlements: [...paidFor.settled, mine], version: paidFor.version + 1 },
        ConditionExpression: paidFor.version === 0 ? 'attribute_not_exists(PK)' : 'version = :v',
        ...(paidFor.version === 0 ? {} : { ExpressionAttributeValues: { ':v': paidFor.version } }),
      },
    },
    onConditionFailed: () => new TransactionConflict('another settlement named the prescription meanwhile'),
  };
}

export const settlementDayKey = (institutionId: string, day: string) => `SETTLEMENTS#${institutionId}#${day}`;

const eventDetail = (s: Settlement) => ({
  settlementId: s.settlementId,
  voucherId: s.voucherId,
  personId: s.personId,
  institutionId: s.institutionId,
  prescriptionId: s.prescriptionId,
  totalFen: s.totalFen,
  pooledFundFen: s.pooledFundFen,
  personalAccountFen: s.personalAccountFen,
  mutualAidFen: s.mutualAidFen,
  mutualAidPayerId: s.mutualAidPayerId,
  cashFen: s.cashFen,
});

export async function getTraceCodeSale(code: string): Promise<TraceCodeSale | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: traceCodeKey(code), ConsistentRead: true }));
  return Item ? traceCodeSaleItem.parse(Item) : undefined;
}

/**
 * One page of a scan for settlements (only those a relative's personal account helped pay, family
 * mutual aid, if asked): for an operator's one-off backfills (infra/ops), never a request path.
 */
export async function settlementsPage(startKey?: Record<string, unknown>, o: { mutualAidOnly?: boolean } = {}): Promise<{ settlements: Settlement[]; next?: Record<string, unknown> }> {
  const res = await ddb.send(
    new ScanCommand({
      TableName: tableName(),
      FilterExpression: `begins_with(PK, :pk) AND SK = :sk${o.mutualAidOnly ? ' AND mutualAidFen > :zero' : ''}`,
      ExpressionAttributeValues: { ':pk': settlementKey('').PK, ':sk': settlementKey('').SK, ...(o.mutualAidOnly ? { ':zero': 0 } : {}) },
      Limit: 1_000,
      ExclusiveStartKey: startKey,
    }),
  );
  return { settlements: (res.Items ?? []).map((i) => settlementItem.parse(i)), ...(res.LastEvaluatedKey ? { next: res.LastEvaluatedKey } : {}) };
}

/**
 * Puts a settlement made before prescriptions kept their list of settlements into its prescription's
 * list, if not there (an operator's backfill): a later settlement naming the prescription then sees
 * it. Under the list's version, read again on a race. Whether it put it.
 */
export async function recordOnPrescription(s: Settlement): Promise<boolean> {
  if (!s.prescriptionId || s.status !== 'settled') return false;
  for (let attempt = 0; ; attempt++) {
    const item = await settlementsNaming(s.prescriptionId);
    const list = item ? prescriptionSettlements.parse(item) : { settlements: [], version: 0 };
    if (list.settlements.some((x) => x.settlementId === s.settlementId)) return false;
    try {
      await writeTransaction([paidForWrite(s, { settled: list.settlements, version: list.version })]);
      return true;
    } catch (err) {
      if (!(err instanceof TransactionConflict) || attempt >= 5) throw err;
    }
  }
}

export async function getSettlement(settlementId: string): Promise<Settlement | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: settlementKey(settlementId), ConsistentRead: true }));
  return Item ? settlementItem.parse(Item) : undefined;
}

/**
 * Marks the settlement reversed, gives back exactly what it took (the person's account, the payer's
 * under mutual aid, the pooled-fund use and the deductible) and returns its trace codes, in one
 * transaction.
 */
export async function writeReversal(s: Settlement, ctx: EventContext): Promise<Settlement> {
  const reversed: Settlement = { ...s, status: 'reversed', reversedAt: ctx.now.toISOString() };
  await writeTransaction([
    {
      write: {
        Update: {
          TableName: tableName(),
          Key: settlementKey(s.settlementId),
          UpdateExpression: 'SET #s = :reversed, reversedAt = :now',
          ConditionExpression: '#s = :settled AND institutionId = :inst',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':reversed': 'reversed', ':settled': 'settled', ':now': reversed.reversedAt, ':inst': s.institutionId },
        },
      },
      onConditionFailed: (current) => problem('invalid-transition', `settlement is already ${String(current?.status ?? 'gone')}`),
    },
    // Drugs handed over against this settlement cannot be paid back: a dispense racing this reversal
    // touches both items too, so exactly one of them wins.
    {
      write: { ConditionCheck: { TableName: tableName(), Key: settlementDispenseKey(s.settlementId), ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed: (marker) =>
        problem('invalid-transition', `the settlement paid for a dispensed prescription${marker?.prescriptionId ? ` (${String(marker.prescriptionId)})` : ''}; it cannot be reversed`),
    },
    {
      write: {
        Update: {
          TableName: tableName(),
          Key: personKey(s.personId),
          UpdateExpression:
            'SET personalAccountFen = personalAccountFen + :acct, annualPooledUsedFen = annualPooledUsedFen - :fund, deductibleMetFen = deductibleMetFen - :ded ADD balanceVersion :one',
          // Same day means same year; the guards only fail if an operator re-enrolled the person since.
          ConditionExpression: 'annualPooledUsedFen >= :fund AND deductibleMetFen >= :ded',
          ExpressionAttributeValues: { ':acct': s.personalAccountFen, ':fund': s.pooledFundFen, ':ded': s.deductibleAppliedFen, ':one': 1 },
        },
      },
      onConditionFailed: () => problem('conflict', 'the person was re-enrolled with new balances after this settlement; reverse it by hand'),
    },
    ...(s.mutualAidPayerId && s.mutualAidFen > 0
      ? [
          {
            write: {
              Update: {
                TableName: tableName(),
                Key: personKey(s.mutualAidPayerId),
                UpdateExpression: 'SET personalAccountFen = personalAccountFen + :aid ADD balanceVersion :one',
                ConditionExpression: 'attribute_exists(PK)',
                ExpressionAttributeValues: { ':aid': s.mutualAidFen, ':one': 1 },
              },
            },
          } satisfies TxItem,
        ]
      : []),
    // The packs come back: their codes may be sold again.
    ...s.items.flatMap((line) =>
      (line.traceCodes ?? []).map((code): TxItem => ({
        write: {
          Update: {
            TableName: tableName(),
            Key: traceCodeKey(code),
            UpdateExpression: 'SET #s = :returned, returnedAt = :now',
            ConditionExpression: 'settlementId = :stl',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':returned': 'returned', ':now': reversed.reversedAt, ':stl': s.settlementId },
          },
        },
      })),
    ),
    outboxEvent(SettlementReversed, eventDetail(reversed), ctx),
  ]);
  return reversed;
}

export async function listSettlementsOfDay(institutionId: string, day: string, limit: number, nextToken?: string) {
  const partition = { GSI1PK: settlementDayKey(institutionId, day) };
  const query = (extra: Record<string, unknown>) =>
    ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': partition.GSI1PK },
        ...extra,
      }),
    );
  const page = await query({ Limit: limit, ExclusiveStartKey: decodeToken(nextToken, partition) });

  // Totals cover the whole day, not just this page: a pharmacy settles hundreds a day, not millions.
  const totals = { count: 0, totalFen: 0, pooledFundFen: 0, personalAccountFen: 0, mutualAidFen: 0, cashFen: 0 };
  let start: Record<string, unknown> | undefined;
  do {
    const res = await query({
      ProjectionExpression: '#s, totalFen, pooledFundFen, personalAccountFen, mutualAidFen, cashFen',
      ExpressionAttributeNames: { '#s': 'status' },
      ExclusiveStartKey: start,
    });
    for (const i of res.Items ?? []) {
      if (i.status !== 'settled') continue;
      totals.count++;
      totals.totalFen += i.totalFen as number;
      totals.pooledFundFen += i.pooledFundFen as number;
      totals.personalAccountFen += i.personalAccountFen as number;
      totals.mutualAidFen += (i.mutualAidFen as number | undefined) ?? 0;
      totals.cashFen += i.cashFen as number;
    }
    start = res.LastEvaluatedKey;
  } while (start);

  return { items: (page.Items ?? []).map((i) => settlementItem.parse(i)), nextToken: encodeToken(page.LastEvaluatedKey), totals };
}
