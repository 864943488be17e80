// Settlement throughput and latency through the full local HTTP path (gateway, authorizer,
// function, DynamoDB Local, and the outbox relay and consumers running alongside), next to raw
// TransactWriteItems of the same item count on the same engine at the same concurrency.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { demoNationalId } from '../infra/local/demo-province.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { api, percentile, pool, timed } from './lib.ts';

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
    personalAccountFen: 1_000_000_000,
    annualPooledUsedFen: 1,
  }));
  await api(rt, operator, 'POST', '/enrollments', { people });
  // Four at a time: an app's activations in flight count against its failed-activation limit (5) until they succeed.
  const vouchers = await pool(
    4,
    people.map((p) => async () => (await api(rt, channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'bench' })).body.voucherId as string),
  );
  const codesFor = async (n: number, c: number) =>
    pool(16, Array.from({ length: n }, (_, i) => async () => (await api(rt, channel, 'POST', `/vouchers/${vouchers[i % c]}/codes`)).body.code as string));
  const settle = (code: string) =>
    api(rt, pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_500 }, { drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 3_000 }] }, { 'idempotency-key': randomUUID() });

  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  const rawTx = (worker: number) => {
    const id = randomUUID();
    const now = new Date().toISOString();
    return raw.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: rt.tableName, Item: { PK: `RAW#IDEM#${id}`, SK: 'k', requestHash: id, responseBody: 'x'.repeat(600) }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Put: { TableName: rt.tableName, Item: { PK: `RAW#CODE#${id}`, SK: 'USED' }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { ConditionCheck: { TableName: rt.tableName, Key: { PK: 'SEED#demo-province', SK: 'v1' }, ConditionExpression: 'attribute_exists(PK)' } },
          { Update: { TableName: rt.tableName, Key: { PK: `RAW#PERSON#${worker}`, SK: 'P' }, UpdateExpression: 'ADD v :one SET bal = :b', ExpressionAttributeValues: { ':one': 1, ':b': 5 } } },
          { Put: { TableName: rt.tableName, Item: { PK: `RAW#STL#${id}`, SK: 'PROFILE', GSI1PK: `RAW#DAY#${worker}`, GSI1SK: now, body: 'x'.repeat(700) } } },
          { Put: { TableName: rt.tableName, Item: { PK: `RAW#EVT#${id}`, SK: 'EVENT', detail: 'x'.repeat(400) } } },
        ],
      }),
    );
  };

  // Warm up both paths (JIT, connections, cold starts).
  await pool(4, (await codesFor(20, 4)).map((c) => () => settle(c)));
  await pool(4, Array.from({ length: 40 }, (_, i) => () => rawTx(i % 4)));

  const rows: SettlementRow[] = [];
  for (const c of LEVELS) {
    const n = opsAt(c);
    const codes = await codesFor(n, c);
    await rt.settle();
    const failures: string[] = [];
    const http = await timed(
      c,
      codes.map((code) => async () => {
        const res = await settle(code);
        if (res.status !== 201) failures.push(`${res.status} ${res.body?.type ?? ''}`);
      }),
    );
    if (failures.length) throw new Error(`settlement benchmark: ${failures.length} requests failed (${[...new Set(failures)]})`);
    const rawRun = await timed(c, Array.from({ length: n }, (_, i) => () => rawTx(i % c)));
    const httpPerSec = n / http.seconds;
    const rawTxPerSec = n / rawRun.seconds;
    rows.push({
      concurrency: c,
      ops: n,
      httpPerSec,
      p50Ms: percentile(http.latenciesMs, 50),
      p99Ms: percentile(http.latenciesMs, 99),
      rawTxPerSec,
      ratio: httpPerSec / rawTxPerSec,
    });
  }
  return rows;
}

export { TX_ITEMS };
