// The prescription router and expiry sweeper on real DynamoDB Local, driven directly (as the bus and
// the schedule would) alongside the running platform: redelivered rejections, prescriptions past
// their validity (which neither get routed nor accepted nor dispensed, whatever the sweeper has
// done yet), and concurrent sweeps paging through the expiry index.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRICTS, demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { applyTransition, newPrescription, owing, type PrescriptionRecord } from '../../functions/prescriptions/domain.ts';
import { routePrescription } from '../../functions/prescriptions/router.ts';
import * as store from '../../functions/prescriptions/store.ts';
import { HttpProblem } from '../../functions/shared/errors.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { outboxEvents } from '../support/table.ts';

let rt: TestRuntime;
let hubin: Caller;
/** Enrolled people of 上城区, one per prescription of a drug (one open prescription of a drug per person). */
const people: string[] = [];
let next = 0;
const person = () => people[next++]!;

beforeAll(async () => {
  rt = await startTestRuntime();
  hubin = await rt.as('clinic', 'clinic-hubin');
  const res = await rt.call(await rt.as('operator'), 'POST', '/enrollments', {
    people: Array.from({ length: 170 }, (_, i) => ({ nationalId: demoNationalId('330102', '19700303', 100 + i), name: `集成测试${i}`, district: DISTRICTS.shangcheng, personalAccountFen: 0 })),
  });
  people.push(...res.body.personIds);
});
afterAll(() => rt?.stop());

const item = (drugCode: string, quantity = 1) => ({ drugCode, quantity, dosage: '1 tablet once daily' });

const outbox = async (detailType: string) => (await outboxEvents(rt, {}, detailType)).map((e) => e.detail as Record<string, unknown>);

const busEvent = (detailType: string, detail: unknown) => ({
  version: '0', id: `test-${Math.random()}`, 'detail-type': detailType, source: 'consortium.prescriptions',
  account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail,
});

async function stockOf(pharmacyId: string, drugCode: string) {
  const res = await rt.call(await rt.as('pharmacy', pharmacyId), 'GET', `/pharmacies/${pharmacyId}/stock?limit=200`);
  return res.body.items.find((s: { drugCode: string }) => s.drugCode === drugCode) as { onHand: number; available: number; reserved: number; dispensed: number };
}

describe('prescription router', () => {
  it('a PrescriptionRejected delivered again after the prescription was routed elsewhere changes nothing', { tags: ['any-day'] }, async () => {
    const issued = await rt.call(hubin, 'POST', '/prescriptions', { personId: person(), diagnoses: ['J45.901'], items: [item('XC08CAA001')] });
    const id = issued.body.prescriptionId as string;
    await rt.settle();
    expect((await store.getPrescription(id))?.pharmacyId).toBe('ph-sc-2');
    const res = await rt.call(await rt.as('pharmacy', 'ph-sc-2'), 'POST', `/prescriptions/${id}/reject`, { reason: '缺货' });
    expect(res.status).toBe(200);
    await rt.settle();
    const rerouted = await store.getPrescription(id);
    expect(rerouted).toMatchObject({ status: 'routed', pharmacyId: 'ph-sc-1', rejectedBy: ['ph-sc-2'] });

    const rejected = (await outbox('PrescriptionRejected')).find((d) => d.prescriptionId === id);
    await Promise.all([invoke('prescriptionRouter', busEvent('PrescriptionRejected', rejected)), invoke('prescriptionRouter', busEvent('PrescriptionRejected', rejected))]);
    expect(await store.getPrescription(id)).toEqual(rerouted);
    expect((await outbox('PrescriptionRouted')).filter((d) => d.prescriptionId === id)).toHaveLength(2);
  });

  it('leaves a prescription past its validity to the sweeper instead of reserving stock for it', async () => {
    const candidates = ['ph-sc-1', 'ph-sc-2', 'ph-sc-3']; // the person's district: where it would be routed
    const before = await Promise.all(candidates.map((p) => stockOf(p, 'XC08CAA001')));
    const issuedAt = new Date(Date.now() - 80 * 3_600_000);
    const rx = newPrescription({ prescriptionId: 'rx_stale0000000000000000000001', prescriberId: 'clinic-hubin', personId: person(), diagnoses: ['I10'], items: [item('XC08CAA001')], now: issuedAt, validityHours: 72 });
    await store.putIssued(rx, { now: issuedAt });
    await rt.settle(); // the relay published PrescriptionIssued and the router saw it

    // Called directly, as a redelivery would: it skips, twice, and nothing moves.
    expect(await routePrescription(rx.prescriptionId)).toBe('skipped');
    expect(await routePrescription(rx.prescriptionId)).toBe('skipped');
    expect(await store.getPrescription(rx.prescriptionId)).toEqual(rx);
    expect(await Promise.all(candidates.map((p) => stockOf(p, 'XC08CAA001')))).toEqual(before);
    expect((await outbox('PrescriptionRouted')).filter((d) => d.prescriptionId === rx.prescriptionId)).toEqual([]);

    await rt.runSchedule('prescription-expiry', new Date());
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('expired');
    expect(await Promise.all(candidates.map((p) => stockOf(p, 'XC08CAA001')))).toEqual(before);
  });
});

describe('waiting for stock', () => {
  it('an unroutable prescription whose validity ended is not routed when stock arrives; the sweeper expires it and takes it off the list', async () => {
    const operator = await rt.as('operator');
    await rt.call(operator, 'PUT', '/drugs/XLATE0001', { name: '迟到药', category: 'A', unit: '盒' });
    // Valid 72 h from 5 s short of 72 h ago: marked unroutable at once, its validity ends in 5 s.
    const issuedAt = new Date(Date.now() - 72 * 3_600_000 + 5_000);
    const rx = newPrescription({ prescriptionId: 'rx_waitlate000000000000000001', prescriberId: 'clinic-hubin', personId: person(), diagnoses: ['I10'], items: [item('XLATE0001')], now: issuedAt, validityHours: 72 });
    await store.putIssued(rx, { now: issuedAt });
    await rt.settle();
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('unroutable');

    const after = new Date(Date.parse(rx.expiresAt) + 1);
    const waiting = async (at: Date) => (await store.waitingOn([`RX#WAITING#DISTRICT#${DISTRICTS.shangcheng}`], at)).map((w) => w.prescriptionId);
    expect(await store.waitingOn([`RX#WAITING#DISTRICT#${DISTRICTS.shangcheng}`], new Date())).toContainEqual({ prescriptionId: rx.prescriptionId, drugCodes: ['XLATE0001'] });
    expect(await waiting(after)).not.toContain(rx.prescriptionId);

    // Past its validity, stock arrives: the router leaves it to the sweeper (no route, no reservation).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(rx.expiresAt) - Date.now() + 10)));
    expect(await routePrescription(rx.prescriptionId)).toBe('skipped');
    await rt.call(await rt.as('pharmacy', 'ph-sc-1'), 'PUT', '/pharmacies/ph-sc-1/stock', { items: [{ drugCode: 'XLATE0001', quantity: 5 }] });
    await rt.settle();
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('unroutable');
    expect(await stockOf('ph-sc-1', 'XLATE0001')).toMatchObject({ available: 5, reserved: 0 });

    await rt.runSchedule('prescription-expiry', new Date());
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('expired');
    expect(await waiting(new Date(0))).not.toContain(rx.prescriptionId);
  });
});

describe('validity', () => {
  const drug = 'XC08CAA001';

  /**
   * A prescription valid for `validityHours` from `issuedAt`, issued through the store (the platform's
   * router routes it if it is still valid; if not, it is routed to ph-sc-3 here, at a time within its
   * validity, as the router would have), then moved on through `moves` within its validity.
   */
  async function prescriptionAt(id: string, issuedAt: Date, validityHours: number, moves: Array<'accept'>): Promise<PrescriptionRecord> {
    const issued = newPrescription({ prescriptionId: id, prescriberId: 'clinic-hubin', personId: person(), diagnoses: ['I10'], items: [item(drug, 2)], now: issuedAt, validityHours });
    await store.putIssued(issued, { now: issuedAt });
    await rt.settle();
    let rx = (await store.getPrescription(id))!;
    const step = async (action: 'route' | 'accept', at: Date, actor: 'router' | 'pharmacy') => {
      const next = applyTransition(rx, action, { at, actor, ...(action === 'route' ? { pharmacyId: 'ph-sc-3' } : { by: rx.pharmacyId }) });
      await store.writeTransition(rx, next, { now: at });
      rx = next;
    };
    if (rx.status === 'issued') await step('route', new Date(issuedAt.getTime() + 1_000), 'router');
    expect(rx.status).toBe('routed');
    for (const [i, action] of moves.entries()) await step(action, new Date(issuedAt.getTime() + 2_000 + i), 'pharmacy');
    return rx;
  }

  it('a prescription whose validity ended cannot be accepted or dispensed, though the sweeper has not run yet: 409, nothing changed', async () => {
    const before = await stockOf('ph-sc-3', drug);
    const issuedAt = new Date(Date.now() - 73 * 3_600_000); // valid for 72 h: ended an hour ago
    const routedRx = await prescriptionAt('rx_overdue0000000000000000001', issuedAt, 72, []);
    const acceptedRx = await prescriptionAt('rx_overdue0000000000000000002', issuedAt, 72, ['accept']);
    for (const rx of [routedRx, acceptedRx]) expect(rx.pharmacyId).toBe('ph-sc-3'); // the router left them alone
    const held = { ...before, available: before.available - 4, reserved: before.reserved + 4 };
    expect(await stockOf('ph-sc-3', drug)).toEqual(held);

    const pharmacy = await rt.as('pharmacy', 'ph-sc-3');
    const accept = await rt.call(pharmacy, 'POST', `/prescriptions/${routedRx.prescriptionId}/accept`);
    expect([accept.status, slug(accept.body)]).toEqual([409, 'invalid-transition']);
    expect(accept.body.detail).toContain(`expired at ${routedRx.expiresAt}`);
    const dispense = await rt.call(pharmacy, 'POST', `/prescriptions/${acceptedRx.prescriptionId}/dispense`, { settlementId: 'stl_anything01' });
    expect([dispense.status, slug(dispense.body)]).toEqual([409, 'invalid-transition']);
    expect(dispense.body.detail).toContain(`expired at ${acceptedRx.expiresAt}`);

    expect(await store.getPrescription(routedRx.prescriptionId)).toEqual(routedRx);
    expect(await store.getPrescription(acceptedRx.prescriptionId)).toEqual(acceptedRx);
    expect(await stockOf('ph-sc-3', drug)).toEqual(held);

    // The sweeper then expires both and releases what they held.
    await rt.runSchedule('prescription-expiry', new Date());
    for (const rx of [routedRx, acceptedRx]) expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('expired');
    expect(await stockOf('ph-sc-3', drug)).toEqual(before);
  });

  it('the write itself is conditional on the validity: a move decided before the deadline but written at or after it loses', async () => {
    // Valid for about one more hour: the platform's router routes it.
    const routedRx = await prescriptionAt('rx_deadline000000000000000001', new Date(Date.now() - 71 * 3_600_000), 72, []);
    const pharmacyId = routedRx.pharmacyId!;
    const held = await stockOf(pharmacyId, drug);
    const deadline = new Date(routedRx.expiresAt);
    const justBefore = new Date(deadline.getTime() - 1);

    // Decided (and checked by the domain) just before the deadline, written at it: refused by DynamoDB.
    const accepted = applyTransition(routedRx, 'accept', { at: justBefore, actor: 'pharmacy', by: pharmacyId });
    const refused = await store.writeTransition(routedRx, accepted, { now: deadline }).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect(refused).toMatchObject({ slug: 'invalid-transition', detail: expect.stringContaining('expired') });
    expect(await store.getPrescription(routedRx.prescriptionId)).toEqual(routedRx);

    // Written just before it: accepted. Then a dispense written at or after the deadline loses the same way.
    await store.writeTransition(routedRx, accepted, { now: justBefore });
    const dispensed = applyTransition(accepted, 'dispense', { at: justBefore, actor: 'pharmacy', by: pharmacyId, settlementId: 'stl_anything02', items: owing(accepted) });
    for (const at of [deadline, new Date(deadline.getTime() + 60_000)]) {
      await expect(store.writeTransition(accepted, dispensed, { now: at })).rejects.toMatchObject({ slug: 'invalid-transition' });
    }
    expect(await store.getPrescription(routedRx.prescriptionId)).toEqual(accepted);
    expect(await stockOf(pharmacyId, drug)).toEqual(held);

    // Expiry is not conditional on the validity: the sweeper's move at the deadline goes through and releases the stock.
    await store.writeTransition(accepted, applyTransition(accepted, 'expire', { at: deadline, actor: 'sweeper' }), { now: deadline });
    expect(await stockOf(pharmacyId, drug)).toEqual({ ...held, available: held.available + 2, reserved: held.reserved - 2 });
  });
});

describe('expiry sweeper', () => {
  // 150 prescriptions issued and routed to one stock row through the platform: minutes on a busy 2-core machine.
  it('three concurrent sweeps page through 150 overdue prescriptions (several pages per shard) and expire each once, releasing every reservation', async () => {
    const drug = 'XSWEEP0001';
    await rt.call(await rt.as('operator'), 'PUT', `/drugs/${drug}`, { name: '清扫测试药', category: 'C', unit: '盒' });
    const pharmacy = await rt.as('pharmacy', 'ph-sc-2');
    expect((await rt.call(pharmacy, 'PUT', '/pharmacies/ph-sc-2/stock', { items: [{ drugCode: drug, quantity: 1_000 }] })).status).toBe(200);

    const ids: string[] = [];
    for (let i = 0; i < 150; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () => rt.call(hubin, 'POST', '/prescriptions', { personId: person(), diagnoses: ['I10'], items: [item(drug, 2)] })),
      );
      ids.push(...batch.map((r) => r.body.prescriptionId as string));
    }
    await rt.settle();
    expect(await stockOf('ph-sc-2', drug)).toMatchObject({ available: 700, reserved: 300 });
    // Some accepted too: they hold stock the same way.
    for (const id of ids.slice(0, 10)) expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);

    const due = new Date(Date.now() + 73 * 3_600_000);
    await Promise.all([1, 2, 3].map(() => rt.runSchedule('prescription-expiry', due)));

    for (const id of ids) expect((await store.getPrescription(id))?.status).toBe('expired');
    expect(await stockOf('ph-sc-2', drug)).toMatchObject({ available: 1_000, reserved: 0 });
    const expired = (await outbox('PrescriptionExpired')).filter((d) => ids.includes(String(d.prescriptionId)));
    expect(expired).toHaveLength(150);
    expect(new Set(expired.map((d) => d.prescriptionId)).size).toBe(150);
  }, 180_000);
});
