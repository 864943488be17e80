// Tenancy matrix: every principal that is not a party to an object, on every route that names the
// object, is refused (403 for a role that may never call the route, 404 where revealing existence
// would leak) and changes nothing; lists never show another institution's objects; and every bad
// token is a 401 on every protected route.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { routes } from '../../schemas/routes.ts';
import type { Role } from '../../schemas/common.ts';
import { clearOfMidnight, provinceDay } from '../support/calendar.ts';
import { badTokens } from '../support/tokens.ts';
import { traced } from '../support/trace-codes.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
const who: Record<string, Caller> = {};
const principals: Array<[string, Role, string?]> = [
  ['operator', 'operator'],
  ['channel', 'channel'],
  // Another channel app (another token subject): it did not activate the voucher.
  ['channel-other-app', 'channel'],
  ['clinic-lingyin', 'clinic', 'clinic-lingyin'],
  ['clinic-beishan', 'clinic', 'clinic-beishan'],
  ['hosp-zjph', 'hospital', 'hosp-zjph'],
  ['hosp-xihu', 'hospital', 'hosp-xihu'],
  ['ph-xihu-1', 'pharmacy', 'ph-xihu-1'],
  ['ph-xihu-2', 'pharmacy', 'ph-xihu-2'],
  ['ph-sc-1', 'pharmacy', 'ph-sc-1'],
  // Tokens whose role does not match the registered institution, or name none that is registered.
  ['hospital-token-of-ph-xihu-1', 'hospital', 'ph-xihu-1'],
  ['clinic-token-of-hosp-zjph', 'clinic', 'hosp-zjph'],
  ['pharmacy-token-of-unregistered', 'pharmacy', 'ph-ghost-1'],
  // Channel tokens acting for one person (pid): the insured person, the relative who pays for them
  // (family mutual aid), and someone else. Made once the people are enrolled.
  ['person', 'channel'],
  ['payer', 'channel'],
  ['stranger', 'channel'],
];
const forPeople = ['person', 'payer', 'stranger'];
const mismatched = ['hospital-token-of-ph-xihu-1', 'clinic-token-of-hosp-zjph', 'pharmacy-token-of-unregistered'];
const ids: Record<string, string> = {};

beforeAll(async () => {
  rt = await startTestRuntime();
  for (const [name, role, inst] of principals.filter(([n]) => !forPeople.includes(n))) who[name] = name === 'channel-other-app' ? { token: await rt.token('channel', undefined, { subject: 'other-channel-app' }) } : await rt.as(role, inst);
  const nationalId = demoNationalId('330106', '19880808', 808);
  ids.nationalId = nationalId;
  const relatives = [demoNationalId('330106', '19580808', 809), demoNationalId('330106', '19590909', 810)];
  const enrolled = (await rt.call(who.operator, 'POST', '/enrollments', {
    people: [
      { nationalId, name: '租户', district: '西湖区', personalAccountFen: 100_000, annualPooledUsedFen: 1 },
      ...relatives.map((id, i) => ({ nationalId: id, name: `租户亲属${i}`, district: '西湖区', personalAccountFen: 50_000 })),
    ],
  })).body.personIds;
  ids.personId = enrolled[0];
  [who.person, who.payer, who.stranger] = await Promise.all(enrolled.map((id: string) => rt.asPerson(id)));
  ids.voucherId = (await rt.call(who.channel, 'POST', '/vouchers', { nationalId, name: '租户', channel: 'wechat' })).body.voucherId;
  const code = (await rt.call(who.channel, 'POST', `/vouchers/${ids.voucherId}/codes`)).body.code;
  const settlement = (await rt.call(who['ph-xihu-1']!, 'POST', '/settlements', { code, items: [traced({ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 1_000 })] }, { 'idempotency-key': 'tenancy-settlement-1' })).body;
  ids.settlementId = settlement.settlementId;
  ids.traceCode = settlement.items[0].traceCodes[0];
  // The payer pays for the person from now on (after the settlement, which the snapshots compare).
  ids.bindingId = (await rt.call(who.payer, 'POST', '/family-bindings', { beneficiaryNationalId: nationalId, beneficiaryName: '租户', relation: 'child' })).body.bindingId;
  ids.settlementDay = provinceDay(settlement.settledAt);
  ids.referralId = (await rt.call(who['clinic-lingyin']!, 'POST', '/referrals', { personId: ids.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸痛', diagnoses: ['I20.9'], urgency: 'routine' })).body.referralId;
  ids.adviceId = (await rt.call(who['clinic-lingyin']!, 'POST', '/advice-requests', { personId: ids.personId, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '是否需要上转？', diagnoses: ['I20.9'] })).body.adviceId;
  ids.prescriptionId = (await rt.call(who['clinic-lingyin']!, 'POST', '/prescriptions', { personId: ids.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 2, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' })).body.prescriptionId;
  // A webhook of the clinic's, for an event none of these tests causes (nothing is ever delivered).
  ids.webhookId = (await rt.call(who['clinic-lingyin']!, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hooks', events: ['PrescriptionExpired'] })).body.webhookId;
  await rt.settle();
  expect((await rt.call(who['clinic-lingyin']!, 'GET', `/prescriptions/${ids.prescriptionId}`)).body.status).toBe('routed');
});
afterAll(() => rt?.stop());
// Snapshots compare this year's balances before and after: each test runs within one province day.
beforeEach(() => clearOfMidnight());

const appointment = () => new Date(Date.now() + 2 * 86_400_000).toISOString();
/** [method, path, body, parties]: who may act on it; everyone else must be refused. */
const objectRoutes = (): Array<[string, string, unknown, string[]]> => [
  ['GET', `/settlements/${ids.settlementId}`, undefined, ['ph-xihu-1', 'operator']],
  ['POST', `/settlements/${ids.settlementId}/reversal`, undefined, ['ph-xihu-1']],
  ['GET', `/referrals/${ids.referralId}`, undefined, ['clinic-lingyin', 'hosp-zjph']],
  ['POST', `/referrals/${ids.referralId}/accept`, { appointmentAt: appointment() }, ['hosp-zjph']],
  ['POST', `/referrals/${ids.referralId}/reject`, { reason: '满员' }, ['hosp-zjph']],
  ['POST', `/referrals/${ids.referralId}/reroute`, {}, ['clinic-lingyin']],
  ['POST', `/referrals/${ids.referralId}/arrive`, undefined, ['hosp-zjph']],
  ['POST', `/referrals/${ids.referralId}/complete`, undefined, ['hosp-zjph']],
  ['POST', `/referrals/${ids.referralId}/cancel`, undefined, ['clinic-lingyin']],
  ['GET', `/trace-codes/${ids.traceCode}`, undefined, ['ph-xihu-1', 'operator']],
  ['GET', `/family-bindings?personId=${ids.personId}`, undefined, ['person', 'payer', 'operator']],
  ['POST', `/family-bindings/${ids.bindingId}/revoke`, undefined, ['payer', 'operator']],
  ['GET', `/prescriptions/${ids.prescriptionId}`, undefined, ['clinic-lingyin', 'ph-xihu-1']],
  ['POST', `/prescriptions/${ids.prescriptionId}/accept`, undefined, ['ph-xihu-1']],
  ['POST', `/prescriptions/${ids.prescriptionId}/reject`, { reason: '缺货' }, ['ph-xihu-1']],
  ['POST', `/prescriptions/${ids.prescriptionId}/dispense`, { settlementId: ids.settlementId }, ['ph-xihu-1']],
  ['POST', `/prescriptions/${ids.prescriptionId}/ready`, undefined, ['ph-xihu-1']],
  ['POST', `/prescriptions/${ids.prescriptionId}/cancel`, undefined, ['clinic-lingyin']],
  ['GET', '/pharmacies/ph-xihu-1/stock', undefined, ['ph-xihu-1']],
  ['PUT', '/pharmacies/ph-xihu-1/stock', { items: [{ drugCode: 'XC08CAA001', quantity: 1 }] }, ['ph-xihu-1']],
  ['GET', `/vouchers/${ids.voucherId}`, undefined, ['channel', 'person', 'operator']],
  ['POST', `/vouchers/${ids.voucherId}/suspend`, undefined, ['channel', 'person', 'operator']],
  ['POST', `/vouchers/${ids.voucherId}/resume`, undefined, ['channel', 'person', 'operator']],
  ['POST', `/vouchers/${ids.voucherId}/codes`, undefined, ['channel', 'person']],
  ['GET', `/enrollments/${ids.personId}`, undefined, ['operator', 'channel', 'person']],
  ['POST', '/people/lookup', { nationalId: ids.nationalId }, ['operator', 'clinic-lingyin', 'clinic-beishan', 'hosp-zjph', 'hosp-xihu']],
  ['GET', '/overview', undefined, ['operator']],
  ['GET', `/advice-requests/${ids.adviceId}`, undefined, ['clinic-lingyin', 'hosp-zjph']],
  ['POST', `/advice-requests/${ids.adviceId}/reply`, { answer: '可基层管理', recommendation: 'manage-locally' }, ['hosp-zjph']],
  ['POST', `/advice-requests/${ids.adviceId}/convert`, { diagnoses: ['I10'] }, ['clinic-lingyin']],
  ['POST', `/advice-requests/${ids.adviceId}/close`, undefined, ['clinic-lingyin']],
  ['GET', `/people/${ids.personId}/timeline`, undefined, ['operator', 'person']],
  ['GET', `/people/${ids.personId}/access-log`, undefined, ['operator', 'person']],
  ['GET', `/people/${ids.personId}/export`, undefined, ['person']],
  ['GET', `/alerts?date=${ids.settlementDay}`, undefined, ['operator']],
  ['GET', `/webhooks/${ids.webhookId}/deliveries`, undefined, ['clinic-lingyin']],
  ['DELETE', `/webhooks/${ids.webhookId}`, undefined, ['clinic-lingyin']],
];

async function snapshot() {
  return {
    settlement: (await rt.call(who['ph-xihu-1']!, 'GET', `/settlements/${ids.settlementId}`)).body,
    referral: (await rt.call(who['clinic-lingyin']!, 'GET', `/referrals/${ids.referralId}`)).body.status,
    prescription: (await rt.call(who['clinic-lingyin']!, 'GET', `/prescriptions/${ids.prescriptionId}`)).body.status,
    stock: (await rt.call(who['ph-xihu-1']!, 'GET', '/pharmacies/ph-xihu-1/stock?limit=200')).body.items,
    voucher: (await rt.call(who.channel, 'GET', `/vouchers/${ids.voucherId}`)).body,
    person: (await rt.call(who.operator, 'GET', `/enrollments/${ids.personId}`)).body,
    webhooks: (await rt.call(who['clinic-lingyin']!, 'GET', '/webhooks')).body.items,
    bindings: (await rt.call(who.operator, 'GET', `/family-bindings?personId=${ids.personId}`)).body,
    traceCode: (await rt.call(who.operator, 'GET', `/trace-codes/${ids.traceCode}`)).body,
    advice: (await rt.call(who['clinic-lingyin']!, 'GET', `/advice-requests/${ids.adviceId}`)).body,
  };
}

describe('tenancy matrix', () => {
  it('every non-party on every object route is refused with 403 or 404 and changes nothing', async () => {
    const before = await snapshot();
    const outcomes: string[] = [];
    for (const [method, path, body, parties] of objectRoutes()) {
      for (const [name] of principals) {
        if (parties.includes(name)) continue;
        const res = await rt.call(who[name]!, method, path, body);
        outcomes.push(`${name} ${method} ${path} → ${res.status} ${slug(res.body)}`);
        expect([403, 404], `${name} ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
        expect(res.headers.get('cache-control'), `${name} ${method} ${path}`).toBe('no-store');
      }
    }
    expect(outcomes.length).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('worklists and reconciliation show only the caller\'s own objects', async () => {
    const incoming = await rt.call(who['hosp-xihu']!, 'GET', '/referrals?box=incoming');
    const outgoing = await rt.call(who['clinic-beishan']!, 'GET', '/referrals?box=outgoing');
    for (const list of [incoming, outgoing]) expect(list.body.items.map((r: { referralId: string }) => r.referralId)).not.toContain(ids.referralId);
    const advice = [await rt.call(who['hosp-xihu']!, 'GET', '/advice-requests?box=incoming'), await rt.call(who['clinic-beishan']!, 'GET', '/advice-requests?box=outgoing')];
    for (const list of advice) expect(list.body.items.map((a: { adviceId: string }) => a.adviceId)).not.toContain(ids.adviceId);
    for (const name of ['ph-xihu-2', 'clinic-beishan']) {
      const list = await rt.call(who[name]!, 'GET', '/prescriptions');
      expect(list.body.items.map((p: { prescriptionId: string }) => p.prescriptionId)).not.toContain(ids.prescriptionId);
    }
    const mine = await rt.call(who['ph-xihu-1']!, 'GET', `/settlements?date=${ids.settlementDay}`);
    // Personal and institutional data: no cache keeps an authenticated answer.
    for (const res of [mine, incoming, outgoing]) expect(res.headers.get('cache-control')).toBe('no-store');
    expect(mine.body.items.map((s: { settlementId: string }) => s.settlementId)).toContain(ids.settlementId);
    const theirs = await rt.call(who['ph-xihu-2']!, 'GET', `/settlements?date=${ids.settlementDay}`);
    expect(theirs.body.items).toEqual([]);
    expect(theirs.body.totals.count).toBe(0);
    // Webhooks: each institution lists its own only (a clinic's is in no one else's list).
    expect((await rt.call(who['clinic-lingyin']!, 'GET', '/webhooks')).body.items.map((w: { webhookId: string }) => w.webhookId)).toEqual([ids.webhookId]);
    for (const name of ['clinic-beishan', 'hosp-zjph', 'ph-xihu-1']) expect((await rt.call(who[name]!, 'GET', '/webhooks')).body.items).toEqual([]);
  });

  it('a token whose role is not its institution\'s registered type, or whose institution is not registered, is 403 on every route its role may call', async () => {
    const before = await snapshot();
    let calls = 0;
    for (const name of mismatched) {
      const [, role] = principals.find(([n]) => n === name)!;
      for (const route of routes.filter((r) => r.auth !== 'public' && r.auth.includes(role))) {
        // Refused before anything is read: what the path names does not matter.
        const path = route.path.replace(/\{\w+\}/g, route.path.startsWith('/pharmacies') ? 'ph-xihu-1' : 'x1234');
        const res = await rt.call(who[name]!, route.method, path, route.method === 'GET' ? undefined : {});
        expect([name, route.operationId, res.status, slug(res.body)]).toEqual([name, route.operationId, 403, 'forbidden']);
        calls++;
      }
    }
    expect(calls).toBeGreaterThan(20);
    expect(await snapshot()).toEqual(before);
  });

  it('expired, forged, alg:none, wrong-province and otherwise bad tokens are a 401 on every protected route', async () => {
    const bad = await badTokens(rt.dataDir, 'ZJ');
    const { valid: _valid, ...refused } = bad;
    for (const route of routes.filter((r) => r.auth !== 'public')) {
      const path = route.path.replace(/\{\w+\}/g, 'x1234');
      for (const [kind, token] of Object.entries(refused)) {
        const res = await rt.call({ token }, route.method, path, route.method === 'GET' ? undefined : {});
        expect([route.operationId, kind, res.status, slug(res.body), res.headers.get('cache-control')]).toEqual([route.operationId, kind, 401, 'unauthorized', 'no-store']);
      }
    }
  });
});
