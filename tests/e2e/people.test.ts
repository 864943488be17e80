// The person's rights over HTTP (API.md v2): their timeline, their access log (every read or change
// of their records by someone else, within 10 s, not lost when the function's process goes away
// after answering), and the export of everything held about them, checked against every item of
// theirs in the table.
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillPayerTimelines } from '../../functions/people/backfill.ts';
import { timelineKey } from '../../functions/people/keys.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { clearOfMidnight } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { scanAll } from '../support/table.ts';
import { traced } from '../support/trace-codes.ts';

let rt: TestRuntime;
let operator: Caller;
let channel: Caller;
let lingyin: Caller;
let zjph: Caller;
let pharmacy: Caller;
let seq = 0;

beforeAll(async () => {
  rt = await startTestRuntime({ logRetryDelaysMs: [50, 100] });
  [operator, channel, lingyin, pharmacy] = await Promise.all([rt.as('operator'), rt.as('channel'), rt.as('clinic', 'clinic-lingyin'), rt.as('pharmacy', 'ph-xihu-1')]);
  zjph = { token: await rt.token('hospital', 'hosp-zjph', { subject: 'nurse-chen' }) };
});
afterAll(() => rt?.stop());

/** A person of their own for each test, with a voucher; returns their id, national ID and their own app's token. */
async function newPerson(personalAccountFen = 80_000) {
  const nationalId = demoNationalId('330106', '19660606', 600 + seq++);
  const name = `本人${seq}`;
  const res = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name, phone: '13900001234', district: '西湖区', personalAccountFen, annualPooledUsedFen: 1 }] });
  const personId: string = res.body.personIds[0];
  const voucherId: string = (await rt.call(channel, 'POST', '/vouchers', { nationalId, name, channel: 'wechat' })).body.voucherId;
  return { personId, nationalId, name, voucherId, self: await rt.asPerson(personId) };
}

const refer = async (personId: string) => {
  const res = await rt.call(lingyin, 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
  expect(res.status).toBe(201);
  return res.body.referralId as string;
};

const accessLog = async (self: Caller, personId: string) => {
  const res = await rt.call(self, 'GET', `/people/${personId}/access-log?limit=200`);
  expect(res.status).toBe(200);
  return res.body.items as Array<{ at: string; actor: { role: string; institutionId?: string; user: string }; action: string; resource: string; operation: string }>;
};

type TimelineItem = { kind: string; id: string; status: string; institutionId: string; beneficiaryPersonId?: string; amountFen?: number };
const timelineOf = async (x: { self: Caller; personId: string }) => (await rt.call(x.self, 'GET', `/people/${x.personId}/timeline`)).body.items as TimelineItem[];

/** A settled purchase of a person whose own account is empty, a relative's account paying their share (family mutual aid). */
async function relativePays(packs: number, unitPriceFen: number) {
  const payer = await newPerson();
  const child = await newPerson(0);
  expect((await rt.call(payer.self, 'POST', '/family-bindings', { beneficiaryNationalId: child.nationalId, beneficiaryName: child.name, relation: 'child' })).status).toBe(201);
  const code = (await rt.call(channel, 'POST', `/vouchers/${child.voucherId}/codes`)).body.code;
  const settled = await rt.call(pharmacy, 'POST', '/settlements', { code, items: [traced({ drugCode: 'XC08CAA001', quantity: packs, unitPriceFen })] }, { 'idempotency-key': `mutual-aid-${child.personId}` });
  expect(settled.status).toBe(201);
  const s = settled.body as { settlementId: string; totalFen: number; mutualAidFen: number; mutualAidPayerId: string; settledAt: string };
  expect(s.mutualAidFen).toBeGreaterThan(0);
  expect(s.mutualAidPayerId).toBe(payer.personId);
  await rt.settle();
  return { payer, child, s };
}

describe('access log', () => {
  it('a hospital reading a referral appears in the person\'s access log within 10 s, with who, what and how', async () => {
    const p = await newPerson();
    const referralId = await refer(p.personId);
    const started = Date.now();
    expect((await rt.call(zjph, 'GET', `/referrals/${referralId}`)).status).toBe(200);
    let entry: Awaited<ReturnType<typeof accessLog>>[number] | undefined;
    while (!entry && Date.now() - started < 10_000) {
      entry = (await accessLog(p.self, p.personId)).find((e) => e.operation === 'getReferral');
      if (!entry) await new Promise((r) => setTimeout(r, 100));
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(entry).toMatchObject({ actor: { role: 'hospital', institutionId: 'hosp-zjph', user: 'nurse-chen' }, action: 'read', resource: `/referrals/${referralId}` });
  });

  it('logs reads, list results and changes by others, newest first; not the person\'s own requests, nor refused ones', async () => {
    const p = await newPerson();
    const referralId = await refer(p.personId);
    await rt.call(zjph, 'GET', '/referrals?box=incoming&status=submitted&limit=200');
    await rt.call(zjph, 'POST', `/referrals/${referralId}/accept`, { appointmentAt: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    await rt.call(operator, 'GET', `/enrollments/${p.personId}`);
    await rt.call(lingyin, 'POST', '/people/lookup', { nationalId: p.nationalId });
    await rt.call(operator, 'GET', `/people/${p.personId}/timeline`);
    // Refused: a stranger's read of the referral (404) and another person's token (403).
    expect((await rt.call(await rt.as('hospital', 'hosp-xihu'), 'GET', `/referrals/${referralId}`)).status).toBe(404);
    const other = await newPerson();
    expect((await rt.call(other.self, 'GET', `/people/${p.personId}/timeline`)).status).toBe(403);
    // The person's own reads.
    await rt.call(p.self, 'GET', `/people/${p.personId}/timeline`);
    await rt.call(p.self, 'GET', `/people/${p.personId}/access-log`);
    await rt.settle();

    const log = await accessLog(p.self, p.personId);
    const seen = log.map((e) => [e.operation, e.action, e.actor.institutionId ?? e.actor.role, e.resource]);
    expect(seen).toEqual([
      ['getTimeline', 'read', 'operator', `/people/${p.personId}/timeline`],
      ['lookupPerson', 'read', 'clinic-lingyin', `/enrollments/${p.personId}`],
      ['getEnrolment', 'read', 'operator', `/enrollments/${p.personId}`],
      ['acceptReferral', 'write', 'hosp-zjph', `/referrals/${referralId}`],
      ['listReferrals', 'read', 'hosp-zjph', `/referrals/${referralId}`],
      ['createReferral', 'write', 'clinic-lingyin', `/referrals/${referralId}`],
      ['activateVoucher', 'write', 'channel', `/vouchers/${p.voucherId}`],
      ['enrol', 'write', 'operator', `/enrollments/${p.personId}`],
    ]);
    // Newest first.
    expect(log.map((e) => e.at)).toEqual([...log.map((e) => e.at)].sort().reverse());
    // Kept six months and more, then removed by the table's TTL.
    const stored = (await scanAll(rt, { FilterExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `ACCESS#${p.personId}` } }))[0]!;
    const keptDays = (Number(stored.expiresAt) * 1000 - Date.parse(String(stored.at))) / 86_400_000;
    expect(keptDays).toBeGreaterThanOrEqual(184);
    expect(keptDays).toBeLessThan(200);
  });

  it("a QR code issued for the person's voucher by an app acting without them is a change in their log; by their own app it is not", { tags: ['any-day'] }, async () => {
    const p = await newPerson();
    expect((await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).status).toBe(201);
    // The same app with a token acting for the person: their own doing.
    expect((await rt.call(p.self, 'POST', `/vouchers/${p.voucherId}/codes`)).status).toBe(201);
    // Refused (another person's token): nothing changed, nothing logged.
    expect((await rt.call((await newPerson()).self, 'POST', `/vouchers/${p.voucherId}/codes`)).status).toBe(404);
    await rt.settle();
    const codes = (await accessLog(p.self, p.personId)).filter((e) => e.operation === 'issueVoucherCode');
    expect(codes).toEqual([expect.objectContaining({ action: 'write', actor: { role: 'channel', user: 'channel:dev' }, resource: `/vouchers/${p.voucherId}/codes` })]);
  });

  it('a pharmacy\'s pre-settlement quote is a read in the person\'s log (it writes nothing); the settlement a write', async () => {
    const p = await newPerson();
    const code = (await rt.call(p.self, 'POST', `/vouchers/${p.voucherId}/codes`)).body.code;
    const body = { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_500 }] };
    expect((await rt.call(pharmacy, 'POST', '/settlements/quote', body)).status).toBe(200);
    expect((await rt.call(pharmacy, 'POST', '/settlements', body, { 'idempotency-key': `quote-log-${p.personId}` })).status).toBe(201);
    await rt.settle();
    const counter = (await accessLog(p.self, p.personId)).filter((e) => e.actor.institutionId === 'ph-xihu-1').map((e) => [e.operation, e.action]);
    expect(counter).toEqual([['settle', 'write'], ['quoteSettlement', 'read']]);
  });

  it('a list logs each person in it once per record, and only those people', async () => {
    const [a, b] = [await newPerson(), await newPerson()];
    const [ra, rb] = [await refer(a.personId), await refer(b.personId)];
    await rt.call(zjph, 'GET', '/referrals?box=incoming&status=submitted&limit=200');
    await rt.settle();
    const lists = async (x: { self: Caller; personId: string }) => (await accessLog(x.self, x.personId)).filter((e) => e.operation === 'listReferrals').map((e) => e.resource);
    expect(await lists(a)).toEqual([`/referrals/${ra}`]);
    expect(await lists(b)).toEqual([`/referrals/${rb}`]);
  });

  it('only the person (or an operator) reads it; a channel token without pid, or of another person, is 403', { tags: ['any-day'] }, async () => {
    const p = await newPerson();
    const other = await newPerson();
    expect((await rt.call(other.self, 'GET', `/people/${p.personId}/access-log`)).status).toBe(403);
    expect((await rt.call(channel, 'GET', `/people/${p.personId}/access-log`)).status).toBe(403);
    expect((await rt.call(zjph, 'GET', `/people/${p.personId}/access-log`)).status).toBe(403);
    expect((await rt.call(operator, 'GET', `/people/${p.personId}/access-log`)).status).toBe(200);
    const unknown = await rt.call(operator, 'GET', '/people/p_neverissued01/access-log');
    expect([unknown.status, slug(unknown.body)]).toEqual([404, 'not-found']);
  });
});

describe('timeline', () => {
  it('merges referrals, prescriptions, settlements and advice, newest first, each at its current status, a page at a time', async () => {
    const p = await newPerson();
    const referralId = await refer(p.personId);
    const rx = await rt.call(lingyin, 'POST', '/prescriptions', { personId: p.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(rx.status).toBe(201);
    const code = (await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).body.code;
    const settled = await rt.call(pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_500 }] }, { 'idempotency-key': `timeline-${p.personId}` });
    expect(settled.status).toBe(201);
    const advice = await rt.call(lingyin, 'POST', '/advice-requests', { personId: p.personId, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '血压控制不佳，是否需要调整方案？' });
    expect(advice.status).toBe(201);
    await rt.call(zjph, 'POST', `/referrals/${referralId}/reject`, { reason: '满员' });
    await rt.settle();

    // Pages of two: the four entries in two pages (DynamoDB may hand out a token for an empty third).
    const entries: Array<{ kind: string; id: string; status: string; institutionId: string; at: string; amountFen?: number }> = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await rt.call(p.self, 'GET', `/people/${p.personId}/timeline?limit=2${token ? `&nextToken=${token}` : ''}`);
      expect(res.status).toBe(200);
      if (pages < 2) expect(res.body.items).toHaveLength(2);
      entries.push(...res.body.items);
      token = res.body.nextToken;
      pages++;
    } while (token);
    expect(pages).toBeLessThanOrEqual(3);
    // A settlement says what it came to (a complaint of a double charge is read off it); nothing else has an amount.
    expect(entries.map((e) => [e.kind, e.id, e.status, e.institutionId, e.amountFen])).toEqual([
      ['advice', advice.body.adviceId, 'open', 'hosp-zjph', undefined],
      ['settlement', settled.body.settlementId, 'settled', 'ph-xihu-1', 1_500],
      ['prescription', rx.body.prescriptionId, 'routed', 'clinic-lingyin', undefined],
      ['referral', referralId, 'rejected', 'hosp-zjph', undefined],
    ]);
    // `at` is when the record was made, read from its id (made as the request was served).
    const createdAt = Date.parse((await rt.call(lingyin, 'GET', `/referrals/${referralId}`)).body.createdAt);
    expect(Math.abs(Date.parse(entries[3]!.at) - createdAt)).toBeLessThan(1_000);
    // Another person's token, or a bad page token, is refused.
    const other = await newPerson();
    expect((await rt.call(other.self, 'GET', `/people/${p.personId}/timeline`)).status).toBe(403);
    const firstPage = await rt.call(p.self, 'GET', `/people/${p.personId}/timeline?limit=1`);
    const foreign = await rt.call(other.self, 'GET', `/people/${other.personId}/timeline?nextToken=${firstPage.body.nextToken}`);
    expect([foreign.status, slug(foreign.body)]).toEqual([400, 'validation-failed']);
  });

  it('an event delivered again, or late, leaves the entry at the latest move', async () => {
    const p = await newPerson();
    const referralId = await refer(p.personId);
    await rt.call(zjph, 'POST', `/referrals/${referralId}/reject`, { reason: '满员' });
    await rt.settle();
    // Deliver the submission again, after the rejection, as EventBridge may.
    const { readFileSync } = await import('node:fs');
    const journal = readFileSync(`${rt.dataDir}/bus/journal.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const submitted = journal.flatMap((j) => (j.accepted?.rule === 'timeline-projection' && j.accepted.event.detail.referralId === referralId && j.accepted.event['detail-type'] === 'ReferralSubmitted' ? [j.accepted.event] : []))[0];
    expect(submitted).toBeDefined();
    rt.bus.dispatch(submitted, { target: 'timelineProjector', rule: 'timeline-projection' });
    await rt.settle();
    const items = (await rt.call(p.self, 'GET', `/people/${p.personId}/timeline`)).body.items;
    expect(items.map((e: { status: string }) => e.status)).toEqual(['rejected']);
  });
});

describe('export', () => {
  /**
   * Where each kind of item that mentions a person is in their export, by the prefix of its key;
   * or why it is not a record of theirs. An item of the person matching neither fails the test: a
   * new kind of record must be exported, or say here why it need not be.
   */
  type Export = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const exported: Array<[RegExp, (item: Record<string, unknown>, x: Export) => boolean]> = [
    [/^PERSON#[^|]+\|PROFILE$/, (i, x) => x.enrolment.personId === i.personId],
    [/^VOUCHER#/, (i, x) => x.vouchers.some((v: { voucherId: string }) => v.voucherId === i.voucherId)],
    [/^SETTLEMENT#/, (i, x) => [...x.settlements, ...x.mutualAidPaid].some((s: { settlementId: string; status: string }) => s.settlementId === i.settlementId && s.status === i.status)],
    [/^REFERRAL#/, (i, x) => x.referrals.some((r: { referralId: string; status: string }) => r.referralId === i.referralId && r.status === i.status)],
    [/^RX#[^|]+\|PROFILE$/, (i, x) => x.prescriptions.some((p: { prescriptionId: string; status: string }) => p.prescriptionId === i.prescriptionId && p.status === i.status)],
    [/^ADVICE#[^|]+\|PROFILE$/, (i, x) => x.adviceRequests.some((a: { adviceId: string; status: string }) => a.adviceId === i.adviceId && a.status === i.status)],
    [/^BINDING#|^PERSON#[^|]+\|BINDING#/, (i, x) => x.familyBindings.some((b: { bindingId: string; status: string }) => b.bindingId === i.bindingId && b.status === i.status)],
    [/^NOTIFICATION#/, (i, x) => x.notifications.some((n: { notificationId: string; text: string }) => n.notificationId === i.notificationId && n.text === i.text)],
    [/^ACCESS#/, (i, x) => x.accessLog.some((e: { requestId: string; resource: string }) => e.requestId === i.requestId && e.resource === i.resource)],
  ];
  const notRecords: Array<[RegExp, string]> = [
    [/^PERSON#[^|]+\|VOUCHER$/, 'the pointer to the person\'s voucher, which is exported'],
    [/^PERSON#[^|]+\|REFERRED#/, 'which exported referrals are live at an institution: derived from them (the referred pooled-fund ratio)'],
    [/^PERSON#[^|]+\|OPEN-RX#/, 'the duplicate-therapy lock of an exported open prescription'],
    [/^TIMELINE#/, 'the timeline: an index of the records exported'],
    [/^OUTBOX#/, 'an event on its way to the bus (ids and statuses of exported records), kept a week'],
    [/^AUDIT#/, 'the platform\'s event trail: ids and statuses of exported records'],
    [/^IDEMPOTENCY#/, 'the first answer to a request, kept for its retries: a copy of an exported record'],
    [/^PERSON#[^|]+\|MUTUAL-AID-PAYER$/, 'the pointer to the person\'s payer under family mutual aid: the binding, which is exported'],
    [/^LIMIT#/, 'a rate-limit counter (how many requests in a window), no record'],
  ];

  /** Every item of the table that mentions the person, checked against their export. */
  async function checkAgainstTable(personId: string, x: Export) {
    const mine = (await scanAll(rt)).filter((item) => JSON.stringify(item, (_k, v) => (v instanceof Set ? [...v] : v)).includes(personId));
    const unknown: string[] = [];
    const missing: string[] = [];
    const kinds = new Set<string>();
    for (const item of mine) {
      const key = `${String(item.PK)}|${String(item.SK)}`;
      const record = exported.find(([re]) => re.test(key));
      if (record) {
        kinds.add(String(record[0]));
        if (!record[1](item, x)) missing.push(key);
      } else if (!notRecords.some(([re]) => re.test(key))) {
        unknown.push(key);
      }
    }
    return { unknown, missing, kinds };
  }

  it('holds every item of the person in the table: each exported, or named here as not a record of theirs', async () => {
    const p = await newPerson();
    const referralId = await refer(p.personId);
    await rt.call(zjph, 'POST', `/referrals/${referralId}/accept`, { appointmentAt: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    const rx = await rt.call(lingyin, 'POST', '/prescriptions', { personId: p.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(rx.status).toBe(201);
    const code = (await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).body.code;
    expect((await rt.call(pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XA11CCA001', quantity: 1, unitPriceFen: 2_000 }] }, { 'idempotency-key': `export-${p.personId}` })).status).toBe(201);
    const advice = (await rt.call(lingyin, 'POST', '/advice-requests', { personId: p.personId, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '是否需要冠脉造影？', diagnoses: ['I20.9'] })).body;
    await rt.call(zjph, 'POST', `/advice-requests/${advice.adviceId}/reply`, { answer: '建议转诊评估', recommendation: 'refer' });
    expect((await rt.call(lingyin, 'POST', `/advice-requests/${advice.adviceId}/convert`, { urgency: 'urgent' })).status).toBe(201);
    await rt.call(zjph, 'GET', '/referrals?box=incoming');
    // A relative pays for the person (family mutual aid): the binding is the person's record too.
    const payer = await newPerson();
    const binding = await rt.call(payer.self, 'POST', '/family-bindings', { beneficiaryNationalId: p.nationalId, beneficiaryName: p.name, relation: 'child' });
    expect(binding.status).toBe(201);
    await rt.settle();

    const res = await rt.call(p.self, 'GET', `/people/${p.personId}/export`);
    expect(res.status).toBe(200);
    const x = res.body as Export;
    // Masked, never in clear.
    expect(JSON.stringify(x)).not.toContain(p.nationalId);
    expect(x.enrolment.nationalIdMasked).toBe(`${p.nationalId.slice(0, 3)}***********${p.nationalId.slice(-4)}`);
    expect(x.enrolment.phoneMasked).toBe('139****1234');
    expect([x.referrals.length, x.prescriptions.length, x.settlements.length, x.adviceRequests.length, x.vouchers.length, x.familyBindings.length]).toEqual([2, 1, 1, 1, 1, 1]);
    expect(x.notifications.length).toBeGreaterThan(0);
    expect(x.accessLog.length).toBeGreaterThan(0);
    // Staff user ids of the parties stay out of the referral histories.
    for (const r of x.referrals) for (const h of r.history) expect(h).not.toHaveProperty('user');

    const { unknown, missing, kinds } = await checkAgainstTable(p.personId, x);
    expect(unknown, 'items of the person that are neither exported nor said to be no record of theirs').toEqual([]);
    expect(missing, 'items of the person missing from the export').toEqual([]);
    // Every kind of record was there to check.
    expect(kinds.size).toBe(exported.length);
  });

  it("a relative's settlement the person's account helped pay: on their timeline, and in their export as what their account paid, not the purchase", async () => {
    await clearOfMidnight(60_000); // the reversal below is same-day only
    const { payer, child, s } = await relativePays(2, 3_000);
    // On the payer's, marked as the relative's.
    // Each with what it cost them: the relative the purchase, the payer what their account paid.
    for (const [who, beneficiary, amount] of [[child, undefined, s.totalFen], [payer, child.personId, s.mutualAidFen]] as const) {
      expect((await timelineOf(who)).map((e) => [e.kind, e.id, e.status, e.institutionId, e.beneficiaryPersonId, e.amountFen])).toEqual([['settlement', s.settlementId, 'settled', 'ph-xihu-1', beneficiary, amount]]);
    }
    expect(s.mutualAidFen).toBeGreaterThan(0);
    expect(s.mutualAidFen).toBeLessThan(s.totalFen);

    // Reversed, it moves on both timelines and both accounts get their share back.
    expect((await rt.call(pharmacy, 'POST', `/settlements/${s.settlementId}/reversal`)).status).toBe(200);
    await rt.settle();
    for (const who of [child, payer]) expect((await timelineOf(who)).map((e) => e.status)).toEqual(['reversed']);

    const exportOf = async (x: { self: Caller; personId: string }) => (await rt.call(x.self, 'GET', `/people/${x.personId}/export`)).body as Export;
    const [mine, theirs] = [await exportOf(payer), await exportOf(child)];
    expect(mine.settlements).toEqual([]);
    expect(mine.mutualAidPaid).toEqual([{ settlementId: s.settlementId, beneficiaryPersonId: child.personId, institutionId: 'ph-xihu-1', mutualAidFen: s.mutualAidFen, status: 'reversed', settledAt: s.settledAt, reversedAt: expect.any(String) }]);
    // What the relative bought is theirs: not in the payer's copy.
    expect(JSON.stringify(mine)).not.toContain('XC08CAA001');
    expect(theirs.settlements.map((x: { settlementId: string; items: unknown[] }) => [x.settlementId, x.items.length])).toEqual([[s.settlementId, 1]]);
    expect(theirs.mutualAidPaid).toEqual([]);
    // And every item of the payer's in the table is in their copy.
    const { unknown, missing } = await checkAgainstTable(payer.personId, mine);
    expect([unknown, missing]).toEqual([[], []]);
  });

  it("the backfill puts a relative's settlement from before on the payer's timeline, once", async () => {
    const { payer, child, s } = await relativePays(1, 4_000);
    // As a table from before payers' entries: none on the payer's timeline.
    await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: timelineKey(payer.personId, s.settlementId) }));
    expect(await timelineOf(payer)).toEqual([]);
    expect((await backfillPayerTimelines()).entries).toBeGreaterThanOrEqual(1);
    expect((await timelineOf(payer)).map((e) => [e.kind, e.id, e.status, e.institutionId, e.beneficiaryPersonId])).toEqual([['settlement', s.settlementId, 'settled', 'ph-xihu-1', child.personId]]);
    // Again: every entry is there already, and the relative's own entry was never touched.
    expect((await backfillPayerTimelines()).entries).toBe(0);
    expect((await timelineOf(child)).map((e) => [e.id, e.status, e.beneficiaryPersonId])).toEqual([[s.settlementId, 'settled', undefined]]);
  });

  it('only the person exports their data: an operator, another person or an app without pid is refused', { tags: ['any-day'] }, async () => {
    const p = await newPerson();
    const other = await newPerson();
    expect((await rt.call(operator, 'GET', `/people/${p.personId}/export`)).status).toBe(403);
    expect((await rt.call(other.self, 'GET', `/people/${p.personId}/export`)).status).toBe(403);
    expect((await rt.call(channel, 'GET', `/people/${p.personId}/export`)).status).toBe(403);
  });
});
