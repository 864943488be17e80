// The prescription flow of API.md over HTTP against the local runtime (seeded demo province): issue,
// asynchronous routing through the real outbox → stream → relay → bus → router, review, dispense
// against a real settlement (which then cannot be reversed), referrals named by a prescription,
// cancel, stock, worklists, access, what a pharmacy may read, races and expiry.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRICTS, demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { countItems as countAll, outboxEvents } from '../support/table.ts';
import { clearOfMidnight, provinceDay } from '../support/calendar.ts';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { backfillSettlementAmounts } from '../../functions/people/backfill.ts';
import { timelineKey } from '../../functions/people/keys.ts';
import { backfillPrescriptionSettlements } from '../../functions/vouchers/backfill.ts';
import { prescriptionSettlementsKey } from '../../functions/vouchers/keys.ts';
import { WITHDRAWN_REASON } from '../../functions/prescriptions/domain.ts';
import { districtPharmacies } from '../../functions/prescriptions/store.ts';

let rt: TestRuntime;
let operator: Caller;
let lingyin: Caller;
const as = (role: 'pharmacy' | 'clinic' | 'hospital', inst: string) => rt.as(role, inst);

/**
 * Test people: national ID and name kept so a channel can activate their vouchers. A person has at
 * most one open prescription of a drug (duplicate therapy), so most tests take people of their own.
 */
const people = {
  xihu: Array.from({ length: 40 }, (_, i) => ({ nationalId: demoNationalId('330106', '19800101', 500 + i), name: `西湖测试${i}`, district: DISTRICTS.xihu, personalAccountFen: 100_000 })),
  sc: Array.from({ length: 50 }, (_, i) => ({ nationalId: demoNationalId('330102', '19810202', 600 + i), name: `上城测试${i}`, district: DISTRICTS.shangcheng, personalAccountFen: 100_000 })),
};
const personIds = { xihu: [] as string[], sc: [] as string[] };
const taken = { xihu: 0, sc: 0 };
/** A person of the district that no test has prescribed for yet. */
function fresh(district: 'xihu' | 'sc') {
  const i = taken[district]++;
  if (i >= people[district].length) throw new Error(`more ${district} test people needed`);
  return { ...people[district][i]!, personId: personIds[district][i]! };
}

beforeAll(async () => {
  rt = await startTestRuntime();
  operator = await rt.as('operator');
  lingyin = await as('clinic', 'clinic-lingyin');
  const res = await rt.call(operator, 'POST', '/enrollments', { people: [...people.xihu, ...people.sc] });
  expect(res.body.rejected).toEqual([]);
  personIds.xihu = res.body.personIds.slice(0, people.xihu.length);
  personIds.sc = res.body.personIds.slice(people.xihu.length);
});
afterAll(() => rt?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const item = (drugCode: string, quantity = 1) => ({ drugCode, quantity, dosage: '1 tablet once daily' });

async function issue(who: Caller, body: Record<string, unknown>) {
  const res = await rt.call(who, 'POST', '/prescriptions', { diagnoses: ['I10'], ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { prescriptionId: string; status: string; expiresAt: string; issuedAt: string };
}

/**
 * Polls the prescription as `who` until `done` holds of it. "Within seconds" is the contract; the
 * deadline is generous so a loaded CI machine does not fail the flow.
 */
async function waitFor(who: Caller, id: string, done: (body: Record<string, any>) => boolean, timeoutMs = 30_000) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await rt.call(who, 'GET', `/prescriptions/${id}`);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`${id} not as expected in ${timeoutMs} ms: ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(50);
  }
}

/** Until routing has moved the prescription on (routed or unroutable). */
const routed = (who: Caller, id: string, timeoutMs?: number) => waitFor(who, id, (b) => !['issued', 'rejected'].includes(b.status), timeoutMs);

/** Until the prescription is routed (from unroutable, which `routed` already counts as moved on). */
const routedTo = (who: Caller, id: string, timeoutMs?: number) => waitFor(who, id, (b) => b.status === 'routed', timeoutMs);

/** Stock of one drug at a pharmacy, through GET /pharmacies/{id}/stock. */
async function stock(pharmacyId: string, drugCode: string) {
  const who = await as('pharmacy', pharmacyId);
  let next: string | undefined;
  do {
    const res = await rt.call(who, 'GET', `/pharmacies/${pharmacyId}/stock?limit=200${next ? `&nextToken=${next}` : ''}`);
    expect(res.status).toBe(200);
    const found = res.body.items.find((s: { drugCode: string }) => s.drugCode === drugCode);
    if (found) return found as { onHand: number; available: number; reserved: number; dispensed: number };
    next = res.body.nextToken;
  } while (next);
  return { onHand: 0, available: 0, reserved: 0, dispensed: 0 };
}

/** Details of the outbox events of one type for one prescription (what the relay publishes). */
const events = async (detailType: string, prescriptionId: string) =>
  (await outboxEvents(rt, { prescriptionId }, detailType)).map((e) => e.detail as Record<string, unknown>);

const newDrug = async (drugCode: string) => {
  const res = await rt.call(operator, 'PUT', `/drugs/${drugCode}`, { name: `测试药 ${drugCode}`, category: 'A', unit: '盒' });
  expect([200, 201]).toContain(res.status);
};

const putStock = async (pharmacyId: string, items: Array<{ drugCode: string; quantity: number; expectedOnHand?: number }>) =>
  rt.call(await as('pharmacy', pharmacyId), 'PUT', `/pharmacies/${pharmacyId}/stock`, { items });

/** Each person's voucher, activated once: activation counts against the app's identity checks until it succeeds. */
const vouchers = new Map<string, Promise<string>>();
/** A fresh voucher code of the person's (activating the voucher the first time). */
async function codeOf(person: { nationalId: string; name: string }) {
  const channel = await rt.as('channel');
  if (!vouchers.has(person.nationalId)) {
    vouchers.set(person.nationalId, (async () => {
      const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' });
      expect([200, 201]).toContain(voucher.status);
      return voucher.body.voucherId as string;
    })());
  }
  const code = await rt.call(channel, 'POST', `/vouchers/${await vouchers.get(person.nationalId)}/codes`);
  expect(code.status).toBe(201);
  return code.body.code as string;
}

/** POST /settlements (or its quote) of `items` at `at` with the code, naming the prescription if given. */
const settlement = (at: Caller, code: string, items: Array<{ drugCode: string; quantity: number }>, prescriptionId?: string, path = '/settlements') =>
  rt.call(at, 'POST', path, { code, ...(prescriptionId ? { prescriptionId } : {}), items: items.map((i) => ({ ...i, unitPriceFen: 1_850 })) }, {
    'idempotency-key': `rx-e2e-${randomBytes(8).toString('hex')}`,
  });

/** A real settlement: takes a code of the person's and settles `items` at `at`. */
async function settleFor(person: { nationalId: string; name: string }, at: Caller, items: Array<{ drugCode: string; quantity: number }>, prescriptionId?: string) {
  const res = await settlement(at, await codeOf(person), items, prescriptionId);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.settlementId as string;
}

/** The base64url JSON inside a nextToken (tests only: clients treat it as opaque). */
const tokenKey = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, string>;
const forgeToken = (key: Record<string, string>) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('issue and route', () => {
  it('issues (201, issued, valid 72 h) and routes to the nominated pharmacy within seconds, reserving its stock', async () => {
    const p = fresh('xihu');
    const before = await stock('ph-xihu-2', 'XC08CAA001');
    const res = await rt.call(lingyin, 'POST', '/prescriptions', {
      personId: p.personId, diagnoses: ['I10', 'E11.9'], items: [item('XC08CAA001', 2)], nominatedPharmacyId: 'ph-xihu-2',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/prescriptions/${res.body.prescriptionId}`);
    expect(res.body).toMatchObject({ status: 'issued', prescriberId: 'clinic-lingyin', personId: p.personId, nominatedPharmacyId: 'ph-xihu-2', rejectedBy: [] });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.issuedAt)).toBe(72 * 3_600_000);

    const rx = await routed(lingyin, res.body.prescriptionId);
    expect(rx).toMatchObject({ status: 'routed', pharmacyId: 'ph-xihu-2' });
    expect(rx.history.map((h: { status: string }) => h.status)).toEqual(['issued', 'routed']);
    const after = await stock('ph-xihu-2', 'XC08CAA001');
    expect([after.available, after.reserved, after.onHand]).toEqual([before.available - 2, before.reserved + 2, before.onHand]);

    const [event] = await events('PrescriptionRouted', rx.prescriptionId);
    expect(event).toMatchObject({ pharmacyId: 'ph-xihu-2', nominated: true, status: 'routed', previousStatus: 'issued', items: [{ drugCode: 'XC08CAA001', quantity: 2 }] });
    // Ids, codes, quantities, statuses: no names, national IDs, diagnoses or dosages.
    const raw = JSON.stringify(await events('PrescriptionIssued', rx.prescriptionId));
    for (const secret of [p.name, p.nationalId, 'E11.9', 'once daily']) expect(raw).not.toContain(secret);
  });

  it('without a usable nomination: the nearest designated pharmacy of the person\'s district with every item in stock', { tags: ['any-day'] }, async () => {
    const cases = [
      // [prescriber, person, items, nominated, expected]
      ['clinic-lingyin', fresh('xihu').personId, [item('XC08CAA001')], undefined, 'ph-xihu-3'], // nearest
      ['clinic-beishan', fresh('xihu').personId, [item('XR03AKA001')], undefined, 'ph-xihu-1'],
      ['hosp-xihu', fresh('xihu').personId, [item('XC08CAA001')], undefined, 'ph-xihu-1'], // ph-private-1 is nearer but not designated
      ['hosp-xihu', fresh('xihu').personId, [item('XC08CAA001')], 'ph-private-1', 'ph-xihu-1'], // nominated, not designated
      ['clinic-lingyin', fresh('xihu').personId, [item('XB01ACA001')], 'ph-xihu-2', 'ph-xihu-3'], // nominated lacks the drug
      ['clinic-lingyin', fresh('sc').personId, [item('XC08CAA001')], undefined, 'ph-sc-2'], // the person's district, not the prescriber's
      ['clinic-hubin', fresh('sc').personId, [item('XA10BHA001'), item('XC08CAA001')], 'ph-sc-3', 'ph-sc-2'], // ph-sc-3 lacks one item
    ] as const;
    const ids = await Promise.all(
      cases.map(async ([prescriber, personId, items, nominatedPharmacyId]) => {
        const who = await as(prescriber.startsWith('hosp') ? 'hospital' : 'clinic', prescriber);
        return { who, id: (await issue(who, { personId, items, ...(nominatedPharmacyId ? { nominatedPharmacyId } : {}) })).prescriptionId };
      }),
    );
    for (const [i, { who, id }] of ids.entries()) {
      const rx = await routed(who, id);
      expect([i, rx.status, rx.pharmacyId]).toEqual([i, 'routed', cases[i]![4]]);
    }
  });

  it('reject → re-routed to the next pharmacy, never back to one that rejected; the last rejection makes it unroutable', { tags: ['any-day'] }, async () => {
    const { prescriptionId: id } = await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XC09CAA001', 3)] });
    const seen: string[] = [];
    for (const expected of ['ph-xihu-3', 'ph-xihu-1', 'ph-xihu-2']) {
      const rx = await routed(lingyin, id);
      expect(rx).toMatchObject({ status: 'routed', pharmacyId: expected, rejectedBy: seen });
      const pharmacy = await as('pharmacy', expected);

      // The pharmacy it is routed to learns nothing of the pharmacies before it: not who rejected
      // it, not their history entries or free-text reasons; its worklist says no more.
      const mine = await rt.call(pharmacy, 'GET', `/prescriptions/${id}`);
      const listed = (await rt.call(pharmacy, 'GET', '/prescriptions?status=routed&limit=200')).body.items.find((x: { prescriptionId: string }) => x.prescriptionId === id);
      for (const view of [mine.body, listed]) {
        expect(view).toMatchObject({ status: 'routed', pharmacyId: expected });
        expect(view).not.toHaveProperty('rejectedBy');
        expect(view.history).toEqual([
          expect.objectContaining({ status: 'issued', by: 'clinic-lingyin' }),
          expect.objectContaining({ status: 'routed' }),
        ]);
        for (const other of seen) expect(JSON.stringify(view)).not.toContain(other);
        expect(JSON.stringify(view)).not.toContain('库存与系统不符');
      }

      const before = await stock(expected, 'XC09CAA001');
      const res = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/reject`, { reason: '库存与系统不符' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'rejected' });
      expect(res.body).not.toHaveProperty('rejectedBy');
      expect(res.body.history.at(-1)).toMatchObject({ status: 'rejected', by: expected, reason: '库存与系统不符' });
      expect(res.body.pharmacyId).toBeUndefined();
      const after = await stock(expected, 'XC09CAA001');
      expect([after.available, after.reserved]).toEqual([before.available + 3, before.reserved - 3]);
      // It is no longer that pharmacy's to see; acting on it is a transition it gave up (409).
      expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).status).toBe(404);
      const late = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`);
      expect([late.status, slug(late.body)]).toEqual([409, 'invalid-transition']);
      seen.push(expected);
    }
    const rx = await routed(lingyin, id);
    expect(rx).toMatchObject({ status: 'unroutable', rejectedBy: ['ph-xihu-3', 'ph-xihu-1', 'ph-xihu-2'] });
    expect(rx.history.map((h: { status: string }) => h.status)).toEqual(['issued', 'routed', 'rejected', 'routed', 'rejected', 'routed', 'rejected', 'unroutable']);
    expect(rx.history[2]).toMatchObject({ by: 'ph-xihu-3', reason: '库存与系统不符' });
    const rejected = await events('PrescriptionRejected', id);
    expect(rejected).toHaveLength(3);
    for (const e of rejected) expect(e).not.toHaveProperty('reason');
  });

  it('no stock anywhere → unroutable, with a PrescriptionUnroutable event for the prescriber', { tags: ['any-day'] }, async () => {
    await newDrug('XNOSTOCK01');
    const hubin = await as('clinic', 'clinic-hubin');
    const { personId } = fresh('sc');
    const { prescriptionId: id } = await issue(hubin, { personId, items: [item('XNOSTOCK01')], nominatedPharmacyId: 'ph-sc-1' });
    const rx = await routed(hubin, id);
    expect(rx).toMatchObject({ status: 'unroutable', rejectedBy: [] });
    expect(rx.pharmacyId).toBeUndefined();
    await rt.settle();
    expect(await events('PrescriptionUnroutable', id)).toEqual([
      expect.objectContaining({ prescriptionId: id, prescriberId: 'clinic-hubin', personId, status: 'unroutable', previousStatus: 'issued' }),
    ]);
    expect(await events('PrescriptionRouted', id)).toEqual([]);
  });

  it('unroutable, then stock arrives at the nominee or in the district: routed again within seconds; unrelated stock changes nothing', { tags: ['any-day'] }, async () => {
    await newDrug('XWAIT0001');
    // Nominating a designated pharmacy of another district: it waits on the nominee and on its own district.
    const nominated = await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XWAIT0001', 2)], nominatedPharmacyId: 'ph-sc-3' });
    const plain = await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XWAIT0001', 1)] });
    for (const { prescriptionId } of [nominated, plain]) expect((await routed(lingyin, prescriptionId)).status).toBe('unroutable');

    // Stock of another drug, or in another district for a prescription without a nominee: still waiting.
    expect((await putStock('ph-xihu-1', [{ drugCode: 'XC08CAA001', quantity: 500 }])).status).toBe(200);
    expect((await putStock('ph-sc-1', [{ drugCode: 'XWAIT0001', quantity: 1 }])).status).toBe(200);
    await rt.settle();
    for (const { prescriptionId } of [nominated, plain]) expect((await rt.call(lingyin, 'GET', `/prescriptions/${prescriptionId}`)).body.status).toBe('unroutable');

    // The nominee stocks it: routed there within seconds (routedTo's deadline), its stock reserved.
    expect((await putStock('ph-sc-3', [{ drugCode: 'XWAIT0001', quantity: 2 }])).status).toBe(200);
    expect(await routedTo(lingyin, nominated.prescriptionId)).toMatchObject({ status: 'routed', pharmacyId: 'ph-sc-3' });
    expect(await stock('ph-sc-3', 'XWAIT0001')).toMatchObject({ available: 0, reserved: 2 });
    expect(await events('PrescriptionRouted', nominated.prescriptionId)).toEqual([expect.objectContaining({ previousStatus: 'unroutable', pharmacyId: 'ph-sc-3' })]);
    // The other one needs a pharmacy of the person's district: the nominee's stock is all reserved anyway.
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${plain.prescriptionId}`)).body.status).toBe('unroutable');

    expect((await putStock('ph-xihu-2', [{ drugCode: 'XWAIT0001', quantity: 5 }])).status).toBe(200);
    expect(await routedTo(lingyin, plain.prescriptionId)).toMatchObject({ status: 'routed', pharmacyId: 'ph-xihu-2' });
    // Off the waiting lists once routed: more stock routes nothing again.
    expect((await putStock('ph-xihu-2', [{ drugCode: 'XWAIT0001', quantity: 9 }])).status).toBe(200);
    await rt.settle();
    expect(await events('PrescriptionRouted', plain.prescriptionId)).toHaveLength(1);
    expect(await stock('ph-xihu-2', 'XWAIT0001')).toMatchObject({ onHand: 9, reserved: 1 });
  });

  it('the same PrescriptionIssued delivered twice more (racing the bus) routes once', { tags: ['any-day'] }, async () => {
    const before = await stock('ph-xihu-3', 'XN02BEA001');
    const { prescriptionId: id } = await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XN02BEA001', 2)] });
    const [issued] = await events('PrescriptionIssued', id);
    const event = {
      version: '0', id: `redelivery-${id}`, 'detail-type': 'PrescriptionIssued', source: 'consortium.prescriptions',
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: issued,
    };
    await Promise.all([invoke('prescriptionRouter', event), invoke('prescriptionRouter', event)]);
    await rt.settle();
    await invoke('prescriptionRouter', event);

    const rx = await routed(lingyin, id);
    expect(rx).toMatchObject({ status: 'routed', pharmacyId: 'ph-xihu-3' });
    expect(rx.history.filter((h: { status: string }) => h.status === 'routed')).toHaveLength(1);
    expect(await events('PrescriptionRouted', id)).toHaveLength(1);
    const after = await stock('ph-xihu-3', 'XN02BEA001');
    expect([after.available, after.reserved]).toEqual([before.available - 2, before.reserved + 2]);
  });
});

describe("a pharmacy's designation withdrawn", () => {
  it('what it was not paid for (or whose sale was reversed) is routed elsewhere, once; what it was paid for or partly dispensed stays, and the operator is alerted to it once; a route racing the withdrawal never lands there', async () => {
    const tag = randomBytes(3).toString('hex');
    const drug = `XW${tag.toUpperCase()}01`;
    await newDrug(drug);
    // A district of its own, so that the router's list of its pharmacies (cached a minute) is first
    // read by this test's routes, after both pharmacies were registered.
    const district = `撤销测试区${tag}`;
    const [near, other] = [`ph-wd-${tag}`, `ph-wd2-${tag}`];
    for (const [id, location] of [[near, { lat: 30.2421, lng: 120.1221 }], [other, { lat: 30.2450, lng: 120.1240 }]] as const) {
      const registered = await rt.call(operator, 'POST', '/institutions', { id, name: `撤销定点测试药房 ${id}`, type: 'pharmacy', district, location, designated: true });
      expect(registered.status).toBe(201);
      expect((await putStock(id, [{ drugCode: drug, quantity: 20 }])).status).toBe(200);
    }
    const people = Array.from({ length: 15 }, (_, i) => ({ nationalId: demoNationalId('330106', '19820303', 700 + i), name: `撤销测试${i}`, district, personalAccountFen: 100_000 }));
    const enrolled = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(enrolled.body.rejected).toEqual([]);
    const personIds = enrolled.body.personIds as string[];
    const pharmacy = await as('pharmacy', near);

    // Nearest to the prescriber: routing picks it while it is designated. Nine are left routed
    // there (taken away in parallel, releasing the same stock item), one reviewed, one paid for.
    const ids = await Promise.all(personIds.slice(0, 11).map(async (personId) => (await issue(lingyin, { personId, items: [item(drug)] })).prescriptionId));
    const [reviewed, paid, ...routedOnly] = ids as [string, string, ...string[]];
    const left = routedOnly[0]!;
    for (const id of ids) expect(await routed(lingyin, id)).toMatchObject({ status: 'routed', pharmacyId: near });
    for (const id of [reviewed, paid]) expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    await settleFor(people[1]!, pharmacy, [{ drugCode: drug, quantity: 1 }], paid);
    // And one of two packs handed over: partly dispensed, it stays too.
    const { prescriptionId: partial } = await issue(lingyin, { personId: personIds[12]!, items: [item(drug, 2)] });
    expect(await routed(lingyin, partial)).toMatchObject({ status: 'routed', pharmacyId: near });
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${partial}/accept`)).status).toBe(200);
    const half = await settleFor(people[12]!, pharmacy, [{ drugCode: drug, quantity: 1 }], partial);
    const dispensed = await rt.call(pharmacy, 'POST', `/prescriptions/${partial}/dispense`, { settlementId: half, items: [{ drugCode: drug, quantity: 1 }] });
    expect(dispensed.body.status, JSON.stringify(dispensed.body)).toBe('partially-dispensed');
    // And one paid for, then the sale reversed (the money went back): nothing was paid for it, it goes.
    const { prescriptionId: refunded } = await issue(lingyin, { personId: personIds[14]!, items: [item(drug)] });
    expect(await routed(lingyin, refunded)).toMatchObject({ status: 'routed', pharmacyId: near });
    const reversedSale = await settleFor(people[14]!, pharmacy, [{ drugCode: drug, quantity: 1 }], refunded);
    expect((await rt.call(pharmacy, 'POST', `/settlements/${reversedSale}/reversal`)).status).toBe(200);

    // The router's cached list still names the pharmacy designated when the next prescription is
    // routed, right after the withdrawal: the route's own check sends it elsewhere.
    expect((await districtPharmacies(district)).find((ph) => ph.id === near)?.designated).toBe(true);
    await clearOfMidnight(30_000); // the alert below is listed by the province day of the withdrawal
    const read = await rt.call(operator, 'GET', `/institutions/${near}`);
    const put = await rt.call(operator, 'PUT', `/institutions/${near}`, { ...read.body, designated: false }, { 'if-match': `"${read.body.version}"` });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const { prescriptionId: racing } = await issue(lingyin, { personId: personIds[11]!, items: [item(drug)] });

    expect(await routedTo(lingyin, racing)).toMatchObject({ pharmacyId: other });
    for (const id of [reviewed, refunded, ...routedOnly]) {
      const rx = await waitFor(lingyin, id, (b) => b.pharmacyId === other);
      expect(rx).toMatchObject({ status: 'routed', rejectedBy: [near] });
      expect(rx.history.find((h: { status: string }) => h.status === 'rejected')).toMatchObject({ reason: WITHDRAWN_REASON });
    }
    const kept = await rt.call(lingyin, 'GET', `/prescriptions/${paid}`);
    expect(kept.body).toMatchObject({ status: 'accepted', pharmacyId: near, rejectedBy: [] });
    // The pharmacy holds only what it was paid for or handed over part of; the rest went back to what it has available.
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${partial}`)).body).toMatchObject({ status: 'partially-dispensed', pharmacyId: near });
    expect(await stock(near, drug)).toMatchObject({ onHand: 19, reserved: 2, available: 17 });
    expect(await stock(other, drug)).toMatchObject({ onHand: 20, reserved: 12, available: 8 });
    const late = await rt.call(pharmacy, 'POST', `/prescriptions/${left}/accept`);
    expect([late.status, slug(late.body)]).toEqual([409, 'invalid-transition']);
    // The operator is told what the pharmacy kept, by prescription id (no personal data), once.
    const [changed] = await outboxEvents(rt, { institutionId: near }, 'InstitutionChanged');
    const keptAlerts = async () => (await rt.call(operator, 'GET', `/alerts?date=${provinceDay(String(changed!.detail.occurredAt))}`)).body.items
      .filter((a: { type: string; institutionId: string }) => a.type === 'designation-withdrawn-kept' && a.institutionId === near);
    await expect.poll(keptAlerts, { timeout: 15_000 }).toEqual([
      expect.objectContaining({ details: { keptPrescriptions: 2, prescriptionIds: [paid, partial], eventId: changed!.detail.id } }),
    ]);

    // The same InstitutionChanged again (the bus delivers at least once): nothing more moves.
    const moves = async () => Promise.all(ids.map(async (id) => (await rt.call(lingyin, 'GET', `/prescriptions/${id}`)).body.history.length));
    const before = await moves();
    await invoke('prescriptionRouter', {
      version: '0', id: `redelivery-${near}`, 'detail-type': 'InstitutionChanged', source: changed!.source,
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: changed!.detail,
    });
    await rt.settle();
    expect(await moves()).toEqual(before);
    expect(await events('PrescriptionRejected', left)).toHaveLength(1);
    expect(await stock(other, drug)).toMatchObject({ reserved: 12 });
    expect(await keptAlerts()).toHaveLength(1);

    // Designated again, it is sent a new prescription; the old withdrawal delivered once more takes nothing.
    const again = await rt.call(operator, 'GET', `/institutions/${near}`);
    expect((await rt.call(operator, 'PUT', `/institutions/${near}`, { ...again.body, designated: true }, { 'if-match': `"${again.body.version}"` })).status).toBe(200);
    await rt.settle();
    const { prescriptionId: afterwards } = await issue(lingyin, { personId: personIds[13]!, items: [item(drug)] });
    expect(await routedTo(lingyin, afterwards)).toMatchObject({ pharmacyId: near });
    await invoke('prescriptionRouter', {
      version: '0', id: `late-redelivery-${near}`, 'detail-type': 'InstitutionChanged', source: changed!.source,
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: changed!.detail,
    });
    await rt.settle();
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${afterwards}`)).body).toMatchObject({ status: 'routed', pharmacyId: near });
  });
});

describe('a pharmacy designated', () => {
  it('what waits in its district for drugs it has is routed to it at once, not before; a pharmacy registered since the list was read is found when it stocks up', { tags: ['any-day'] }, async () => {
    const tag = randomBytes(3).toString('hex');
    const [stocked, missing] = [`XD${tag.toUpperCase()}01`, `XD${tag.toUpperCase()}02`];
    for (const drug of [stocked, missing]) await newDrug(drug);
    const district = `定点测试区${tag}`;
    const [first, second] = [`ph-dg-${tag}`, `ph-dg2-${tag}`];
    const registered = await rt.call(operator, 'POST', '/institutions', { id: first, name: `新定点测试药房 ${first}`, type: 'pharmacy', district, designated: false });
    expect(registered.status).toBe(201);
    expect((await putStock(first, [{ drugCode: stocked, quantity: 10 }])).status).toBe(200);
    const people = Array.from({ length: 2 }, (_, i) => ({ nationalId: demoNationalId('330106', '19830404', 800 + i), name: `定点测试${i}`, district, personalAccountFen: 100_000 }));
    const enrolled = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(enrolled.body.rejected).toEqual([]);
    const [waitsForStocked, waitsForMissing] = (await Promise.all(
      [stocked, missing].map(async (drug, i) => (await issue(lingyin, { personId: enrolled.body.personIds[i], items: [item(drug, 2)] })).prescriptionId),
    )) as [string, string];
    // No designated pharmacy in the district: both wait, and the router's list shows the pharmacy undesignated.
    for (const id of [waitsForStocked, waitsForMissing]) expect(await routed(lingyin, id)).toMatchObject({ status: 'unroutable' });
    expect((await districtPharmacies(district)).find((ph) => ph.id === first)?.designated).toBe(false);
    // More stock there changes nothing while it is not designated.
    expect((await putStock(first, [{ drugCode: stocked, quantity: 12 }])).status).toBe(200);
    await rt.settle();
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${waitsForStocked}`)).body).toMatchObject({ status: 'unroutable', history: [expect.anything(), expect.anything()] });

    const read = await rt.call(operator, 'GET', `/institutions/${first}`);
    const put = await rt.call(operator, 'PUT', `/institutions/${first}`, { ...read.body, designated: true }, { 'if-match': `"${read.body.version}"` });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await routedTo(lingyin, waitsForStocked)).toMatchObject({ pharmacyId: first });
    expect(await stock(first, stocked)).toMatchObject({ onHand: 12, reserved: 2, available: 10 });
    expect(await events('PrescriptionRouted', waitsForStocked)).toEqual([expect.objectContaining({ previousStatus: 'unroutable', pharmacyId: first })]);
    // The pharmacy has none of the other's drug: it still waits, untouched.
    await rt.settle();
    const untouched = await rt.call(lingyin, 'GET', `/prescriptions/${waitsForMissing}`);
    expect([untouched.body.status, untouched.body.history.length]).toEqual(['unroutable', 2]);

    // Another pharmacy, registered designated after the router last read the district: its stock routes the other.
    expect((await rt.call(operator, 'POST', '/institutions', { id: second, name: `新定点测试药房 ${second}`, type: 'pharmacy', district, designated: true })).status).toBe(201);
    expect((await districtPharmacies(district)).map((ph) => ph.id)).toEqual([first]);
    expect((await putStock(second, [{ drugCode: missing, quantity: 3 }])).status).toBe(200);
    expect(await routedTo(lingyin, waitsForMissing)).toMatchObject({ pharmacyId: second });

    // Withdrawn again: what it held waits (nobody else there has the drug). The designation delivered
    // once more routes nothing to it, and does not fail (a failing event would page the on-call).
    const now = await rt.call(operator, 'GET', `/institutions/${first}`);
    expect((await rt.call(operator, 'PUT', `/institutions/${first}`, { ...now.body, designated: false }, { 'if-match': `"${now.body.version}"` })).status).toBe(200);
    expect(await waitFor(lingyin, waitsForStocked, (b) => b.status === 'unroutable')).toMatchObject({ rejectedBy: [first] });
    const designation = (await outboxEvents(rt, { institutionId: first }, 'InstitutionChanged')).find((e) => e.detail.designated === true);
    await invoke('prescriptionRouter', {
      version: '0', id: `late-designation-${first}`, 'detail-type': 'InstitutionChanged', source: designation!.source,
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: designation!.detail,
    });
    await rt.settle();
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${waitsForStocked}`)).body.status).toBe('unroutable');
  });

  it('stock for many waiting at once: the one that waited longest for a scarce drug gets it, the rest are routed alongside', { tags: ['any-day'] }, async () => {
    const tag = randomBytes(3).toString('hex');
    const [scarce, plenty] = [`XS${tag.toUpperCase()}01`, `XS${tag.toUpperCase()}02`];
    for (const drug of [scarce, plenty]) await newDrug(drug);
    const district = `并行测试区${tag}`;
    const pharmacyId = `ph-pl-${tag}`;
    expect((await rt.call(operator, 'POST', '/institutions', { id: pharmacyId, name: `并行测试药房 ${pharmacyId}`, type: 'pharmacy', district, designated: true })).status).toBe(201);
    const people = Array.from({ length: 10 }, (_, i) => ({ nationalId: demoNationalId('330106', '19840505', 800 + i), name: `并行测试${i}`, district, personalAccountFen: 100_000 }));
    const enrolled = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(enrolled.body.rejected).toEqual([]);
    const personIds = enrolled.body.personIds as string[];
    // One after another, so their ids (time-ordered) say which waited longest: four for the scarce
    // drug, one of them needing the other drug too, and six for the other drug alone.
    const waiting: Array<{ id: string; drugs: string[] }> = [];
    for (const [i, drugs] of [[scarce], [plenty], [scarce, plenty], [plenty], [scarce], [plenty], [plenty], [scarce], [plenty], [plenty]].entries()) {
      waiting.push({ id: (await issue(lingyin, { personId: personIds[i]!, items: drugs.map((d) => item(d, 1)) })).prescriptionId, drugs });
    }
    for (const { id } of waiting) expect(await routed(lingyin, id)).toMatchObject({ status: 'unroutable' });

    // One pack of the scarce drug: the one that waited longest for it gets it (routed at once, the
    // four oldest would race for it).
    expect((await putStock(pharmacyId, [{ drugCode: scarce, quantity: 1 }, { drugCode: plenty, quantity: 50 }])).status).toBe(200);
    const needScarce = waiting.filter((w) => w.drugs.includes(scarce)).map((w) => w.id);
    const plentyOnly = waiting.filter((w) => !w.drugs.includes(scarce)).map((w) => w.id);
    for (const id of [needScarce[0]!, ...plentyOnly]) expect(await routedTo(lingyin, id)).toMatchObject({ status: 'routed', pharmacyId });
    await rt.settle();
    for (const id of needScarce.slice(1)) expect((await rt.call(lingyin, 'GET', `/prescriptions/${id}`)).body.status).toBe('unroutable');
    expect(await stock(pharmacyId, scarce)).toMatchObject({ reserved: 1, available: 0 });
    expect(await stock(pharmacyId, plenty)).toMatchObject({ reserved: 6 });
  });
});

describe('Idempotency-Key on POST /prescriptions', () => {
  /** A person of their own, so no other test's prescriptions are counted. */
  async function freshPerson(n: number) {
    const res = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId: demoNationalId('330106', '19790303', 900 + n), name: `幂等${n}`, district: DISTRICTS.xihu, personalAccountFen: 0 }] });
    return res.body.personIds[0] as string;
  }
  const issuedFor = async (personId: string) => (await outboxEvents(rt, { personId }, 'PrescriptionIssued')).map((e) => e.detail.prescriptionId);

  it('a retry with the same key and body gets the first answer and creates nothing; another body is 422; no key keeps v1 behaviour', { tags: ['any-day'] }, async () => {
    const personId = await freshPerson(1);
    const body = { personId, diagnoses: ['I10'], items: [item('XC08CAA001')] };
    const key = { 'idempotency-key': `his-${randomBytes(6).toString('hex')}` };
    const first = await rt.call(lingyin, 'POST', '/prescriptions', body, key);
    expect(first.status).toBe(201);
    const again = await rt.call(lingyin, 'POST', '/prescriptions', body, key);
    expect([again.status, again.body, again.headers.get('location')]).toEqual([201, first.body, `/prescriptions/${first.body.prescriptionId}`]);
    expect(await issuedFor(personId)).toEqual([first.body.prescriptionId]);

    const other = await rt.call(lingyin, 'POST', '/prescriptions', { ...body, diagnoses: ['I11.9'] }, key);
    expect([other.status, slug(other.body)]).toEqual([422, 'idempotency-key-reused']);
    expect((await rt.call(lingyin, 'POST', '/prescriptions', body, { 'idempotency-key': 'bad key!' })).status).toBe(400);
    expect(await issuedFor(personId)).toEqual([first.body.prescriptionId]);

    // The same key at another prescriber is another key (for another patient: one open prescription of a drug per person).
    const hubin = await as('clinic', 'clinic-hubin');
    const elsewhere = await rt.call(hubin, 'POST', '/prescriptions', { ...body, personId: await freshPerson(3) }, key);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.prescriptionId).not.toBe(first.body.prescriptionId);
  });

  it('20 concurrent identical requests with one key: one prescription, and every answer names it', async () => {
    const personId = await freshPerson(2);
    const body = { personId, diagnoses: ['I10'], items: [item('XC09CAA001')] };
    const key = { 'idempotency-key': `race-${randomBytes(6).toString('hex')}` };
    const answers = await Promise.all(Array.from({ length: 20 }, () => rt.call(lingyin, 'POST', '/prescriptions', body, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    const ids = new Set(answers.map((a) => a.body.prescriptionId));
    expect(ids.size).toBe(1);
    await rt.settle();
    expect(await issuedFor(personId)).toEqual([...ids]);
  });
});

describe('bad input and access', () => {
  const countItems = async () => {
    await rt.settle();
    return countAll(rt);
  };

  it('400 validation-failed with field errors (unknown drug, bad ICD-10, unregistered nominee) and 422 not-enrolled; nothing written', { tags: ['any-day'] }, async () => {
    const { personId } = fresh('xihu');
    const before = await countItems();
    const unknownDrug = await rt.call(lingyin, 'POST', '/prescriptions', {
      personId, diagnoses: ['I10'], items: [item('XC08CAA001'), item('XNOTADRUG1')],
    });
    expect([unknownDrug.status, slug(unknownDrug.body)]).toEqual([400, 'validation-failed']);
    expect(unknownDrug.body.errors).toEqual([{ path: 'body.items.1.drugCode', message: expect.stringContaining('XNOTADRUG1') }]);

    const bad = await rt.call(lingyin, 'POST', '/prescriptions', { personId, diagnoses: ['high blood pressure'], items: [{ drugCode: 'XC08CAA001', quantity: 0 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body.diagnoses.0', 'body.items.0.quantity', 'body.items.0.dosage']));

    const nominee = await rt.call(lingyin, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item('XC08CAA001')], nominatedPharmacyId: 'clinic-beishan' });
    expect([nominee.status, nominee.body.errors?.[0]?.path]).toEqual([400, 'body.nominatedPharmacyId']);

    const stranger = await rt.call(lingyin, 'POST', '/prescriptions', { personId: 'p_notenrolled01', diagnoses: ['I10'], items: [item('XC08CAA001')] });
    expect([stranger.status, slug(stranger.body)]).toEqual([422, 'not-enrolled']);
    expect(await countItems()).toBe(before);
  });

  it('only the prescriber and the routed pharmacy see it (others 404); wrong roles 403', { tags: ['any-day'] }, async () => {
    const { personId } = fresh('xihu');
    const { prescriptionId: id } = await issue(lingyin, { personId, items: [item('XC08CAA001')] });
    expect((await routed(lingyin, id)).pharmacyId).toBe('ph-xihu-3');
    expect((await rt.call(await as('pharmacy', 'ph-xihu-3'), 'GET', `/prescriptions/${id}`)).status).toBe(200);
    for (const other of ['ph-xihu-1', 'ph-sc-1', 'ph-private-1']) {
      const pharmacy = await as('pharmacy', other);
      for (const [method, path, body] of [['GET', '', undefined], ['POST', '/accept', undefined], ['POST', '/reject', { reason: 'x' }]] as const) {
        const res = await rt.call(pharmacy, method, `/prescriptions/${id}${path}`, body);
        expect([other, path, res.status, slug(res.body)]).toEqual([other, path, 404, 'not-found']);
      }
    }
    const beishan = await as('clinic', 'clinic-beishan');
    expect((await rt.call(beishan, 'GET', `/prescriptions/${id}`)).status).toBe(404);
    expect((await rt.call(beishan, 'POST', `/prescriptions/${id}/cancel`)).status).toBe(404);
    expect((await rt.call(await as('hospital', 'hosp-zjph'), 'GET', `/prescriptions/${id}`)).status).toBe(404);

    for (const who of [operator, await rt.as('channel')]) expect((await rt.call(who, 'GET', `/prescriptions/${id}`)).status).toBe(403);
    const forbidden = await rt.call(lingyin, 'POST', `/prescriptions/${id}/accept`);
    expect([forbidden.status, slug(forbidden.body)]).toEqual([403, 'forbidden']);
    expect((await rt.call(await as('pharmacy', 'ph-xihu-3'), 'POST', `/prescriptions/${id}/cancel`)).status).toBe(403);
    expect((await rt.call(await as('pharmacy', 'ph-xihu-3'), 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item('XC08CAA001')] })).status).toBe(403);
    expect((await rt.call(undefined, 'GET', `/prescriptions/${id}`)).status).toBe(401);
    const ghost = await rt.call(await as('clinic', 'clinic-ghost'), 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item('XC08CAA001')] });
    expect([ghost.status, slug(ghost.body)]).toEqual([403, 'forbidden']); // not a registered clinic
  });
});

describe('review, dispense, cancel', () => {
  it('racing accepts and rejects: one wins, every loser gets 409 invalid-transition (never conflict), several rounds', { tags: ['any-day'] }, async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const ids = await Promise.all(
      Array.from({ length: 4 }, async () => (await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XC08CAA001')] })).prescriptionId),
    );
    for (const id of ids) expect((await routed(lingyin, id)).pharmacyId).toBe('ph-xihu-3');
    for (const id of ids) {
      const results = await Promise.all([
        rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`),
        rt.call(pharmacy, 'POST', `/prescriptions/${id}/reject`, { reason: '处方不规范' }),
        rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`),
        rt.call(pharmacy, 'POST', `/prescriptions/${id}/reject`, { reason: '处方不规范' }),
      ]);
      expect(results.filter((r) => r.status === 200), id).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200)) expect([r.status, slug(r.body)]).toEqual([409, 'invalid-transition']);
    }
  });

  it('cancel by the prescriber releases the reserved stock; cancelling again or accepting afterwards is 409', { tags: ['any-day'] }, async () => {
    const before = await stock('ph-xihu-3', 'XC10AAA005');
    const { prescriptionId: id } = await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XC10AAA005', 4)] });
    await routed(lingyin, id);
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).body.status).toBe('accepted');
    expect((await stock('ph-xihu-3', 'XC10AAA005')).reserved).toBe(before.reserved + 4);

    const cancelled = await rt.call(lingyin, 'POST', `/prescriptions/${id}/cancel`);
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled']);
    const after = await stock('ph-xihu-3', 'XC10AAA005');
    expect([after.available, after.reserved]).toEqual([before.available, before.reserved]);

    const again = await rt.call(lingyin, 'POST', `/prescriptions/${id}/cancel`);
    expect([again.status, slug(again.body)]).toEqual([409, 'invalid-transition']);
    // The pharmacy still sees it (cancelled), and cannot move it.
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.status).toBe('cancelled');
    const accept = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: 'stl_whatever' });
    expect([accept.status, slug(accept.body)]).toEqual([409, 'invalid-transition']);
    expect(await events('PrescriptionCancelled', id)).toEqual([expect.objectContaining({ previousStatus: 'accepted', pharmacyId: 'ph-xihu-3' })]);
    expect((await stock('ph-xihu-3', 'XC10AAA005')).reserved).toBe(before.reserved);
  });

  it('dispense against a real settlement of the same person at the same pharmacy that paid for every item moves reserved stock to dispensed', async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const [p, other] = [fresh('xihu'), fresh('xihu')];
    const paid = [{ drugCode: 'XA10BAA001', quantity: 2 }];
    const settle = (person: { nationalId: string; name: string }, at: Caller, items = paid) => settleFor(person, at, items);

    const before = await stock('ph-xihu-3', 'XA10BAA001');
    const { prescriptionId: id } = await issue(lingyin, { personId: p.personId, items: [item('XA10BAA001', 2)], nominatedPharmacyId: 'ph-xihu-3' });
    // A second prescription of the same person (another drug: one open prescription of a drug per
    // person), issued before the settlement, to try paying for both with it.
    const { prescriptionId: second } = await issue(lingyin, { personId: p.personId, items: [item('XC08CAA001', 1)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, id);
    await routed(lingyin, second);
    // Review is mandatory: a routed prescription is accepted (reviewed) before it is dispensed.
    const early = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: 'stl_notyet000' });
    expect([early.status, slug(early.body)]).toEqual([409, 'invalid-transition']);
    expect(early.body.detail).toContain('accept (review) the prescription before dispensing');
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);

    const unknown = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: 'stl_unknown000' });
    expect([unknown.status, slug(unknown.body), unknown.body.errors[0].path]).toEqual([400, 'validation-failed', 'body.settlementId']);
    const otherPerson = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(other, pharmacy) });
    expect(otherPerson.status).toBe(400);
    expect(otherPerson.body.errors.map((e: { message: string }) => e.message)).toEqual(['the settlement is for another person']);
    // Another pharmacy's settlement, fitting or not (reversed, another person's), is no settlement of this one's.
    const elsewhere = await as('pharmacy', 'ph-xihu-1');
    const otherPharmacy = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, elsewhere) });
    expect(otherPharmacy.body.errors).toEqual([{ path: 'body.settlementId', message: 'no such settlement' }]);
    const reversedElsewhere = await settle(other, elsewhere);
    expect((await rt.call(elsewhere, 'POST', `/settlements/${reversedElsewhere}/reversal`)).status).toBe(200);
    const leak = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: reversedElsewhere });
    expect(leak.body.errors).toEqual([{ path: 'body.settlementId', message: 'no such settlement' }]);
    expect(leak.body.detail).not.toMatch(/reversed|another person/);
    // The settlement must have paid for what is dispensed: every drug, at least the prescribed quantity.
    const tooFew = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, pharmacy, [{ drugCode: 'XA10BAA001', quantity: 1 }]) });
    expect([tooFew.status, slug(tooFew.body)]).toEqual([400, 'validation-failed']);
    expect(tooFew.body.errors).toEqual([{ path: 'body.settlementId', message: 'the settlement pays for 1 of XA10BAA001; the prescription needs 2' }]);
    const otherDrug = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, pharmacy, [{ drugCode: 'XC08CAA001', quantity: 2 }]) });
    expect(otherDrug.body.errors.map((e: { message: string }) => e.message)).toEqual(['the settlement does not pay for XA10BAA001 (the prescription needs 2)']);
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.status).toBe('accepted');

    // It pays for both prescriptions' drugs, so the second one's dispense can try it too.
    const settlementId = await settle(p, pharmacy, [{ drugCode: 'XA10BAA001', quantity: 2 }, { drugCode: 'XC08CAA001', quantity: 1 }]);
    const dispensed = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId });
    expect(dispensed.status, JSON.stringify(dispensed.body)).toBe(200);
    expect(dispensed.body).toMatchObject({ status: 'dispensed', settlementId, pharmacyId: 'ph-xihu-3' });
    const after = await stock('ph-xihu-3', 'XA10BAA001');
    // The first one's 2 moved from reserved to dispensed (the second holds another drug).
    expect([after.onHand, after.available, after.reserved, after.dispensed]).toEqual([before.onHand - 2, before.available - 2, before.reserved, before.dispensed + 2]);
    const latePrescription = await issue(lingyin, { personId: p.personId, items: [item('XA10BAA001', 1)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, latePrescription.prescriptionId);
    await rt.call(pharmacy, 'POST', `/prescriptions/${latePrescription.prescriptionId}/accept`);
    const predates = await rt.call(pharmacy, 'POST', `/prescriptions/${latePrescription.prescriptionId}/dispense`, { settlementId });
    expect(predates.body.errors.map((e: { message: string }) => e.message)).toContain('the settlement predates the prescription');
    expect(await events('PrescriptionDispensed', id)).toEqual([expect.objectContaining({ settlementId, pharmacyId: 'ph-xihu-3', items: [{ drugCode: 'XA10BAA001', quantity: 2 }] })]);

    const twice = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId });
    expect([twice.status, slug(twice.body)]).toEqual([409, 'invalid-transition']);
    expect((await rt.call(lingyin, 'POST', `/prescriptions/${id}/cancel`)).status).toBe(409);

    // One settlement pays for one dispense.
    await rt.call(pharmacy, 'POST', `/prescriptions/${second}/accept`);
    const reused = await rt.call(pharmacy, 'POST', `/prescriptions/${second}/dispense`, { settlementId });
    expect([reused.status, slug(reused.body)]).toEqual([409, 'conflict']);
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${second}`)).body.status).toBe('accepted');

    // A settlement that paid for handed-over drugs is never reversed: 409, balances and settlement unchanged.
    const balances = async () => (await rt.call(operator, 'GET', `/enrollments/${p.personId}`)).body;
    const balancesBefore = await balances();
    const reversal = await rt.call(pharmacy, 'POST', `/settlements/${settlementId}/reversal`);
    expect([reversal.status, slug(reversal.body)]).toEqual([409, 'invalid-transition']);
    expect(reversal.body.detail).toContain('the settlement paid for a dispensed prescription');
    expect(await balances()).toEqual(balancesBefore);
    expect((await rt.call(pharmacy, 'GET', `/settlements/${settlementId}`)).body).toMatchObject({ status: 'settled' });
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body).toMatchObject({ status: 'dispensed', settlementId });
    // A settlement that paid for no dispense still reverses as before.
    const unused = await settle(p, pharmacy);
    expect((await rt.call(pharmacy, 'POST', `/settlements/${unused}/reversal`)).body).toMatchObject({ status: 'reversed' });
  });

  it('packs a settlement made for the prescription and not yet dispensed against paid for are not paid again: 409, nothing written', async () => {
    await clearOfMidnight(60_000); // a reversal below is same-day
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    await newDrug('XPAIDONCE1');
    expect((await putStock('ph-xihu-3', [{ drugCode: 'XPAIDONCE1', quantity: 100 }])).status).toBe(200);
    const p = fresh('xihu');
    const x = (quantity: number) => [{ drugCode: 'XPAIDONCE1', quantity }];
    const { prescriptionId: id } = await issue(lingyin, { personId: p.personId, items: [item('XPAIDONCE1', 3)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, id);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const balances = async () => (await rt.call(operator, 'GET', `/enrollments/${p.personId}`)).body;

    // 1 of 3 paid, then the other 2: each within what is owing.
    const first = await settleFor(p, pharmacy, x(1), id);
    const second = await settleFor(p, pharmacy, x(2), id);
    // A third naming it pays for packs paid already: refused, quote and settlement, naming both; the code stays unused.
    const before = await balances();
    const code = await codeOf(p);
    for (const path of ['/settlements/quote', '/settlements']) {
      const again = await settlement(pharmacy, code, x(1), id, path);
      expect([again.status, slug(again.body)], JSON.stringify(again.body)).toEqual([409, 'conflict']);
      expect(again.body.errors).toEqual([{ path: 'body.items.0.quantity', message: `3 of the 3 packs of XPAIDONCE1 owing are paid by ${first}, ${second}, not yet dispensed` }]);
    }
    expect(await balances()).toEqual(before);
    // Another drug beside it in the same purchase does not make it pass.
    const mixed = await settlement(pharmacy, code, [...x(1), { drugCode: 'XA10BAA001', quantity: 1 }], id);
    expect([mixed.status, mixed.body.errors]).toEqual([409, [expect.objectContaining({ path: 'body.items.0.quantity' })]]);

    // The second reversed, its packs may be paid again, with the same code, which was not used.
    expect((await rt.call(pharmacy, 'POST', `/settlements/${second}/reversal`)).status).toBe(200);
    const third = await settlement(pharmacy, code, x(2), id);
    expect(third.status, JSON.stringify(third.body)).toBe(201);
    // Dispensing 1 against the first leaves 2 owing, which the third paid for: still nothing more.
    const part = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: x(1) });
    expect(part.body.status, JSON.stringify(part.body)).toBe('partially-dispensed');
    const more = await settlement(pharmacy, await codeOf(p), x(1), id);
    expect([more.status, more.body.errors?.[0]?.message]).toEqual([409, `2 of the 2 packs of XPAIDONCE1 owing are paid by ${third.body.settlementId}, not yet dispensed`]);
    // Dispensed against the third, nothing is open: the prescription is done and takes no settlement.
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: third.body.settlementId })).body.status).toBe('dispensed');
    // A sale naming no prescription is not checked against any (a walk-in purchase of the same drug).
    await settleFor(p, pharmacy, x(1));

    // A dispense that hands over fewer packs than its settlement paid for leaves the rest paid for,
    // to hand over against it later (collection.test.ts), not to charge again.
    const r = fresh('xihu');
    const { prescriptionId: partial } = await issue(lingyin, { personId: r.personId, items: [item('XPAIDONCE1', 3)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, partial);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${partial}/accept`)).status).toBe(200);
    const all = await settleFor(r, pharmacy, x(3), partial);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${partial}/dispense`, { settlementId: all, items: x(1) })).body.status).toBe('partially-dispensed');
    const rest = await settlement(pharmacy, await codeOf(r), x(2), partial);
    expect([rest.status, rest.body.errors?.[0]?.message]).toEqual([409, `2 of the 2 packs of XPAIDONCE1 owing are paid by ${all}, not yet dispensed`]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${partial}/dispense`, { settlementId: all })).body.status).toBe('dispensed');

    // Counters racing to settle the same prescription in full: exactly one is paid.
    const q = fresh('xihu');
    const { prescriptionId: raced } = await issue(lingyin, { personId: q.personId, items: [item('XPAIDONCE1', 2)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, raced);
    const account = async () => (await rt.call(operator, 'GET', `/enrollments/${q.personId}`)).body.personalAccountFen as number;
    const codes = await Promise.all(Array.from({ length: 6 }, () => codeOf(q)));
    const was = await account();
    const answers = await Promise.all(codes.map((c) => settlement(pharmacy, c, x(2), raced)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.errors[0].message)).toEqual(Array(5).fill(`2 of the 2 packs of XPAIDONCE1 owing are paid by ${answers.find((a) => a.status === 201)!.body.settlementId}, not yet dispensed`));
    expect(await account()).toBe(was - answers.find((a) => a.status === 201)!.body.personalAccountFen);
  });

  it('settlements made before prescriptions kept their list: the backfill puts them on it (and gives timelines their amounts), once', async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const p = fresh('xihu');
    const { prescriptionId: id } = await issue(lingyin, { personId: p.personId, items: [item('XPAIDONCE1', 2)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, id);
    const before = await settleFor(p, pharmacy, [{ drugCode: 'XPAIDONCE1', quantity: 2 }], id);
    await rt.settle();
    // As stored by the version before: no list on the prescription, no amount on the timeline entry.
    await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: prescriptionSettlementsKey(id) }));
    await rt.db.send(new UpdateCommand({ TableName: rt.tableName, Key: timelineKey(p.personId, before), UpdateExpression: 'REMOVE amountFen' }));
    // Without it, a second settlement would be taken.
    const quoted = await settlement(pharmacy, await codeOf(p), [{ drugCode: 'XPAIDONCE1', quantity: 2 }], id, '/settlements/quote');
    expect(quoted.status).toBe(200);

    const listed = await backfillPrescriptionSettlements();
    expect(listed.recorded).toBeGreaterThanOrEqual(1);
    const again = await settlement(pharmacy, await codeOf(p), [{ drugCode: 'XPAIDONCE1', quantity: 2 }], id);
    expect([again.status, again.body.errors?.[0]?.message]).toEqual([409, `2 of the 2 packs of XPAIDONCE1 owing are paid by ${before}, not yet dispensed`]);
    expect((await backfillSettlementAmounts()).entries).toBeGreaterThanOrEqual(1);
    const self = await rt.asPerson(p.personId);
    const entry = (await rt.call(self, 'GET', `/people/${p.personId}/timeline`)).body.items.find((e: { id: string }) => e.id === before);
    expect(entry.amountFen).toBe(3_700);
    // Again: nothing left to do.
    expect((await backfillPrescriptionSettlements()).recorded).toBe(0);
    expect((await backfillSettlementAmounts()).entries).toBe(0);
  });

  it('a settlement names only a prescription of the same person routed to the settling pharmacy; anything else is one 400', async () => {
    await newDrug('XNAMED001');
    const [p, other] = [fresh('xihu'), fresh('xihu')];
    expect((await putStock('ph-xihu-2', [{ drugCode: 'XNAMED001', quantity: 10 }])).status).toBe(200);
    const { prescriptionId: id } = await issue(lingyin, { personId: p.personId, items: [item('XNAMED001')], nominatedPharmacyId: 'ph-xihu-2' });
    expect(await routed(lingyin, id)).toMatchObject({ status: 'routed', pharmacyId: 'ph-xihu-2' });
    const here = await as('pharmacy', 'ph-xihu-2');
    const channel = await rt.as('channel');
    const codeFor = async (person: { nationalId: string; name: string }) => {
      const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' });
      return (await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`)).body.code as string;
    };
    const settleNaming = (code: string, at: Caller, prescriptionId: string) =>
      rt.call(at, 'POST', '/settlements', { code, prescriptionId, items: [{ drugCode: 'XNAMED001', quantity: 1, unitPriceFen: 900 }] }, { 'idempotency-key': `named-${randomBytes(6).toString('hex')}` });
    const attempts = [
      [await codeFor(other), here, id], // another person's prescription
      [await codeFor(p), await as('pharmacy', 'ph-xihu-1'), id], // routed to another pharmacy
      [await codeFor(p), here, 'rx_unknown00000000000000001'], // no such prescription
    ] as const;
    await rt.settle();
    const before = await countAll(rt);
    for (const [code, at, named] of attempts) {
      const res = await settleNaming(code, at, named);
      expect([res.status, res.body.errors]).toEqual([400, [{ path: 'body.prescriptionId', message: 'no prescription of this person routed to this pharmacy' }]]);
    }
    await rt.settle();
    expect(await countAll(rt)).toBe(before);
    const ok = await settleNaming(await codeFor(p), here, id);
    expect([ok.status, ok.body.prescriptionId]).toEqual([201, id]);
  });

  it('a prescription names a referral of the same person that the prescriber sent or received; anything else is 400', async () => {
    const { personId } = fresh('xihu');
    const referral = await rt.call(lingyin, 'POST', '/referrals', {
      personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '血压控制不佳', diagnoses: ['I10'], urgency: 'routine',
    });
    expect(referral.status, JSON.stringify(referral.body)).toBe(201);
    const referralId = referral.body.referralId as string;
    const zjph = await as('hospital', 'hosp-zjph');

    // The sender and the receiver may both prescribe with it, for that person.
    for (const [who, drug] of [[lingyin, 'XC08CAA001'], [zjph, 'XC09CAA001']] as const) {
      const ok = await rt.call(who, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item(drug)], referralId });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      expect(ok.body.referralId).toBe(referralId);
    }
    const refused = async (who: Caller, body: Record<string, unknown>, message: string) => {
      const res = await rt.call(who, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item('XC08CAA001')], ...body });
      expect([res.status, slug(res.body), res.body.errors]).toEqual([400, 'validation-failed', [{ path: 'body.referralId', message }]]);
    };
    const someoneElse = fresh('xihu').personId;
    await refused(lingyin, { referralId, personId: someoneElse }, 'the referral is for another person');
    await refused(zjph, { referralId, personId: someoneElse }, 'the referral is for another person');
    // Someone else's referral is as good as none (its existence is not revealed).
    await refused(await as('clinic', 'clinic-beishan'), { referralId }, 'no such referral sent or received by this institution');
    await refused(await as('hospital', 'hosp-xihu'), { referralId }, 'no such referral sent or received by this institution');
    await refused(lingyin, { referralId: 'ref_doesnotexist0' }, 'no such referral sent or received by this institution');
  });
});

describe('stock and worklists', () => {
  it('PUT stock: on-hand quantities, that pharmacy only; available = on hand − reserved; never below what is reserved', { tags: ['any-day'] }, async () => {
    await newDrug('XSTOCKT001');
    const hubin = await as('clinic', 'clinic-hubin');
    const wrong = await rt.call(await as('pharmacy', 'ph-sc-2'), 'PUT', '/pharmacies/ph-sc-1/stock', { items: [{ drugCode: 'XSTOCKT001', quantity: 10 }] });
    expect([wrong.status, slug(wrong.body)]).toEqual([403, 'forbidden']);
    expect((await rt.call(await as('pharmacy', 'ph-sc-2'), 'GET', '/pharmacies/ph-sc-1/stock')).status).toBe(403);
    const unknown = await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 1 }, { drugCode: 'XNOTADRUG2', quantity: 1 }]);
    expect([unknown.status, unknown.body.errors]).toEqual([400, [{ path: 'body.items.1.drugCode', message: expect.any(String) }]]);
    expect((await stock('ph-sc-1', 'XSTOCKT001')).onHand).toBe(0); // all or nothing

    const set = await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 10 }]);
    expect(set.body).toEqual({ pharmacyId: 'ph-sc-1', items: [{ drugCode: 'XSTOCKT001', onHand: 10, available: 10, reserved: 0, dispensed: 0 }] });
    const { prescriptionId: id } = await issue(hubin, { personId: fresh('sc').personId, items: [item('XSTOCKT001', 4)], nominatedPharmacyId: 'ph-sc-1' });
    expect((await routed(hubin, id)).pharmacyId).toBe('ph-sc-1');
    expect(await stock('ph-sc-1', 'XSTOCKT001')).toEqual({ drugCode: 'XSTOCKT001', onHand: 10, available: 6, reserved: 4, dispensed: 0 });

    const below = await putStock('ph-sc-1', [{ drugCode: 'XC08CAA001', quantity: 99 }, { drugCode: 'XSTOCKT001', quantity: 3 }]);
    expect([below.status, slug(below.body), below.body.errors]).toEqual([409, 'conflict', [{ path: 'body.items.1.quantity', message: '3 on hand is below the 4 units reserved' }]]);
    expect((await stock('ph-sc-1', 'XSTOCKT001')).available).toBe(6);
    expect((await stock('ph-sc-1', 'XC08CAA001')).onHand).not.toBe(99); // the whole request was refused
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 4 }])).body.items[0]).toMatchObject({ available: 0, reserved: 4 });
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 9 }])).body.items[0]).toMatchObject({ onHand: 9, available: 5, reserved: 4 });
  });

  it('expectedOnHand: a count another desk changed meanwhile is 412 and nothing changes; a reservation meanwhile is no change', { tags: ['any-day'] }, async () => {
    await newDrug('XSTOCKT002');
    const hubin = await as('clinic', 'clinic-hubin');
    // Not stocked yet: its count is 0.
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT002', quantity: 21, expectedOnHand: 0 }])).status).toBe(200);
    // Two desks read 21; one records a delivery of 10, the other then saves a count made from the 21 it read.
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT002', quantity: 31, expectedOnHand: 21 }])).body.items[0]).toMatchObject({ onHand: 31 });
    const stale = await putStock('ph-sc-1', [{ drugCode: 'XC08CAA001', quantity: 77 }, { drugCode: 'XSTOCKT002', quantity: 20, expectedOnHand: 21 }]);
    expect([stale.status, slug(stale.body), stale.body.errors]).toEqual([412, 'precondition-failed', [{ path: 'body.items.1.expectedOnHand', message: 'XSTOCKT002 is now 31 on hand' }]]);
    expect((await stock('ph-sc-1', 'XSTOCKT002')).onHand).toBe(31);
    expect((await stock('ph-sc-1', 'XC08CAA001')).onHand).not.toBe(77); // the whole request was refused
    // A prescription routed here reserves 4: the count on the shelf is still 31, so an edit from 31 goes through.
    const { prescriptionId: id } = await issue(hubin, { personId: fresh('sc').personId, items: [item('XSTOCKT002', 4)], nominatedPharmacyId: 'ph-sc-1' });
    expect((await routed(hubin, id)).pharmacyId).toBe('ph-sc-1');
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT002', quantity: 30, expectedOnHand: 31 }])).body.items[0]).toMatchObject({ onHand: 30, available: 26, reserved: 4 });
  });

  it('the seed stocked every pharmacy through the stock route', { tags: ['any-day'] }, async () => {
    const res = await rt.call(await as('pharmacy', 'ph-xihu-2'), 'GET', '/pharmacies/ph-xihu-2/stock');
    const codes = res.body.items.map((s: { drugCode: string }) => s.drugCode);
    expect(codes).toContain('XC08CAA001');
    expect(codes).not.toContain('XR03AKA001'); // demoStock: ph-xihu-2 lacks it
  });

  it('worklists by status from the indexes, paginated with an opaque nextToken', { tags: ['any-day'] }, async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await issue(lingyin, { personId: fresh('xihu').personId, items: [item('XN02BEA001')] })).prescriptionId);
    for (const id of ids) expect((await routed(lingyin, id)).pharmacyId).toBe('ph-xihu-3');

    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const res = await rt.call(pharmacy, 'GET', `/prescriptions?status=routed&limit=2${next ? `&nextToken=${next}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      for (const rx of res.body.items) expect([rx.status, rx.pharmacyId]).toEqual(['routed', 'ph-xihu-3']);
      seen.push(...res.body.items.map((rx: { prescriptionId: string }) => rx.prescriptionId));
      next = res.body.nextToken;
      pages++;
    } while (next);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));

    const mine = await rt.call(lingyin, 'GET', '/prescriptions?status=routed&limit=200');
    expect(mine.body.items.every((rx: { prescriberId: string; status: string }) => rx.prescriberId === 'clinic-lingyin' && rx.status === 'routed')).toBe(true);
    expect(mine.body.items.map((rx: { prescriptionId: string }) => rx.prescriptionId)).toEqual(expect.arrayContaining(ids));
    const other = await rt.call(await as('pharmacy', 'ph-xihu-1'), 'GET', '/prescriptions?status=routed&limit=200');
    expect(other.body.items.map((rx: { prescriptionId: string }) => rx.prescriptionId)).not.toEqual(expect.arrayContaining([ids[0]]));
    const all = await rt.call(lingyin, 'GET', '/prescriptions?limit=200');
    expect(all.body.items.length).toBeGreaterThan(mine.body.items.length);

    const forged = await rt.call(lingyin, 'GET', `/prescriptions?nextToken=${Buffer.from(JSON.stringify({ GSI1PK: 'RX#BY#clinic-beishan', GSI1SK: 'x', PK: 'x', SK: 'y' })).toString('base64url')}`);
    expect([forged.status, slug(forged.body)]).toEqual([400, 'validation-failed']);
    expect((await rt.call(lingyin, 'GET', '/prescriptions?limit=201')).status).toBe(400);
    expect((await rt.call(lingyin, 'GET', '/prescriptions?status=lost')).status).toBe(400);
  });

  it('a nextToken used with another ?status= than its own, or a stock token naming a non-stock item, is 400 (not a 500 from DynamoDB)', { tags: ['any-day'] }, async () => {
    // A page of the unfiltered list ends on some status; its token belongs to that status' range only.
    const first = await rt.call(lingyin, 'GET', '/prescriptions?limit=1');
    expect(first.body.nextToken).toBeDefined();
    const token = first.body.nextToken as string;
    const ownStatus = tokenKey(token).GSI1SK!.split('#')[0]!;
    const otherStatus = ownStatus === 'routed' ? 'issued' : 'routed';
    const reused = await rt.call(lingyin, 'GET', `/prescriptions?status=${otherStatus}&nextToken=${token}`);
    expect([reused.status, slug(reused.body), reused.body.errors?.[0]?.path]).toEqual([400, 'validation-failed', 'query.nextToken']);
    expect((await rt.call(lingyin, 'GET', `/prescriptions?status=${ownStatus}&nextToken=${token}`)).status).toBe(200);
    // The same for a pharmacy's worklist.
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const pharmacyToken = (await rt.call(pharmacy, 'GET', '/prescriptions?limit=1')).body.nextToken as string;
    const pharmacyStatus = tokenKey(pharmacyToken).GSI2SK!.split('#')[0]!;
    const wrong = pharmacyStatus === 'cancelled' ? 'expired' : 'cancelled';
    expect((await rt.call(pharmacy, 'GET', `/prescriptions?status=${wrong}&nextToken=${pharmacyToken}`)).status).toBe(400);

    // Stock: the pharmacy's partition holds only stock items, but a token must still start inside them.
    const page = await rt.call(pharmacy, 'GET', '/pharmacies/ph-xihu-3/stock?limit=1');
    const stockToken = tokenKey(page.body.nextToken);
    expect(stockToken.SK).toMatch(/^STOCK#/);
    expect((await rt.call(pharmacy, 'GET', `/pharmacies/ph-xihu-3/stock?limit=1&nextToken=${page.body.nextToken}`)).status).toBe(200);
    for (const SK of ['PROFILE', 'A', 'STOCK']) {
      const forged = await rt.call(pharmacy, 'GET', `/pharmacies/ph-xihu-3/stock?nextToken=${forgeToken({ ...stockToken, SK })}`);
      expect([SK, forged.status, slug(forged.body)]).toEqual([SK, 400, 'validation-failed']);
    }
  });
});

describe('concurrency', () => {
  it('30 prescriptions racing for the last 10 units: exactly 10 routed there, the rest unroutable, stock never negative', async () => {
    const drug = 'XRACE00001';
    await newDrug(drug);
    expect((await putStock('ph-sc-2', [{ drugCode: drug, quantity: 10 }])).status).toBe(200);
    for (const other of ['ph-sc-1', 'ph-sc-3']) expect((await putStock(other, [{ drugCode: drug, quantity: 0 }])).status).toBe(200);
    const hubin = await as('clinic', 'clinic-hubin');

    // Watch the stock item while the race runs: it must never go below zero or oversell.
    let watching = true;
    const samples: Array<{ available: number; reserved: number }> = [];
    const watcher = (async () => {
      while (watching) {
        samples.push(await stock('ph-sc-2', drug));
        await sleep(20);
      }
    })();

    const issued = await Promise.all(
      Array.from({ length: 30 }, () => issue(hubin, { personId: fresh('sc').personId, items: [item(drug)] })),
    );
    await rt.settle();
    const outcomes = await Promise.all(issued.map((p) => routed(hubin, p.prescriptionId, 30_000)));
    watching = false;
    await watcher;

    const there = outcomes.filter((rx) => rx.status === 'routed');
    expect(there).toHaveLength(10);
    for (const rx of there) expect(rx.pharmacyId).toBe('ph-sc-2');
    expect(outcomes.filter((rx) => rx.status === 'unroutable')).toHaveLength(20);
    expect(await stock('ph-sc-2', drug)).toMatchObject({ onHand: 10, available: 0, reserved: 10 });
    for (const other of ['ph-sc-1', 'ph-sc-3']) expect(await stock(other, drug)).toMatchObject({ available: 0, reserved: 0 });
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      expect(s.available).toBeGreaterThanOrEqual(0);
      expect(s.reserved).toBeGreaterThanOrEqual(0);
      expect(s.available + s.reserved).toBe(10);
    }
    expect(rt.bus.deadLettered).toBe(0); // every route finished within its retries
  });

  it('PUT stock racing reservations (with and without expectedOnHand): on hand is what was set, available + reserved always equals it, nothing goes negative', async () => {
    const drug = 'XRACE00002';
    await newDrug(drug);
    expect((await putStock('ph-sc-2', [{ drugCode: drug, quantity: 20 }])).status).toBe(200);
    for (const other of ['ph-sc-1', 'ph-sc-3']) expect((await putStock(other, [{ drugCode: drug, quantity: 0 }])).status).toBe(200);
    const hubin = await as('clinic', 'clinic-hubin');
    // Every level set is at least the 12 units the prescriptions can reserve, so every PUT succeeds.
    const levels = [20, 31, 12, 27, 15, 40, 18];
    const set = new Set(levels);

    let routing = true;
    const puts: Array<{ quantity: number; status: number; level: { onHand: number; available: number; reserved: number } }> = [];
    const writer = (async () => {
      let last = 20;
      for (let i = 0; routing || i < levels.length; i++) {
        const quantity = levels[i % levels.length]!;
        // Every other PUT names the count it set last: reservations move units without changing it, so
        // these go through too (a reservation between the read and the write is retried, not a 412).
        const res = await putStock('ph-sc-2', [{ drugCode: drug, quantity, ...(i % 2 ? { expectedOnHand: last } : {}) }]);
        puts.push({ quantity, status: res.status, level: res.body.items?.[0] });
        last = quantity;
      }
    })();
    const samples: Array<{ onHand: number; available: number; reserved: number }> = [];
    const watcher = (async () => {
      while (routing) samples.push(await stock('ph-sc-2', drug));
    })();

    // Issued one after another, so the reservations spread over the writer's PUTs.
    const issued = [];
    for (let i = 0; i < 12; i++) {
      issued.push(await issue(hubin, { personId: fresh('sc').personId, items: [item(drug)] }));
      await sleep(25);
    }
    const outcomes = await Promise.all(issued.map((p) => routed(hubin, p.prescriptionId)));
    routing = false;
    await Promise.all([writer, watcher]);

    // The race did happen: PUTs answered while some, not all, units were reserved.
    expect(puts.some((p) => p.level.reserved > 0 && p.level.reserved < 12)).toBe(true);
    for (const rx of outcomes) expect([rx.status, rx.pharmacyId]).toEqual(['routed', 'ph-sc-2']);
    for (const p of puts) {
      expect(p.status).toBe(200);
      expect(p.level.onHand).toBe(p.quantity);
      expect(p.level.available + p.level.reserved).toBe(p.quantity);
      expect(p.level.reserved).toBeGreaterThanOrEqual(0);
      expect(p.level.reserved).toBeLessThanOrEqual(12);
    }
    for (const s of samples) {
      expect(s.available).toBeGreaterThanOrEqual(0);
      expect(s.reserved).toBeGreaterThanOrEqual(0);
      expect(set.has(s.available + s.reserved)).toBe(true);
    }
    const last = puts.at(-1)!.quantity;
    expect(await stock('ph-sc-2', drug)).toMatchObject({ onHand: last, available: last - 12, reserved: 12 });
    expect(rt.bus.deadLettered).toBe(0);
  });
});

// Last: a sweep as of three days from now expires every open prescription of this runtime. The tests
// below use their own pharmacy, drug and prescriptions, and assert only about those.
describe('expiry', () => {
  const pharmacyId = 'ph-expiry-1';
  const drug = 'XEXPIRY001';
  let pharmacy: Caller;

  beforeAll(async () => {
    const registered = await rt.call(operator, 'POST', '/institutions', { id: pharmacyId, name: '到期测试药房', type: 'pharmacy', district: DISTRICTS.xihu, designated: true });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    pharmacy = await as('pharmacy', pharmacyId);
    await newDrug(drug);
    expect((await putStock(pharmacyId, [{ drugCode: drug, quantity: 20 }])).status).toBe(200);
  });

  /** Issued to this pharmacy (nominated: no other pharmacy stocks the drug either). */
  const issueHere = async (personId: string, quantity: number) => {
    const rx = await issue(lingyin, { personId, items: [item(drug, quantity)], nominatedPharmacyId: pharmacyId });
    expect((await routed(lingyin, rx.prescriptionId)).pharmacyId).toBe(pharmacyId);
    return rx;
  };
  const ids = async (status: string) =>
    (await rt.call(pharmacy, 'GET', `/prescriptions?status=${status}&limit=200`)).body.items.map((rx: { prescriptionId: string }) => rx.prescriptionId).sort();

  it('the sweeper expires overdue prescriptions and releases their stock; again or concurrently, once', async () => {
    const a = await issueHere(fresh('xihu').personId, 2);
    const b = await issueHere(fresh('xihu').personId, 3);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${b.prescriptionId}/accept`)).status).toBe(200);
    expect(await stock(pharmacyId, drug)).toMatchObject({ onHand: 20, available: 15, reserved: 5 });

    // Not yet due: nothing happens.
    await rt.runSchedule('prescription-expiry', new Date(Date.parse(a.expiresAt) - 60_000));
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${a.prescriptionId}`)).body.status).toBe('routed');

    const due = new Date(Date.parse(b.expiresAt) + 1_000);
    await Promise.all([rt.runSchedule('prescription-expiry', due), rt.runSchedule('prescription-expiry', due)]);
    await rt.runSchedule('prescription-expiry', due);

    for (const [rx, from] of [[a, 'routed'], [b, 'accepted']] as const) {
      const got = await rt.call(lingyin, 'GET', `/prescriptions/${rx.prescriptionId}`);
      expect(got.body.status).toBe('expired');
      expect(await events('PrescriptionExpired', rx.prescriptionId)).toEqual([expect.objectContaining({ previousStatus: from, pharmacyId })]);
    }
    expect(await stock(pharmacyId, drug)).toMatchObject({ onHand: 20, available: 20, reserved: 0, dispensed: 0 });
    // The pharmacy's worklist: both expired, nothing of them left open.
    expect(await ids('expired')).toEqual([a.prescriptionId, b.prescriptionId].sort());
    for (const open of ['routed', 'accepted']) expect(await ids(open)).toEqual([]);
  });

  it('dispenses racing the sweep at the deadline: each prescription is dispensed or expired, once, and only an expired one\'s settlement can be reversed', async () => {
    const who = [fresh('xihu'), fresh('xihu'), fresh('sc')];
    const persons = who.map((p) => p.personId);
    const rxs = [];
    for (const personId of persons) rxs.push(await issueHere(personId, 1));
    for (const rx of rxs) expect((await rt.call(pharmacy, 'POST', `/prescriptions/${rx.prescriptionId}/accept`)).status).toBe(200);
    const settlements = await Promise.all(who.map((p) => settleFor(p, pharmacy, [{ drugCode: drug, quantity: 1 }])));
    expect(await stock(pharmacyId, drug)).toMatchObject({ onHand: 20, available: 17, reserved: 3 });

    // Each dispense races a sweep as of just after the deadline: whichever writes first wins, the
    // other finds the prescription moved (the writes are conditional on the status and revision read).
    const due = new Date(Math.max(...rxs.map((rx) => Date.parse(rx.expiresAt))) + 1_000);
    const [, ...results] = await Promise.all([
      rt.runSchedule('prescription-expiry', due),
      ...rxs.map((rx, i) => rt.call(pharmacy, 'POST', `/prescriptions/${rx.prescriptionId}/dispense`, { settlementId: settlements[i] })),
    ]);
    let dispensed = 0;
    for (const [i, res] of results.entries()) {
      const rx = rxs[i]!;
      const now = (await rt.call(lingyin, 'GET', `/prescriptions/${rx.prescriptionId}`)).body;
      const reversal = await rt.call(pharmacy, 'POST', `/settlements/${settlements[i]}/reversal`);
      if (res.status === 200) {
        dispensed++;
        expect([now.status, now.settlementId]).toEqual(['dispensed', settlements[i]]);
        expect(await events('PrescriptionExpired', rx.prescriptionId)).toEqual([]);
        expect([reversal.status, slug(reversal.body)]).toEqual([409, 'invalid-transition']); // it paid for the drugs
      } else {
        expect([res.status, slug(res.body)]).toEqual([409, 'invalid-transition']);
        expect(res.body.detail).toMatch(/expired/);
        expect(now.status).toBe('expired');
        expect(await events('PrescriptionDispensed', rx.prescriptionId)).toEqual([]);
        expect(reversal.status).toBe(200); // it paid for nothing handed over
      }
    }
    // A sweep that lost a race did not fail on it, and the next one finds nothing left of these.
    await rt.runSchedule('prescription-expiry', due);
    for (const rx of rxs) expect(['dispensed', 'expired']).toContain((await rt.call(lingyin, 'GET', `/prescriptions/${rx.prescriptionId}`)).body.status);
    expect(await stock(pharmacyId, drug)).toMatchObject({ onHand: 20 - dispensed, available: 20 - dispensed, reserved: 0, dispensed });
  });
});
