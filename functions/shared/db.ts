// DynamoDB access shared by every context: one client per container, the table name, a transaction
// helper that turns condition failures into domain errors, batched reads, and opaque pagination tokens.
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, TransactWriteCommand, type BatchGetCommandOutput, type BatchWriteCommandOutput, type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mapLimited } from './concurrency.ts';
import { tableName } from './env.ts';
import { problem } from './errors.ts';
import { tableKeys } from './table.ts';

export const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
// The SDK's logger middleware builds a redacted copy of every command's input and output for a logger
// we never give it (its default discards them): a few percent of a settlement's CPU, on every call.
ddb.middlewareStack.remove('loggerMiddleware');

export { tableName };

export type TxWrite = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type StoredItem = Record<string, unknown>;

export interface TxItem {
  write: TxWrite;
  /** Error to throw when this item's condition fails; gets the item as it is now (if any). */
  onConditionFailed?: (current: StoredItem | undefined) => Error;
}

/** Raised when DynamoDB cancels a transaction because of a concurrent one: safe to recompute and retry. */
export class TransactionConflict extends Error {
  override name = 'TransactionConflict';
}

export async function writeTransaction(items: TxItem[], clientRequestToken?: string): Promise<void> {
  const TransactItems = items.map(({ write }) => withOldImageOnFailure(write));
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems, ClientRequestToken: clientRequestToken }));
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    const reasons = err.CancellationReasons ?? [];
    for (const [i, reason] of reasons.entries()) {
      if (reason.Code !== 'ConditionalCheckFailed') continue;
      const current = reason.Item ? (unmarshall(reason.Item) as StoredItem) : undefined;
      const handler = items[i]?.onConditionFailed;
      throw handler ? handler(current) : problem('conflict', 'the record changed concurrently; retry');
    }
    if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new TransactionConflict(err.message);
    throw err;
  }
}

function withOldImageOnFailure(write: TxWrite): TxWrite {
  const [kind] = Object.keys(write) as Array<keyof TxWrite>;
  const op = write[kind!] as { ConditionExpression?: string; ReturnValuesOnConditionCheckFailure?: string; TableName?: string };
  if (!op?.ConditionExpression) return write;
  return { [kind!]: { ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...op } } as TxWrite;
}

/**
 * Racing writers give up together within this: a request answers (409 conflict, retry) well inside
 * its function's timeout instead of timing out mid-retry on a busy engine.
 */
export const RACE_BUDGET_MS = 5_000;

/**
 * Retries `attempt` when it lost a race (TransactionConflict), recomputing from fresh reads each time:
 * at most `retries` times and not past `budgetMs`, with exponential backoff and full jitter (AWS's
 * advice) so that many racers spread out instead of colliding again in the same instant.
 */
export async function withRaceRetries<T>(attempt: () => Promise<T>, retries = 5, budgetMs = RACE_BUDGET_MS): Promise<T> {
  const started = Date.now();
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TransactionConflict) || i >= retries) throw err;
      const delay = Math.random() * Math.min(500, 10 * 2 ** i);
      if (Date.now() - started + delay > budgetMs) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

// ── batched reads ──

/** The table key of an item (what every context's key builders return). */
export interface TableKey {
  PK: string;
  SK: string;
}

/** How `batchGet` files what it found: by table key. */
export const keyOf = (k: { PK?: unknown; SK?: unknown }) => `${String(k.PK)}|${String(k.SK)}`;

export interface UpdateParts {
  /** Attributes to set; one whose value is undefined is left as it is. */
  set?: Record<string, unknown>;
  /** Attributes to set only where the item has none yet. */
  setIfMissing?: Record<string, unknown>;
  /** Numbers to add (a missing attribute counts as 0). */
  add?: Record<string, number>;
}

/**
 * An UpdateItem's expression from plain objects, every attribute behind a placeholder (so `status`,
 * `count` and other reserved words need no care). A condition of the caller's own uses other
 * placeholders and merges its names and values in.
 */
export function updateExpression(parts: UpdateParts): {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const placeholders = (prefix: string, attrs: Record<string, unknown> = {}) =>
    Object.entries(attrs)
      .filter(([, v]) => v !== undefined)
      .map(([attr, v], i) => {
        names[`#${prefix}${i}`] = attr;
        values[`:${prefix}${i}`] = v;
        return [`#${prefix}${i}`, `:${prefix}${i}`] as const;
      });
  const sets = [
    ...placeholders('s', parts.set).map(([n, v]) => `${n} = ${v}`),
    ...placeholders('m', parts.setIfMissing).map(([n, v]) => `${n} = if_not_exists(${n}, ${v})`),
  ];
  const adds = placeholders('a', parts.add).map(([n, v]) => `${n} ${v}`);
  const clauses = [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : ''];
  return { UpdateExpression: clauses.filter(Boolean).join(' '), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/**
 * BatchGetItem still left keys unprocessed after every retry: DynamoDB is throttling the table. Named
 * like the SDK's throttling errors, so the HTTP layer answers 503 service-unavailable (retry later)
 * and consumers retry the event, never a 500.
 */
export class BatchGetThrottled extends Error {
  override name = 'ThrottlingException';
}

/** DynamoDB's limit of keys per BatchGetItem request. */
const BATCH_GET_MAX_KEYS = 100;
/** Attempts per chunk (the first and the retries of unprocessed keys, with exponential backoff). */
const BATCH_GET_ATTEMPTS = 10;

/**
 * Reads `keys` (any number; duplicates are read once) with BatchGetItem, 100 keys per request,
 * retrying unprocessed keys with exponential backoff. Returns the items found, by `keyOf`; a key with
 * no item is simply absent. `projection` names the attributes to read (PK and SK are always read).
 */
export async function batchGet(
  keys: readonly TableKey[],
  opts: { consistent?: boolean; projection?: readonly string[] } = {},
): Promise<Map<string, StoredItem>> {
  const unique = [...new Map(keys.map((k) => [keyOf(k), { PK: k.PK, SK: k.SK }])).values()];
  const attributes = opts.projection ? [...new Set([tableKeys.partitionKey, tableKeys.sortKey, ...opts.projection])] : undefined;
  const projection = attributes
    ? {
        ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
      }
    : {};
  const found = new Map<string, StoredItem>();
  for (let i = 0; i < unique.length; i += BATCH_GET_MAX_KEYS) {
    let pending: Array<Record<string, unknown>> = unique.slice(i, i + BATCH_GET_MAX_KEYS);
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= BATCH_GET_ATTEMPTS) throw new BatchGetThrottled(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
      if (attempt) await new Promise((r) => setTimeout(r, Math.min(1_000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      const res: BatchGetCommandOutput = await ddb.send(
        new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: opts.consistent ?? true, ...projection } } }),
      );
      for (const item of res.Responses?.[tableName()] ?? []) found.set(keyOf(item), item);
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Array<Record<string, unknown>>;
    }
  }
  return found;
}

/** Every item of a Query, all pages (for partitions known to stay small, or bounded by a district). */
export async function queryAll(input: QueryCommandInput): Promise<StoredItem[]> {
  const all: StoredItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    all.push(...(res.Items ?? []));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return all;
}

/** DynamoDB's limit of writes per BatchWriteItem request. */
const BATCH_WRITE_MAX_ITEMS = 25;

/**
 * Puts `items` (any number, distinct keys) with BatchWriteItem, 25 per request and `concurrency`
 * requests at a time, retrying unprocessed items with exponential backoff. Unconditional: for imports
 * of items nobody else writes at the same time.
 */
export async function batchPut(items: ReadonlyArray<Record<string, unknown>>, concurrency = 4): Promise<void> {
  const chunks: Array<Array<Record<string, unknown>>> = [];
  for (let i = 0; i < items.length; i += BATCH_WRITE_MAX_ITEMS) chunks.push(items.slice(i, i + BATCH_WRITE_MAX_ITEMS).map((Item) => ({ PutRequest: { Item } })));
  const put = async (chunk: Array<Record<string, unknown>>) => {
    let pending = chunk;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= BATCH_GET_ATTEMPTS) throw new BatchGetThrottled(`BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`);
      if (attempt) await new Promise((r) => setTimeout(r, Math.min(1_000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      const res: BatchWriteCommandOutput = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending as never } }));
      pending = (res.UnprocessedItems?.[tableName()] ?? []) as Array<Record<string, unknown>>;
    }
  };
  await mapLimited(chunks, concurrency, put);
}

// Pagination tokens are the LastEvaluatedKey, base64url-encoded. They are opaque to clients; a
// token that does not decode to a key of the expected shape is a validation error, not a 500.
export function encodeToken(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/** The key attributes of a query on this partition: the table key plus the queried index's key, and its sort key. */
function keyAttributes(partition: Record<string, string>): { names: Set<string>; sortKey: string } {
  const names = new Set<string>([tableKeys.partitionKey, tableKeys.sortKey]);
  let sortKey: string = tableKeys.sortKey;
  for (const attr of Object.keys(partition)) {
    const index = tableKeys.indexes.find((i) => i.partitionKey === attr);
    if (index) {
      names.add(index.partitionKey).add(index.sortKey);
      sortKey = index.sortKey;
    }
  }
  return { names, sortKey };
}

/**
 * `partition` holds the key attributes the token must carry unchanged; `sortKeyPrefix`, the
 * begins_with of the query's key condition, if it has one: a token from another list (another
 * caller's, another status filter's) or one edited by hand is refused (400) before DynamoDB sees it.
 */
export function decodeToken(token: string | undefined, partition: Record<string, string>, sortKeyPrefix?: string): Record<string, string> | undefined {
  if (token === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    const expected = keyAttributes(partition);
    if (
      key && typeof key === 'object' && !Array.isArray(key) &&
      Object.keys(key).length === expected.names.size &&
      Object.entries(key).every(([k, v]) => expected.names.has(k) && typeof v === 'string' && v.length > 0 && v.length <= 1024) &&
      Object.entries(partition).every(([k, v]) => (key as Record<string, string>)[k] === v) &&
      (sortKeyPrefix === undefined || (key as Record<string, string>)[expected.sortKey]!.startsWith(sortKeyPrefix))
    ) {
      return key as Record<string, string>;
    }
  } catch {
    // fall through
  }
  throw problem('validation-failed', 'nextToken is not a token this API issued for this list', [{ path: 'query.nextToken', message: 'invalid token' }]);
}

/**
 * One page of a partition's items (those whose sort key starts with `sortKeyPrefix`, if given),
 * newest first, each parsed by `parse`, with the opaque token for the next page.
 */
export async function newestFirstPage<T>(
  pk: string,
  page: { limit: number; nextToken?: string; sortKeyPrefix?: string },
  parse: (item: Record<string, unknown>) => T,
): Promise<{ items: T[]; nextToken?: string }> {
  const { limit, nextToken, sortKeyPrefix } = page;
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: sortKeyPrefix === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ...(sortKeyPrefix === undefined ? {} : { ':prefix': sortKeyPrefix }) },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: decodeToken(nextToken, { PK: pk }, sortKeyPrefix),
    }),
  );
  return { items: (res.Items ?? []).map(parse), nextToken: encodeToken(res.LastEvaluatedKey) };
}
