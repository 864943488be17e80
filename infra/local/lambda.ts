// Invokes a function of functions/catalog.ts in this process, the way Lambda would: the module is
// imported once (its top level is the cold start), then `handler(event, context)` per invocation.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { functionCatalog, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import { projectRoot } from './dynamodb-local.ts';
import { deniedBy } from './table-grants.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const loaded = new Map<FunctionName, Promise<Handler>>();

/**
 * Per-request accounting: whoever runs an invocation inside `requestStats.run({ dynamoCalls: 0, itemsRead: 0, dynamoMs: 0 })`
 * learns how many DynamoDB commands it sent, how many items they read and how long they took (the
 * local gateway reports them; the benchmarks read them).
 */
export const requestStats = new AsyncLocalStorage<{ dynamoCalls: number; itemsRead: number; dynamoMs: number }>();
/** One invocation: which function, and (once it has returned) how long it took. */
export interface Invocation {
  name: FunctionName;
  ms?: number;
}
/** The invocation running now (benchmarks attribute the commands they see to it). */
export const invocation = new AsyncLocalStorage<Invocation>();
/** Told of every invocation as it ends (benchmarks follow one request's way through the consumers). */
export const invocationListeners = new Set<(done: { name: FunctionName; startedAt: number; ms: number; event: unknown }) => void>();
/** Items read by each function since the process started (consumers too; the benchmarks take differences). */
export const itemsReadBy = new Map<FunctionName, number>();
/**
 * The functions' DynamoDB commands since the process started, by function and kind of command
 * ("vouchers TransactWriteItems", "prescriptionRouter Query GSI2"): calls, milliseconds, items read.
 */
export const commandsBy = new Map<string, { calls: number; ms: number; itemsRead: number }>();

/** Items a command read: a Get's item, what a Query or Scan evaluated, a batch's or transaction's responses. */
function itemsRead(output: Record<string, unknown>): number {
  if (output.Item) return 1;
  if (Array.isArray(output.Items)) return typeof output.ScannedCount === 'number' ? output.ScannedCount : output.Items.length;
  const responses = output.Responses;
  if (Array.isArray(responses)) return responses.filter((r: { Item?: unknown }) => r?.Item).length;
  if (responses && typeof responses === 'object') return Object.values(responses).reduce((t: number, items) => t + (Array.isArray(items) ? items.length : 0), 0);
  return 0;
}

let counting: Promise<void> | undefined;
const deniedOnce = new Set<string>();
/** Counts every function's DynamoDB commands, and refuses those its catalog entry does not grant (table-grants.ts). */
function countDynamoCalls(): Promise<void> {
  // Loaded on first use, after the runtime has set the environment the client is built from.
  counting ??= import('../../functions/shared/db.ts').then(({ ddb }) => {
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        const running = invocation.getStore();
        const denied = running && deniedBy(running.name, functionCatalog[running.name], String(context.commandName), args.input as Record<string, unknown>);
        if (denied) {
          // Said once per kind on stderr: the function's own log names only the error.
          if (!deniedOnce.has(denied)) console.error(`AccessDeniedException: ${denied}`);
          deniedOnce.add(denied);
          throw Object.assign(new Error(denied), { name: 'AccessDeniedException', $fault: 'client' });
        }
        const stats = requestStats.getStore();
        if (stats) stats.dynamoCalls++;
        const started = performance.now();
        const result = await next(args);
        const ms = performance.now() - started;
        const n = itemsRead(result.output as Record<string, unknown>);
        if (stats) {
          stats.itemsRead += n;
          stats.dynamoMs += ms;
        }
        const current = invocation.getStore();
        if (current) itemsReadBy.set(current.name, (itemsReadBy.get(current.name) ?? 0) + n);
        const index = (args.input as { IndexName?: string }).IndexName;
        const kind = `${current?.name ?? '?'} ${String(context.commandName).replace(/Command$/, '')}${index ? ` ${index}` : ''}`;
        const sofar = commandsBy.get(kind) ?? { calls: 0, ms: 0, itemsRead: 0 };
        commandsBy.set(kind, { calls: sofar.calls + 1, ms: sofar.ms + ms, itemsRead: sofar.itemsRead + n });
        return result;
      },
      { step: 'initialize', name: 'localDynamoCallCounter' },
    );
  });
  return counting;
}

function load(name: FunctionName): Promise<Handler> {
  let h = loaded.get(name);
  if (!h) {
    const def: FunctionDef = functionCatalog[name];
    h = import(join(projectRoot, def.entry)).then((m: { handler?: Handler }) => {
      if (typeof m.handler !== 'function') throw new Error(`${def.entry} exports no handler`);
      return m.handler;
    });
    loaded.set(name, h);
  }
  return h;
}

export function lambdaContext(name: string, timeoutSeconds = 30): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export async function invoke(name: FunctionName, event: unknown): Promise<unknown> {
  await countDynamoCalls();
  const handler = await load(name);
  const def: FunctionDef = functionCatalog[name];
  const current: Invocation = { name };
  const startedAt = Date.now();
  const started = performance.now();
  try {
    return await invocation.run(current, () => handler(event, lambdaContext(name, def.timeoutSeconds)));
  } finally {
    current.ms = performance.now() - started;
    for (const listener of invocationListeners) listener({ name, startedAt, ms: current.ms, event });
  }
}
