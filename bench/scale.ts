// `npm run bench -- --scale shandong`: the same measurements on the demo province and, in the same
// run, process and table, after the province has grown to Shandong's shape (bench/shandong.ts).
//
// How it seeds, all through the public API: POST /institutions for 20,025 pharmacies and 7,614
// institutions, PUT /pharmacies/{id}/stock for every pharmacy, POST /enrollments (500 a request) for
// the people. Every event those writes raise flows through the outbox, the bus and the consumers
// as it would in the province. Only the comparison figure for the enrolment import writes directly:
// raw BatchWriteItem of person items of the same size into keys of their own (RAW#…).
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DISTRICTS, demoNationalId } from '../infra/local/demo-province.ts';
import { commandsBy, itemsReadBy } from '../infra/local/lambda.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { api, engineCpuMs, mean, percentile, pool, rawSettlementTx } from './lib.ts';
import { benchRoundTrips } from './round-trips.ts';
import { SHANDONG, shandong, shandongPerson, shandongStock, type Province } from './shandong.ts';

/** The DynamoDB Local engine the run uses: where it listens, and its JVM (whose CPU time is read). */
interface Engine {
  endpoint: string;
  pid: number;
}

/** Who acts in one province's measurements, and where. */
interface Cast {
  clinic: string;
  pharmacy: string;
  district: string;
  /** Pharmacies of the district given plenty of the drug first (the demo's shelves are small). */
  fill: string[];
  /** Makes the n-th measured person of this cast (enrolled here, in `district`). */
  person: (n: number) => { nationalId: string; name: string; district: string; personalAccountFen: number };
}

export interface ScaleRow {
  province: string;
  pharmacies: number;
  institutions: number;
  people: number;
  routedP50Ms: number;
  routedP95Ms: number;
  burstP95Ms: number;
  /** Items the router read per prescription (DynamoDB's answers, counted by the local runtime). */
  routerItemsRead: number;
  referralP50Ms: number;
  referralP95Ms: number;
  referralItemsRead: number;
  settlementsPerSec: number;
  settleItemsRead: number;
  /** The settlement's six writes as raw TransactWriteItems, 8 at a time, right after: the engine's pace at that moment. */
  rawTxPerSec: number;
  settlementsVsRaw: number;
}

/**
 * Where a settlement's time went at one size, so a run says why the two sizes' rates differ: the
 * request as the bench saw it and as the gateway timed it, then each side's CPU from the first timed
 * settlement until every consumer had caught up, and the DynamoDB commands the functions sent.
 */
export interface SettlementCost {
  province: string;
  /** Mean latency of one settlement, 8 at a time, as the bench saw it. */
  requestMs: number;
  /** Of which the vouchers function (Server-Timing), and its DynamoDB calls. */
  functionMs: number;
  dynamoMs: number;
  /** The engine's CPU per settlement, consumers included. */
  engineCpuMs: number;
  /** This process's CPU per settlement: gateway, functions, consumers, poller, bus, and the bench's own requests. */
  nodeCpuMs: number;
  /** DynamoDB commands per settlement: the vouchers function's, and every other function's (the consumers'). */
  settleCalls: number;
  consumerCalls: number;
  /** The engine's CPU per raw 6-item transaction, measured right after. */
  rawEngineCpuMs: number;
}

/** What one kind of command (a function's GetItem, Query on an index…) cost, per call, in a stretch of a run. */
interface CommandStats {
  /** Calls per settlement. */
  calls: number;
  ms: number;
  itemsRead: number;
  /** Mean ms with nothing else running (one settlement at a time). */
  aloneMs?: number;
}

/** The runtime's command counts (commandsBy) now, to take differences from. */
const commandsNow = () => new Map([...commandsBy].map(([kind, s]) => [kind, { ...s }]));
/** Each kind of command sent since `before`: calls, ms and items read, summed. */
function commandsSince(before: ReturnType<typeof commandsNow>): Array<[string, { calls: number; ms: number; itemsRead: number }]> {
  return [...commandsBy]
    .map(([kind, s]): [string, typeof s] => {
      const b = before.get(kind);
      return [kind, { calls: s.calls - (b?.calls ?? 0), ms: s.ms - (b?.ms ?? 0), itemsRead: s.itemsRead - (b?.itemsRead ?? 0) }];
    })
    .filter(([, s]) => s.calls > 0);
}

const ROUTED = 40;
const BURST = 80;
const REFERRALS = 40;
// Three times the first runs' 240: a few seconds of settlements on this engine varied by a fifth from run to run.
const SETTLEMENTS = 720;
const SETTLE_CONCURRENCY = 8;
/** Settlements made one at a time after, each after the last one's consumers finished. */
const ALONE = 40;
const DRUG = 'XN02BEA001';

async function measure(rt: Runtime, engine: Engine, province: string, cast: Cast, size: Pick<ScaleRow, 'pharmacies' | 'institutions' | 'people'>): Promise<{ row: ScaleRow; cost: SettlementCost; commands: Record<string, CommandStats> }> {
  const operator = await rt.token('operator');
  const clinic = await rt.token('clinic', cast.clinic);
  const channel = await rt.token('channel');
  const pharmacy = await rt.token('pharmacy', cast.pharmacy);
  // Fresh people for this measurement (one prescription and one referral each: duplicates are refused).
  const n = ROUTED + BURST + REFERRALS + SETTLE_CONCURRENCY + 4;
  const people = Array.from({ length: n }, (_, i) => cast.person(i));
  const personIds: string[] = (await api(rt, operator, 'POST', '/enrollments', { people })).body.personIds;
  let next = 0;
  const take = () => personIds[next++]!;
  for (const ph of cast.fill) await api(rt, await rt.token('pharmacy', ph), 'PUT', `/pharmacies/${ph}/stock`, { items: [{ drugCode: DRUG, quantity: 100_000 }, { drugCode: 'XC08CAA001', quantity: 100_000 }] });

  // Prescription issued → routed, from the prescription's own history (as bench/prescription-routing.ts).
  const issue = async () => {
    const r = await api(rt, clinic, 'POST', '/prescriptions', { personId: take(), diagnoses: ['R50.9'], items: [{ drugCode: DRUG, quantity: 1, dosage: '必要时服用' }] });
    if (r.status !== 201) throw new Error(`issue: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.prescriptionId as string;
  };
  const routedMs = async (ids: string[]) => {
    const out: number[] = [];
    for (const id of ids) {
      const rx = (await api(rt, clinic, 'GET', `/prescriptions/${id}`)).body;
      const at = (s: string) => new Date(rx.history.find((h: { status: string }) => h.status === s).at).getTime();
      if (rx.status !== 'routed') throw new Error(`prescription ${id} is ${rx.status}, not routed`);
      out.push(at('routed') - at('issued'));
    }
    return out.sort((a, b) => a - b);
  };
  await issue(); // warm: the router's first load
  await rt.settle();
  const routerBefore = itemsReadBy.get('prescriptionRouter') ?? 0;
  const seq: string[] = [];
  for (let i = 0; i < ROUTED; i++) {
    seq.push(await issue());
    await new Promise((r) => setTimeout(r, 50));
  }
  await rt.settle();
  const routerItemsRead = ((itemsReadBy.get('prescriptionRouter') ?? 0) - routerBefore) / ROUTED;
  const one = await routedMs(seq);
  const burstIds = await pool(8, Array.from({ length: BURST }, () => () => issue()));
  await rt.settle();
  const burst = await routedMs(burstIds);

  // Referral auto-routing: POST /referrals without a target, one at a time (routing is in the request).
  const referral: number[] = [];
  const referralItems: number[] = [];
  for (let i = 0; i < REFERRALS; i++) {
    const started = performance.now();
    const r = await api(rt, clinic, 'POST', '/referrals', { personId: take(), direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
    referral.push(performance.now() - started);
    if (r.status !== 201) throw new Error(`referral: ${r.status} ${JSON.stringify(r.body)}`);
    referralItems.push(r.itemsRead);
  }
  referral.sort((a, b) => a - b);

  // Settlement throughput at the counter, one person per worker.
  const settlers = Array.from({ length: SETTLE_CONCURRENCY }, () => take());
  const vouchers = await pool(4, settlers.map((_, i) => async () => {
    const p = people[personIds.indexOf(settlers[i]!)]!;
    return (await api(rt, channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'bench' })).body.voucherId as string;
  }));
  const codes = await pool(16, Array.from({ length: SETTLEMENTS + SETTLE_CONCURRENCY + ALONE }, (_, i) => async () => (await api(rt, channel, 'POST', `/vouchers/${vouchers[i % SETTLE_CONCURRENCY]}/codes`)).body.code as string));
  const items = [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_500 }];
  const settle = async (code: string) => {
    const started = performance.now();
    const r = await api(rt, pharmacy, 'POST', '/settlements', { code, items }, { 'idempotency-key': randomUUID() });
    if (r.status !== 201) throw new Error(`settle: ${r.status} ${JSON.stringify(r.body)}`);
    return { itemsRead: r.itemsRead, ms: performance.now() - started, functionMs: r.timing.function ?? NaN, dynamoMs: r.timing.dynamodb ?? NaN };
  };
  await pool(SETTLE_CONCURRENCY, codes.slice(0, SETTLE_CONCURRENCY).map((c) => () => settle(c))); // warm
  await rt.settle();
  const commandsBefore = commandsNow();
  const [engineBefore, nodeBefore] = [engineCpuMs(engine.pid), process.cpuUsage()];
  const started = performance.now();
  const settled = await pool(SETTLE_CONCURRENCY, codes.slice(SETTLE_CONCURRENCY, SETTLE_CONCURRENCY + SETTLEMENTS).map((c) => () => settle(c)));
  const settlementsPerSec = SETTLEMENTS / ((performance.now() - started) / 1000);
  await rt.settle();
  const nodeCpu = process.cpuUsage(nodeBefore);
  const engineCpu = engineCpuMs(engine.pid) - engineBefore;
  const sent = commandsSince(commandsBefore);
  const calls = (fn?: string) => sent.filter(([kind]) => fn === undefined || kind.startsWith(`${fn} `)).reduce((a, [, s]) => a + s.calls, 0);
  const settleCalls = calls('vouchers');
  const allCalls = calls();
  const commands: Record<string, CommandStats> = Object.fromEntries(sent.map(([kind, s]) => [kind, { calls: s.calls / SETTLEMENTS, ms: s.ms / s.calls, itemsRead: s.itemsRead / s.calls }]));
  // The same commands with nothing queued before them: one settlement at a time, each waiting for its
  // consumers. A kind of command that costs the engine more at one size shows here; above, every kind
  // also waits behind the others.
  const aloneBefore = commandsNow();
  for (const c of codes.slice(SETTLE_CONCURRENCY + SETTLEMENTS)) {
    await settle(c);
    await rt.settle();
  }
  for (const [kind, s] of commandsSince(aloneBefore)) if (commands[kind]) commands[kind].aloneMs = s.ms / s.calls;
  // The engine's own pace, measured next to the settlements: the two sizes are measured ten minutes
  // apart, and this machine's speed moved by a third between such moments (both provinces alike).
  const rawTx = rawSettlementTx(engine.endpoint, rt.tableName);
  await pool(SETTLE_CONCURRENCY, Array.from({ length: SETTLE_CONCURRENCY * 4 }, (_, i) => () => rawTx(i % SETTLE_CONCURRENCY)));
  const rawEngineBefore = engineCpuMs(engine.pid);
  const rawStarted = performance.now();
  await pool(SETTLE_CONCURRENCY, Array.from({ length: SETTLEMENTS }, (_, i) => () => rawTx(i % SETTLE_CONCURRENCY)));
  const rawTxPerSec = SETTLEMENTS / ((performance.now() - rawStarted) / 1000);
  const rawEngineCpu = engineCpuMs(engine.pid) - rawEngineBefore;

  const cost: SettlementCost = {
    province,
    requestMs: mean(settled.map((s) => s.ms)),
    functionMs: mean(settled.map((s) => s.functionMs)),
    dynamoMs: mean(settled.map((s) => s.dynamoMs)),
    engineCpuMs: engineCpu / SETTLEMENTS,
    nodeCpuMs: (nodeCpu.user + nodeCpu.system) / 1000 / SETTLEMENTS,
    settleCalls: settleCalls / SETTLEMENTS,
    consumerCalls: (allCalls - settleCalls) / SETTLEMENTS,
    rawEngineCpuMs: rawEngineCpu / SETTLEMENTS,
  };
  const row: ScaleRow = {
    province,
    ...size,
    routedP50Ms: percentile(one, 50),
    routedP95Ms: percentile(one, 95),
    burstP95Ms: percentile(burst, 95),
    routerItemsRead,
    referralP50Ms: percentile(referral, 50),
    referralP95Ms: percentile(referral, 95),
    referralItemsRead: mean(referralItems),
    settlementsPerSec,
    settleItemsRead: mean(settled.map((s) => s.itemsRead)),
    rawTxPerSec,
    settlementsVsRaw: settlementsPerSec / rawTxPerSec,
  };
  return { row, cost, commands };
}

export interface Seeding {
  institutionsPerSec: number;
  stockPerSec: number;
  /** People enrolled through POST /enrollments per second, and raw BatchWriteItem people per second. */
  enrolPeoplePerSec: number;
  rawPeoplePerSec: number;
  enrolVsRaw: number;
  seconds: number;
}

const ENROL_BATCH = 500;
const RAW_PEOPLE = 20_000;

/** As an integrating system would: a 503 or 429 is retried after its Retry-After. */
async function retrying(call: () => ReturnType<typeof api>): ReturnType<typeof api> {
  for (let attempt = 1; ; attempt++) {
    const r = await call();
    if ((r.status !== 503 && r.status !== 429) || attempt === 5) return r;
    await new Promise((done) => setTimeout(done, 1_000 * attempt));
  }
}

/** Until the consumers have caught up with a bulk import (settle gives up after two minutes; an import takes longer). */
async function drain(rt: Runtime): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rt.settle();
    } catch (err) {
      if (attempt === 10 || !/still moving/.test((err as Error).message)) throw err;
    }
  }
}

async function seed(rt: Runtime, endpoint: string, p: Province, people: number, log: (s: string) => void): Promise<Seeding> {
  const operator = await rt.token('operator');
  const t0 = performance.now();
  const all = [...p.pharmacies, ...p.institutions];
  let done = 0;
  await pool(16, all.map((inst) => async () => {
    const r = await retrying(() => api(rt, operator, 'POST', '/institutions', inst));
    if (r.status !== 201) throw new Error(`register ${inst.id}: ${r.status} ${JSON.stringify(r.body)}`);
    if (++done % 5_000 === 0) log(`  ${done} of ${all.length} institutions registered`);
  }));
  const t1 = performance.now();
  done = 0;
  await pool(8, p.pharmacies.map((ph, i) => async () => {
    const token = await rt.token('pharmacy', ph.id);
    const r = await retrying(() => api(rt, token, 'PUT', `/pharmacies/${ph.id}/stock`, { items: shandongStock(i) }));
    if (r.status !== 200) throw new Error(`stock ${ph.id}: ${r.status} ${JSON.stringify(r.body)}`);
    if (++done % 5_000 === 0) log(`  ${done} of ${p.pharmacies.length} pharmacies stocked`);
  }));
  const t2 = performance.now();
  log(`  stock on every shelf; enrolling ${people} people`);
  await drain(rt);

  const t3 = performance.now();
  await pool(4, Array.from({ length: Math.ceil(people / ENROL_BATCH) }, (_, b) => async () => {
    const batch = Array.from({ length: Math.min(ENROL_BATCH, people - b * ENROL_BATCH) }, (_, i) => shandongPerson(p, b * ENROL_BATCH + i));
    const r = await retrying(() => api(rt, operator, 'POST', '/enrollments', { people: batch }));
    if ((b + 1) % 100 === 0) log(`  ${(b + 1) * ENROL_BATCH} people enrolled`);
    if (r.status !== 200 || r.body.rejected.length) throw new Error(`enrol: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  }));
  const t4 = performance.now();
  await drain(rt);
  const seeded = performance.now();

  // The same number of people written raw, 25 a request, 4 requests at a time: what the engine allows.
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  const sample = shandongPerson(p, 0);
  const rawItem = (i: number) => ({
    PK: `RAW#PERSON#${i}`, SK: 'PROFILE', personId: `p_${randomUUID().replaceAll('-', '').slice(0, 26)}`, nationalIdHash: randomUUID(), nationalIdMasked: '370101***********1',
    name: sample.name, district: sample.district, personalAccountFen: sample.personalAccountFen, annualPooledUsedFen: 0, deductibleMetFen: 0, pooledYear: 2026,
    createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), balanceVersion: 1,
  });
  const t5 = performance.now();
  await pool(4, Array.from({ length: RAW_PEOPLE / 25 }, (_, b) => async () => {
    let requests: Record<string, unknown>[] | undefined = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: rawItem(b * 25 + i) } }));
    while (requests?.length) {
      const res = await raw.send(new BatchWriteCommand({ RequestItems: { [rt.tableName]: requests as never } }));
      requests = res.UnprocessedItems?.[rt.tableName] as never;
    }
  }));
  const t6 = performance.now();
  await drain(rt);
  const enrolPeoplePerSec = people / ((t4 - t3) / 1000);
  const rawPeoplePerSec = RAW_PEOPLE / ((t6 - t5) / 1000);
  return {
    institutionsPerSec: all.length / ((t1 - t0) / 1000),
    stockPerSec: p.pharmacies.length / ((t2 - t1) / 1000),
    enrolPeoplePerSec,
    rawPeoplePerSec,
    enrolVsRaw: enrolPeoplePerSec / rawPeoplePerSec,
    /** Registering, stocking and enrolling, until every consumer had caught up. */
    seconds: (seeded - t0) / 1000,
  };
}

/** The router's heap in a fresh process holding every district's pharmacies (a warm container that has routed everywhere). */
function routerHeap(rt: Runtime, p: Province): Promise<{ baselineMb: number; loadedMb: number; rssMb: number; districts: number; pharmacies: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'router-heap.ts'), [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      // The functions' environment, as the runtime set it in this process (table, endpoints, credentials).
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as never));
    child.once('error', reject);
    child.once('exit', (code) => code && reject(new Error(`router-heap exited ${code}`)));
    child.send(p.districts.map((d) => d.name));
  });
}

export async function benchScale(rt: Runtime, engine: Engine, o: { people: number; log: (s: string) => void }) {
  const demoDistrict = DISTRICTS.xihu;
  const { row: demo, cost: demoCost, commands: demoCommands } = await measure(rt, engine, 'demo', {
    clinic: 'clinic-lingyin', pharmacy: 'ph-xihu-1', district: demoDistrict, fill: ['ph-xihu-1', 'ph-xihu-2', 'ph-xihu-3'],
    person: (i) => ({ nationalId: demoNationalId('330106', '19750505', 200 + i), name: `规模${i}`, district: demoDistrict, personalAccountFen: 1_000_000 }),
  }, { pharmacies: 6, institutions: 5, people: 24 });
  const tripsDemo = await benchRoundTrips(rt, 100);
  o.log('demo province measured; seeding Shandong');

  const p = shandong();
  const seeding = await seed(rt, engine.endpoint, p, o.people, o.log);
  o.log(`seeded in ${seeding.seconds.toFixed(0)} s`);

  // Where Shandong is measured: a clinic of a city's first district, a pharmacy of the same district.
  const district = p.districts[0]!;
  const clinic = p.institutions.find((i) => i.type === 'clinic' && i.district === district.name)!;
  const pharmacy = p.pharmacies.find((ph) => ph.district === district.name)!;
  const { row: shandongRow, cost: shandongCost, commands: shandongCommands } = await measure(rt, engine, 'shandong', {
    clinic: clinic.id, pharmacy: pharmacy.id, district: district.name, fill: [],
    person: (i) => ({ nationalId: demoNationalId(district.code, '19650606', 500 + i), name: `鲁测${i}`, district: district.name, personalAccountFen: 1_000_000 }),
  }, { pharmacies: SHANDONG.pharmacies, institutions: SHANDONG.institutions, people: o.people });
  const tripsShandong = await benchRoundTrips(rt, 101);
  const heap = await routerHeap(rt, p);
  const roundTrips = tripsDemo.map((d) => {
    const s = tripsShandong.find((x) => x.route === d.route);
    return { route: d.route, demoStatus: d.status, demoItemsRead: d.itemsRead, shandongStatus: s?.status ?? '', shandongItemsRead: s?.itemsRead ?? '' };
  });

  const rows = [demo, shandongRow];
  const ratios = {
    routedP95: shandongRow.routedP95Ms / demo.routedP95Ms,
    burstP95: shandongRow.burstP95Ms / demo.burstP95Ms,
    referralP95: shandongRow.referralP95Ms / demo.referralP95Ms,
    settlements: shandongRow.settlementsPerSec / demo.settlementsPerSec,
    /** The same, each size's settlements taken ÷ the raw transactions measured beside them. */
    settlementsVsRaw: shandongRow.settlementsVsRaw / demo.settlementsVsRaw,
    enrolVsRaw: seeding.enrolVsRaw,
  };
  // Each kind of command the settlements set off, per settlement and its mean latency, at both sizes.
  const settlementCommands = [...new Set([...Object.keys(demoCommands), ...Object.keys(shandongCommands)])].sort().map((command) => ({
    command,
    demoCalls: demoCommands[command]?.calls ?? 0,
    demoMs: demoCommands[command]?.ms ?? NaN,
    demoItemsRead: demoCommands[command]?.itemsRead ?? NaN,
    demoAloneMs: demoCommands[command]?.aloneMs ?? NaN,
    shandongCalls: shandongCommands[command]?.calls ?? 0,
    shandongMs: shandongCommands[command]?.ms ?? NaN,
    shandongItemsRead: shandongCommands[command]?.itemsRead ?? NaN,
    shandongAloneMs: shandongCommands[command]?.aloneMs ?? NaN,
  }));
  return { rows, ratios, settlementCost: [demoCost, shandongCost], settlementCommands, seeding, heap, roundTrips };
}
