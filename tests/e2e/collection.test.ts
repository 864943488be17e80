// What the pharmacy counter needs of a prescription in v2, over HTTP against the local runtime:
// partial dispensing (the rest stays reserved until a later dispense completes it), telling the
// patient the drugs are ready (an SMS through the real notifier), and long prescriptions for stable
// chronic patients (up to 84 days, with an assessment and consent, only for drugs allowed on one).
import { randomBytes } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { prescriptionKey } from '../../functions/prescriptions/keys.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { provinceDay } from '../support/calendar.ts';
import { outboxEvents } from '../support/table.ts';

let rt: TestRuntime;
let lingyin: Caller;
let pharmacy: Caller;
const PHARMACY = 'ph-xihu-3';
const people = Array.from({ length: 12 }, (_, i) => ({
  nationalId: demoNationalId('330106', '19700707', 800 + i), name: `取药测试${i}`, district: '西湖区', phone: `1381234567${i % 10}`, personalAccountFen: 100_000,
}));
let personIds: string[] = [];
let taken = 0;
const fresh = () => ({ ...people[taken]!, personId: personIds[taken++]! });

beforeAll(async () => {
  rt = await startTestRuntime();
  [lingyin, pharmacy] = await Promise.all([rt.as('clinic', 'clinic-lingyin'), rt.as('pharmacy', PHARMACY)]);
  const res = await rt.call(await rt.as('operator'), 'POST', '/enrollments', { people });
  expect(res.body.rejected).toEqual([]);
  personIds = res.body.personIds;
});
afterAll(() => rt?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const item = (drugCode: string, quantity: number) => ({ drugCode, quantity, dosage: '每日一次，每次一片' });

async function issue(body: Record<string, unknown>) {
  const res = await rt.call(lingyin, 'POST', '/prescriptions', { diagnoses: ['I10'], nominatedPharmacyId: PHARMACY, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { prescriptionId: string; issuedAt: string; expiresAt: string };
}

/** Issued, routed to the nominated pharmacy and accepted (reviewed) there. */
async function accepted(personId: string, items: ReturnType<typeof item>[]) {
  const { prescriptionId } = await issue({ personId, items });
  for (let i = 0; ; i++) {
    const res = await rt.call(pharmacy, 'GET', `/prescriptions/${prescriptionId}`);
    if (res.body?.status === 'routed') break;
    if (i > 600) throw new Error(`${prescriptionId} not routed: ${res.status} ${res.body?.status}`);
    await sleep(50);
  }
  expect((await rt.call(pharmacy, 'POST', `/prescriptions/${prescriptionId}/accept`)).status).toBe(200);
  return prescriptionId;
}

/** Stock of one drug at the pharmacy. */
async function stock(drugCode: string) {
  const res = await rt.call(pharmacy, 'GET', `/pharmacies/${PHARMACY}/stock?limit=200`);
  const found = res.body.items.find((s: { drugCode: string }) => s.drugCode === drugCode);
  return found as { onHand: number; available: number; reserved: number; dispensed: number };
}

/** A real settlement of the person at the pharmacy for `items` (cash for packs without trace codes: enough here). */
async function settle(person: { nationalId: string; name: string }, items: Array<{ drugCode: string; quantity: number }>) {
  const channel = await rt.as('channel');
  const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' });
  const code = await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`);
  const res = await rt.call(pharmacy, 'POST', '/settlements', { code: code.body.code, items: items.map((i) => ({ ...i, unitPriceFen: 2_000 })) }, {
    'idempotency-key': `collect-${randomBytes(8).toString('hex')}`,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.settlementId as string;
}

const dispensedEvents = async (prescriptionId: string) =>
  (await outboxEvents(rt, { prescriptionId }, 'PrescriptionDispensed')).map((e) => e.detail as unknown as { status: string; settlementId: string; items: unknown[] });

describe('partial dispensing', () => {
  it('hands over part, keeps the rest reserved, and a later dispense with another settlement completes it', async () => {
    const p = fresh();
    const before = await stock('XA10BAA001');
    const id = await accepted(p.personId, [item('XA10BAA001', 3), item('XC08CAA001', 2)]);
    const reservedHere = await stock('XA10BAA001');
    expect(reservedHere.reserved).toBe(before.reserved + 3);

    // More than owing, or a drug not on the prescription: 400 naming the line, nothing handed over.
    const first = await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]);
    const tooMany = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 4 }] });
    expect([tooMany.status, slug(tooMany.body), tooMany.body.errors]).toEqual([400, 'validation-failed', [{ path: 'body.items.0.quantity', message: '3 of XA10BAA001 owing' }]]);
    const notOwing = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: [{ drugCode: 'XJ01CAA001', quantity: 1 }] });
    expect(notOwing.body.errors).toEqual([{ path: 'body.items.0.quantity', message: 'XJ01CAA001 is not owing on this prescription' }]);
    // The settlement pays for what is handed over now, not for the whole prescription.
    const unpaid = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 2 }] });
    expect(unpaid.body.errors).toEqual([{ path: 'body.settlementId', message: 'the settlement pays for 1 of XA10BAA001; the prescription needs 2' }]);
    expect(await stock('XA10BAA001')).toEqual(reservedHere);

    const part = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] });
    expect(part.status, JSON.stringify(part.body)).toBe(200);
    expect(part.body).toMatchObject({ status: 'partially-dispensed', settlementId: first, dispensed: [{ drugCode: 'XA10BAA001', quantity: 1 }] });
    const afterPart = await stock('XA10BAA001');
    // One pack left the shelf; the two still owing stay reserved for this patient.
    expect([afterPart.onHand, afterPart.reserved, afterPart.dispensed]).toEqual([reservedHere.onHand - 1, reservedHere.reserved - 1, reservedHere.dispensed + 1]);
    expect(afterPart.available).toBe(reservedHere.available);
    // A settlement pays for each pack once: the one it paid for is handed over.
    const again = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] });
    expect([again.status, slug(again.body)]).toEqual([400, 'validation-failed']);

    // Without items, a dispense hands over everything owing: 2 + 2, and completes the prescription.
    const rest = await settle(p, [{ drugCode: 'XA10BAA001', quantity: 2 }, { drugCode: 'XC08CAA001', quantity: 2 }]);
    const done = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: rest });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({
      status: 'dispensed',
      settlementId: rest,
      dispensed: [{ drugCode: 'XA10BAA001', quantity: 3 }, { drugCode: 'XC08CAA001', quantity: 2 }],
      dispenses: [
        { settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] },
        { settlementId: rest, items: [{ drugCode: 'XA10BAA001', quantity: 2 }, { drugCode: 'XC08CAA001', quantity: 2 }] },
      ],
    });
    const after = await stock('XA10BAA001');
    expect([after.onHand, after.reserved, after.dispensed, after.available]).toEqual([before.onHand - 3, before.reserved, before.dispensed + 3, before.available - 3]);
    // Each dispense's event says what it handed over.
    expect(await dispensedEvents(id)).toEqual([
      expect.objectContaining({ status: 'partially-dispensed', settlementId: first, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] }),
      expect.objectContaining({ status: 'dispensed', settlementId: rest, items: [{ drugCode: 'XA10BAA001', quantity: 2 }, { drugCode: 'XC08CAA001', quantity: 2 }] }),
    ]);
    // Both settlements paid for handed-over drugs: neither can be reversed.
    for (const s of [first, rest]) expect((await rt.call(pharmacy, 'POST', `/settlements/${s}/reversal`)).status).toBe(409);
    const more = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]) });
    expect([more.status, slug(more.body)]).toEqual([409, 'invalid-transition']);
  });

  it('a settlement that paid for more than one dispense hands over pays for the next, never for a pack twice', async () => {
    const p = fresh();
    const id = await accepted(p.personId, [item('XA10BAA001', 3)]);
    // Paid for all three, one on the shelf today: handed over, the rest stays reserved and paid for.
    const all = await settle(p, [{ drugCode: 'XA10BAA001', quantity: 3 }]);
    const read = async () => (await rt.call(pharmacy, 'GET', `/settlements/${all}`)).body;
    const handedOverAt = async () => (await read()).handedOverAt;
    expect(await handedOverAt()).toBeUndefined();
    const part = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: all, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] });
    expect([part.status, part.body.status]).toEqual([200, 'partially-dispensed']);
    // The settlement says when it was first handed over against (当日结算 then offers no reversal), in the list too.
    expect(await handedOverAt()).toBe(part.body.dispenses[0].at);
    const listed = (await rt.call(pharmacy, 'GET', `/settlements?date=${provinceDay((await read()).settledAt)}&limit=200`)).body.items.find((x: { settlementId: string }) => x.settlementId === all);
    expect(listed?.handedOverAt).toBe(part.body.dispenses[0].at);
    // Handed over against it when they come, and no more than it paid for.
    const tooMany = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: all, items: [{ drugCode: 'XA10BAA001', quantity: 3 }] });
    expect([tooMany.status, slug(tooMany.body)]).toEqual([400, 'validation-failed']);
    const rest = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: all });
    expect([rest.status, rest.body.status, rest.body.dispensed]).toEqual([200, 'dispensed', [{ drugCode: 'XA10BAA001', quantity: 3 }]]);
    // The first hand-over's time is kept.
    expect(await handedOverAt()).toBe(part.body.dispenses[0].at);
    expect((await dispensedEvents(id)).map((e) => [e.settlementId, e.items])).toEqual([[all, [{ drugCode: 'XA10BAA001', quantity: 1 }]], [all, [{ drugCode: 'XA10BAA001', quantity: 2 }]]]);
    // A settlement that paid for one prescription's dispense pays for no other's, even of the same person.
    const [first, second] = [await accepted(p.personId, [item('XC08CAA001', 1)]), await accepted(p.personId, [item('XA10BAA001', 1)])];
    const both = await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }, { drugCode: 'XC08CAA001', quantity: 1 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${first}/dispense`, { settlementId: both })).body.status).toBe('dispensed');
    const refused = await rt.call(pharmacy, 'POST', `/prescriptions/${second}/dispense`, { settlementId: both });
    expect([refused.status, slug(refused.body), refused.body.detail]).toEqual([409, 'conflict', `settlement ${both} already paid for prescription ${first}`]);
    // Nothing left reserved for the tests after.
    expect((await rt.call(lingyin, 'POST', `/prescriptions/${second}/cancel`)).status).toBe(200);
  });

  it('cancelling a partly dispensed prescription releases only what is still owing', async () => {
    const p = fresh();
    const id = await accepted(p.personId, [item('XA10BAA001', 4)]);
    const reserved = await stock('XA10BAA001');
    const part = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, {
      settlementId: await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]), items: [{ drugCode: 'XA10BAA001', quantity: 1 }],
    });
    expect(part.body.status).toBe('partially-dispensed');
    const cancelled = await rt.call(lingyin, 'POST', `/prescriptions/${id}/cancel`);
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled']);
    const after = await stock('XA10BAA001');
    expect([after.onHand, after.reserved, after.available, after.dispensed]).toEqual([reserved.onHand - 1, reserved.reserved - 4, reserved.available + 3, reserved.dispensed + 1]);
    const event = (await outboxEvents(rt, { prescriptionId: id }, 'PrescriptionCancelled'))[0]!.detail;
    expect(event).toMatchObject({ previousStatus: 'partially-dispensed', items: [{ drugCode: 'XA10BAA001', quantity: 3 }] });
  });

  it('expiry of a partly dispensed prescription releases what is still reserved, once', async () => {
    const p = fresh();
    const id = await accepted(p.personId, [item('XA10BAA001', 5)]);
    const reserved = await stock('XA10BAA001');
    await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, [{ drugCode: 'XA10BAA001', quantity: 2 }]), items: [{ drugCode: 'XA10BAA001', quantity: 2 }] });
    const { expiresAt } = (await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body;
    const due = new Date(Date.parse(expiresAt) + 1_000);
    await Promise.all([rt.runSchedule('prescription-expiry', due), rt.runSchedule('prescription-expiry', due)]);
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body).toMatchObject({ status: 'expired', dispensed: [{ drugCode: 'XA10BAA001', quantity: 2 }] });
    const after = await stock('XA10BAA001');
    expect([after.onHand, after.reserved, after.available, after.dispensed]).toEqual([reserved.onHand - 2, reserved.reserved - 5, reserved.available + 3, reserved.dispensed + 2]);
    const expired = await outboxEvents(rt, { prescriptionId: id }, 'PrescriptionExpired');
    expect(expired.map((e) => e.detail)).toEqual([expect.objectContaining({ previousStatus: 'partially-dispensed', items: [{ drugCode: 'XA10BAA001', quantity: 3 }] })]);
  });

  it('racing partial dispenses never hand over more than was prescribed', async () => {
    const p = fresh();
    const id = await accepted(p.personId, [item('XA10BAA001', 3)]);
    const before = await stock('XA10BAA001');
    const settlements = await Promise.all(Array.from({ length: 5 }, () => settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }])));
    const answers = await Promise.all(
      settlements.map((settlementId) => rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId, items: [{ drugCode: 'XA10BAA001', quantity: 1 }] })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    for (const a of answers.filter((x) => x.status !== 200)) expect([400, 409]).toContain(a.status);
    const rx = (await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body;
    expect(rx).toMatchObject({ status: 'dispensed', dispensed: [{ drugCode: 'XA10BAA001', quantity: 3 }] });
    expect(rx.dispenses).toHaveLength(3);
    const after = await stock('XA10BAA001');
    expect([after.onHand, after.reserved, after.dispensed]).toEqual([before.onHand - 3, before.reserved - 3, before.dispensed + 3]);
    // The settlements that paid for no dispense can still be reversed.
    const unused = settlements.filter((s) => !rx.dispenses.some((d: { settlementId: string }) => d.settlementId === s));
    expect(unused).toHaveLength(2);
    for (const s of unused) expect((await rt.call(pharmacy, 'POST', `/settlements/${s}/reversal`)).status).toBe(200);
  });
});

describe('ready to collect', () => {
  async function notificationsOf(personId: string) {
    await rt.settle();
    const res = await rt.db.send(
      new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `NOTIFICATION#${personId}` }, ConsistentRead: true }),
    );
    return res.Items ?? [];
  }

  it('after review, the routed pharmacy tells the patient to collect: readyAt, an event, one SMS', async () => {
    const p = fresh();
    const { prescriptionId: id } = await issue({ personId: p.personId, items: [item('XA10BAA001', 1)] });
    for (let i = 0; (await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.status !== 'routed'; i++) {
      if (i > 600) throw new Error('not routed');
      await sleep(50);
    }
    const early = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`);
    expect([early.status, slug(early.body)]).toEqual([409, 'invalid-transition']);
    expect(early.body.detail).toContain('accept (review)');
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);

    // Only the pharmacy it is routed to: another pharmacy does not see it, a prescriber may not.
    const elsewhere = await rt.call(await rt.as('pharmacy', 'ph-xihu-1'), 'POST', `/prescriptions/${id}/ready`);
    expect([elsewhere.status, slug(elsewhere.body)]).toEqual([404, 'not-found']);
    expect((await rt.call(lingyin, 'POST', `/prescriptions/${id}/ready`)).status).toBe(403);

    // A body this route does not take is ignored; one that is not JSON is refused, and nothing is done.
    const garbled = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`, '{');
    expect([garbled.status, slug(garbled.body)]).toEqual([400, 'validation-failed']);
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.readyAt).toBeUndefined();

    const ready = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`, {});
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toMatchObject({ status: 'accepted', readyAt: expect.any(String) });
    expect((await rt.call(lingyin, 'GET', `/prescriptions/${id}`)).body.readyAt).toBe(ready.body.readyAt);
    const events = await outboxEvents(rt, { prescriptionId: id }, 'PrescriptionReady');
    expect(events.map((e) => e.detail)).toEqual([expect.objectContaining({ personId: p.personId, pharmacyId: PHARMACY, status: 'accepted' })]);
    const sms = (await notificationsOf(p.personId)).filter((n) => n.detailType === 'PrescriptionReady');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.text).toMatch(/^【医联体】您在.+的处方药品已备好，请携带医保电子凭证到店取药。$/);
    expect(sms[0]!.text).not.toContain(p.name);

    // Dispensed, it is no longer waiting to be collected.
    await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]) });
    const late = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`);
    expect([late.status, slug(late.body)]).toEqual([409, 'invalid-transition']);
  });

  it('a repeated ready tells the patient once: the same answer, nothing written; after part is handed over, once more', async () => {
    const p = fresh();
    const id = await accepted(p.personId, [item('XA10BAA001', 3)]);
    const readyEvents = async () => (await outboxEvents(rt, { prescriptionId: id }, 'PrescriptionReady')).length;
    const sms = async () => (await notificationsOf(p.personId)).filter((n) => n.detailType === 'PrescriptionReady').length;
    const stored = async () => (await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: prescriptionKey(id), ConsistentRead: true }))).Item;

    const first = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const written = await stored();
    // A POS retry, a double click, two at once: the first answer again, the original readyAt, no write.
    const repeats = [await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`), ...(await Promise.all([1, 2, 3].map(() => rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`))))];
    for (const r of repeats) expect([r.status, r.body]).toEqual([200, first.body]);
    expect(await stored()).toEqual(written);
    expect([await readyEvents(), await sms()]).toEqual([1, 1]);

    // The patient takes one pack; when the rest is ready they are told again, once.
    const part = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: await settle(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]), items: [{ drugCode: 'XA10BAA001', quantity: 1 }] });
    expect(part.body.status).toBe('partially-dispensed');
    const rest = await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`);
    expect(rest.status).toBe(200);
    expect(Date.parse(rest.body.readyAt)).toBeGreaterThan(Date.parse(first.body.readyAt));
    expect(await rt.call(pharmacy, 'POST', `/prescriptions/${id}/ready`)).toMatchObject({ status: 200, body: rest.body });
    expect([await readyEvents(), await sms()]).toEqual([2, 2]);
  });
});

describe('long prescriptions', () => {
  const longTerm = { assessment: '高血压病史五年，血压控制稳定，近三个月无调药', patientConsent: true };

  it('over 28 days needs the assessment and consent; only drugs allowed on one; up to 84 days', async () => {
    const p = fresh();
    const post = (body: Record<string, unknown>) => rt.call(lingyin, 'POST', '/prescriptions', { diagnoses: ['I10'], personId: p.personId, ...body });
    const errors = async (body: Record<string, unknown>) => {
      const res = await post(body);
      expect([res.status, slug(res.body)]).toEqual([400, 'validation-failed']);
      return res.body.errors.map((e: { path: string }) => e.path);
    };
    expect(await errors({ items: [item('XA10BAA001', 56)], supplyDays: 56 })).toEqual(['body.longTerm']);
    expect(await errors({ items: [item('XA10BAA001', 56)], supplyDays: 56, longTerm: { ...longTerm, patientConsent: false } })).toEqual(['body.longTerm.patientConsent']);
    expect(await errors({ items: [item('XA10BAA001', 28)], supplyDays: 28, longTerm })).toEqual(['body.supplyDays']);
    expect(await errors({ items: [item('XA10BAA001', 85)], supplyDays: 85, longTerm })).toEqual(['body.supplyDays']);
    // An invalid supplyDays is the only error: nothing else is worked out from it.
    expect(await errors({ items: [item('XA10BAA001', 2)], supplyDays: 0 })).toEqual(['body.supplyDays']);
    expect(await errors({ items: [item('XA10BAA001', 57)], supplyDays: 56, longTerm })).toEqual(['body.items.0.quantity']);
    // An antibiotic is never on a long prescription, whatever the doctor writes.
    expect(await errors({ items: [item('XA10BAA001', 56), item('XJ01CAA001', 2)], supplyDays: 56, longTerm })).toEqual(['body.items.1.drugCode']);
    // Nothing was written by any of those.
    expect((await rt.call(lingyin, 'GET', '/prescriptions?status=issued&limit=200')).body.items.filter((r: { personId: string }) => r.personId === p.personId)).toEqual([]);

    const rx = await issue({ personId: p.personId, items: [item('XA10BAA001', 84)], supplyDays: 84, longTerm });
    expect(rx).toMatchObject({ supplyDays: 84, longTerm });
    // A long prescription stays valid for the province's long validity (28 days in the demo province).
    expect(Date.parse(rx.expiresAt) - Date.parse(rx.issuedAt)).toBe(672 * 3_600_000);
    const normal = await issue({ personId: fresh().personId, items: [item('XA10BAA001', 2)] });
    expect(Date.parse(normal.expiresAt) - Date.parse(normal.issuedAt)).toBe(72 * 3_600_000);
  });
});
