// Against stock hoarding and message flooding (issue 15): one open prescription of a drug per person,
// quantities bounded by supply days, per-prescriber rate limits, and an operator alert when one
// prescriber holds a large share of a district's stock of a drug. The province's limits are lowered
// for this file so each can be reached in a few requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRICTS, demoNationalId } from '../../infra/local/demo-province.ts';
import { clearOfMidnight, clearOfWindowEnd, provinceDay } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { countItems, outboxEvents } from '../support/table.ts';

let rt: TestRuntime;
let operator: Caller;
let lingyin: Caller;
let hubin: Caller;
const people: string[] = [];
let next = 0;
const person = () => people[next++]!;

beforeAll(async () => {
  rt = await startTestRuntime({
    configure: (p) => ({ ...p, prescribing: { perPrescriberPerMinute: 6, perPersonPerPrescriberPerDay: 3, hoardingShare: 0.5, hoardingMinUnits: 10 } }),
  });
  [operator, lingyin, hubin] = await Promise.all([rt.as('operator'), rt.as('clinic', 'clinic-lingyin'), rt.as('clinic', 'clinic-hubin')]);
  const res = await rt.call(operator, 'POST', '/enrollments', {
    people: Array.from({ length: 30 }, (_, i) => ({ nationalId: demoNationalId('330106', '19770707', 300 + i), name: `限额${i}`, district: DISTRICTS.xihu, personalAccountFen: 0 })),
  });
  people.push(...res.body.personIds);
});
afterAll(() => rt?.stop());

const item = (drugCode: string, quantity = 1) => ({ drugCode, quantity, dosage: '每日一次' });
const prescribe = (who: Caller, personId: string, items: unknown[], extra: Record<string, unknown> = {}) =>
  rt.call(who, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items, ...extra });
const newDrug = async (code: string) => expect((await rt.call(operator, 'PUT', `/drugs/${code}`, { name: `药 ${code}`, category: 'A', unit: '盒' })).status).toBe(201);
const itemCount = async () => {
  await rt.settle();
  return countItems(rt);
};

describe('duplicate therapy', () => {
  it('an open prescription of a drug for a person makes another one 409 conflict naming it, from any prescriber, until it ends', { tags: ['any-day'] }, async () => {
    const p = person();
    const first = await prescribe(lingyin, p, [item('XC08CAA001')]);
    expect(first.status).toBe(201);
    await rt.settle();
    const before = await itemCount();
    const again = await prescribe(hubin, p, [item('XC09CAA001'), item('XC08CAA001')]);
    expect([again.status, slug(again.body), again.body.errors]).toEqual([409, 'conflict', [{ path: 'body.items.1.drugCode', message: `open prescription ${first.body.prescriptionId} of XC08CAA001` }]]);
    expect(await itemCount()).toBe(before); // not even the other drug
    // Another drug is fine; once the first ends (cancelled), the drug can be prescribed again.
    expect((await prescribe(hubin, p, [item('XC09CAA001')])).status).toBe(201);
    expect((await rt.call(lingyin, 'POST', `/prescriptions/${first.body.prescriptionId}/cancel`)).status).toBe(200);
    expect((await prescribe(hubin, p, [item('XC08CAA001')])).status).toBe(201);
  });
});

describe('supply days', () => {
  it('a line holds at most one pack per day supplied (28 days unless said otherwise)', { tags: ['any-day'] }, async () => {
    const p = person();
    const week = await prescribe(lingyin, p, [item('XC08CAA001', 8)], { supplyDays: 7 });
    expect([week.status, week.body.errors]).toEqual([400, [{ path: 'body.items.0.quantity', message: 'at most 7 packs for 7 days of supply' }]]);
    const month = await prescribe(lingyin, p, [item('XC08CAA001', 29)]);
    expect([month.status, month.body.errors?.[0]?.path]).toEqual([400, 'body.items.0.quantity']);
    const ok = await prescribe(lingyin, p, [item('XC08CAA001', 28)]);
    expect([ok.status, ok.body.supplyDays]).toEqual([201, 28]);
  });
});

describe('rate limits', () => {
  it('one institution prescribes for one person at most 3 times a day here (429, Retry-After until midnight); another institution still may', async () => {
    await clearOfMidnight(30_000); // counted per day of the province
    const p = person();
    const xihu = await rt.as('hospital', 'hosp-xihu'); // a prescriber no other test here uses
    for (const drug of ['XC08CAA001', 'XC09CAA001', 'XA11CCA001']) expect((await prescribe(xihu, p, [item(drug)])).status).toBe(201);
    const fourth = await prescribe(xihu, p, [item('XR03AKA001')]);
    expect([fourth.status, slug(fourth.body)]).toEqual([429, 'rate-limited']);
    // It lifts at the province's midnight (not UTC's, 08:00 in Beijing).
    const wait = Number(fourth.headers.get('retry-after')) * 1000;
    const today = provinceDay(new Date().toISOString());
    expect(provinceDay(new Date(Date.now() + wait - 5_000).toISOString())).toBe(today);
    expect(provinceDay(new Date(Date.now() + wait + 5_000).toISOString())).not.toBe(today);
    expect((await prescribe(lingyin, p, [item('XR03AKA001')])).status).toBe(201);
  });

  it('one institution prescribes at most 6 times a minute here; racing requests cannot pass the limit together', { tags: ['any-day'] }, async () => {
    await clearOfWindowEnd(60, 20_000);
    const beishan = await rt.as('clinic', 'clinic-beishan');
    const results = await Promise.all(Array.from({ length: 10 }, () => prescribe(beishan, person(), [item('XC08CAA001')])));
    expect(results.map((r) => r.status).sort()).toEqual([...Array(6).fill(201), ...Array(4).fill(429)]);
  });
});

describe('stock hoarding', () => {
  it('a prescriber holding half a district\'s stock of a drug (at least 10 units) raises one operator alert a day', async () => {
    await clearOfMidnight(30_000);
    await newDrug('XHOARD001');
    for (const ph of ['ph-xihu-1', 'ph-xihu-2', 'ph-xihu-3']) {
      expect((await rt.call(await rt.as('pharmacy', ph), 'PUT', `/pharmacies/${ph}/stock`, { items: [{ drugCode: 'XHOARD001', quantity: 10 }] })).status).toBe(200);
    }
    const hosp = await rt.as('hospital', 'hosp-zjph');
    // 9 of 30 units: below both thresholds.
    const first = await prescribe(hosp, person(), [item('XHOARD001', 9)], { nominatedPharmacyId: 'ph-xihu-1' });
    expect(first.status).toBe(201);
    await rt.settle();
    // The alerts' day is this test's (clear of midnight above), not that of the file's first routing.
    const [routed] = await outboxEvents(rt, { prescriptionId: first.body.prescriptionId }, 'PrescriptionRouted');
    const day = provinceDay(String(routed!.detail.occurredAt));
    const alerts = async () => (await rt.call(operator, 'GET', `/alerts?date=${day}`)).body.items.filter((a: { type: string }) => a.type === 'stock-hoarding');
    expect(await alerts()).toEqual([]);
    // 9 + 10 = 19 of 30: more than half.
    expect((await prescribe(hosp, person(), [item('XHOARD001', 10)], { nominatedPharmacyId: 'ph-xihu-2' })).status).toBe(201);
    await rt.settle();
    expect(await alerts()).toEqual([
      expect.objectContaining({ type: 'stock-hoarding', institutionId: 'hosp-zjph', details: expect.objectContaining({ district: DISTRICTS.xihu, drugCode: 'XHOARD001', heldUnits: 19, districtOnHandUnits: 30 }) }),
    ]);
    // Still hoarding with the next one: the same alert, not another one.
    expect((await prescribe(hosp, person(), [item('XHOARD001', 5)], { nominatedPharmacyId: 'ph-xihu-3' })).status).toBe(201);
    await rt.settle();
    expect(await alerts()).toHaveLength(1);
    // Another prescriber's modest share raises nothing; alerts hold no personal data.
    expect((await prescribe(lingyin, person(), [item('XHOARD001', 1)])).status).toBe(201);
    await rt.settle();
    const all = await alerts();
    expect(all).toHaveLength(1);
    expect(JSON.stringify(all)).not.toMatch(/限额|3301067/);
    expect((await rt.call(lingyin, 'GET', `/alerts?date=${day}`)).status).toBe(403);
  });
});
