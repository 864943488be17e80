// infra/ops/republish-outbox.ts's work (README: Republishing the outbox) on DynamoDB Local and the
// local bus: the outbox items written in a window reach the consumers again through the relay's own
// PutEvents code; what they had applied is skipped, what they had missed is applied once, and what
// was written outside the window is left alone.
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditKey } from '../../functions/audit/keys.ts';
import { calendarDay } from '../../functions/shared/clock.ts';
import { auditRows, outboxEvents } from '../support/table.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
// Imported once the runtime has set the functions' environment (the relay reads its bus name at load).
let republishOutbox: typeof import('../../infra/ops/outbox-republish.ts').republishOutbox;
beforeAll(async () => {
  rt = await startTestRuntime({ seed: false });
  ({ republishOutbox } = await import('../../infra/ops/outbox-republish.ts'));
});
afterAll(() => rt?.stop());

const register = async (id: string) => {
  const op = await rt.as('operator');
  const res = await rt.call(op, 'POST', '/institutions', { id, name: `诊所 ${id}`, type: 'clinic', district: '西湖区', designated: true });
  expect(res.status).toBe(201);
  await rt.settle();
};
const registered = (id: string) => auditRows(rt, 'InstitutionRegistered', { institutionId: id });
/** What a consumer that never got the event would hold: no audit row. */
const forgetAudit = async (id: string) => {
  const [e] = await outboxEvents(rt, { institutionId: id }, 'InstitutionRegistered');
  const occurredAt = String(e!.detail.occurredAt);
  await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: auditKey(calendarDay(new Date(occurredAt), rt.province.timeZone), occurredAt, e!.detail.id) }));
  expect(await registered(id)).toHaveLength(0);
};

describe('republishing the outbox', () => {
  it('publishes the items written in the window once more: a missed event is applied once, an applied one skipped, one outside the window left alone', async () => {
    const from = new Date();
    await register('rp-in');
    const to = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await register('rp-out');
    expect(await registered('rp-in')).toHaveLength(1);
    await forgetAudit('rp-in');
    await forgetAudit('rp-out');

    const dry = await republishOutbox({ from, to, dryRun: true });
    expect(dry).toMatchObject({ found: expect.any(Number), published: 0 });
    expect(dry.found).toBeGreaterThanOrEqual(1);
    const delivered = rt.bus.delivered;
    await rt.settle();
    expect(rt.bus.delivered).toBe(delivered);

    const done = await republishOutbox({ from, to, segments: 2 });
    expect(done).toMatchObject({ found: dry.found, published: dry.found });
    await rt.settle();
    expect(await registered('rp-in')).toHaveLength(1);
    expect(await registered('rp-out')).toHaveLength(0);

    // Again, with PutEvents failing at first: retried, and still applied once.
    rt.bus.failNextPutEvents = 2;
    expect(await republishOutbox({ from, to })).toMatchObject({ published: dry.found });
    expect(rt.bus.failNextPutEvents).toBe(0);
    await rt.settle();
    expect(await registered('rp-in')).toHaveLength(1);
  });

  it('gives up on a PutEvents that keeps failing, saying how many were not republished', async () => {
    const from = new Date();
    await register('rp-fail');
    rt.bus.failPutEventsUntil = Date.now() + 60_000;
    try {
      await expect(republishOutbox({ from, to: new Date(), retries: 1 })).rejects.toThrow(/not republished \(run again\)/);
    } finally {
      rt.bus.failPutEventsUntil = 0;
    }
  });
});
