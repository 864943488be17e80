// withRaceRetries (functions/shared/db.ts): a lost race is retried from fresh reads, a bounded number
// of times and within a time budget, so a request under heavy contention answers 409 well inside its
// function's timeout; a function that still runs out of time answers 503, not a 500.
import { beforeAll, describe, expect, it } from 'vitest';

describe('withRaceRetries', async () => {
  beforeAll(() => {
    process.env.TABLE_NAME ??= 'unit-test-table';
  });
  const { withRaceRetries, TransactionConflict } = await import('../../functions/shared/db.ts');
  const { errorToResponse } = await import('../../functions/shared/http.ts');

  it('retries a lost race until it wins', async () => {
    let calls = 0;
    const result = await withRaceRetries(async () => {
      if (++calls < 3) throw new TransactionConflict('lost');
      return 'won';
    });
    expect([result, calls]).toEqual(['won', 3]);
  });

  it('does not retry anything else', async () => {
    let calls = 0;
    await expect(withRaceRetries(async () => { calls++; throw new Error('broken'); })).rejects.toThrow('broken');
    expect(calls).toBe(1);
  });

  it('gives up after the retries allowed', async () => {
    let calls = 0;
    await expect(withRaceRetries(async () => { calls++; throw new TransactionConflict('lost'); }, 4)).rejects.toBeInstanceOf(TransactionConflict);
    expect(calls).toBe(5);
  });

  it('gives up when the next wait would pass the budget, however many retries remain', async () => {
    let calls = 0;
    const started = Date.now();
    // Each attempt takes 30 ms (a busy engine): a 100 ms budget allows a few, not a thousand.
    const attempt = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      throw new TransactionConflict('lost');
    };
    await expect(withRaceRetries(attempt, 1_000, 100)).rejects.toBeInstanceOf(TransactionConflict);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(5);
    expect(Date.now() - started).toBeLessThan(100 + 500 + 30 + 200);
  });

  it('a lost race that gave up is 409 conflict; a function out of time is 503 with Retry-After', () => {
    expect(errorToResponse(new TransactionConflict('lost')).statusCode).toBe(409);
    const timeout = Object.assign(new Error('[AbortError]: The operation was aborted.'), { name: 'TimeoutError' });
    const res = errorToResponse(timeout);
    expect([res.statusCode, res.headers?.['retry-after'], JSON.parse(String(res.body)).type]).toEqual([503, '1', expect.stringMatching(/service-unavailable$/)]);
  });
});
