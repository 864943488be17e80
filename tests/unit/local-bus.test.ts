// The local bus retries a failing target as EventBridge does: exponential backoff with jitter, within
// a number of attempts and an event age, then the dead-letter file.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTBRIDGE_RETRY, LocalBus, retryDelayMs, type RetryPolicy } from '../../infra/local/bus.ts';

function busWith(invoke: () => Promise<void>, retry: Partial<RetryPolicy>) {
  const dir = mkdtempSync(join(tmpdir(), 'bus-test-'));
  const bus = new LocalBus({
    busName: 'b',
    rules: [{ name: 'r', pattern: { source: ['s'] }, target: 't' }],
    invoke,
    journalPath: join(dir, 'journal.jsonl'),
    deadLetterPath: join(dir, 'dead-letters.jsonl'),
    retry,
  });
  const deadLetters = () => (existsSync(join(dir, 'dead-letters.jsonl')) ? readFileSync(join(dir, 'dead-letters.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { bus, deadLetters };
}
const put = (bus: LocalBus, time?: number) => bus.putEvents([{ Source: 's', DetailType: 'D', Detail: '{}', ...(time ? { Time: time } : {}) }]);

describe('local bus retries', () => {
  it('the defaults are EventBridge\'s: 185 retries within 24 hours', () => {
    expect(EVENTBRIDGE_RETRY).toMatchObject({ maxAttempts: 186, maxEventAgeMs: 86_400_000 });
  });

  it('waits grow exponentially up to the cap, each between half and all of its ceiling (jitter)', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 3_000 };
    const ceilings = [100, 200, 400, 800, 1_600, 3_000, 3_000];
    ceilings.forEach((ceiling, i) => {
      expect(retryDelayMs(i + 1, p, 0)).toBe(ceiling / 2);
      expect(retryDelayMs(i + 1, p, 1)).toBe(ceiling);
      expect(retryDelayMs(i + 1, p, 0.5)).toBe(ceiling * 0.75);
    });
  });

  it('a target that fails for a while (slow under load) is delivered in the end, not dead-lettered', async () => {
    const failUntil = Date.now() + 600;
    let calls = 0;
    const { bus, deadLetters } = busWith(async () => {
      calls++;
      if (Date.now() < failUntil) throw new Error('busy');
    }, { baseDelayMs: 10, maxDelayMs: 200, maxEventAgeMs: 60_000 });
    put(bus);
    await bus.idle();
    expect([bus.delivered, bus.deadLettered]).toEqual([1, 0]);
    expect(calls).toBeGreaterThan(3); // the old three quick attempts would have given up
    expect(deadLetters()).toEqual([]);
  });

  it('a target that keeps failing is dead-lettered after the last attempt, with its error', async () => {
    let calls = 0;
    const { bus, deadLetters } = busWith(async () => {
      calls++;
      throw new Error('poisoned');
    }, { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 });
    put(bus);
    await bus.idle();
    expect([calls, bus.delivered, bus.deadLettered]).toEqual([4, 0, 1]);
    expect(deadLetters()).toEqual([expect.objectContaining({ target: 't', attempts: 4, error: 'poisoned' })]);
  });

  it('an event past the maximum age is not retried again', async () => {
    let calls = 0;
    const { bus, deadLetters } = busWith(async () => {
      calls++;
      throw new Error('down');
    }, { maxEventAgeMs: 60_000, baseDelayMs: 1_000 });
    put(bus, Math.floor((Date.now() - 61_000) / 1000)); // PutEvents Time is in seconds
    await bus.idle();
    expect([calls, bus.deadLettered]).toEqual([1, 1]);
    expect(deadLetters()[0]).toMatchObject({ attempts: 1, error: 'down' });
  });
});
