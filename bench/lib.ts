// Small helpers shared by the benchmarks: percentiles, a concurrency pool, a table printer, and a
// local runtime of its own (its own in-memory DynamoDB Local, so runs do not disturb each other).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mapLimited } from '../functions/shared/concurrency.ts';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { startRuntime, type Runtime } from '../infra/local/runtime.ts';

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Runs `tasks` with `concurrency` workers, each taking the next task as it frees up. */
export const pool = <T>(concurrency: number, tasks: Array<() => Promise<T>>): Promise<T[]> => mapLimited(tasks, concurrency, (task) => task());

/**
 * Trace codes (药品追溯码: 20 digits starting with 8) new to this run: one code, one sale in the
 * province, so a benchmark that sells packs needs codes no earlier run has sold.
 */
export function traceCodes(): () => string {
  const runTag = String(Date.now() % 1_000_000_000).padStart(9, '0');
  let packs = 0;
  return () => `8${runTag}${String(packs++).padStart(10, '0')}`;
}

/**
 * The settlement's six writes as one raw TransactWriteItems of the same sizes (idempotency record, code
 * use, voucher check, balances, settlement, outbox event), straight to the engine: what the engine
 * allows a settlement at this moment, the yardstick the HTTP path is measured against. `worker` picks
 * the balance item, so concurrent workers do not conflict.
 */
export function rawSettlementTx(endpoint: string, tableName: string): (worker: number) => Promise<unknown> {
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  return (worker) => {
    const id = randomUUID();
    const now = new Date().toISOString();
    return raw.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { PK: `RAW#IDEM#${id}`, SK: 'k', requestHash: id, responseBody: 'x'.repeat(600) }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Put: { TableName: tableName, Item: { PK: `RAW#CODE#${id}`, SK: 'USED' }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { ConditionCheck: { TableName: tableName, Key: { PK: 'SEED#demo-province', SK: 'v1' }, ConditionExpression: 'attribute_exists(PK)' } },
          { Update: { TableName: tableName, Key: { PK: `RAW#PERSON#${worker}`, SK: 'P' }, UpdateExpression: 'ADD v :one SET bal = :b', ExpressionAttributeValues: { ':one': 1, ':b': 5 } } },
          { Put: { TableName: tableName, Item: { PK: `RAW#STL#${id}`, SK: 'PROFILE', GSI1PK: `RAW#DAY#${worker}`, GSI1SK: now, body: 'x'.repeat(700) } } },
          { Put: { TableName: tableName, Item: { PK: `RAW#EVT#${id}`, SK: 'EVENT', detail: 'x'.repeat(400) } } },
        ],
      }),
    );
  };
}

/**
 * CPU milliseconds (user + system) the DynamoDB Local engine has used so far, read from its JVM's
 * /proc entry: what a stretch of work cost the engine, beside what it cost Node.
 */
export function engineCpuMs(enginePid: number): number {
  // utime and stime, fields 14 and 15, in clock ticks (after the parenthesised command name).
  const fields = readFileSync(`/proc/${enginePid}/stat`, 'latin1').replace(/^.*\) /, '').split(' ');
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString());
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}
/** Clock ticks a second, asked of the system when first needed (the benchmarks that read /proc). */
let clockTicks: number | undefined;

export interface Timed {
  seconds: number;
  latenciesMs: number[];
}

/** Runs `tasks` with `concurrency` workers, worker w taking tasks w, w+c, w+2c… (so a worker can own data). */
export async function timed(concurrency: number, tasks: Array<() => Promise<unknown>>): Promise<Timed> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; i < tasks.length; i += concurrency) {
        const t = performance.now();
        await tasks[i]!();
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latenciesMs: latenciesMs.sort((a, b) => a - b) };
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`\n${title}\n${line(cols)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => cell(r[c] ?? '')))}\n`);
}

export async function benchRuntime(): Promise<{ rt: Runtime; endpoint: string; enginePid: number; stop: () => Promise<void> }> {
  const ddb = await startDynamoDbLocal();
  const rt = await startRuntime({ dynamoEndpoint: ddb.endpoint, dataDir: mkdtempSync(join(tmpdir(), 'consortium-bench-')), port: 0 });
  return {
    rt,
    endpoint: ddb.endpoint,
    enginePid: ddb.enginePid,
    stop: async () => {
      await rt.stop();
      await ddb.stop();
    },
  };
}

export async function api(rt: Runtime, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(rt.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as any) : undefined, // eslint-disable-line @typescript-eslint/no-explicit-any
    dynamoCalls: Number(res.headers.get('x-local-dynamodb-calls') ?? NaN),
    itemsRead: Number(res.headers.get('x-local-dynamodb-items-read') ?? NaN),
    /** The local gateway's Server-Timing: authorizer, function and DynamoDB milliseconds. */
    timing: Object.fromEntries((res.headers.get('server-timing') ?? '').split(',').filter(Boolean).map((m) => {
      const [name, dur] = m.trim().split(';dur=');
      return [name!, Number(dur)];
    })) as Record<string, number>,
  };
}
