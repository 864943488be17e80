// A local runtime per test file: the shared DynamoDB Local, a table and data directory of its own,
// a free port. Tests talk to it over HTTP with real tokens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../infra/local/runtime.ts';
import type { Role } from '../../schemas/common.ts';

export function dynamoEndpoint(): string {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('TEST_DYNAMODB_ENDPOINT is not set: run through vitest (tests/support/global-setup.ts)');
  return endpoint;
}

export interface TestRuntime extends Runtime {
  db: DynamoDBDocumentClient;
  /** fetch against the runtime with a token for `who` (or none). */
  call(who: Caller | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  as(role: Role, institution?: string): Promise<Caller>;
  /** A channel app's token acting for one person (the `pid` claim). */
  asPerson(personId: string, app?: string): Promise<Caller>;
}

export interface Caller {
  token: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read fields of JSON bodies
}

export async function startTestRuntime(o: RuntimeOptions = {}): Promise<TestRuntime> {
  const rt = await startRuntime({
    dynamoEndpoint: dynamoEndpoint(),
    tableName: `t-${randomBytes(6).toString('hex')}`,
    dataDir: mkdtempSync(join(tmpdir(), 'consortium-test-')),
    port: 0,
    // EventBridge's backoff, faster and within a minute: a consumer that keeps failing is dead-lettered
    // (and a test that waits for quiet fails) instead of being retried for a day.
    busRetry: { baseDelayMs: 20, maxDelayMs: 2_000, maxEventAgeMs: 60_000 },
    ...o,
  });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.dynamoEndpoint }));
  return Object.assign(rt, {
    db,
    async as(role: Role, institution?: string) {
      return { token: await rt.token(role, institution) };
    },
    async asPerson(personId: string, app = 'channel:dev') {
      return { token: await rt.token('channel', undefined, { person: personId, subject: app }) };
    },
    async call(who: Caller | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(rt.url + path, {
        method,
        headers: {
          ...(who ? { authorization: `Bearer ${who.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed as ApiResponse['body'] };
    },
  });
}

/** The problem slug of a problem+json body. */
export const slug = (body: { type?: string } | undefined) => body?.type?.split('/').pop();
