// The routes the console needed beyond API.md: a person lookup by national ID for clinicians, the
// drug catalog as a list, and the operator overview (a projection of events, sharded counters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId, demoPeople, demoDrugs } from '../../infra/local/demo-province.ts';
import { existsSync } from 'node:fs';
import { consoleConfig } from '../../schemas/console.ts';
import { consoleDist } from '../../infra/local/console-files.ts';
import { clearOfWindowEnd } from '../support/calendar.ts';
import { countItems } from '../support/table.ts';
import { traced } from '../support/trace-codes.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
const who: Record<string, Caller> = {};
beforeAll(async () => {
  rt = await startTestRuntime();
  who.operator = await rt.as('operator');
  who.channel = await rt.as('channel');
  who.clinic = await rt.as('clinic', 'clinic-lingyin');
  who.hospital = await rt.as('hospital', 'hosp-zjph');
  who.pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
  who.pharmacy2 = await rt.as('pharmacy', 'ph-sc-1');
});
afterAll(() => rt?.stop());

describe('the console beside the API', () => {
  it('serves console-config.json for this runtime, the console at / with its CSP, and never in place of an API route', { tags: ['any-day'] }, async () => {
    const config = await fetch(`${rt.url}/console-config.json`);
    expect(consoleConfig.parse(await config.json())).toMatchObject({ apiBaseUrl: '', oidc: { issuer: `${rt.url}/_local/oidc` }, province: { code: 'ZJ', name: '浙江省' } });
    const csp = config.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const index = await fetch(`${rt.url}/`);
    // Built by the browser project's setup or npm start; without a build, a plain 503 that says how.
    expect(index.status).toBe(existsSync(`${consoleDist}/index.html`) ? 200 : 503);
    // An API path stays the API's, with or without a token; an unknown one is still a problem+json 404.
    expect((await fetch(`${rt.url}/referrals`)).status).toBe(401);
    const unknown = await fetch(`${rt.url}/assets/nothing-here.js`);
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, 'application/problem+json']);
  });
});

describe('POST /people/lookup', () => {
  const person = demoPeople[0]!;
  it('finds an enrolled person for a clinic: masked ID, name, district, no balances', { tags: ['any-day'] }, async () => {
    const res = await rt.call(who.clinic, 'POST', '/people/lookup', { nationalId: person.nationalId.toLowerCase() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ personId: expect.stringMatching(/^p_/), nationalIdMasked: `${person.nationalId.slice(0, 3)}***********${person.nationalId.slice(-4)}`, name: person.name, district: person.district });
  });

  it('answers 422 not-enrolled on the field for a valid ID nobody enrolled, 400 for a bad one', { tags: ['any-day'] }, async () => {
    const unknown = await rt.call(who.hospital, 'POST', '/people/lookup', { nationalId: demoNationalId('330106', '19990101', 999) });
    expect([unknown.status, slug(unknown.body), unknown.body.errors[0].path]).toEqual([422, 'not-enrolled', 'body.nationalId']);
    const valid = demoNationalId('330106', '19990101', 998);
    const wrongCheck = valid.slice(0, 17) + (valid[17] === '1' ? '2' : '1');
    const bad = await rt.call(who.clinic, 'POST', '/people/lookup', { nationalId: wrongCheck });
    expect([bad.status, bad.body.errors[0].path]).toEqual([400, 'body.nationalId']);
  });

  it('answers a name for an ID, so IDs nobody enrolled are limited per staff member (30 in 15 minutes) and per institution: then 429, enrolled ones too; a colleague unaffected', { tags: ['any-day'] }, async () => {
    await clearOfWindowEnd(15 * 60, 30_000); // counted in fixed 15-minute windows
    const member = async (sub: string) => ({ token: await rt.token('clinic', 'clinic-beishan', { subject: sub }) });
    const [careless, colleague] = await Promise.all([member('clinic-beishan:dr-a'), member('clinic-beishan:dr-b')]);
    const lookup = (caller: Caller, nationalId: string) => rt.call(caller, 'POST', '/people/lookup', { nationalId });
    // Hits are not counted: a busy reception desk finds its patients all day.
    for (let i = 0; i < 5; i++) expect((await lookup(careless, person.nationalId)).status).toBe(200);
    const misses = await Promise.all(Array.from({ length: 40 }, (_, i) => lookup(careless, demoNationalId('330106', '19880808', 100 + i))));
    expect([misses.filter((r) => r.status === 422).length, misses.filter((r) => r.status === 429).length]).toEqual([30, 10]);
    const limited = await lookup(careless, person.nationalId);
    expect([limited.status, slug(limited.body), Number(limited.headers.get('retry-after')) > 0]).toEqual([429, 'rate-limited', true]);
    // A colleague at the same clinic, and another clinic's desk, still find the person.
    expect((await lookup(colleague, person.nationalId)).status).toBe(200);
    expect((await lookup(who.clinic!, person.nationalId)).status).toBe(200);
  });

  it("one institution's misses are limited in all (300 in 15 minutes), whichever of its staff looks up", { tags: ['any-day'] }, async () => {
    await clearOfWindowEnd(15 * 60, 60_000);
    const staff = await Promise.all(Array.from({ length: 11 }, async (_, i) => ({ token: await rt.token('hospital', 'hosp-xihu', { subject: `hosp-xihu:clerk-${i}` }) })));
    const statuses: number[] = [];
    for (const [i, caller] of staff.entries()) {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, j) => rt.call(caller, 'POST', '/people/lookup', { nationalId: demoNationalId('330106', '19770707', 100 + i * 30 + j) })));
      statuses.push(...answers.map((r) => r.status));
    }
    expect([statuses.filter((s) => s === 422).length, statuses.filter((s) => s === 429).length]).toEqual([300, 30]);
  });

  it('is refused to pharmacies and channel apps', { tags: ['any-day'] }, async () => {
    for (const caller of [who.pharmacy!, who.channel!]) expect((await rt.call(caller, 'POST', '/people/lookup', { nationalId: person.nationalId })).status).toBe(403);
  });
});

describe('the patient on referrals and prescriptions', () => {
  it('both parties see the name and masked national ID the documents were made out to', async () => {
    const person = demoPeople[4]!;
    const personId = (await rt.call(who.clinic, 'POST', '/people/lookup', { nationalId: person.nationalId })).body.personId;
    const expected = { name: person.name, nationalIdMasked: `${person.nationalId.slice(0, 3)}***********${person.nationalId.slice(-4)}` };
    const ref = await rt.call(who.clinic, 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'ENDO', reason: '血糖控制不佳', diagnoses: ['E11.9'], urgency: 'routine' });
    expect(ref.body.patient).toEqual(expected);
    const incoming = await rt.call(who.hospital, 'GET', '/referrals?box=incoming&status=submitted');
    expect(incoming.body.items.find((r: { referralId: string }) => r.referralId === ref.body.referralId).patient).toEqual(expected);
    const rx = await rt.call(who.clinic, 'POST', '/prescriptions', { personId, diagnoses: ['E11.9'], items: [{ drugCode: 'XA10BAA001', quantity: 1, dosage: '每日两次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(rx.body.patient).toEqual(expected);
    await rt.settle();
    expect((await rt.call(who.pharmacy, 'GET', `/prescriptions/${rx.body.prescriptionId}`)).body.patient).toEqual(expected);
  });
});

describe('GET /drugs', () => {
  it('pages through the whole catalog in drug-code order', { tags: ['any-day'] }, async () => {
    const first = await rt.call(who.clinic, 'GET', '/drugs?limit=5');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(5);
    const codes = [...first.body.items];
    let next = first.body.nextToken;
    while (next) {
      const page = await rt.call(who.pharmacy, 'GET', `/drugs?limit=5&nextToken=${next}`);
      codes.push(...page.body.items);
      next = page.body.nextToken;
    }
    expect(codes.map((d: { drugCode: string }) => d.drugCode)).toEqual(demoDrugs.map((d) => d.drugCode).sort());
    expect(codes[0]).toMatchObject({ name: expect.any(String), category: expect.stringMatching(/^[ABC]$/), unit: expect.any(String) });
  });
});

describe('GET /overview', () => {
  const overview = async () => (await rt.call(who.operator, 'GET', '/overview')).body;

  it('is for operators only', { tags: ['any-day'] }, async () => {
    for (const caller of [who.clinic!, who.hospital!, who.pharmacy!, who.channel!]) expect((await rt.call(caller, 'GET', '/overview')).status).toBe(403);
  });

  it("adds the day's settlements across pharmacies, takes reversals out, and counts referrals by status", async () => {
    await rt.settle();
    // The day the API calls today, and the next: whatever happens below falls on one of them, even
    // when the test crosses midnight in Shanghai. Compared as sums over both days.
    const today = (await overview()).date as string;
    const days = [today, new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)];
    const sum = async () => {
      const both = await Promise.all(days.map(async (date) => (await rt.call(who.operator, 'GET', `/overview?date=${date}`)).body));
      const add = (pick: (o: any) => Record<string, number>) => // eslint-disable-line @typescript-eslint/no-explicit-any
        Object.fromEntries(Object.keys(pick(both[0])).map((k) => [k, both.reduce((n, o) => n + pick(o)[k]!, 0)]));
      return { settlements: add((o) => o.settlements), entered: add((o) => o.referrals.enteredOnDate), byStatus: both[1].referrals.byStatus as Record<string, number> };
    };
    const before = await sum();
    const person = demoPeople[2]!;
    const voucherId = (await rt.call(who.channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' })).body.voucherId;
    const settle = async (caller: Caller, key: string, quantity: number) => {
      const code = (await rt.call(who.channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code;
      const res = await rt.call(caller, 'POST', '/settlements', { code, items: [{ drugCode: 'XC08CAA001', quantity, unitPriceFen: 1_234 }] }, { 'idempotency-key': key });
      expect(res.status).toBe(201);
      return res.body;
    };
    // Settled and reversed at once: a reversal is allowed on the settlement's own day only.
    const a = await settle(who.pharmacy!, 'overview-a-0001', 1);
    expect((await rt.call(who.pharmacy, 'POST', `/settlements/${a.settlementId}/reversal`)).status).toBe(200);
    const b = await settle(who.pharmacy2!, 'overview-b-0001', 2);
    // A relative's purchase, their share paid from the payer's account (family mutual aid).
    const enrol = async (personalAccountFen: number, n: number) => {
      const p = { nationalId: demoNationalId('330106', '19800101', 900 + n), name: `概览${n}`, district: '西湖区', personalAccountFen, annualPooledUsedFen: 1 };
      return { ...p, personId: (await rt.call(who.operator, 'POST', '/enrollments', { people: [p] })).body.personIds[0] as string };
    };
    const [payer, relative] = [await enrol(50_000, 1), await enrol(0, 2)];
    const binding = await rt.call(await rt.asPerson(payer.personId), 'POST', '/family-bindings', { beneficiaryNationalId: relative.nationalId, beneficiaryName: relative.name, relation: 'parent' });
    expect(binding.status).toBe(201);
    const relativeVoucher = (await rt.call(who.channel, 'POST', '/vouchers', { nationalId: relative.nationalId, name: relative.name, channel: 'wechat' })).body.voucherId;
    const relativeCode = (await rt.call(who.channel, 'POST', `/vouchers/${relativeVoucher}/codes`)).body.code;
    const c = (await rt.call(who.pharmacy, 'POST', '/settlements', { code: relativeCode, items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_234 })] }, { 'idempotency-key': 'overview-c-0001' })).body;
    expect(c.mutualAidFen).toBeGreaterThan(0);

    const personId = (await rt.call(who.clinic, 'POST', '/people/lookup', { nationalId: person.nationalId })).body.personId;
    const refer = async () =>
      (await rt.call(who.clinic, 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'urgent' })).body.referralId;
    const r1 = await refer();
    const r2 = await refer();
    await refer();
    expect((await rt.call(who.hospital, 'POST', `/referrals/${r1}/accept`, { appointmentAt: new Date(Date.now() + 86_400_000).toISOString() })).status).toBe(200);
    expect((await rt.call(who.hospital, 'POST', `/referrals/${r2}/reject`, { reason: '床位已满' })).status).toBe(200);
    expect((await rt.call(who.clinic, 'POST', `/referrals/${r2}/reroute`, { toInstitutionId: 'hosp-xihu' })).status).toBe(200);
    await rt.settle();

    const after = await sum();
    const delta = (x: Record<string, number>, y: Record<string, number>) => Object.fromEntries(Object.keys(x).map((k) => [k, x[k]! - y[k]!]));
    expect(delta(after.settlements, before.settlements)).toEqual({
      count: 2, totalFen: b.totalFen + c.totalFen, pooledFundFen: b.pooledFundFen + c.pooledFundFen, personalAccountFen: b.personalAccountFen + c.personalAccountFen,
      mutualAidFen: b.mutualAidFen + c.mutualAidFen, cashFen: b.cashFen + c.cashFen, reversedCount: 1, reversedFen: a.totalFen,
    });
    // The parts add up to the total, mutual aid included.
    const { totalFen, pooledFundFen, personalAccountFen, mutualAidFen, cashFen } = after.settlements;
    expect(pooledFundFen! + personalAccountFen! + mutualAidFen! + cashFen!).toBe(totalFen);
    const moved = delta(after.byStatus, before.byStatus);
    expect({ submitted: moved.submitted, accepted: moved.accepted, rejected: moved.rejected }).toEqual({ submitted: 2, accepted: 1, rejected: 0 });
    const entered = delta(after.entered, before.entered);
    // Three submissions and one re-route entered "submitted"; one rejection, one acceptance.
    expect({ submitted: entered.submitted, rejected: entered.rejected, accepted: entered.accepted }).toEqual({ submitted: 4, rejected: 1, accepted: 1 });
  });

  it('applies a redelivered event once', async () => {
    await rt.settle();
    const before = await overview();
    const items = await countItems(rt);
    // Deliver the last settlement event to the projector again, as EventBridge may.
    const { readFileSync } = await import('node:fs');
    const journal = readFileSync(`${rt.dataDir}/bus/journal.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = journal.flatMap((j) => (j.accepted?.rule === 'overview-projection' && j.accepted.event['detail-type'] === 'SettlementCompleted' ? [j.accepted.event] : [])).at(-1);
    expect(last).toBeDefined();
    rt.bus.dispatch(last, { target: 'overviewProjector', rule: 'overview-projection' });
    await rt.settle();
    expect(await overview()).toEqual({ ...before, asOf: expect.any(String) });
    expect(await countItems(rt)).toBe(items);
  });
});
