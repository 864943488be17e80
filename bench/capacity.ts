// Read and write units of one settlement, one prescription and one referral, as on-demand DynamoDB
// bills them, counted from the commands the functions really send on the local runtime (the API
// function's and every consumer's, attributed by the invocation that sent them), with item sizes
// computed as DynamoDB computes them. docs/capacity.md multiplies these by a Shandong peak.
//
// Billing rules applied (DynamoDB developer guide, "read and write operations" and "transactions"):
// - a write: 1 WCU per KB of the larger of the item before and after; 2 per KB inside
//   TransactWriteItems (prepare and commit), a ConditionCheck counted like a write of its item;
// - each global secondary index the item is in (before or after): 1 WCU per KB of the projected
//   item (projection ALL here), a key change being a delete and a put;
// - a read: 1 RCU per 4 KB strongly consistent, 0.5 eventually; an item that does not exist costs
//   the minimum all the same; a Query is billed on the size of every item it evaluates (filtered
//   out or not), rounded up to 4 KB, and at least the minimum when it finds nothing.
// DynamoDB Local reports consumed capacity too, but counts transactions and missing items otherwise.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../functions/shared/db.ts';
import { OUTBOX_PREFIX, tableKeys } from '../functions/shared/table.ts';
import { demoNationalId } from '../infra/local/demo-province.ts';
import { invocation, type Invocation } from '../infra/local/lambda.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { api, traceCodes } from './lib.ts';

type Item = Record<string, unknown>;
type Key = { PK: string; SK: string };

// ── item size, as DynamoDB counts it ──

function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number' || typeof v === 'bigint') {
    const digits = String(v).replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length || 1;
    return Math.ceil(digits / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((t: number, e) => t + valueSize(e), 0);
  // List and map: 3 bytes, plus 1 per element, plus the elements (and a map's names).
  if (Array.isArray(v)) return 3 + v.reduce((t: number, e) => t + 1 + valueSize(e), 0);
  return 3 + Object.entries(v as Item).reduce((t, [k, e]) => t + 1 + Buffer.byteLength(k) + valueSize(e), 0);
}

export const itemSize = (item: Item | undefined) => (item ? Object.entries(item).reduce((t, [k, v]) => t + Buffer.byteLength(k) + valueSize(v), 0) : 0);
const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

// ── what one command costs ──

export interface Charge {
  fn: string;
  command: string;
  /** The partition keys it touched (table PK, or index PK for a query). */
  keys: string[];
  rcu: number;
  /** Table write units. */
  wcu: number;
  /** Index write units. */
  gsiWcu: number;
  /** Write units by partition key (table and index), for the hot-key table. */
  wcuByKey: Record<string, number>;
  rcuByKey: Record<string, number>;
  failed?: boolean;
}

const keyOf = (i: Item): Key => ({ PK: String(i.PK), SK: String(i.SK) });
const add = (m: Record<string, number>, k: string, n: number) => (m[k] = (m[k] ?? 0) + n);

function indexWrites(before: Item | undefined, after: Item | undefined, charge: Charge): void {
  for (const ix of tableKeys.indexes) {
    const keyIn = (i: Item | undefined) => (i && i[ix.partitionKey] !== undefined && i[ix.sortKey] !== undefined ? `${String(i[ix.partitionKey])}|${String(i[ix.sortKey])}` : undefined);
    const b = keyIn(before);
    const a = keyIn(after);
    if (b && a && b === a) {
      const n = kb(Math.max(itemSize(before), itemSize(after)));
      charge.gsiWcu += n;
      add(charge.wcuByKey, `${ix.indexName}:${String(after![ix.partitionKey])}`, n);
      continue;
    }
    if (b) {
      charge.gsiWcu += kb(itemSize(before));
      add(charge.wcuByKey, `${ix.indexName}:${String(before![ix.partitionKey])}`, kb(itemSize(before)));
    }
    if (a) {
      charge.gsiWcu += kb(itemSize(after));
      add(charge.wcuByKey, `${ix.indexName}:${String(after![ix.partitionKey])}`, kb(itemSize(after)));
    }
  }
}

/** Measures every command of the functions' shared client while `run` runs. */
export function meter(endpoint: string, table: string) {
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'meter', secretAccessKey: 'meter' } }));
  const charges: Charge[] = [];
  const timed = new Set<Invocation>();
  /** off; time: note the invocations only (no reads of our own to slow them); charge: count units. */
  let mode: 'off' | 'time' | 'charge' = 'off';

  const read = async (keys: Key[]): Promise<Map<string, Item>> => {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      const res = await raw.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys.slice(i, i + 100), ConsistentRead: true } } }));
      for (const it of res.Responses?.[table] ?? []) found.set(`${String(it.PK)}|${String(it.SK)}`, it);
    }
    return found;
  };
  const k = (key: Key) => `${key.PK}|${key.SK}`;

  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (mode === 'time') {
        const current = invocation.getStore();
        if (current) timed.add(current);
      }
      if (mode !== 'charge') return next(args);
      // The low-level operation (GetItem, TransactWriteItems…), whichever client's command was sent.
      const command = String(context.commandName).replace(/Command$/, '');
      const input = args.input as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const charge: Charge = { fn: invocation.getStore()?.name ?? '?', command, keys: [], rcu: 0, wcu: 0, gsiWcu: 0, wcuByKey: {}, rcuByKey: {} };

      // Writes: the items before (and after), by key.
      const writes: Array<{ kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck'; key: Key; item?: Item; tx: boolean }> = [];
      if (command === 'PutItem') writes.push({ kind: 'Put', key: keyOf(input.Item), item: input.Item, tx: false });
      if (command === 'UpdateItem') writes.push({ kind: 'Update', key: input.Key, tx: false });
      if (command === 'DeleteItem') writes.push({ kind: 'Delete', key: input.Key, tx: false });
      if (command === 'BatchWriteItem') {
        // Billed as the same Puts and Deletes one at a time (the access log files its entries so).
        for (const r of (input.RequestItems[table] ?? []) as Array<Record<string, any>>) { // eslint-disable-line @typescript-eslint/no-explicit-any
          if (r.PutRequest) writes.push({ kind: 'Put', key: keyOf(r.PutRequest.Item), item: r.PutRequest.Item, tx: false });
          if (r.DeleteRequest) writes.push({ kind: 'Delete', key: r.DeleteRequest.Key, tx: false });
        }
      }
      if (command === 'TransactWriteItems') {
        for (const t of input.TransactItems as Array<Record<string, any>>) { // eslint-disable-line @typescript-eslint/no-explicit-any
          if (t.Put) writes.push({ kind: 'Put', key: keyOf(t.Put.Item), item: t.Put.Item, tx: true });
          if (t.Update) writes.push({ kind: 'Update', key: t.Update.Key, tx: true });
          if (t.Delete) writes.push({ kind: 'Delete', key: t.Delete.Key, tx: true });
          if (t.ConditionCheck) writes.push({ kind: 'ConditionCheck', key: t.ConditionCheck.Key, tx: true });
        }
      }
      const before = writes.length ? await read(writes.map((w) => w.key)) : new Map<string, Item>();

      let output: Awaited<ReturnType<typeof next>>;
      try {
        output = await next(args);
      } catch (err) {
        charge.failed = true;
        charges.push(charge);
        throw err;
      }
      const out = output.output as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

      if (writes.length) {
        const after = await read(writes.filter((w) => w.kind === 'Update').map((w) => w.key));
        for (const w of writes) {
          const b = before.get(k(w.key));
          const a = w.kind === 'Put' ? w.item : w.kind === 'Update' ? after.get(k(w.key)) : w.kind === 'Delete' ? undefined : b;
          const n = kb(Math.max(itemSize(b), itemSize(a))) * (w.tx ? 2 : 1);
          charge.wcu += n;
          charge.keys.push(w.key.PK);
          add(charge.wcuByKey, w.key.PK, n);
          if (w.kind !== 'ConditionCheck') indexWrites(b, a, charge);
        }
      }

      if (command === 'GetItem') {
        const n = readUnits(itemSize(out.Item), !!input.ConsistentRead);
        charge.rcu += n;
        charge.keys.push(input.Key.PK);
        add(charge.rcuByKey, input.Key.PK, n);
      }
      if (command === 'BatchGetItem') {
        for (const [t, req] of Object.entries(input.RequestItems as Record<string, { Keys: Key[]; ConsistentRead?: boolean }>)) {
          if (t !== table) continue;
          // Billed on whole items, whatever the projection returned.
          const full = await read(req.Keys);
          for (const key of req.Keys) {
            const n = readUnits(itemSize(full.get(k(key))), !!req.ConsistentRead);
            charge.rcu += n;
            charge.keys.push(key.PK);
            add(charge.rcuByKey, key.PK, n);
          }
        }
      }
      if (command === 'Query') {
        // What the query evaluated: the same key condition and page, without filter or projection.
        const { FilterExpression: _f, ProjectionExpression: _p, Select: _s, ...q } = input as QueryCommandInput;
        const evaluated = Number(out.ScannedCount ?? out.Count ?? 0);
        const res = evaluated ? await raw.send(new QueryCommand({ ...q, Limit: evaluated, ExpressionAttributeNames: usedNames(q) })) : { Items: [] };
        const bytes = (res.Items ?? []).reduce((t, i) => t + itemSize(i), 0);
        const n = readUnits(bytes, !!input.ConsistentRead);
        const pk = String(Object.values(input.ExpressionAttributeValues ?? {})[0]);
        charge.rcu += n;
        charge.keys.push(`${input.IndexName ? `${String(input.IndexName)}:` : ''}${pk}`);
        add(charge.rcuByKey, `${input.IndexName ? `${String(input.IndexName)}:` : ''}${pk}`, n);
      }
      charges.push(charge);
      return output;
    },
    { step: 'initialize', name: 'capacityMeter' },
  );

  const during = async (m: typeof mode, run: () => Promise<unknown>) => {
    const was = mode;
    mode = m;
    try {
      await run();
    } finally {
      mode = was;
    }
  };
  return {
    /** The commands `run` sends and what each costs (our own reads of items before and after slow them). */
    async measure(run: () => Promise<unknown>): Promise<Charge[]> {
      const from = charges.length;
      await during('charge', run);
      return charges.slice(from);
    },
    /** The invocations `run` makes that send commands, with their durations, undisturbed. */
    async time(run: () => Promise<unknown>): Promise<Invocation[]> {
      timed.clear();
      await during('time', run);
      return [...timed];
    },
    /** Runs `run` unmetered (a step of a flow that another flow's figures already hold). */
    async pause<T>(run: () => Promise<T>): Promise<T> {
      let result: T;
      await during('off', async () => {
        result = await run();
      });
      return result!;
    },
    stop: () => ddb.middlewareStack.remove('capacityMeter'),
  };
}

/** The attribute names a key condition (without filter or projection) still uses. */
function usedNames(q: QueryCommandInput): Record<string, string> | undefined {
  if (!q.ExpressionAttributeNames) return undefined;
  const used = Object.entries(q.ExpressionAttributeNames).filter(([n]) => q.KeyConditionExpression?.includes(n));
  return used.length ? Object.fromEntries(used) : undefined;
}

// ── the three flows ──

export interface CapacityRow {
  flow: string;
  fn: string;
  invocations: number;
  /** Mean wall time of an invocation on the local runtime (DynamoDB Local), for Little's law. */
  msPerInvocation: number;
  commands: number;
  rcu: number;
  wcu: number;
  gsiWcu: number;
}

/** One flow in all: its functions' commands and units, the events it published and their deliveries to consumers. */
export interface FlowRow {
  flow: string;
  commands: number;
  rcu: number;
  wcu: number;
  gsiWcu: number;
  events: number;
  deliveries: number;
}

export interface CapacityResult {
  flows: FlowRow[];
  rows: CapacityRow[];
  /** Every command, for docs/capacity.md's tables of partition keys. */
  charges: Record<string, Charge[]>;
}

export async function benchCapacity(rt: Runtime, endpoint: string): Promise<CapacityResult> {
  const m = meter(endpoint, rt.tableName);
  const t = {
    operator: await rt.token('operator'),
    channel: await rt.token('channel'),
    pharmacy: await rt.token('pharmacy', 'ph-xihu-1'),
    clinic: await rt.token('clinic', 'clinic-lingyin'),
    hospital: await rt.token('hospital', 'hosp-zjph'),
  };
  const person = { nationalId: demoNationalId('330108', '19910101', 7), name: '容量', district: '西湖区', personalAccountFen: 100_000 };
  const personId = (await api(rt, t.operator, 'POST', '/enrollments', { people: [person] })).body.personIds[0] as string;
  const voucherId = (await api(rt, t.channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'bench' })).body.voucherId as string;
  const channel = await rt.token('channel', undefined, { person: personId });
  await rt.settle();

  // Steps another flow's figures already hold run unmetered, and their deliveries are not counted.
  let pausedDeliveries = 0;
  const unmetered = async <T>(run: () => Promise<T>): Promise<T> => {
    const before = rt.bus.delivered;
    try {
      return await m.pause(run);
    } finally {
      pausedDeliveries += rt.bus.delivered - before;
    }
  };
  const ok = <R extends { status: number; body?: unknown }>(r: R, what: string): R => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  const traceCode = traceCodes();
  const scenarios: Array<[string, () => Promise<void>]> = [
    // At the counter: the app shows a code, the pharmacy settles two lines.
    ['settlement', async () => {
      const { code } = ok(await api(rt, channel, 'POST', `/vouchers/${voucherId}/codes`), 'code').body;
      ok(await api(rt, t.pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 3_500 }, { drugCode: 'XA11CCA001', quantity: 1, unitPriceFen: 2_000 }] }, { 'idempotency-key': randomUUID() }), 'settle');
      await rt.settle();
    }],
    // The same purchase with every pack's trace code scanned, three packs: the counter's sale that
    // docs/capacity.md's arithmetic takes (each code read, and written once in the transaction).
    ['settlement, 3 packs scanned', async () => {
      const { code } = ok(await api(rt, channel, 'POST', `/vouchers/${voucherId}/codes`), 'code').body;
      const items = [
        { drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 3_500, traceCodes: [traceCode(), traceCode()] },
        { drugCode: 'XA11CCA001', quantity: 1, unitPriceFen: 2_000, traceCodes: [traceCode()] },
      ];
      ok(await api(rt, t.pharmacy, 'POST', '/settlements', { code, items }, { 'idempotency-key': randomUUID() }), 'settle scanned');
      await rt.settle();
    }],
    // A prescription from issue to dispense (its settlement is the row above's; not counted twice).
    ['prescription', async () => {
      const rx = ok(await api(rt, t.clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 2, dosage: '每日一次' }] }, { 'idempotency-key': randomUUID() }), 'issue').body.prescriptionId as string;
      await rt.settle();
      // Routed to the nearest stocked pharmacy of the person's district: that pharmacy goes on.
      const { pharmacyId } = (await unmetered(() => api(rt, t.clinic, 'GET', `/prescriptions/${rx}`))).body as { pharmacyId: string };
      const pharmacy = await rt.token('pharmacy', pharmacyId);
      ok(await api(rt, pharmacy, 'POST', `/prescriptions/${rx}/accept`), 'accept');
      await rt.settle();
      const { code } = (await unmetered(() => api(rt, channel, 'POST', `/vouchers/${voucherId}/codes`))).body;
      const stl = (await unmetered(async () => {
        const r = await api(rt, pharmacy, 'POST', '/settlements', { code, prescriptionId: rx, items: [{ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 3_500 }] }, { 'idempotency-key': randomUUID() });
        await rt.settle();
        return r;
      })).body.settlementId as string;
      ok(await api(rt, pharmacy, 'POST', `/prescriptions/${rx}/dispense`, { settlementId: stl }), 'dispense');
      await rt.settle();
    }],
    // An upward referral routed to a hospital with capacity, accepted, arrived, completed.
    ['referral', async () => {
      const ref = ok(await api(rt, t.clinic, 'POST', '/referrals', { personId, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' }), 'refer').body.referralId as string;
      await rt.settle();
      ok(await api(rt, t.hospital, 'POST', `/referrals/${ref}/accept`, { appointmentAt: new Date(Date.now() + 86_400_000).toISOString() }), 'accept');
      ok(await api(rt, t.hospital, 'POST', `/referrals/${ref}/arrive`), 'arrive');
      ok(await api(rt, t.hospital, 'POST', `/referrals/${ref}/complete`), 'complete');
      await rt.settle();
    }],
  ];

  const totals: FlowRow[] = [];
  const rows: CapacityRow[] = [];
  const charges: Record<string, Charge[]> = {};
  try {
    for (const [flow, run] of scenarios) {
      // The first run warms caches (institutions, secrets, the pharmacy list) as a busy province's are;
      // three more time the invocations; the last counts units.
      await run();
      const runs = [...(await m.time(run)), ...(await m.time(run)), ...(await m.time(run))];
      const delivered = rt.bus.delivered;
      pausedDeliveries = 0;
      const cs = await m.measure(run);
      const deliveries = rt.bus.delivered - delivered - pausedDeliveries;
      charges[flow] = cs;
      for (const fn of [...new Set(cs.map((c) => c.fn))]) {
        const mine = cs.filter((c) => c.fn === fn);
        const times = runs.filter((i) => i.name === fn && i.ms !== undefined);
        rows.push({
          flow, fn,
          invocations: times.length,
          msPerInvocation: times.reduce((t, i) => t + i.ms!, 0) / (times.length || 1),
          commands: mine.length, rcu: sum(mine, 'rcu'), wcu: sum(mine, 'wcu'), gsiWcu: sum(mine, 'gsiWcu'),
        });
      }
      const events = cs.flatMap((c) => c.keys).filter((k) => k.startsWith(OUTBOX_PREFIX)).length;
      totals.push({ flow, commands: cs.length, rcu: sum(cs, 'rcu'), wcu: sum(cs, 'wcu'), gsiWcu: sum(cs, 'gsiWcu'), events, deliveries });
    }
  } finally {
    m.stop();
  }
  return { flows: totals, rows, charges };
}

const sum = (cs: Charge[], f: 'rcu' | 'wcu' | 'gsiWcu') => cs.reduce((t, c) => t + c[f], 0);
