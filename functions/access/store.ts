// DynamoDB access of the access log: batched idempotent puts from the consumer, newest-first pages
// for GET /people/{personId}/access-log and the export.
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { accessEntry, type AccessEntry } from '#schemas/people';
import { ddb, newestFirstPage, tableName } from '#shared/db';
import { accessPartition } from './keys.ts';

export type StoredEntry = Record<string, unknown> & { PK: string; SK: string };

/** DynamoDB's limit of writes per BatchWriteItem request. */
const BATCH = 25;
const ATTEMPTS = 8;

/**
 * Puts every entry, 25 a request, retrying what DynamoDB leaves unprocessed with exponential
 * backoff; throws if some are still left, so the invocation fails and is retried (then dead-lettered).
 */
export async function putEntries(items: readonly StoredEntry[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    let pending = items.slice(i, i + BATCH).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= ATTEMPTS) throw Object.assign(new Error(`BatchWriteItem left ${pending.length} access entries unprocessed`), { name: 'ThrottlingException' });
      if (attempt) await new Promise((r) => setTimeout(r, Math.min(2_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      const res = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
      pending = (res.UnprocessedItems?.[tableName()] ?? []) as typeof pending;
    }
  }
}

/** A page of the person's access log, newest first. */
export function accessLogPage(personId: string, limit: number, nextToken?: string): Promise<{ items: AccessEntry[]; nextToken?: string }> {
  return newestFirstPage(accessPartition(personId), { limit, nextToken }, (i) => accessEntry.parse(i));
}
