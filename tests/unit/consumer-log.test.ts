// A consumer that fails leaves one ERROR line the operator can find by the event's correlation id
// (README: redriving a consumer's dead letters), with ids only, and the error still reaches Lambda.
import * as z from 'zod';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { defineEvent } from '../../events/catalog.ts';
import { eventConsumer } from '../../functions/shared/consumer.ts';

const Tested = defineEvent({ source: 'consortium.referrals', detailType: 'TestedSomething', version: 1, detail: { referralId: z.string(), note: z.string() } });
const context = { functionName: 'notifier', functionVersion: '1', invokedFunctionArn: 'arn', memoryLimitInMB: '128', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
const busEvent = (detail: Record<string, unknown>, detailType = 'TestedSomething') => ({
  version: '0', id: 'bus-1', 'detail-type': detailType, source: 'consortium.referrals', account: '0', time: '2026-12-01T00:00:00Z', region: 'local', resources: [], detail,
});
const detail = { id: 'evt_1', occurredAt: '2026-12-01T00:00:00Z', province: 'ZJ', version: 1, correlationId: 'req-abc', referralId: 'ref_1', note: '王伟 13800000000' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function errorLines(run: () => Promise<unknown>): Promise<Array<Record<string, any>>> {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = write;
  }
  return lines.map((l) => JSON.parse(l));
}

describe('a failing event consumer', () => {
  it('logs the failure at ERROR with the event id, detail-type and correlation id, nothing of the detail, and rethrows', async () => {
    const handler = eventConsumer([Tested] as const, async () => {
      throw new TypeError('boom');
    });
    let thrown: unknown;
    const lines = await errorLines(() => handler(busEvent(detail), context).catch((err) => (thrown = err)));
    expect((thrown as Error).message).toBe('boom');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'ERROR', correlation_id: 'req-abc', eventId: 'evt_1', detailType: 'TestedSomething', busEventId: 'bus-1', errorName: 'TypeError' });
    expect(JSON.stringify(lines[0])).not.toMatch(/王伟|13800000000|ref_1/);
  });

  it('logs a detail it refuses, and an event it does not handle, the same way (the event id as correlation id without one)', async () => {
    const handler = eventConsumer([Tested] as const, async () => {});
    const { correlationId: _, ...uncorrelated } = detail;
    const refused = await errorLines(() => handler(busEvent({ ...uncorrelated, referralId: 42 }), context).catch(() => {}));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'ERROR', correlation_id: 'evt_1', eventId: 'evt_1', errorName: 'ZodError' });
    expect(JSON.stringify(refused[0])).not.toMatch(/王伟|13800000000/);
    const unhandled = await errorLines(() => handler(busEvent(detail, 'SomethingElse'), context).catch(() => {}));
    expect(unhandled[0]).toMatchObject({ level: 'ERROR', correlation_id: 'req-abc', detailType: 'SomethingElse' });
  });

  it('logs nothing at ERROR when it succeeds', async () => {
    const handler = eventConsumer([Tested] as const, async () => {});
    expect(await errorLines(() => handler(busEvent(detail), context))).toEqual([]);
  });
});
