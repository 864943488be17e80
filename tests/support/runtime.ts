// A local runtime per test file: an in-memory DynamoDB Local, a table and data directory of its own,
// a free port. Tests talk to it over HTTP with real tokens.
//
// An engine per runtime, not one for the run: DynamoDB Local runs every request on one SQLite
// thread and grows slower with all it has held, deleted tables included (late in a run the expiry
// sweeper's test took over 100 s; 10 s on a fresh engine). Starting one costs about 1 s, with the
// class-data archive the global setup trains (infra/local/engine-archive.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../infra/local/runtime.ts';
import type { Role } from '../../schemas/common.ts';

export interface TestRuntime extends Runtime {
  db: DynamoDBDocumentClient;
  /** Its in-memory DynamoDB Local, for a runtime started after this one stops to find the same table. */
  engine?: DynamoDbLocal;
  /** Stops the runtime and its engine, unless `keepEngine` (pass `engine` to the next runtime). */
  stop(o?: { keepEngine?: boolean }): Promise<void>;
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

export async function startTestRuntime(o: RuntimeOptions & { engine?: DynamoDbLocal } = {}): Promise<TestRuntime> {
  const { engine: given, ...options } = o;
  // `dynamoEndpoint` given (undefined: the runtime starts its own, on disk): no in-memory engine here.
  const engine = given ?? ('dynamoEndpoint' in options ? undefined : await startDynamoDbLocal());
  const rt = await startRuntime({
    dynamoEndpoint: engine?.endpoint,
    tableName: `t-${randomBytes(6).toString('hex')}`,
    dataDir: mkdtempSync(join(tmpdir(), 'consortium-test-')),
    port: 0,
    // EventBridge's backoff, faster and within a minute: a consumer that keeps failing is dead-lettered
    // (and a test that waits for quiet fails) instead of being retried for a day.
    busRetry: { baseDelayMs: 20, maxDelayMs: 2_000, maxEventAgeMs: 60_000 },
    ...options,
  }).catch(async (err: Error) => {
    if (!given) await engine?.stop();
    throw err;
  });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.dynamoEndpoint }));
  const stop = rt.stop.bind(rt);
  return Object.assign(rt, {
    db,
    engine,
    async stop(s: { keepEngine?: boolean } = {}) {
      await stop();
      if (!s.keepEngine) await engine?.stop();
    },
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
