// The pharmacy counter in 2026 (issue 11) over HTTP against the local runtime: the pre-settlement
// quote, drug trace codes (one code, one sale in the province), and family mutual aid.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { MAX_TRACE_CODES_PER_SETTLEMENT } from '../../schemas/vouchers.ts';
import { clearOfMidnight, provinceDay } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { countItems } from '../support/table.ts';
import { traceCode, traceCodes, traced } from '../support/trace-codes.ts';

let rt: TestRuntime;
let operator: Caller;
let channel: Caller;
let pharmacy: Caller;
let seq = 100;

beforeAll(async () => {
  rt = await startTestRuntime();
  [operator, channel, pharmacy] = await Promise.all([rt.as('operator'), rt.as('channel'), rt.as('pharmacy', 'ph-xihu-1')]);
});
afterAll(() => rt?.stop());
// Splits count this year's pooled-fund use and reversals are same-day: each scenario within one day.
beforeEach(() => clearOfMidnight(30_000));

interface Person { nationalId: string; name: string; personId: string; voucherId: string }
async function person(personalAccountFen: number, annualPooledUsedFen = 100): Promise<Person> {
  const nationalId = demoNationalId('330106', '19600606', seq++);
  const name = `柜台${seq}`;
  const enrolled = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name, district: '西湖区', personalAccountFen, annualPooledUsedFen }] });
  const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId, name, channel: 'wechat' });
  expect(voucher.status).toBe(201);
  return { nationalId, name, personId: enrolled.body.personIds[0], voucherId: voucher.body.voucherId };
}
const code = async (p: Person) => (await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).body.code as string;
const settle = (who: Caller, body: unknown, key = `ctr-${randomUUID()}`) => rt.call(who, 'POST', '/settlements', body, { 'idempotency-key': key });
const balance = async (personId: string) => (await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen as number;
/** Items outside the access log: a quote reads the person's accounts, and that read is logged like any other. */
const itemCount = async () => {
  await rt.settle();
  return countItems(rt, { FilterExpression: 'NOT begins_with(PK, :access)', ExpressionAttributeValues: { ':access': 'ACCESS#' } });
};
const accessEntries = async (personId: string, operation: string) => {
  await rt.settle();
  return countItems(rt, { FilterExpression: 'PK = :pk AND operation = :op', ExpressionAttributeValues: { ':pk': `ACCESS#${personId}`, ':op': operation } });
};
const parts = (s: Record<string, unknown>) => ({ totalFen: s.totalFen, pooledFundFen: s.pooledFundFen, personalAccountFen: s.personalAccountFen, mutualAidFen: s.mutualAidFen, cashFen: s.cashFen, deductibleAppliedFen: s.deductibleAppliedFen, items: s.items });

describe('pre-settlement quote', () => {
  it('gives the split the settlement then gives, checks the code without using it, and writes nothing', async () => {
    const p = await person(20_000);
    const body = { code: await code(p), items: [traced({ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 3_500 }), traced({ drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 10_000 })] };
    const before = await itemCount();
    const quoted = await rt.call(pharmacy, 'POST', '/settlements/quote', body);
    expect(quoted.status).toBe(200);
    expect(quoted.body).not.toHaveProperty('settlementId');
    expect(quoted.body.pooledFundFen + quoted.body.personalAccountFen + quoted.body.mutualAidFen + quoted.body.cashFen).toBe(quoted.body.totalFen);
    expect(await rt.call(pharmacy, 'POST', '/settlements/quote', body)).toMatchObject({ status: 200, body: quoted.body }); // again: the code is not used
    expect(await itemCount()).toBe(before);
    expect(await balance(p.personId)).toBe(20_000);
    // What the quotes did write, later and elsewhere: the person's access log says the pharmacy read their accounts.
    expect(await accessEntries(p.personId, 'quoteSettlement')).toBeGreaterThan(0);

    const settled = await settle(pharmacy, body);
    expect(settled.status).toBe(201);
    expect(parts(settled.body)).toEqual(parts(quoted.body));
    // Both name whose code it is, as the card would (name, masked ID), for the pharmacist to check;
    // so do the settlement read later and the day's list.
    const patient = { name: p.name, nationalIdMasked: `${p.nationalId.slice(0, 3)}***********${p.nationalId.slice(-4)}` };
    expect([quoted.body.patient, settled.body.patient]).toEqual([patient, patient]);
    expect((await rt.call(pharmacy, 'GET', `/settlements/${settled.body.settlementId}`)).body.patient).toEqual(patient);
    const day = (await rt.call(pharmacy, 'GET', `/settlements?date=${provinceDay(settled.body.settledAt)}`)).body.items;
    expect(day.find((s: { settlementId: string }) => s.settlementId === settled.body.settlementId).patient).toEqual(patient);
    // Now the code is used: a quote with it says so.
    const used = await rt.call(pharmacy, 'POST', '/settlements/quote', body);
    expect([used.status, slug(used.body)]).toEqual([409, 'code-already-used']);
  });

  it('refuses what the settlement refuses: a tampered code, an unknown drug, another role', { tags: ['any-day'] }, async () => {
    const p = await person(1_000);
    const c = await code(p);
    const [h, payload, sig] = c.split('.');
    expect((await rt.call(pharmacy, 'POST', '/settlements/quote', { code: `${h}.${payload}x.${sig}`, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100 }] })).status).toBe(400);
    expect((await rt.call(pharmacy, 'POST', '/settlements/quote', { code: c, items: [{ drugCode: 'XNOSUCH01', quantity: 1, unitPriceFen: 100 }] })).status).toBe(400);
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', '/settlements/quote', { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100 }] })).status).toBe(403);
  });
});

describe('drug trace codes', () => {
  it('packs sold without a code are paid in cash only, and the line says how many', async () => {
    const p = await person(100_000);
    const codes = traceCodes(1);
    const res = await settle(pharmacy, { code: await code(p), items: [{ drugCode: 'XC08CAA001', quantity: 3, unitPriceFen: 1_000, traceCodes: codes }] });
    expect(res.status).toBe(201);
    expect(res.body.items[0]).toMatchObject({ quantity: 3, traceCodes: codes, untracedPacks: 2, eligibleFen: 1_000 });
    // Of 3 000: the 2 000 of untraced packs in cash; 1 000 eligible, ZJ pharmacy ratio 0.7.
    expect(res.body).toMatchObject({ totalFen: 3_000, pooledFundFen: 700, personalAccountFen: 300, cashFen: 2_000 });
  });

  it('a code sold before is 409 trace-code-used naming it, nothing is written but an operator alert; a reversal returns it', async () => {
    const [p, q] = [await person(50_000), await person(50_000)];
    const sold = traceCode();
    const first = await settle(pharmacy, { code: await code(p), items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000, traceCodes: [sold] }] });
    expect(first.status).toBe(201);
    expect((await rt.call(operator, 'GET', `/trace-codes/${sold}`)).body).toMatchObject({ code: sold, status: 'sold', drugCode: 'XC08CAA001', settlementId: first.body.settlementId, institutionId: 'ph-xihu-1' });
    expect((await rt.call(await rt.as('pharmacy', 'ph-xihu-2'), 'GET', `/trace-codes/${sold}`)).status).toBe(404);

    const elsewhere = await rt.as('pharmacy', 'ph-sc-1');
    const fresh = traceCode();
    const before = await balance(q.personId);
    const again = await settle(elsewhere, { code: await code(q), items: [{ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 1_000, traceCodes: [fresh, sold] }] });
    expect([again.status, slug(again.body), again.body.errors]).toEqual([409, 'trace-code-used', [{ path: 'body.items.0.traceCodes.1', message: `${sold} is already sold` }]]);
    expect(await balance(q.personId)).toBe(before);
    expect((await rt.call(operator, 'GET', `/trace-codes/${fresh}`)).status).toBe(404); // the other code was not sold either
    await rt.settle();
    const alerts = (await rt.call(operator, 'GET', `/alerts?date=${provinceDay(first.body.settledAt)}`)).body.items.filter((a: { type: string }) => a.type === 'trace-code-reused');
    // It names where the code was sold first, and in which settlement.
    expect(alerts).toEqual([expect.objectContaining({ institutionId: 'ph-sc-1', details: expect.objectContaining({ codes: [sold], soldAt: ['ph-xihu-1'], soldIn: [first.body.settlementId] }) })]);

    // Reversed, the pack comes back: its code can be sold again.
    expect((await rt.call(pharmacy, 'POST', `/settlements/${first.body.settlementId}/reversal`)).status).toBe(200);
    expect((await rt.call(operator, 'GET', `/trace-codes/${sold}`)).body.status).toBe('returned');
    const resold = await settle(elsewhere, { code: await code(q), items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000, traceCodes: [sold] }] });
    expect(resold.status).toBe(201);
    expect((await rt.call(operator, 'GET', `/trace-codes/${sold}`)).body).toMatchObject({ status: 'sold', institutionId: 'ph-sc-1', settlementId: resold.body.settlementId });
  });

  it('30 settlements racing at six pharmacies with one code: exactly one wins, the rest are 409 trace-code-used', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, () => person(10_000)));
    const codes = await Promise.all(people.map(code));
    const counters = await Promise.all(['ph-xihu-1', 'ph-xihu-2', 'ph-xihu-3', 'ph-sc-1', 'ph-sc-2', 'ph-sc-3'].map((id) => rt.as('pharmacy', id)));
    const shared = traceCode();
    const results = await Promise.all(codes.map((c, i) => settle(counters[i % counters.length]!, { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_000, traceCodes: [shared] }] })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) expect([r.status, slug(r.body)]).toEqual([409, 'trace-code-used']);
    // Exactly one person paid anything.
    const paid = (await Promise.all(people.map((p) => balance(p.personId)))).filter((b) => b < 10_000);
    expect(paid).toHaveLength(1);
  });

  it('a code twice in one request, more codes than packs, or more than one transaction takes: 400, nothing written', { tags: ['any-day'] }, async () => {
    const p = await person(1_000);
    const c = await code(p);
    const twice = traceCode();
    const dup = await settle(pharmacy, { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100, traceCodes: [twice] }, { drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 100, traceCodes: [twice] }] });
    expect([dup.status, dup.body.errors?.[0]?.path]).toEqual([400, 'body.items.1.traceCodes.0']);
    const more = await settle(pharmacy, { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100, traceCodes: traceCodes(2) }] });
    expect([more.status, more.body.errors?.[0]?.path]).toEqual([400, 'body.items.0.traceCodes']);
    const many = await settle(pharmacy, { code: c, items: [
      { drugCode: 'XC08CAA001', quantity: 50, unitPriceFen: 100, traceCodes: traceCodes(50) },
      { drugCode: 'XC09CAA001', quantity: 50, unitPriceFen: 100, traceCodes: traceCodes(50) },
    ] });
    expect(many.status).toBe(400);
    expect(JSON.stringify(many.body.errors)).toContain(`at most ${MAX_TRACE_CODES_PER_SETTLEMENT} packs with trace codes`);
    expect((await rt.call(pharmacy, 'GET', '/trace-codes/123')).status).toBe(400);
    expect(await balance(p.personId)).toBe(1_000);
  });
});

describe('family mutual aid', () => {
  it('the payer binds a relative through its app; one payer per person; only the parties see the bindings', { tags: ['any-day'] }, async () => {
    const [payer, child, other] = [await person(50_000), await person(0), await person(0)];
    const asPayer = await rt.asPerson(payer.personId);
    const wrongName = await rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: '别人', relation: 'child' });
    expect([wrongName.status, slug(wrongName.body)]).toEqual([422, 'not-enrolled']);
    const self = await rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: payer.nationalId, beneficiaryName: payer.name, relation: 'child' });
    expect(self.status).toBe(400);
    const made = await rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'child' });
    expect([made.status, made.body]).toEqual([201, expect.objectContaining({ payerPersonId: payer.personId, beneficiaryPersonId: child.personId, relation: 'child', status: 'active' })]);
    expect(made.headers.get('location')).toBeNull(); // a binding has no URL of its own
    // The app retries after a lost answer (three at once, too): the same binding, 200, nothing new.
    const retries = await Promise.all([0, 1, 2].map(() => rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: ` ${child.name} `, relation: 'child' })));
    expect(retries.map((r) => [r.status, r.body])).toEqual([0, 1, 2].map(() => [200, made.body]));
    // Under another relation it is not the same request.
    const asParent = await rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'parent' });
    expect([asParent.status, slug(asParent.body), asParent.body.detail]).toEqual([409, 'conflict', 'you already pay for this person (as child); revoke that binding first']);
    // A second payer for the same person is refused.
    const second = await rt.call(await rt.asPerson(other.personId), 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'parent' });
    expect([second.status, slug(second.body)]).toEqual([409, 'conflict']);

    for (const who of [asPayer, await rt.asPerson(child.personId), operator]) {
      const list = await rt.call(who, 'GET', `/family-bindings?personId=${who === operator ? child.personId : who === asPayer ? payer.personId : child.personId}`);
      expect(list.body.items.map((b: { bindingId: string }) => b.bindingId)).toEqual([made.body.bindingId]);
    }
    // Another person's token, or an app token acting for nobody: 403.
    expect((await rt.call(await rt.asPerson(other.personId), 'GET', `/family-bindings?personId=${payer.personId}`)).status).toBe(403);
    expect((await rt.call(channel, 'GET', `/family-bindings?personId=${payer.personId}`)).status).toBe(403);
    expect((await rt.call(channel, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'child' })).status).toBe(403);
    // Only the payer revokes. The beneficiary sees the binding in their list, so is told it is not theirs
    // to end (403); to anyone else it does not exist (404). Neither changes it.
    const byBeneficiary = await rt.call(await rt.asPerson(child.personId), 'POST', `/family-bindings/${made.body.bindingId}/revoke`);
    expect([byBeneficiary.status, byBeneficiary.headers.get('content-type'), slug(byBeneficiary.body)]).toEqual([403, 'application/problem+json', 'forbidden']);
    const byStranger = await rt.call(await rt.asPerson(other.personId), 'POST', `/family-bindings/${made.body.bindingId}/revoke`);
    expect([byStranger.status, slug(byStranger.body)]).toEqual([404, 'not-found']);
    expect((await rt.call(operator, 'GET', `/family-bindings?personId=${child.personId}`)).body.items).toEqual([made.body]);
    expect((await rt.call(asPayer, 'POST', `/family-bindings/${made.body.bindingId}/revoke`)).body.status).toBe('revoked');
    expect((await rt.call(asPayer, 'POST', `/family-bindings/${made.body.bindingId}/revoke`)).status).toBe(409);
  });

  it('the list pages like every list: limit and nextToken, newest first; bad ones are 400 with field errors', { tags: ['any-day'] }, async () => {
    const [payer, a, b, c] = [await person(10_000), await person(0), await person(0), await person(0)];
    const asPayer = await rt.asPerson(payer.personId);
    const made: string[] = [];
    for (const [p, relation] of [[a, 'child'], [b, 'parent'], [c, 'sibling']] as const) {
      const res = await rt.call(asPayer, 'POST', '/family-bindings', { beneficiaryNationalId: p.nationalId, beneficiaryName: p.name, relation });
      expect(res.status).toBe(201);
      made.unshift(res.body.bindingId);
    }
    const list = (query: string) => rt.call(asPayer, 'GET', `/family-bindings?personId=${payer.personId}${query}`);
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const res = await list(`&limit=2${next ? `&nextToken=${next}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((x: { bindingId: string }) => x.bindingId));
      next = res.body.nextToken;
    } while (next);
    expect(seen).toEqual(made);
    const first = await list('&limit=1');
    expect(first.body.items.map((x: { bindingId: string }) => x.bindingId)).toEqual([made[0]]);

    // Out of bounds, not a number, not a token, or a token of another person's list (the beneficiary's
    // partition holds the same binding): 400 naming the parameter.
    const foreign = Buffer.from(JSON.stringify({ PK: `PERSON#${a.personId}`, SK: `BINDING#${made[2]}` })).toString('base64url');
    for (const [query, path] of [
      ['&limit=0', 'query.limit'], ['&limit=201', 'query.limit'], ['&limit=abc', 'query.limit'], ['&limit=1.5', 'query.limit'],
      ['&nextToken=abc', 'query.nextToken'], ['&nextToken=%2B%2B', 'query.nextToken'], [`&nextToken=${foreign}`, 'query.nextToken'],
    ] as const) {
      const res = await list(query);
      expect([query, res.status, res.headers.get('content-type'), slug(res.body)]).toEqual([query, 400, 'application/problem+json', 'validation-failed']);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
    }
    // Nothing changed by any of them.
    expect((await list('&limit=200')).body.items.map((x: { bindingId: string; status: string }) => [x.bindingId, x.status])).toEqual(made.map((id) => [id, 'active']));
  });

  it("the payer's account pays what the beneficiary's own could not, in the same transaction; the reversal restores both exactly", async () => {
    const [payer, parent] = [await person(30_000), await person(1_000)];
    const binding = await rt.call(await rt.asPerson(payer.personId), 'POST', '/family-bindings', { beneficiaryNationalId: parent.nationalId, beneficiaryName: parent.name, relation: 'parent' });
    expect(binding.status).toBe(201);
    const body = { code: await code(parent), items: [traced({ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 5_000 })] };
    const quoted = (await rt.call(pharmacy, 'POST', '/settlements/quote', body)).body;
    const s = (await settle(pharmacy, body)).body;
    // 10 000 of category A at a pharmacy (0.7): fund 7 000; 3 000 left: own 1 000, the payer 2 000.
    expect(s).toMatchObject({ totalFen: 10_000, pooledFundFen: 7_000, personalAccountFen: 1_000, mutualAidFen: 2_000, mutualAidPayerId: payer.personId, cashFen: 0 });
    expect(parts(quoted)).toEqual(parts(s));
    expect([await balance(parent.personId), await balance(payer.personId)]).toEqual([0, 28_000]);
    const day = await rt.call(pharmacy, 'GET', `/settlements?date=${provinceDay(s.settledAt)}&limit=200`);
    expect(day.body.totals.mutualAidFen).toBeGreaterThanOrEqual(2_000);

    expect((await rt.call(pharmacy, 'POST', `/settlements/${s.settlementId}/reversal`)).status).toBe(200);
    expect([await balance(parent.personId), await balance(payer.personId)]).toEqual([1_000, 30_000]);

    // Revoked, the binding pays no more.
    await rt.call(await rt.asPerson(payer.personId), 'POST', `/family-bindings/${binding.body.bindingId}/revoke`);
    const alone = (await settle(pharmacy, { code: await code(parent), items: [traced({ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 5_000 })] })).body;
    expect(alone).toMatchObject({ mutualAidFen: 0, personalAccountFen: 1_000, cashFen: 2_000 });
    expect(alone).not.toHaveProperty('mutualAidPayerId');
  });

  it('payer and beneficiary settling at once, 50 times, on accounts too small for all: no account goes negative, debits add up', async () => {
    const [payer, child] = [await person(20_000), await person(5_000)];
    await rt.call(await rt.asPerson(payer.personId), 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'child' });
    const who = Array.from({ length: 50 }, (_, i) => (i % 2 ? payer : child));
    const codes = await Promise.all(who.map(code));
    const results = await Promise.all(codes.map((c) => settle(pharmacy, { code: c, items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 5_000 })] })));
    for (const r of results) expect([201, 409, 503]).toContain(r.status);
    const ok = results.filter((r) => r.status === 201).map((r) => r.body);
    expect(ok.length).toBeGreaterThan(0);
    const [payerLeft, childLeft] = [await balance(payer.personId), await balance(child.personId)];
    expect(payerLeft).toBeGreaterThanOrEqual(0);
    expect(childLeft).toBeGreaterThanOrEqual(0);
    const from = (personId: string) => ok.reduce((t, s) => t + (s.personId === personId ? s.personalAccountFen : 0) + (s.mutualAidPayerId === personId ? s.mutualAidFen : 0), 0);
    expect(20_000 - payerLeft).toBe(from(payer.personId));
    expect(5_000 - childLeft).toBe(from(child.personId));
    for (const s of ok) expect(s.pooledFundFen + s.personalAccountFen + s.mutualAidFen + s.cashFen).toBe(s.totalFen);
  });
});
