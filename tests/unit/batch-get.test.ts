// The shared BatchGetItem helper (functions/shared/db.ts), with the DynamoDB client stubbed to inject
// what DynamoDB Local never does: unprocessed keys. Chunks of 100, duplicates read once, unprocessed
// keys retried, and keys still unprocessed after every retry → a throttling error (503), not a 500.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

describe('batchGet', async () => {
  beforeAll(() => {
    process.env.TABLE_NAME ??= 'unit-test-table';
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  const { batchGet, ddb, keyOf, BatchGetThrottled } = await import('../../functions/shared/db.ts');
  const { errorToResponse } = await import('../../functions/shared/http.ts');
  type Request = { input: { RequestItems: Record<string, { Keys: Array<{ PK: string; SK: string }>; ProjectionExpression?: string }> } };
  const keysOf = (req: Request) => Object.values(req.input.RequestItems)[0]!.Keys;
  const item = (k: { PK: string; SK: string }) => ({ ...k, value: k.PK });

  it('reads any number of keys in requests of at most 100, each distinct key once, and files the items by key', async () => {
    const keys = Array.from({ length: 230 }, (_, i) => ({ PK: `K#${i % 210}`, SK: 'PROFILE' })); // 20 repeated
    const send = vi.spyOn(ddb, 'send').mockImplementation((async (req: Request) => {
      const asked = keysOf(req);
      // Every other key has no item.
      return { Responses: { [process.env.TABLE_NAME!]: asked.filter((_, i) => i % 2 === 0).map(item) }, UnprocessedKeys: {} };
    }) as never);
    const found = await batchGet(keys, { projection: ['value'] });
    const sizes = send.mock.calls.map(([req]) => keysOf(req as unknown as Request).length);
    expect(sizes).toEqual([100, 100, 10]);
    expect(new Set(send.mock.calls.flatMap(([req]) => keysOf(req as unknown as Request).map(keyOf))).size).toBe(210);
    expect(found.size).toBe(105);
    expect(found.get(keyOf({ PK: 'K#0', SK: 'PROFILE' }))).toMatchObject({ value: 'K#0' });
    // The projection always reads the key, through placeholders (no reserved-word clashes).
    const first = Object.values((send.mock.calls[0]![0] as unknown as Request).input.RequestItems)[0]!;
    expect(first.ProjectionExpression).toBe('#a0, #a1, #a2');
  });

  it('retries unprocessed keys until every key is read', async () => {
    let calls = 0;
    vi.spyOn(ddb, 'send').mockImplementation((async (req: Request) => {
      const [head, ...rest] = keysOf(req);
      calls++;
      // One key per request gets through.
      return { Responses: { [process.env.TABLE_NAME!]: [item(head!)] }, UnprocessedKeys: rest.length ? { [process.env.TABLE_NAME!]: { Keys: rest } } : {} };
    }) as never);
    const found = await batchGet(Array.from({ length: 4 }, (_, i) => ({ PK: `K#${i}`, SK: 'P' })));
    expect([calls, found.size]).toEqual([4, 4]);
  });

  it('keys still unprocessed after its retries → a ThrottlingException, which the API answers with 503 service-unavailable', async () => {
    vi.useFakeTimers();
    const send = vi.spyOn(ddb, 'send').mockImplementation((async (req: Request) => ({
      Responses: {},
      UnprocessedKeys: { [process.env.TABLE_NAME!]: { Keys: keysOf(req) } },
    })) as never);
    const failed = batchGet([{ PK: 'K#1', SK: 'P' }]).then(() => undefined, (err: unknown) => err);
    await vi.runAllTimersAsync();
    const err = await failed;
    expect(err).toBeInstanceOf(BatchGetThrottled);
    expect(err).toMatchObject({ name: 'ThrottlingException' });
    expect(send.mock.calls.length).toBeGreaterThan(1);
    const res = errorToResponse(err);
    expect([res.statusCode, JSON.parse(res.body).type]).toEqual([503, expect.stringMatching(/service-unavailable$/)]);
  });
});
