// Idempotency-Key (API.md): the same key with the same body returns the first answer (same status,
// same body); the same key with another body is 422 idempotency-key-reused. The record of the first
// answer is written in the same transaction as what the request creates, conditional on its absence,
// so of racing retries exactly one creates and the others answer from its record.
import { createHash } from 'node:crypto';
import { epochSeconds } from './clock.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName, type StoredItem, type TxItem } from './db.ts';
import { problem } from './errors.ts';
import type { Response } from './http.ts';

/** How long an answer is replayed for a repeated key. */
const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/** One key namespace per institution and operation: a hospital may use one key to settle and to prescribe. */
export const idempotencyRecordKey = (institutionId: string, operation: string, key: string) => ({
  PK: `IDEMPOTENCY#${institutionId}`,
  SK: `${operation}#${key}`,
});

export interface IdempotentRequest {
  institutionId: string;
  operation: string;
  key: string;
  /** requestHash of the body. */
  hash: string;
}

/** Stable hash of a request body: key order does not matter, values do. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The attributes of a record (for reads with a projection). */
export const IDEMPOTENCY_RECORD_FIELDS = ['requestHash', 'responseStatus', 'responseBody', 'responseLocation'] as const;

/** Thrown when the record already exists: the caller answers from it (`replay`). */
export class IdempotencyRecordExists extends Error {
  constructor(readonly record: StoredItem | undefined) {
    super('idempotency record exists');
  }
}

/**
 * The record of the answer `response`, to write first in the transaction that creates what it
 * describes: if it exists already, the transaction fails with IdempotencyRecordExists.
 */
export function idempotencyRecord(req: IdempotentRequest, response: { status: number; body: unknown; location?: string }, now: Date): TxItem {
  return {
    write: {
      Put: {
        TableName: tableName(),
        Item: {
          ...idempotencyRecordKey(req.institutionId, req.operation, req.key),
          requestHash: req.hash,
          responseStatus: response.status,
          responseBody: JSON.stringify(response.body),
          ...(response.location ? { responseLocation: response.location } : {}),
          expiresAt: epochSeconds(now) + IDEMPOTENCY_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    onConditionFailed: (current) => new IdempotencyRecordExists(current),
  };
}

/**
 * The answer recorded for a key, read on its own (strongly consistent). For a request refused for
 * what a twin with the same key did (its code used, its prescription open or paid): the twin may
 * have committed between the reads of one BatchGetItem, which is no snapshot, and its answer is
 * this request's.
 */
export async function recordedAnswer(q: Omit<IdempotentRequest, 'hash'>): Promise<StoredItem | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: idempotencyRecordKey(q.institutionId, q.operation, q.key), ConsistentRead: true }));
  return Item;
}

/** The first answer again, or 422 when the key came with another body. */
export function replay(record: StoredItem, hash: string): Response {
  if (record.requestHash !== hash) {
    throw problem('idempotency-key-reused', 'this Idempotency-Key was used for a different request; use a new key for a new request');
  }
  return {
    status: Number(record.responseStatus),
    body: JSON.parse(String(record.responseBody)),
    headers: { 'idempotent-replayed': 'true', ...(record.responseLocation ? { location: String(record.responseLocation) } : {}) },
  };
}
