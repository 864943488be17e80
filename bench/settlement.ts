// Settlement throughput and latency through the full local HTTP path (gateway, authorizer,
// function, DynamoDB Local, and the outbox relay and consumers running alongside), next to raw
// TransactWriteItems of the same item count on the same engine at the same concurrency. The same
// purchase settled with a trace code on every pack (药品追溯码: one more conditional write per pack,
// and the codes read in the same batch) is measured beside the plain one, with the DynamoDB commands
// each settlement sent (the local gateway's x-local-dynamodb-calls).
import { randomUUID } from 'node:crypto';
import { demoNationalId } from '../infra/local/demo-province.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { api, mean, percentile, pool, rawSettlementTx, timed, traceCodes } from './lib.ts';

export const LEVELS = [1, 8, 32];
const opsAt = (c: number) => Math.max(200, 40 * c);
/** Items in one settlement transaction: idempotency record, code use, voucher check, balances, settlement, outbox. */
const TX_ITEMS = 6;

export interface SettlementRow {
  concurrency: number;
  ops: number;
  httpPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rawTxPerSec: number;
  ratio: number;
  /** Settlements with a trace code per pack, per second, and their ratio to the plain ones (goal >= 0.8). */
  tracedPerSec: number;
  tracedP99Ms: number;
  tracedRatio: number;
  /** DynamoDB commands per settlement, mean over the run's requests (goal <= 3). */
  dbPlain: number;
  dbTraced: number;
  /** Where a plain settlement's time went, mean ms: the client's whole request, the authorizer (0 once cached), the function, DynamoDB inside it. */
  totalMs: number;
  authorizerMs: number;
  functionMs: number;
  dynamoMs: number;
  /**
   * At concurrency 1 only: settlements per second with the outbox's stream poller stopped during the
   * run (their events delivered after it), ÷ raw. The consumers share this machine's one DynamoDB Local
   * with the counter; in AWS they do not. A diagnosis of where the time went, not the goal's figure.
   */
  quietRatio?: number;
}

export async function benchSettlements(rt: Runtime, endpoint: string): Promise<SettlementRow[]> {
  const operator = await rt.token('operator');
  const channel = await rt.token('channel');
  const pharmacy = await rt.token('pharmacy', 'ph-xihu-1');
  // One person per worker, so workers do not contend for one balance (that is measured in the tests).
  const people = Array.from({ length: Math.max(...LEVELS) }, (_, i) => ({
    nationalId: demoNationalId('330108', '19800101', i),
    name: `压测${i}`,
    district: '西湖区',
    personalAccountFen: 100_000_000, // the most an enrolment takes (¥1,000,000): ¥55 a sale lasts any run
    annualPooledUsedFen: 1,
  }));
  await api(rt, operator, 'POST', '/enrollments', { people });
  // Four at a time: an app's activations in flight count against its failed-activation limit (100 by default) until they succeed.
  const vouchers = await pool(
    4,
    people.map((p) => async () => (await api(rt, channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'bench' })).body.voucherId as string),
  );
  const codesFor = async (n: number, c: number) =>
    pool(16, Array.from({ length: n }, (_, i) => async () => (await api(rt, channel, 'POST', `/vouchers/${vouchers[i % c]}/codes`)).body.code as string));
  const items = [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_500 }, { drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 3_000 }];
  const settle = (code: string) => api(rt, pharmacy, 'POST', '/settlements', { code, items }, { 'idempotency-key': randomUUID() });
  // Every pack scanned: a fresh code per pack.
  const traceCode = traceCodes();
  const settleTraced = (code: string) =>
    api(rt, pharmacy, 'POST', '/settlements', { code, items: items.map((i) => ({ ...i, traceCodes: [traceCode()] })) }, { 'idempotency-key': randomUUID() });

  const rawTx = rawSettlementTx(endpoint, rt.tableName);

  // Warm up every path (JIT, connections, cold starts).
  await pool(4, (await codesFor(20, 4)).map((c) => () => settle(c)));
  await pool(4, (await codesFor(20, 4)).map((c) => () => settleTraced(c)));
  await pool(4, Array.from({ length: 40 }, (_, i) => () => rawTx(i % 4)));

  const rows: SettlementRow[] = [];
  for (const c of LEVELS) {
    const n = opsAt(c);
    const measure = async (send: typeof settle) => {
      const codes = await codesFor(n, c);
      await rt.settle();
      const failures: string[] = [];
      const calls: number[] = [];
      const timings: Array<Record<string, number>> = [];
      const run = await timed(
        c,
        codes.map((code) => async () => {
          const res = await send(code);
          if (res.status !== 201) failures.push(`${res.status} ${res.body?.type ?? ''}`);
          calls.push(res.dynamoCalls);
          timings.push(res.timing);
        }),
      );
      if (failures.length) throw new Error(`settlement benchmark: ${failures.length} requests failed (${[...new Set(failures)]})`);
      const timing = (k: string) => mean(timings.map((t) => t[k] ?? 0));
      return {
        ...run,
        perSec: n / run.seconds,
        dynamoCalls: mean(calls),
        totalMs: mean(run.latenciesMs),
        authorizerMs: timing('authorizer'),
        functionMs: timing('function'),
        dynamoMs: timing('dynamodb'),
      };
    };
    const http = await measure(settle);
    const traced = await measure(settleTraced);
    const rawRun = await timed(c, Array.from({ length: n }, (_, i) => () => rawTx(i % c)));
    const rawTxPerSec = n / rawRun.seconds;
    let quietRatio: number | undefined;
    if (c === 1) {
      const codes = await codesFor(n, c);
      await rt.settle();
      await rt.poller.stop();
      const quiet = await timed(c, codes.map((code) => () => settle(code)));
      rt.poller.start();
      await rt.settle();
      quietRatio = n / quiet.seconds / rawTxPerSec;
    }
    rows.push({
      concurrency: c,
      ops: n,
      httpPerSec: http.perSec,
      p50Ms: percentile(http.latenciesMs, 50),
      p99Ms: percentile(http.latenciesMs, 99),
      rawTxPerSec,
      ratio: http.perSec / rawTxPerSec,
      tracedPerSec: traced.perSec,
      tracedP99Ms: percentile(traced.latenciesMs, 99),
      tracedRatio: traced.perSec / http.perSec,
      dbPlain: http.dynamoCalls,
      dbTraced: traced.dynamoCalls,
      totalMs: http.totalMs,
      authorizerMs: http.authorizerMs,
      functionMs: http.functionMs,
      dynamoMs: http.dynamoMs,
      ...(quietRatio === undefined ? {} : { quietRatio }),
    });
  }
  return rows;
}

export { TX_ITEMS };
