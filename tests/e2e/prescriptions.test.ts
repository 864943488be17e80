// The prescription flow of API.md over HTTP against the local runtime (seeded demo province): issue,
// asynchronous routing through the real outbox → stream → relay → bus → router, review, dispense
// against a real settlement, cancel, stock, worklists, access, races and expiry.
import { randomBytes } from 'node:crypto';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRICTS, demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
let lingyin: Caller;
const as = (role: 'pharmacy' | 'clinic' | 'hospital', inst: string) => rt.as(role, inst);

/** Test people: national ID and name kept so a channel can activate their vouchers. */
const people = {
  xihu: Array.from({ length: 4 }, (_, i) => ({ nationalId: demoNationalId('330106', '19800101', 500 + i), name: `西湖测试${i}`, district: DISTRICTS.xihu, personalAccountFen: 100_000 })),
  sc: Array.from({ length: 4 }, (_, i) => ({ nationalId: demoNationalId('330102', '19810202', 600 + i), name: `上城测试${i}`, district: DISTRICTS.shangcheng, personalAccountFen: 100_000 })),
};
const personIds = { xihu: [] as string[], sc: [] as string[] };

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

/** Polls as `who` until routing has moved the prescription on (routed or unroutable). */
async function routed(who: Caller, id: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await rt.call(who, 'GET', `/prescriptions/${id}`);
    if (res.status === 200 && !['issued', 'rejected'].includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`${id} not routed in ${timeoutMs} ms: ${res.status} ${res.body?.status}`);
    await sleep(50);
  }
}

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
async function events(detailType: string, prescriptionId: string) {
  const details: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res: ScanCommandOutput = await rt.db.send(
      new ScanCommand({
        TableName: rt.tableName,
        FilterExpression: 'begins_with(PK, :p) AND detailType = :t',
        ExpressionAttributeValues: { ':p': 'OUTBOX#', ':t': detailType },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const i of res.Items ?? []) details.push(JSON.parse(String(i.detail)));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return details.filter((d) => d.prescriptionId === prescriptionId);
}

const newDrug = async (drugCode: string) => {
  const res = await rt.call(operator, 'PUT', `/drugs/${drugCode}`, { name: `测试药 ${drugCode}`, category: 'A', unit: '盒' });
  expect([200, 201]).toContain(res.status);
};

const putStock = async (pharmacyId: string, items: Array<{ drugCode: string; quantity: number }>) =>
  rt.call(await as('pharmacy', pharmacyId), 'PUT', `/pharmacies/${pharmacyId}/stock`, { items });

describe('issue and route', () => {
  it('issues (201, issued, valid 72 h) and routes to the nominated pharmacy within seconds, reserving its stock', async () => {
    const before = await stock('ph-xihu-2', 'XC08CAA001');
    const started = Date.now();
    const res = await rt.call(lingyin, 'POST', '/prescriptions', {
      personId: personIds.xihu[0], diagnoses: ['I10', 'E11.9'], items: [item('XC08CAA001', 2)], nominatedPharmacyId: 'ph-xihu-2',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/prescriptions/${res.body.prescriptionId}`);
    expect(res.body).toMatchObject({ status: 'issued', prescriberId: 'clinic-lingyin', personId: personIds.xihu[0], nominatedPharmacyId: 'ph-xihu-2', rejectedBy: [] });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.issuedAt)).toBe(72 * 3_600_000);

    const rx = await routed(lingyin, res.body.prescriptionId);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(rx).toMatchObject({ status: 'routed', pharmacyId: 'ph-xihu-2' });
    expect(rx.history.map((h: { status: string }) => h.status)).toEqual(['issued', 'routed']);
    const after = await stock('ph-xihu-2', 'XC08CAA001');
    expect([after.available, after.reserved, after.onHand]).toEqual([before.available - 2, before.reserved + 2, before.onHand]);

    const [event] = await events('PrescriptionRouted', rx.prescriptionId);
    expect(event).toMatchObject({ pharmacyId: 'ph-xihu-2', nominated: true, status: 'routed', previousStatus: 'issued', items: [{ drugCode: 'XC08CAA001', quantity: 2 }] });
    // Ids, codes, quantities, statuses: no names, national IDs, diagnoses or dosages.
    const raw = JSON.stringify(await events('PrescriptionIssued', rx.prescriptionId));
    for (const secret of [people.xihu[0]!.name, people.xihu[0]!.nationalId, 'E11.9', 'once daily']) expect(raw).not.toContain(secret);
  });

  it('without a usable nomination: the nearest designated pharmacy of the person\'s district with every item in stock', async () => {
    const cases = [
      // [prescriber, person, items, nominated, expected]
      ['clinic-lingyin', personIds.xihu[1], [item('XC08CAA001')], undefined, 'ph-xihu-3'], // nearest
      ['clinic-beishan', personIds.xihu[1], [item('XR03AKA001')], undefined, 'ph-xihu-1'],
      ['hosp-xihu', personIds.xihu[1], [item('XC08CAA001')], undefined, 'ph-xihu-1'], // ph-private-1 is nearer but not designated
      ['hosp-xihu', personIds.xihu[1], [item('XC08CAA001')], 'ph-private-1', 'ph-xihu-1'], // nominated, not designated
      ['clinic-lingyin', personIds.xihu[1], [item('XB01ACA001')], 'ph-xihu-2', 'ph-xihu-3'], // nominated lacks the drug
      ['clinic-lingyin', personIds.sc[0], [item('XC08CAA001')], undefined, 'ph-sc-2'], // the person's district, not the prescriber's
      ['clinic-hubin', personIds.sc[0], [item('XA10BHA001'), item('XC08CAA001')], 'ph-sc-3', 'ph-sc-2'], // ph-sc-3 lacks one item
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

  it('reject → re-routed to the next pharmacy, never back to one that rejected; the last rejection makes it unroutable', async () => {
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[2], items: [item('XC09CAA001', 3)] });
    const seen: string[] = [];
    for (const expected of ['ph-xihu-3', 'ph-xihu-1', 'ph-xihu-2']) {
      const rx = await routed(lingyin, id);
      expect(rx).toMatchObject({ status: 'routed', pharmacyId: expected, rejectedBy: seen });
      const pharmacy = await as('pharmacy', expected);
      const before = await stock(expected, 'XC09CAA001');
      const res = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/reject`, { reason: '库存与系统不符' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'rejected', rejectedBy: [...seen, expected] });
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

  it('no stock anywhere → unroutable, with a PrescriptionUnroutable event for the prescriber', async () => {
    await newDrug('XNOSTOCK01');
    const hubin = await as('clinic', 'clinic-hubin');
    const { prescriptionId: id } = await issue(hubin, { personId: personIds.sc[1], items: [item('XNOSTOCK01')], nominatedPharmacyId: 'ph-sc-1' });
    const rx = await routed(hubin, id);
    expect(rx).toMatchObject({ status: 'unroutable', rejectedBy: [] });
    expect(rx.pharmacyId).toBeUndefined();
    await rt.settle();
    expect(await events('PrescriptionUnroutable', id)).toEqual([
      expect.objectContaining({ prescriptionId: id, prescriberId: 'clinic-hubin', personId: personIds.sc[1], status: 'unroutable', previousStatus: 'issued' }),
    ]);
    expect(await events('PrescriptionRouted', id)).toEqual([]);
  });

  it('the same PrescriptionIssued delivered twice more (racing the bus) routes once', async () => {
    const before = await stock('ph-xihu-3', 'XN02BEA001');
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[3], items: [item('XN02BEA001', 2)] });
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

describe('bad input and access', () => {
  const countItems = async () => {
    await rt.settle();
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const res: ScanCommandOutput = await rt.db.send(new ScanCommand({ TableName: rt.tableName, Select: 'COUNT', ExclusiveStartKey: startKey }));
      count += res.Count ?? 0;
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return count;
  };

  it('400 validation-failed with field errors (unknown drug, bad ICD-10, unregistered nominee) and 422 not-enrolled; nothing written', async () => {
    const before = await countItems();
    const unknownDrug = await rt.call(lingyin, 'POST', '/prescriptions', {
      personId: personIds.xihu[0], diagnoses: ['I10'], items: [item('XC08CAA001'), item('XNOTADRUG1')],
    });
    expect([unknownDrug.status, slug(unknownDrug.body)]).toEqual([400, 'validation-failed']);
    expect(unknownDrug.body.errors).toEqual([{ path: 'body.items.1.drugCode', message: expect.stringContaining('XNOTADRUG1') }]);

    const bad = await rt.call(lingyin, 'POST', '/prescriptions', { personId: personIds.xihu[0], diagnoses: ['high blood pressure'], items: [{ drugCode: 'XC08CAA001', quantity: 0 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body.diagnoses.0', 'body.items.0.quantity', 'body.items.0.dosage']));

    const nominee = await rt.call(lingyin, 'POST', '/prescriptions', { personId: personIds.xihu[0], diagnoses: ['I10'], items: [item('XC08CAA001')], nominatedPharmacyId: 'clinic-beishan' });
    expect([nominee.status, nominee.body.errors?.[0]?.path]).toEqual([400, 'body.nominatedPharmacyId']);

    const stranger = await rt.call(lingyin, 'POST', '/prescriptions', { personId: 'p_notenrolled01', diagnoses: ['I10'], items: [item('XC08CAA001')] });
    expect([stranger.status, slug(stranger.body)]).toEqual([422, 'not-enrolled']);
    expect(await countItems()).toBe(before);
  });

  it('only the prescriber and the routed pharmacy see it (others 404); wrong roles 403', async () => {
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XC08CAA001')] });
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
    expect((await rt.call(await as('pharmacy', 'ph-xihu-3'), 'POST', '/prescriptions', { personId: personIds.xihu[0], diagnoses: ['I10'], items: [item('XC08CAA001')] })).status).toBe(403);
    expect((await rt.call(undefined, 'GET', `/prescriptions/${id}`)).status).toBe(401);
    const ghost = await rt.call(await as('clinic', 'clinic-ghost'), 'POST', '/prescriptions', { personId: personIds.xihu[0], diagnoses: ['I10'], items: [item('XC08CAA001')] });
    expect([ghost.status, slug(ghost.body)]).toEqual([403, 'forbidden']); // not a registered clinic
  });
});

describe('review, dispense, cancel', () => {
  it('racing accept and reject: one wins, the other gets 409 invalid-transition', async () => {
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XC08CAA001')] });
    expect((await routed(lingyin, id)).pharmacyId).toBe('ph-xihu-3');
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const results = await Promise.all([
      rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`),
      rt.call(pharmacy, 'POST', `/prescriptions/${id}/reject`, { reason: '处方不规范' }),
      rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect([r.status, slug(r.body)]).toEqual([409, 'invalid-transition']);
  });

  it('cancel by the prescriber releases the reserved stock; cancelling again or accepting afterwards is 409', async () => {
    const before = await stock('ph-xihu-3', 'XC10AAA005');
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[1], items: [item('XC10AAA005', 4)] });
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

  it('dispense against a real settlement of the same person at the same pharmacy moves reserved stock to dispensed', async () => {
    const channel = await rt.as('channel');
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const settle = async (person: { nationalId: string; name: string }, at: Caller, prescriptionId?: string) => {
      const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' });
      expect([200, 201]).toContain(voucher.status);
      const code = await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`);
      expect(code.status).toBe(201);
      const res = await rt.call(at, 'POST', '/settlements', {
        code: code.body.code, ...(prescriptionId ? { prescriptionId } : {}), items: [{ drugCode: 'XA10BAA001', quantity: 2, unitPriceFen: 1_850 }],
      }, { 'idempotency-key': `rx-e2e-${randomBytes(8).toString('hex')}` });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.settlementId as string;
    };

    const before = await stock('ph-xihu-3', 'XA10BAA001');
    const { prescriptionId: id } = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XA10BAA001', 2)], nominatedPharmacyId: 'ph-xihu-3' });
    // A second prescription of the same person, issued before the settlement, to try paying twice with it.
    const { prescriptionId: second } = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XA10BAA001', 1)], nominatedPharmacyId: 'ph-xihu-3' });
    await routed(lingyin, id);
    await routed(lingyin, second);
    const early = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: 'stl_notyet000' });
    expect([early.status, slug(early.body)]).toEqual([409, 'invalid-transition']); // review comes first
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);

    const unknown = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: 'stl_unknown000' });
    expect([unknown.status, slug(unknown.body), unknown.body.errors[0].path]).toEqual([400, 'validation-failed', 'body.settlementId']);
    const otherPerson = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(people.xihu[1]!, pharmacy) });
    expect(otherPerson.status).toBe(400);
    expect(otherPerson.body.errors.map((e: { message: string }) => e.message)).toEqual(['the settlement is for another person']);
    const otherPharmacy = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(people.xihu[0]!, await as('pharmacy', 'ph-xihu-1')) });
    expect(otherPharmacy.body.errors.map((e: { message: string }) => e.message)).toEqual(['the settlement was made at another institution']);

    const settlementId = await settle(people.xihu[0]!, pharmacy);
    const dispensed = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId });
    expect(dispensed.status, JSON.stringify(dispensed.body)).toBe(200);
    expect(dispensed.body).toMatchObject({ status: 'dispensed', settlementId, pharmacyId: 'ph-xihu-3' });
    const after = await stock('ph-xihu-3', 'XA10BAA001');
    // The second prescription still holds its 1 unit; the first one's 2 moved from reserved to dispensed.
    expect([after.onHand, after.available, after.reserved, after.dispensed]).toEqual([before.onHand - 2, before.available - 3, before.reserved + 1, before.dispensed + 2]);
    const latePrescription = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XA10BAA001', 1)], nominatedPharmacyId: 'ph-xihu-3' });
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
  });
});

describe('stock and worklists', () => {
  it('PUT stock: on-hand quantities, that pharmacy only; available = on hand − reserved; never below what is reserved', async () => {
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
    const { prescriptionId: id } = await issue(hubin, { personId: personIds.sc[2], items: [item('XSTOCKT001', 4)], nominatedPharmacyId: 'ph-sc-1' });
    expect((await routed(hubin, id)).pharmacyId).toBe('ph-sc-1');
    expect(await stock('ph-sc-1', 'XSTOCKT001')).toEqual({ drugCode: 'XSTOCKT001', onHand: 10, available: 6, reserved: 4, dispensed: 0 });

    const below = await putStock('ph-sc-1', [{ drugCode: 'XC08CAA001', quantity: 99 }, { drugCode: 'XSTOCKT001', quantity: 3 }]);
    expect([below.status, slug(below.body)]).toEqual([409, 'conflict']);
    expect((await stock('ph-sc-1', 'XSTOCKT001')).available).toBe(6);
    expect((await stock('ph-sc-1', 'XC08CAA001')).onHand).not.toBe(99); // the whole request was refused
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 4 }])).body.items[0]).toMatchObject({ available: 0, reserved: 4 });
    expect((await putStock('ph-sc-1', [{ drugCode: 'XSTOCKT001', quantity: 9 }])).body.items[0]).toMatchObject({ onHand: 9, available: 5, reserved: 4 });
  });

  it('the seed stocked every pharmacy through the stock route', async () => {
    const res = await rt.call(await as('pharmacy', 'ph-xihu-2'), 'GET', '/pharmacies/ph-xihu-2/stock');
    const codes = res.body.items.map((s: { drugCode: string }) => s.drugCode);
    expect(codes).toContain('XC08CAA001');
    expect(codes).not.toContain('XR03AKA001'); // demoStock: ph-xihu-2 lacks it
  });

  it('worklists by status from the indexes, paginated with an opaque nextToken', async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await issue(lingyin, { personId: personIds.xihu[i], items: [item('XN02BEA001')] })).prescriptionId);
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
      Array.from({ length: 30 }, (_, i) => issue(hubin, { personId: personIds.sc[i % personIds.sc.length], items: [item(drug)] })),
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
});

// Last: a sweep as of three days from now expires every open prescription of this runtime.
describe('expiry', () => {
  it('the sweeper expires overdue prescriptions and releases their stock; again or concurrently, once', async () => {
    const pharmacy = await as('pharmacy', 'ph-xihu-3');
    const before = await stock('ph-xihu-3', 'XJ01CAA001');
    const a = await issue(lingyin, { personId: personIds.xihu[0], items: [item('XJ01CAA001', 2)] });
    const b = await issue(lingyin, { personId: personIds.xihu[1], items: [item('XJ01CAA001', 3)] });
    for (const id of [a.prescriptionId, b.prescriptionId]) expect((await routed(lingyin, id)).pharmacyId).toBe('ph-xihu-3');
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${b.prescriptionId}/accept`)).status).toBe(200);
    expect((await stock('ph-xihu-3', 'XJ01CAA001')).reserved).toBe(before.reserved + 5);

    // Not yet due: nothing happens.
    await rt.runSchedule('prescription-expiry', new Date(Date.parse(a.expiresAt) - 60_000));
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${a.prescriptionId}`)).body.status).toBe('routed');

    const due = new Date(Date.parse(b.expiresAt) + 1_000);
    await Promise.all([rt.runSchedule('prescription-expiry', due), rt.runSchedule('prescription-expiry', due)]);
    await rt.runSchedule('prescription-expiry', due);

    for (const [rx, from] of [[a, 'routed'], [b, 'accepted']] as const) {
      const got = await rt.call(lingyin, 'GET', `/prescriptions/${rx.prescriptionId}`);
      expect(got.body.status).toBe('expired');
      expect(await events('PrescriptionExpired', rx.prescriptionId)).toEqual([expect.objectContaining({ previousStatus: from, pharmacyId: 'ph-xihu-3' })]);
    }
    const after = await stock('ph-xihu-3', 'XJ01CAA001');
    expect([after.available, after.reserved]).toEqual([before.available, before.reserved]);
    const expired = await rt.call(pharmacy, 'GET', '/prescriptions?status=expired&limit=200');
    expect(expired.body.items.map((rx: { prescriptionId: string }) => rx.prescriptionId)).toEqual(expect.arrayContaining([a.prescriptionId, b.prescriptionId]));
    // Nothing open is left in the index, and final statuses were not touched.
    expect((await rt.call(lingyin, 'GET', '/prescriptions?status=routed')).body.items).toEqual([]);
    expect((await rt.call(pharmacy, 'GET', '/prescriptions?status=dispensed')).body.items).toHaveLength(1);
  });
});
