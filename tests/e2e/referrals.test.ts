// The referral flow of API.md over HTTP against the local runtime (seeded demo province): the full
// up → accept → arrive → complete → down cycle, reject and re-route, SLA expiry with automatic
// re-routing, capacity under racing accepts, racing transitions, access control, worklists, and
// the referred pooled-fund ratio a settlement gets at the hospital a live referral went to.
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { move } from '../../functions/referrals/domain.ts';
import { capacityKey, referralKey, referredToKey, slaQueueKey } from '../../functions/referrals/keys.ts';
import * as referralStore from '../../functions/referrals/store.ts';
import { calendarDay } from '../../functions/shared/clock.ts';
import { TransactionConflict } from '../../functions/shared/db.ts';
import { clearOfMidnight } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { countItems, outboxEvents } from '../support/table.ts';
import { traced } from '../support/trace-codes.ts';

let rt: TestRuntime;
let operator: Caller;
let channel: Caller;
let lingyin: Caller; // clinic, lead hospital hosp-zjph
let beishan: Caller; // clinic
let hubin: Caller; // clinic, a stranger to most referrals here
let zjph: Caller; // tertiary hospital
let xihu: Caller; // secondary hospital
let people: string[];

const TZ = 'Asia/Shanghai';
/** A local time on the calendar day `days` from now in the province, as an ISO instant. */
const localAt = (days: number, hhmm = '10:00') => {
  const day = calendarDay(new Date(Date.now() + days * 86_400_000), TZ);
  return { day, iso: new Date(`${day}T${hhmm}:00+08:00`).toISOString() };
};

beforeAll(async () => {
  rt = await startTestRuntime();
  [operator, channel] = await Promise.all([rt.as('operator'), rt.as('channel')]);
  [lingyin, beishan, hubin, zjph, xihu] = await Promise.all([
    rt.as('clinic', 'clinic-lingyin'), rt.as('clinic', 'clinic-beishan'), rt.as('clinic', 'clinic-hubin'),
    rt.as('hospital', 'hosp-zjph'), rt.as('hospital', 'hosp-xihu'),
  ]);
  const enrolled = await rt.call(operator, 'POST', '/enrollments', {
    people: Array.from({ length: 100 }, (_, i) => ({
      nationalId: demoNationalId('330106', '19700101', 500 + i),
      name: `测试${i}`,
      phone: `139${String(10_000_000 + i).padStart(8, '0')}`,
      district: '西湖区',
      personalAccountFen: 10_000,
    })),
  });
  expect(enrolled.status).toBe(200);
  people = enrolled.body.personIds;
});
afterAll(() => rt?.stop());

let nextPerson = 0;
const person = () => people[nextPerson++]!;

const upBody = (personId: string, extra: Record<string, unknown> = {}) => ({
  personId, direction: 'up', department: 'CARD', reason: '反复胸闷，心电图ST段改变', diagnoses: ['I20.9', 'I10'], urgency: 'routine', ...extra,
});

async function refer(who: Caller, body: Record<string, unknown>) {
  const res = await rt.call(who, 'POST', '/referrals', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { referralId: string; toInstitutionId: string; status: string; slaDueAt: string };
}

const post = (who: Caller, id: string, action: string, body?: unknown) => rt.call(who, 'POST', `/referrals/${id}/${action}`, body);
const get = (who: Caller, id: string) => rt.call(who, 'GET', `/referrals/${id}`);

const itemAt = async (key: { PK: string; SK: string }) => (await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: key, ConsistentRead: true }))).Item;
/** The person's live referrals at an institution (the "referred to" item's string set), sorted. */
const liveIds = async (personId: string, institutionId: string) => {
  const ids = (await itemAt(referredToKey(personId, institutionId)))?.liveReferralIds as Set<string> | undefined;
  return [...(ids ?? [])].sort();
};
const slotsUsed = async (inst: string, dept: string, day: string) => (await itemAt(capacityKey(inst, dept, day)))?.used ?? 0;

/** Detail types of the outbox events about one referral, in order. */
const eventsOf = async (referralId: string) => (await outboxEvents(rt, { referralId })).map((e) => e.detailType);

/** Items in the table once everything in flight has landed. */
const itemCount = async () => {
  await rt.settle();
  return countItems(rt);
};

const SWEEP = 'referral-sla-sweep';
const minutesAfter = (iso: string | Date, minutes: number) => new Date(new Date(iso).getTime() + minutes * 60_000);

let ownSeq = 0;
/**
 * Designated hospitals with a department nobody else has, registered for one test: routing, and so
 * what a sweep does to that test's referrals, depends on them alone.
 */
async function ownHospitals(n: number, dailyCapacity = 10) {
  const dept = `OWN${++ownSeq}`;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `hosp-${dept.toLowerCase()}-${i}`;
    const res = await rt.call(operator, 'POST', '/institutions', {
      id, name: `测试医院${dept}-${i}`, type: 'hospital', level: 'secondary', district: '西湖区', designated: true,
      departments: [{ code: dept, name: '测试科', dailyCapacity }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(id);
  }
  return { dept, ids, callers: await Promise.all(ids.map((id) => rt.as('hospital', id))) };
}

describe('full cycle: up → accept → arrive → complete → down', () => {
  it('routes to the lead hospital, moves through triage and care, keeps "referred to" current, and refers back down', async () => {
    const pid = person();
    const appointment = localAt(2);
    const up = await refer(lingyin, upBody(pid));
    expect(up).toMatchObject({ status: 'submitted', fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph', direction: 'up', personId: pid });
    expect(await itemAt(referredToKey(pid, 'hosp-zjph'))).toBeUndefined();

    // Other tests use this department too: count this test's slot as a difference.
    const cardBefore = await slotsUsed('hosp-zjph', 'CARD', appointment.day);
    const accepted = await post(zjph, up.referralId, 'accept', { appointmentAt: appointment.iso });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', appointmentAt: appointment.iso });
    expect(await slotsUsed('hosp-zjph', 'CARD', appointment.day)).toBe(cardBefore + 1);
    expect(await itemAt(referredToKey(pid, 'hosp-zjph'))).toMatchObject({ entity: 'referredTo', personId: pid, institutionId: 'hosp-zjph', liveReferralIds: new Set([up.referralId]) });

    expect((await post(zjph, up.referralId, 'arrive')).body.status).toBe('arrived');
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([up.referralId]);
    // Cancellation is only before arrival.
    const lateCancel = await post(lingyin, up.referralId, 'cancel');
    expect([lateCancel.status, slug(lateCancel.body)]).toEqual([409, 'invalid-transition']);
    expect((await post(zjph, up.referralId, 'complete')).body.status).toBe('completed');
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([up.referralId]); // completed: still referred there

    const seen = await get(lingyin, up.referralId);
    expect(seen.status).toBe(200);
    expect(seen.body.history.map((h: { status: string; by: string }) => [h.status, h.by])).toEqual([
      ['submitted', 'clinic-lingyin'], ['accepted', 'hosp-zjph'], ['arrived', 'hosp-zjph'], ['completed', 'hosp-zjph'],
    ]);
    for (const h of seen.body.history) expect(h.at).toMatch(/Z$/);
    // Each side sees who of its own made a move, never the other side's users.
    const usersSeenBy = async (who: Caller) =>
      (await get(who, up.referralId)).body.history.map((h: { by: string; user?: string }) => [h.by, h.user !== undefined]);
    expect(await usersSeenBy(lingyin)).toEqual([['clinic-lingyin', true], ['hosp-zjph', false], ['hosp-zjph', false], ['hosp-zjph', false]]);
    expect(await usersSeenBy(zjph)).toEqual([['clinic-lingyin', false], ['hosp-zjph', true], ['hosp-zjph', true], ['hosp-zjph', true]]);

    // Down: no toInstitutionId → back to the clinic the patient came from.
    const down = await refer(zjph, {
      personId: pid, direction: 'down', department: 'GP', reason: '冠脉支架术后，病情稳定', diagnoses: ['Z95.5'], urgency: 'routine',
      upwardReferralId: up.referralId, followUpPlan: '每月复查血脂、肝功能；阿司匹林+阿托伐他汀长期服用；3个月后心内科复诊',
    });
    expect(down).toMatchObject({ direction: 'down', status: 'submitted', fromInstitutionId: 'hosp-zjph', toInstitutionId: 'clinic-lingyin', upwardReferralId: up.referralId });
    expect((await get(zjph, up.referralId)).body.downwardReferralIds).toEqual([down.referralId]);
    const followUp = localAt(5, '09:00');
    const gpBefore = await slotsUsed('clinic-lingyin', 'GP', followUp.day);
    expect((await post(lingyin, down.referralId, 'accept', { appointmentAt: followUp.iso })).body.status).toBe('accepted');
    expect(await slotsUsed('clinic-lingyin', 'GP', followUp.day)).toBe(gpBefore + 1);
    expect((await get(lingyin, down.referralId)).body.followUpPlan).toContain('复查血脂');

    expect(await eventsOf(up.referralId)).toEqual(['ReferralSubmitted', 'ReferralAccepted', 'ReferralArrived', 'ReferralCompleted']);
    expect(await eventsOf(down.referralId)).toEqual(['ReferralSubmitted', 'ReferralAccepted']);
  });

  it('a downward referral needs the linked upward one completed, addressed to the caller, for the same person', async () => {
    const pid = person();
    const up = await refer(beishan, upBody(pid, { toInstitutionId: 'hosp-zjph' }));
    const downBody = (extra: Record<string, unknown> = {}) => ({
      personId: pid, direction: 'down', department: 'GP', reason: '稳定', diagnoses: ['I10'], urgency: 'routine', upwardReferralId: up.referralId, followUpPlan: '随访', ...extra,
    });
    const notYet = await rt.call(zjph, 'POST', '/referrals', downBody());
    expect([notYet.status, slug(notYet.body)]).toEqual([409, 'invalid-transition']);
    const notYours = await rt.call(xihu, 'POST', '/referrals', downBody());
    expect([notYours.status, slug(notYours.body)]).toEqual([400, 'validation-failed']);
    await post(zjph, up.referralId, 'accept', { appointmentAt: localAt(3).iso });
    await post(zjph, up.referralId, 'arrive');
    await post(zjph, up.referralId, 'complete');
    const otherPerson = await rt.call(zjph, 'POST', '/referrals', downBody({ personId: person() }));
    expect([otherPerson.status, otherPerson.body.errors?.[0]?.path]).toEqual([400, 'body.personId']);
    // API.md's own fields are enough (a hospital system written against it): no link, no plan.
    const contractOnly = await rt.call(zjph, 'POST', '/referrals', downBody({ upwardReferralId: undefined, followUpPlan: undefined, toInstitutionId: 'clinic-lingyin' }));
    expect([contractOnly.status, contractOnly.body.status, contractOnly.body.followUpPlan, contractOnly.body.upwardReferralId]).toEqual([201, 'submitted', undefined, undefined]);
    const named = await refer(zjph, downBody({ toInstitutionId: 'clinic-hubin' }));
    expect(named.toInstitutionId).toBe('clinic-hubin');
  });

  it('cancelling an accepted upward referral gives the slot back and takes it off "referred to"', async () => {
    const pid = person();
    const appointment = localAt(4);
    const up = await refer(hubin, upBody(pid, { department: 'ORTH' }));
    const orthBefore = await slotsUsed('hosp-zjph', 'ORTH', appointment.day);
    await post(zjph, up.referralId, 'accept', { appointmentAt: appointment.iso });
    expect(await slotsUsed('hosp-zjph', 'ORTH', appointment.day)).toBe(orthBefore + 1);
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([up.referralId]);
    const cancelled = await post(hubin, up.referralId, 'cancel');
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(await slotsUsed('hosp-zjph', 'ORTH', appointment.day)).toBe(orthBefore);
    // The emptied set is gone from the item (DynamoDB drops empty sets): it reads as "not referred".
    const item = await itemAt(referredToKey(pid, 'hosp-zjph'));
    expect(item).toMatchObject({ personId: pid, institutionId: 'hosp-zjph' });
    expect(item).not.toHaveProperty('liveReferralIds');
    const again = await post(hubin, up.referralId, 'cancel');
    expect([again.status, slug(again.body)]).toEqual([409, 'invalid-transition']);
  });

  it('"referred to" holds every accepted, not cancelled upward referral to that hospital: cancelling one keeps the others', async () => {
    const pid = person();
    const first = await refer(lingyin, upBody(pid, { department: 'RESP', toInstitutionId: 'hosp-zjph' }));
    const second = await refer(lingyin, upBody(pid, { department: 'ENDO', toInstitutionId: 'hosp-zjph' }));
    const third = await refer(beishan, upBody(pid, { department: 'ORTH', toInstitutionId: 'hosp-zjph' }));
    await post(zjph, first.referralId, 'accept', { appointmentAt: localAt(2).iso });
    await post(zjph, second.referralId, 'accept', { appointmentAt: localAt(3).iso });
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([first.referralId, second.referralId].sort());
    // Arrival keeps it live; rejecting or cancelling one never accepted changes nothing…
    await post(zjph, first.referralId, 'arrive');
    await post(beishan, third.referralId, 'cancel');
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([first.referralId, second.referralId].sort());
    // …cancelling the newer accepted one takes only it off: the older one still refers the person there…
    await post(lingyin, second.referralId, 'cancel');
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([first.referralId]);
    // …and stays on when completed.
    await post(zjph, first.referralId, 'complete');
    expect(await liveIds(pid, 'hosp-zjph')).toEqual([first.referralId]);
    // Nothing is recorded at another hospital, nor for a downward referral's receiving clinic.
    expect(await itemAt(referredToKey(pid, 'hosp-xihu'))).toBeUndefined();
  });
});

describe('the referred pooled-fund ratio at the receiving hospital (vouchers settlement)', () => {
  const policy = () => rt.province.policy;
  let insured = 0;

  /** A person enrolled with some pooled fund used this year (the deductible counts as met), with an active voucher. */
  async function insuredPerson() {
    const nationalId = demoNationalId('330106', '19800202', 900 + insured++);
    const name = `参保${insured}`;
    const enrolled = await rt.call(operator, 'POST', '/enrollments', {
      people: [{ nationalId, name, district: '西湖区', personalAccountFen: 0, annualPooledUsedFen: 100 }],
    });
    expect(enrolled.body.rejected).toEqual([]);
    const activated = await rt.call(channel, 'POST', '/vouchers', { nationalId, name, channel: 'wechat' });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    return { personId: enrolled.body.personIds[0] as string, voucherId: activated.body.voucherId as string };
  }

  let keySeq = 0;
  /** Settles one category A item of 100 yuan (its pack's trace code scanned) at `hospital` with a fresh code; the pooled fund's share. */
  async function pooledFundAt(hospital: Caller, voucherId: string): Promise<number> {
    const code = await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`);
    expect(code.status).toBe(201);
    const res = await rt.call(
      hospital, 'POST', '/settlements',
      { code: code.body.code, items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000 })] },
      { 'idempotency-key': `referred-ratio-${Date.now()}-${keySeq++}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.pooledFundFen + res.body.personalAccountFen + res.body.cashFen).toBe(res.body.totalFen);
    return res.body.pooledFundFen;
  }

  it('a settlement at the hospital an accepted upward referral went to uses the referred ratio (ZJ tertiary 0.8, else 0.6)', async () => {
    expect([policy().ratio.tertiary, policy().referredRatio.tertiary, policy().ratio.secondary]).toEqual([0.6, 0.8, 0.75]);
    const p = await insuredPerson();
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(6_000);

    const up = await refer(lingyin, upBody(p.personId, { toInstitutionId: 'hosp-zjph' }));
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(6_000); // submitted is not yet referred
    expect((await post(zjph, up.referralId, 'accept', { appointmentAt: localAt(2).iso })).status).toBe(200);
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(8_000);
    // Only there: at another hospital the person is not referred.
    expect(await pooledFundAt(xihu, p.voucherId)).toBe(7_500);
    await post(zjph, up.referralId, 'arrive');
    await post(zjph, up.referralId, 'complete');
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(8_000);
  });

  it('cancelling one of two accepted referrals before arrival keeps the referred ratio while the other is live', async () => {
    const p = await insuredPerson();
    const a = await refer(lingyin, upBody(p.personId, { department: 'RESP', toInstitutionId: 'hosp-zjph' }));
    const b = await refer(beishan, upBody(p.personId, { department: 'ENDO', toInstitutionId: 'hosp-zjph' }));
    await post(zjph, a.referralId, 'accept', { appointmentAt: localAt(2).iso });
    await post(zjph, b.referralId, 'accept', { appointmentAt: localAt(4).iso });
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(8_000);

    expect((await post(beishan, b.referralId, 'cancel')).body.status).toBe('cancelled');
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(8_000); // a is still live
    expect((await post(lingyin, a.referralId, 'cancel')).body.status).toBe('cancelled');
    expect(await liveIds(p.personId, 'hosp-zjph')).toEqual([]);
    expect(await pooledFundAt(zjph, p.voucherId)).toBe(6_000);
  });
});

describe('reject → re-route', () => {
  it('the sender re-routes a rejected referral to another institution, never back to one that rejected it', async () => {
    const up = await refer(beishan, upBody(person(), { department: 'ENDO', toInstitutionId: 'hosp-zjph' }));
    const rejected = await post(zjph, up.referralId, 'reject', { reason: '本周内分泌科门诊停诊' });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectedBy: ['hosp-zjph'] });
    expect(rejected.body.history.at(-1)).toMatchObject({ status: 'rejected', by: 'hosp-zjph', reason: '本周内分泌科门诊停诊' });

    // The receiver cannot re-route; the sender cannot send it back to the rejecter.
    expect((await post(zjph, up.referralId, 'reroute', {})).status).toBe(403);
    const back = await post(beishan, up.referralId, 'reroute', { toInstitutionId: 'hosp-zjph' });
    expect([back.status, slug(back.body)]).toEqual([422, 'unroutable']);

    const rerouted = await post(beishan, up.referralId, 'reroute', {});
    expect(rerouted.status).toBe(200);
    expect(rerouted.body).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-xihu', slaDueAt: expect.any(String) });
    // The old receiver no longer sees it; the new one does.
    expect((await get(zjph, up.referralId)).status).toBe(404);
    expect((await get(xihu, up.referralId)).status).toBe(200);

    await post(xihu, up.referralId, 'reject', { reason: '无床位' });
    const nowhere = await post(beishan, up.referralId, 'reroute', {});
    expect([nowhere.status, slug(nowhere.body)]).toEqual([422, 'unroutable']);
    const still = await get(beishan, up.referralId);
    expect(still.body).toMatchObject({ status: 'rejected', rejectedBy: ['hosp-zjph', 'hosp-xihu'] });
    expect(still.body.history.map((h: { status: string }) => h.status)).toEqual(['submitted', 'rejected', 'submitted', 'rejected']);
    expect(await eventsOf(up.referralId)).toEqual(['ReferralSubmitted', 'ReferralRejected', 'ReferralRerouted', 'ReferralRejected']);
  });

  it('only rejected or expired referrals can be re-routed', async () => {
    const up = await refer(lingyin, upBody(person()));
    const res = await post(lingyin, up.referralId, 'reroute', {});
    expect([res.status, slug(res.body)]).toEqual([409, 'invalid-transition']);
  });
});

describe('message flooding', () => {
  it('one institution refers one person at most 10 times a day (each texts them, a cancel again): then 429; other people and institutions unaffected', async () => {
    await clearOfMidnight(60_000); // counted per day of the province
    const p = person();
    for (let i = 0; i < 10; i++) {
      const r = await refer(hubin, upBody(p, { toInstitutionId: 'hosp-zjph' }));
      expect((await post(hubin, r.referralId, 'cancel')).status).toBe(200);
    }
    const limited = await rt.call(hubin, 'POST', '/referrals', upBody(p, { toInstitutionId: 'hosp-zjph' }));
    expect([limited.status, slug(limited.body), limited.body.detail]).toEqual([429, 'rate-limited', expect.stringContaining('too many referrals for this person from this institution')]);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Refused ones are not counted against anyone else.
    await refer(hubin, upBody(person(), { toInstitutionId: 'hosp-zjph' }));
    await refer(beishan, upBody(p, { toInstitutionId: 'hosp-zjph' }));
  });
});

describe('capacity', () => {
  it('racing accepts on the last slot of a day: exactly one wins, and the day is never oversold', async () => {
    const created = await rt.call(operator, 'POST', '/institutions', {
      id: 'hosp-race', name: '竞赛医院', type: 'hospital', level: 'secondary', district: '西湖区', designated: true,
      departments: [{ code: 'RACE', name: '竞赛科', dailyCapacity: 1 }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const race = await rt.as('hospital', 'hosp-race');
    const referrals: Array<{ referralId: string; sender: Caller }> = [];
    for (let i = 0; i < 10; i++) {
      const sender = i % 2 ? lingyin : beishan;
      referrals.push({ ...(await refer(sender, upBody(person(), { department: 'RACE', toInstitutionId: 'hosp-race' }))), sender });
    }
    const day = localAt(3);

    const results = await Promise.all(referrals.map((r) => post(race, r.referralId, 'accept', { appointmentAt: day.iso })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    for (const r of results.filter((x) => x.status === 409)) expect(slug(r.body)).toBe('conflict');
    expect(await slotsUsed('hosp-race', 'RACE', day.day)).toBe(1);
    const winner = referrals[results.findIndex((r) => r.status === 200)]!;
    const loser = referrals[results.findIndex((r) => r.status === 409)]!;
    expect((await get(race, loser.referralId)).body.status).toBe('submitted');

    // The platform routes nothing to a full day…
    const full = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { department: 'RACE', preferredDate: day.day }));
    expect([full.status, slug(full.body)]).toEqual([422, 'unroutable']);
    // …but another day has its own slot, and a cancelled acceptance gives its slot back.
    expect((await post(race, loser.referralId, 'accept', { appointmentAt: localAt(4).iso })).status).toBe(200);
    expect((await post(winner.sender, winner.referralId, 'cancel')).status).toBe(200);
    expect(await slotsUsed('hosp-race', 'RACE', day.day)).toBe(0);
    const third = referrals.find((r) => r !== winner && r !== loser)!;
    expect((await post(race, third.referralId, 'accept', { appointmentAt: day.iso })).status).toBe(200);
  });

  it('a department no designated hospital has is unroutable; a named institution must be able to receive it', { tags: ['any-day'] }, async () => {
    const none = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { department: 'DERM' }));
    expect([none.status, slug(none.body)]).toEqual([422, 'unroutable']);
    const clinicTarget = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { toInstitutionId: 'clinic-beishan' }));
    expect([clinicTarget.status, slug(clinicTarget.body)]).toEqual([422, 'unroutable']);
    const pharmacy = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { toInstitutionId: 'ph-xihu-1' }));
    expect(slug(pharmacy.body)).toBe('unroutable');
    const unknownDept = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { toInstitutionId: 'hosp-xihu', department: 'NEUR' }));
    expect(slug(unknownDept.body)).toBe('unroutable');
  });
});

describe('Idempotency-Key on POST /referrals', () => {
  /** The clinic's referrals of a person waiting to be taken in: how many were made. */
  const waitingFor = async (personId: string) =>
    (await rt.call(lingyin, 'GET', '/referrals?box=outgoing&status=submitted&limit=200')).body.items.filter((r: { personId: string }) => r.personId === personId).map((r: { referralId: string }) => r.referralId);

  it('a retry after a lost answer, with the same key and body, gets the first answer and refers nobody twice; another body is 422', { tags: ['any-day'] }, async () => {
    const body = upBody(person(), { toInstitutionId: 'hosp-zjph' });
    const key = { 'idempotency-key': `refer-${randomUUID()}` };
    const first = await rt.call(lingyin, 'POST', '/referrals', body, key);
    expect(first.status).toBe(201);
    const again = await rt.call(lingyin, 'POST', '/referrals', body, key);
    expect([again.status, again.body, again.headers.get('location')]).toEqual([201, first.body, `/referrals/${first.body.referralId}`]);
    expect(await waitingFor(body.personId)).toEqual([first.body.referralId]);

    const other = await rt.call(lingyin, 'POST', '/referrals', { ...body, urgency: 'urgent' }, key);
    expect([other.status, slug(other.body)]).toEqual([422, 'idempotency-key-reused']);
    expect((await rt.call(lingyin, 'POST', '/referrals', body, { 'idempotency-key': 'bad key!' })).status).toBe(400);
    // Without a key, as in v1: each POST is a referral.
    expect((await rt.call(lingyin, 'POST', '/referrals', body)).status).toBe(201);
    expect(await waitingFor(body.personId)).toHaveLength(2);
  });

  it('8 concurrent identical requests with one key: one referral, and every answer names it', { tags: ['any-day'] }, async () => {
    const body = upBody(person(), { toInstitutionId: 'hosp-zjph' });
    const key = { 'idempotency-key': `race-${randomUUID()}` };
    const answers = await Promise.all(Array.from({ length: 8 }, () => rt.call(lingyin, 'POST', '/referrals', body, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    const ids = new Set(answers.map((a) => a.body.referralId));
    expect(ids.size).toBe(1);
    expect(await waitingFor(body.personId)).toEqual([...ids]);
  });
});

describe('racing transitions on one referral', () => {
  it('accept and reject at once: one wins, the other gets 409 invalid-transition', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await refer(lingyin, upBody(person(), { toInstitutionId: 'hosp-xihu', department: 'RESP' }));
      const [a, b] = await Promise.all([
        post(xihu, r.referralId, 'accept', { appointmentAt: localAt(2).iso }),
        post(xihu, r.referralId, 'reject', { reason: '重复' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect(slug((a.status === 409 ? a : b).body)).toBe('invalid-transition');
      const final = (await get(lingyin, r.referralId)).body;
      expect(final.status).toBe(a.status === 200 ? 'accepted' : 'rejected');
      expect(final.history).toHaveLength(2);
    }
  });

  it('the sender cancelling while the receiver accepts: exactly one leaves "submitted"; status, slot and "referred to" follow the winner', async () => {
    for (let i = 0; i < 4; i++) {
      const pid = person();
      const r = await refer(beishan, upBody(pid, { toInstitutionId: 'hosp-xihu', department: 'RESP' }));
      const appointment = localAt(6 + i);
      const slotsBefore = await slotsUsed('hosp-xihu', 'RESP', appointment.day);
      const [accept, cancel] = await Promise.all([
        post(xihu, r.referralId, 'accept', { appointmentAt: appointment.iso }),
        post(beishan, r.referralId, 'cancel'),
      ]);
      // Each answer is a success or a lost transition, and at least one move happened.
      for (const res of [accept, cancel]) if (res.status !== 200) expect([res.status, slug(res.body)]).toEqual([409, 'invalid-transition']);
      expect([accept.status, cancel.status]).not.toEqual([409, 409]);
      // Exactly one of the two left "submitted" (history[1]). The only way both succeed is the
      // cancel applying to the acceptance after it (cancelling an accepted referral is legal); an
      // accept can never follow a cancel.
      const final = (await get(beishan, r.referralId)).body;
      const expectedHistory = ['submitted', ...(accept.status === 200 ? ['accepted'] : []), ...(cancel.status === 200 ? ['cancelled'] : [])];
      expect(final.history.map((h: { status: string }) => h.status)).toEqual(expectedHistory);
      expect(final.status).toBe(expectedHistory.at(-1));
      expect(await eventsOf(r.referralId)).toEqual(
        ['ReferralSubmitted', ...(accept.status === 200 ? ['ReferralAccepted'] : []), ...(cancel.status === 200 ? ['ReferralCancelled'] : [])],
      );
      // The slot and "referred to" are held exactly while it is accepted.
      const held = final.status === 'accepted';
      expect(await slotsUsed('hosp-xihu', 'RESP', appointment.day)).toBe(slotsBefore + (held ? 1 : 0));
      expect(await liveIds(pid, 'hosp-xihu')).toEqual(held ? [r.referralId] : []);
    }
  });
});

describe('allowed actions and optimistic locking (ETag, If-Match)', () => {
  const withIfMatch = (etag: string) => ({ 'if-match': etag });

  it('each side is offered exactly its moves as the referral goes through its life, and every offered move succeeds', async () => {
    const r = await refer(lingyin, upBody(person(), { toInstitutionId: 'hosp-zjph' }));
    const offered = async () => [(await get(lingyin, r.referralId)).body.allowedActions, (await get(zjph, r.referralId)).body.allowedActions];
    expect(await offered()).toEqual([['cancel'], ['accept', 'reject']]);
    const steps: Array<[Caller, string, unknown, string[][]]> = [
      [zjph, 'accept', { appointmentAt: localAt(3).iso }, [['cancel'], ['arrive']]],
      [zjph, 'arrive', undefined, [[], ['complete']]],
      [zjph, 'complete', undefined, [[], []]],
    ];
    for (const [who, action, body, after] of steps) {
      const current = await get(who, r.referralId);
      expect(current.body.allowedActions).toContain(action);
      const res = await rt.call(who, 'POST', `/referrals/${r.referralId}/${action}`, body, withIfMatch(current.headers.get('etag')!));
      expect([action, res.status]).toEqual([action, 200]);
      expect(await offered()).toEqual(after);
    }
    // A stranger learns nothing, so it is offered nothing either (it cannot even read it).
    expect((await get(hubin, r.referralId)).status).toBe(404);
  });

  it('GET and every move answer with the version as ETag; a stale If-Match is 412 precondition-failed and writes nothing', { tags: ['any-day'] }, async () => {
    const created = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { toInstitutionId: 'hosp-zjph' }));
    expect([created.status, created.headers.get('etag'), created.body.version]).toEqual([201, '"0"', 0]);
    const id = created.body.referralId;
    const read = await get(zjph, id);
    expect([read.headers.get('etag'), read.body.version]).toEqual(['"0"', 0]);

    const rejected = await rt.call(zjph, 'POST', `/referrals/${id}/reject`, { reason: '专科满员' }, withIfMatch('"0"'));
    expect([rejected.status, rejected.headers.get('etag'), rejected.body.version, rejected.body.allowedActions]).toEqual([200, '"1"', 1, []]);

    // The clinic still looks at version 0: its cancel is refused, and nothing changes.
    await rt.settle();
    const before = { item: await itemAt(referralKey(id)), events: await eventsOf(id), count: await itemCount() };
    const stale = await rt.call(lingyin, 'POST', `/referrals/${id}/cancel`, undefined, withIfMatch('"0"'));
    expect([stale.status, slug(stale.body), stale.headers.get('content-type')]).toEqual([412, 'precondition-failed', 'application/problem+json']);
    // A weak tag never matches (If-Match compares strongly), even with the current number.
    const weak = await rt.call(lingyin, 'POST', `/referrals/${id}/cancel`, undefined, withIfMatch('W/"1"'));
    expect([weak.status, slug(weak.body)]).toEqual([412, 'precondition-failed']);
    const malformed = await rt.call(lingyin, 'POST', `/referrals/${id}/cancel`, undefined, withIfMatch('1'));
    expect([malformed.status, malformed.body.errors?.[0]?.path]).toEqual([400, 'headers.if-match']);
    expect({ item: await itemAt(referralKey(id)), events: await eventsOf(id), count: await itemCount() }).toEqual(before);

    // The current version, one of a list, or "*" go ahead; so does no If-Match at all (v1).
    const current = await get(lingyin, id);
    expect(current.body.allowedActions).toEqual(['reroute', 'cancel']);
    const cancelled = await rt.call(lingyin, 'POST', `/referrals/${id}/cancel`, undefined, withIfMatch(`"0", ${current.headers.get('etag')}`));
    expect([cancelled.status, cancelled.headers.get('etag'), cancelled.body.status]).toEqual([200, '"2"', 'cancelled']);
    const r2 = await refer(lingyin, upBody(person(), { toInstitutionId: 'hosp-zjph' }));
    expect((await rt.call(zjph, 'POST', `/referrals/${r2.referralId}/reject`, { reason: '满员' }, withIfMatch('*'))).status).toBe(200);
    expect((await post(lingyin, r2.referralId, 'cancel')).status).toBe(200);
  });

  it('two nurses of one hospital acting on the same stale view: one wins, the other gets 412, and only the winner\'s move is written', async () => {
    const [nurseA, nurseB] = await Promise.all([
      rt.token('hospital', 'hosp-zjph', { subject: 'nurse-a' }).then((token) => ({ token })),
      rt.token('hospital', 'hosp-zjph', { subject: 'nurse-b' }).then((token) => ({ token })),
    ]);
    for (let i = 0; i < 3; i++) {
      const r = await refer(lingyin, upBody(person(), { toInstitutionId: 'hosp-zjph' }));
      // Both loaded the worklist showing version 0.
      const etag = (await get(nurseA, r.referralId)).headers.get('etag')!;
      expect((await get(nurseB, r.referralId)).headers.get('etag')).toBe(etag);
      const [a, b] = await Promise.all([
        rt.call(nurseA, 'POST', `/referrals/${r.referralId}/accept`, { appointmentAt: localAt(4).iso }, withIfMatch(etag)),
        rt.call(nurseB, 'POST', `/referrals/${r.referralId}/reject`, { reason: '无床位' }, withIfMatch(etag)),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
      expect(slug(loser.body)).toBe('precondition-failed');
      const final = (await get(nurseA, r.referralId)).body;
      expect([final.status, final.version]).toEqual([winner.body.status, 1]);
      expect(final.history.map((h: { status: string }) => h.status)).toEqual(['submitted', winner.body.status]);
      expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted', winner.body.status === 'accepted' ? 'ReferralAccepted' : 'ReferralRejected']);
    }
  });

  it('many racing moves all naming version 0: exactly one is written, every other one is 412', async () => {
    const r = await refer(lingyin, upBody(person(), { toInstitutionId: 'hosp-xihu', department: 'RESP' }));
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      i % 2
        ? rt.call(xihu, 'POST', `/referrals/${r.referralId}/reject`, { reason: `第${i}次` }, withIfMatch('"0"'))
        : rt.call(xihu, 'POST', `/referrals/${r.referralId}/accept`, { appointmentAt: localAt(5).iso }, withIfMatch('"0"'))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
    expect((await get(xihu, r.referralId)).body.history).toHaveLength(2);
    expect(await eventsOf(r.referralId)).toHaveLength(2);
  });
});

describe('access', () => {
  it('only the sender and the receiver see a referral (404 for others); the wrong role is 403', async () => {
    const r = await refer(lingyin, upBody(person()));
    expect((await get(lingyin, r.referralId)).status).toBe(200);
    expect((await get(zjph, r.referralId)).status).toBe(200);
    for (const stranger of [hubin, xihu]) {
      const res = await get(stranger, r.referralId);
      expect([res.status, slug(res.body)]).toEqual([404, 'not-found']);
      expect((await post(stranger, r.referralId, 'accept', { appointmentAt: localAt(2).iso })).status).toBe(404);
      expect((await post(stranger, r.referralId, 'cancel')).status).toBe(404);
    }
    for (const [role, inst] of [['pharmacy', 'ph-xihu-1'], ['channel', undefined], ['operator', undefined]] as const) {
      const who = await rt.as(role, inst);
      expect([role, (await get(who, r.referralId)).status]).toEqual([role, 403]);
      expect([role, (await rt.call(who, 'POST', '/referrals', upBody(person()))).status]).toEqual([role, 403]);
      expect((await rt.call(who, 'GET', '/referrals?box=incoming')).status).toBe(403);
    }
    // A clinic refers up, a hospital down.
    const clinicDown = await rt.call(lingyin, 'POST', '/referrals', { ...upBody(person()), direction: 'down', department: 'GP', followUpPlan: '随访' });
    expect([clinicDown.status, slug(clinicDown.body)]).toEqual([403, 'forbidden']);
    expect((await rt.call(zjph, 'POST', '/referrals', upBody(person()))).status).toBe(403);
    // Each side may only make its own moves.
    expect((await post(lingyin, r.referralId, 'accept', { appointmentAt: localAt(2).iso })).status).toBe(403);
    expect((await post(zjph, r.referralId, 'cancel')).status).toBe(403);
    expect((await get(lingyin, r.referralId)).body.status).toBe('submitted');
    expect((await get(lingyin, 'ref_doesnotexist')).status).toBe(404);
  });

  it('bad input is 400 validation-failed with field errors and writes nothing; unknown people are not-enrolled', async () => {
    const before = await itemCount();
    const bad = await rt.call(lingyin, 'POST', '/referrals', {
      personId: '!', direction: 'sideways', department: 'C A R D', reason: '', diagnoses: ['chest pain'], urgency: 'now', extra: 1,
    });
    expect([bad.status, slug(bad.body)]).toEqual([400, 'validation-failed']);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.personId', 'body.direction', 'body.department', 'body.reason', 'body.diagnoses.0', 'body.urgency']),
    );
    const upWithPlan = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { followUpPlan: 'x' }));
    expect(upWithPlan.body.errors?.[0]?.path).toBe('body.followUpPlan');
    const r = await refer(lingyin, upBody(person()));
    const countAfterCreate = await itemCount();
    const badTime = await post(zjph, r.referralId, 'accept', { appointmentAt: 'tomorrow' });
    expect([badTime.status, badTime.body.errors?.[0]?.path]).toEqual([400, 'body.appointmentAt']);
    const past = await post(zjph, r.referralId, 'accept', { appointmentAt: new Date(Date.now() - 86_400_000).toISOString() });
    expect([past.status, past.body.errors?.[0]?.path]).toEqual([400, 'body.appointmentAt']);
    expect((await post(zjph, r.referralId, 'reject', {})).status).toBe(400);
    expect((await post(zjph, r.referralId, 'reject')).status).toBe(400);
    // Text that would read otherwise than it is, or break JSON tools on a worklist: refused.
    for (const reason of ['满员\u0000', '\u202E员满', '床位\uD800']) {
      const refused = await post(zjph, r.referralId, 'reject', { reason });
      expect([refused.status, refused.body.errors?.[0]?.path]).toEqual([400, 'body.reason']);
    }
    const lone = await rt.call(lingyin, 'POST', '/referrals', upBody(person(), { reason: '胸闷\uDC00' }));
    expect([lone.status, lone.body.errors?.[0]?.path]).toEqual([400, 'body.reason']);
    const stranger = await rt.call(lingyin, 'POST', '/referrals', upBody('p_notenrolled000000000000000'));
    expect([stranger.status, slug(stranger.body)]).toEqual([422, 'not-enrolled']);

    // Targeted: the referral is as created, and nothing was announced about it…
    expect(await itemAt(referralKey(r.referralId))).toMatchObject({ status: 'submitted', version: 0 });
    expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted']);
    // …and overall (every page of the table): only the valid creation wrote anything.
    expect(await itemCount()).toBe(countAfterCreate);
    expect(countAfterCreate).toBeGreaterThan(before);
  });
});

describe('worklists', () => {
  it('incoming and outgoing boxes, by status, paginated with an opaque nextToken', { tags: ['any-day'] }, async () => {
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await refer(hubin, upBody(person(), { toInstitutionId: 'hosp-xihu', department: 'ENDO' })));
    await post(xihu, created[0]!.referralId, 'reject', { reason: '转上级医院' });

    const drain = async (who: Caller, query: string) => {
      const ids: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const res = await rt.call(who, 'GET', `/referrals?${query}&limit=3${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        ids.push(...res.body.items.map((r: { referralId: string }) => r.referralId));
        next = res.body.nextToken;
        pages++;
      } while (next);
      expect(new Set(ids).size).toBe(ids.length);
      return { ids, pages };
    };
    const mine = created.map((r) => r.referralId);
    const outgoing = await drain(hubin, 'box=outgoing');
    expect(outgoing.ids).toEqual(expect.arrayContaining(mine));
    expect(outgoing.pages).toBeGreaterThanOrEqual(3);
    const incoming = await drain(xihu, 'box=incoming&status=submitted');
    expect(incoming.ids).toEqual(expect.arrayContaining(mine.slice(1)));
    expect(incoming.ids).not.toContain(mine[0]);
    const rejected = await drain(hubin, 'box=outgoing&status=rejected');
    expect(rejected.ids).toContain(mine[0]);
    for (const id of rejected.ids) expect((await get(hubin, id)).body.status).toBe('rejected');
    // Nobody else's box holds them.
    expect((await drain(lingyin, 'box=outgoing')).ids).not.toContain(mine[1]);
    expect((await drain(zjph, 'box=incoming')).ids).not.toContain(mine[1]);

    const first = await rt.call(xihu, 'GET', '/referrals?box=incoming&status=submitted&limit=2');
    expect(first.body.nextToken).toBeDefined();
    // A token is only good for the list that issued it.
    for (const [who, q] of [[hubin, 'box=incoming'], [xihu, 'box=outgoing'], [xihu, 'box=incoming&status=rejected']] as const) {
      const res = await rt.call(who, 'GET', `/referrals?${q}&nextToken=${first.body.nextToken}`);
      expect([q, res.status, slug(res.body)]).toEqual([q, 400, 'validation-failed']);
    }
    expect((await rt.call(xihu, 'GET', '/referrals?box=incoming&nextToken=garbage')).status).toBe(400);
    expect((await rt.call(xihu, 'GET', '/referrals?box=incoming&limit=201')).status).toBe(400);
    expect((await rt.call(xihu, 'GET', '/referrals?box=sideways')).status).toBe(400);
    expect((await rt.call(xihu, 'GET', '/referrals?box=incoming&status=lost')).status).toBe(400);
    const defaults = await rt.call(xihu, 'GET', '/referrals?box=incoming');
    expect(defaults.body.items.length).toBeLessThanOrEqual(50);
  });
});

// A sweep acts on every referral overdue at the time it is given, other tests' included; each test
// here uses hospitals and a department of its own, sweeps at times computed from its own
// referrals' slaDueAt, and asserts only about its own referrals, so order does not matter.
describe('SLA expiry', () => {
  it('an untriaged referral expires and is re-routed automatically; again later with nowhere left, it stays expired', async () => {
    const { dept, ids: [a, b] } = await ownHospitals(2);
    const r = await refer(lingyin, upBody(person(), { department: dept }));
    expect([a, b]).toContain(r.toInstitutionId);
    const other = r.toInstitutionId === a ? b : a;
    // Not yet due: nothing happens.
    await rt.runSchedule(SWEEP, minutesAfter(r.slaDueAt, -1));
    expect((await get(lingyin, r.referralId)).body.status).toBe('submitted');

    const at = minutesAfter(r.slaDueAt, 1);
    await rt.runSchedule(SWEEP, at);
    const moved = (await get(lingyin, r.referralId)).body;
    expect(moved).toMatchObject({ status: 'submitted', toInstitutionId: other, expiredBy: [r.toInstitutionId] });
    expect(moved.history.map((h: { status: string; by: string }) => [h.status, h.by])).toEqual([
      ['submitted', 'clinic-lingyin'], ['expired', 'platform'], ['submitted', 'platform'],
    ]);
    expect(new Date(moved.slaDueAt).getTime()).toBe(at.getTime() + rt.province.referralSlaHours.routine * 3_600_000);
    expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted', 'ReferralExpired', 'ReferralRerouted']);
    // What the sweep announced carries the scheduled event's id as correlation id, one for both.
    const swept = (await outboxEvents(rt, { referralId: r.referralId })).slice(1).map((e) => e.detail.correlationId);
    expect(swept[0]).toEqual(expect.any(String));
    expect(swept[1]).toBe(swept[0]);

    // The same sweep again is a no-op (idempotent).
    await rt.runSchedule(SWEEP, at);
    expect((await get(lingyin, r.referralId)).body.history).toHaveLength(3);

    // The other hospital lets it lapse too; nobody else has the department: it stays expired, the sender decides.
    await rt.runSchedule(SWEEP, minutesAfter(moved.slaDueAt, 1));
    const lapsed = (await get(lingyin, r.referralId)).body;
    expect(lapsed).toMatchObject({ status: 'expired', expiredBy: [r.toInstitutionId, other] });
    expect(lapsed.slaDueAt).toBeUndefined();
    // The sender may still name a hospital that let it lapse (it did not reject it).
    const manual = await post(lingyin, r.referralId, 'reroute', { toInstitutionId: r.toInstitutionId });
    expect(manual.body).toMatchObject({ status: 'submitted', toInstitutionId: r.toInstitutionId });
  });

  it('an emergency has its own, shorter time: it is re-routed while a routine referral sent with it still waits', async () => {
    const { dept, ids: [a, b] } = await ownHospitals(2);
    const { routine, emergency: hours } = rt.province.referralSlaHours;
    expect(hours).toBeLessThan(routine);
    const slow = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a }));
    const urgent = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a, urgency: 'emergency' }));
    const made = (await get(lingyin, urgent.referralId)).body.createdAt as string;
    expect(new Date(urgent.slaDueAt).getTime()).toBe(new Date(made).getTime() + hours * 3_600_000);

    const at = minutesAfter(urgent.slaDueAt, 1);
    expect(at.getTime()).toBeLessThan(new Date(slow.slaDueAt).getTime());
    await rt.runSchedule(SWEEP, at);
    const moved = (await get(lingyin, urgent.referralId)).body;
    expect(moved).toMatchObject({ status: 'submitted', toInstitutionId: b, expiredBy: [a] });
    // The next hospital has the emergency's time too, not a routine day.
    expect(new Date(moved.slaDueAt).getTime()).toBe(at.getTime() + hours * 3_600_000);
    expect((await get(lingyin, slow.referralId)).body).toMatchObject({ status: 'submitted', toInstitutionId: a, expiredBy: [] });
  });

  it('concurrent sweeps move each overdue referral once', async () => {
    const { dept, ids: [only] } = await ownHospitals(1);
    const batch = [];
    for (let i = 0; i < 6; i++) batch.push(await refer(i % 2 ? lingyin : beishan, upBody(person(), { department: dept })));
    for (const r of batch) expect(r.toInstitutionId).toBe(only); // the only one with the department
    const at = minutesAfter(batch.map((r) => r.slaDueAt).sort().at(-1)!, 1);
    await Promise.all([rt.runSchedule(SWEEP, at), rt.runSchedule(SWEEP, at), rt.runSchedule(SWEEP, at)]);
    for (const [i, r] of batch.entries()) {
      const body = (await get(i % 2 ? lingyin : beishan, r.referralId)).body;
      expect(body.status).toBe('expired');
      expect(body.history.filter((h: { status: string }) => h.status === 'expired')).toHaveLength(1);
      expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted', 'ReferralExpired']);
    }
  });

  it('a referral triaged in time is left alone', async () => {
    const { dept, ids: [a], callers: [hospital] } = await ownHospitals(2);
    const r = await refer(beishan, upBody(person(), { department: dept, toInstitutionId: a }));
    expect((await post(hospital!, r.referralId, 'accept', { appointmentAt: localAt(1).iso })).status).toBe(200);
    await rt.runSchedule(SWEEP, minutesAfter(r.slaDueAt, 60));
    expect((await get(beishan, r.referralId)).body).toMatchObject({ status: 'accepted', expiredBy: [] });
  });

  it('a hospital accepting while the sweep re-routes its referral away gets 409 invalid-transition, never 404', async () => {
    const { dept, ids: [a, b], callers: [asA] } = await ownHospitals(2);
    const appointment = localAt(2);
    let accepted = 0;
    // The accept starts a little later each round, so the rounds cover it winning, it reading
    // before the sweep's write and writing after it, and it reading after the sweep.
    for (const delayMs of [0, 5, 10, 15, 20, 30, 45, 60]) {
      const r = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a }));
      const [accept] = await Promise.all([
        new Promise((go) => setTimeout(go, delayMs)).then(() => post(asA!, r.referralId, 'accept', { appointmentAt: appointment.iso })),
        rt.runSchedule(SWEEP, minutesAfter(r.slaDueAt, 1)),
      ]);
      const final = (await get(lingyin, r.referralId)).body;
      if (accept.status === 200) {
        accepted++;
        expect(final).toMatchObject({ status: 'accepted', toInstitutionId: a, expiredBy: [] });
      } else {
        expect([accept.status, slug(accept.body)]).toEqual([409, 'invalid-transition']);
        expect(final).toMatchObject({ status: 'submitted', toInstitutionId: b, expiredBy: [a] });
      }
    }
    expect(await slotsUsed(a!, dept, appointment.day)).toBe(accepted);

    // After the sweep: the hospital it was taken from loses every move with 409, and no longer sees it.
    const late = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a }));
    await rt.runSchedule(SWEEP, minutesAfter(late.slaDueAt, 1));
    for (const [action, body] of [['accept', { appointmentAt: appointment.iso }], ['reject', { reason: '无号源' }]] as const) {
      const res = await post(asA!, late.referralId, action, body);
      expect([action, res.status, slug(res.body)]).toEqual([action, 409, 'invalid-transition']);
    }
    expect((await get(asA!, late.referralId)).status).toBe(404);

    // The write path, deterministically: a decision made on the referral as read before the sweep.
    const r = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a }));
    const stale = (await referralStore.getReferral(r.referralId))!;
    await rt.runSchedule(SWEEP, minutesAfter(r.slaDueAt, 1));
    const now = new Date();
    const accept = move(stale, { action: 'accept', appointmentAt: appointment.iso }, { actor: 'receiver', by: a!, at: now });
    await expect(referralStore.writeMove(stale, accept.next, [accept.event], [], { now }, 'receiver')).rejects.toMatchObject({ slug: 'invalid-transition' });
    // The sender's move on the same stale read is retried instead (cancelling the re-routed referral is still legal).
    const cancel = move(stale, { action: 'cancel' }, { actor: 'sender', by: 'clinic-lingyin', at: now });
    await expect(referralStore.writeMove(stale, cancel.next, [cancel.event], [], { now }, 'sender')).rejects.toBeInstanceOf(TransactionConflict);
    expect((await get(lingyin, r.referralId)).body).toMatchObject({ status: 'submitted', toInstitutionId: b });
  });

  it('a referral the sweep always fails on is logged, put back behind later ones, and fails the run without holding up the rest', async () => {
    const { dept, ids: [a, b] } = await ownHospitals(2);
    const r = await refer(lingyin, upBody(person(), { department: dept, toInstitutionId: a }));
    // Due before r, so first in the queue, and not a valid referral: every attempt on it fails.
    const poisonId = `ref_poison${Date.now()}`;
    await rt.db.send(new PutCommand({
      TableName: rt.tableName,
      Item: { ...referralKey(poisonId), ...slaQueueKey(minutesAfter(r.slaDueAt, -30).toISOString(), poisonId), entity: 'referral', referralId: poisonId, status: 'submitted' },
    }));
    try {
      const at = minutesAfter(r.slaDueAt, 1);
      await expect(rt.runSchedule(SWEEP, at)).rejects.toThrow(/^SLA sweep: 1 of \d+ referrals failed/);
      // The rest was swept all the same.
      expect((await get(lingyin, r.referralId)).body).toMatchObject({ status: 'submitted', toInstitutionId: b, expiredBy: [a] });
      // The failed one is back on the queue, due again in 10 minutes…
      const queued = async () => (await itemAt(referralKey(poisonId)))!;
      expect(await queued()).toMatchObject({ slaSweepFailures: 1, GSI3SK: slaQueueKey(minutesAfter(at, 10).toISOString(), poisonId).GSI3SK });
      // …so the same sweep again does not meet it…
      await rt.runSchedule(SWEEP, at);
      // …and one after that time tries it again, and waits twice as long before the next try.
      const later = minutesAfter(at, 11);
      await expect(rt.runSchedule(SWEEP, later)).rejects.toThrow(/^SLA sweep: 1 of/);
      expect(await queued()).toMatchObject({ slaSweepFailures: 2, GSI3SK: slaQueueKey(minutesAfter(later, 20).toISOString(), poisonId).GSI3SK });
    } finally {
      await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: referralKey(poisonId) }));
    }
  });
});
