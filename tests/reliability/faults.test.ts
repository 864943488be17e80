// Faults the real components cannot be made to produce on demand: PutEvents failing for a while,
// a consumer that keeps throwing, a read that sees a transaction in part, DynamoDB throttling a
// settlement. Everything else is real.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '../../functions/shared/db.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { auditRows, countItems } from '../support/table.ts';
import { provinceDay } from '../support/calendar.ts';
import { traceCode } from '../support/trace-codes.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
beforeAll(async () => {
  rt = await startTestRuntime({ busRetry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxEventAgeMs: 60_000 } });
  operator = await rt.as('operator');
});
afterAll(() => rt?.stop());

describe('PutEvents failing for a while', () => {
  it('the relay retries from the first unpublished record: every event arrives, once', async () => {
    rt.bus.failPutEventsUntil = Date.now() + 2_500;
    const ids = Array.from({ length: 10 }, (_, i) => `ph-outage-${i}`);
    for (const id of ids) {
      const res = await rt.call(operator, 'POST', '/institutions', { id, name: '药房', type: 'pharmacy', district: '西湖区', designated: true });
      expect(res.status).toBe(201); // the API does not depend on the bus
    }
    await new Promise((r) => setTimeout(r, 3_000));
    await rt.settle();
    const rows = (await auditRows(rt, 'InstitutionRegistered')).filter((r) => ids.includes(r.detail.institutionId));
    expect(rows.map((r) => r.detail.institutionId).sort()).toEqual([...ids].sort());
  });
});

describe('a consumer that keeps throwing', () => {
  it('is retried, then dead-lettered with its error, and other events are delivered meanwhile', async () => {
    const deadLetters = join(rt.dataDir, 'bus', 'dead-letters.jsonl');
    const before = existsSync(deadLetters) ? readFileSync(deadLetters, 'utf8').split('\n').filter(Boolean).length : 0;
    // A detail its schema refuses: the audit consumer throws on every attempt.
    rt.bus.putEvents([{ Source: 'consortium.institutions', DetailType: 'InstitutionRegistered', Detail: JSON.stringify({ id: 'evt_broken', institutionId: 42 }) }]);
    const ok = await rt.call(operator, 'POST', '/institutions', { id: 'ph-after-poison', name: '药房', type: 'pharmacy', district: '西湖区', designated: true });
    expect(ok.status).toBe(201);
    await rt.settle();

    const lines = readFileSync(deadLetters, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.length).toBe(before + 1);
    expect(lines.at(-1)).toMatchObject({ target: 'audit', attempts: 3, event: { detail: { id: 'evt_broken' } } });
    expect(lines.at(-1).error).toMatch(/institutionId|expected/i);
    expect(await auditRows(rt, 'InstitutionRegistered', { institutionId: 'ph-after-poison' })).toHaveLength(1);
  });
});

describe('a POS retry that reads its first attempt in part', () => {
  it("gets the first attempt's settlement (not 409), and raises no alert about the pharmacy's own sale", async () => {
    const channel = await rt.as('channel');
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    const nationalId = demoNationalId('330106', '19750505', 78);
    const enrolled = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name: '重试', district: '西湖区', personalAccountFen: 50_000 }] });
    const personId = enrolled.body.personIds[0];
    const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId, name: '重试', channel: 'wechat' });
    const code = (await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`)).body.code;
    const body = { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000, traceCodes: [traceCode()] }] };
    const first = await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': 'pos-retry-1' });
    expect(first.status).toBe(201);

    // BatchGetItem is no snapshot: a retry sent while the first attempt commits can read its code's use
    // and its trace code's sale but not yet its answer. Made to happen on demand: the retry's read
    // leaves out the idempotency record once (a later read on its own finds it, as it would).
    let hidden = 0;
    const isRecord = (item: Record<string, unknown>) => /^IDEMPOTENCY#/.test(String((item.PK as { S?: string })?.S ?? item.PK));
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const responses = (result.output as { Responses?: Record<string, Array<Record<string, unknown>>> }).Responses;
        if (/BatchGet/.test(String(context.commandName)) && responses && !hidden) {
          for (const [table, items] of Object.entries(responses)) {
            if (items.some(isRecord)) {
              hidden++;
              responses[table] = items.filter((i) => !isRecord(i));
            }
          }
        }
        return result;
      },
      { step: 'initialize', name: 'hideIdempotencyRecordOnce' },
    );
    const retried = await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': 'pos-retry-1' });
    ddb.middlewareStack.remove('hideIdempotencyRecordOnce');

    expect(hidden).toBe(1);
    expect([retried.status, retried.body.settlementId, retried.headers.get('idempotent-replayed')]).toEqual([201, first.body.settlementId, 'true']);
    expect((await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen).toBe(50_000 - first.body.personalAccountFen);
    await rt.settle();
    const alerts = (await rt.call(operator, 'GET', `/alerts?date=${provinceDay(first.body.settledAt)}`)).body.items;
    expect(alerts.filter((a: { type: string; institutionId: string }) => a.type === 'trace-code-reused' && a.institutionId === 'ph-xihu-1')).toEqual([]);
    // Another key with the same code is another purchase: refused as before.
    const other = await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': 'pos-retry-2' });
    expect([other.status, slug(other.body)]).toEqual([409, 'code-already-used']);
  });
});

describe('DynamoDB throttling a settlement', () => {
  it('answers 503 with Retry-After, writes nothing, and the same request succeeds once the table recovers', async () => {
    const channel = await rt.as('channel');
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    const nationalId = demoNationalId('330106', '19750505', 77);
    const enrolled = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name: '限流', district: '西湖区', personalAccountFen: 50_000, annualPooledUsedFen: 1 }] });
    const personId = enrolled.body.personIds[0];
    const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId, name: '限流', channel: 'wechat' });
    const code = (await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`)).body.code;
    const body = { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000 }] };
    await rt.settle();
    const count = () => countItems(rt);
    const itemsBefore = await count();

    // Every TransactWriteItems is throttled (after the SDK's own retries), as DynamoDB does under a hot key.
    let throttled = 0;
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (/TransactWrite/.test(String(context.commandName))) {
          throttled++;
          throw new ProvisionedThroughputExceededException({ message: 'injected: rate of requests exceeds the allowed throughput', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const res = await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': 'throttled-once-1' });
    ddb.middlewareStack.remove('injectThrottling');

    expect(throttled).toBeGreaterThan(0);
    expect([res.status, slug(res.body)]).toEqual([503, 'service-unavailable']);
    expect(res.headers.get('retry-after')).toBe('1');
    await rt.settle();
    expect(await count()).toBe(itemsBefore);
    expect((await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen).toBe(50_000);

    const retried = await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': 'throttled-once-1' });
    expect(retried.status).toBe(201);
    expect((await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen).toBe(50_000 - retried.body.personalAccountFen);
  });
});
