// The referral flow of API.md over HTTP against the local runtime (seeded demo province): the full
// up → accept → arrive → complete → down cycle, reject and re-route, SLA expiry with automatic
// re-routing, capacity under racing accepts, racing transitions, access control, worklists.
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { capacityKey, referredToKey } from '../../functions/referrals/keys.ts';
import { calendarDay } from '../../functions/shared/clock.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
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
  operator = await rt.as('operator');
  [lingyin, beishan, hubin, zjph, xihu] = await Promise.all([
    rt.as('clinic', 'clinic-lingyin'), rt.as('clinic', 'clinic-beishan'), rt.as('clinic', 'clinic-hubin'),
    rt.as('hospital', 'hosp-zjph'), rt.as('hospital', 'hosp-xihu'),
  ]);
  const enrolled = await rt.call(operator, 'POST', '/enrollments', {
    people: Array.from({ length: 80 }, (_, i) => ({
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
  return res.body as { referralId: string; toInstitutionId: string; status: string };
}

const post = (who: Caller, id: string, action: string, body?: unknown) => rt.call(who, 'POST', `/referrals/${id}/${action}`, body);
const get = (who: Caller, id: string) => rt.call(who, 'GET', `/referrals/${id}`);

const referredTo = async (personId: string, institutionId: string) =>
  (await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: referredToKey(personId, institutionId), ConsistentRead: true }))).Item;
const slotsUsed = async (inst: string, dept: string, day: string) =>
  (await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: capacityKey(inst, dept, day), ConsistentRead: true }))).Item?.used ?? 0;

/** Outbox events about one referral, in order (test-only scan). */
async function eventsOf(referralId: string) {
  const res = await rt.db.send(new ScanCommand({ TableName: rt.tableName, FilterExpression: 'begins_with(PK, :p)', ExpressionAttributeValues: { ':p': 'OUTBOX#' } }));
  return (res.Items ?? [])
    .map((i) => ({ detailType: i.detailType as string, detail: JSON.parse(i.detail as string) }))
    .filter((e) => e.detail.referralId === referralId)
    .sort((a, b) => a.detail.id.localeCompare(b.detail.id))
    .map((e) => e.detailType);
}

const itemCount = async () => {
  await rt.settle();
  return (await rt.db.send(new ScanCommand({ TableName: rt.tableName, Select: 'COUNT' }))).Count;
};

describe('full cycle: up → accept → arrive → complete → down', () => {
  it('routes to the lead hospital, moves through triage and care, keeps "referred to" current, and refers back down', async () => {
    const pid = person();
    const appointment = localAt(2);
    const up = await refer(lingyin, upBody(pid));
    expect(up).toMatchObject({ status: 'submitted', fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph', direction: 'up', personId: pid });
    expect(await referredTo(pid, 'hosp-zjph')).toBeUndefined();

    const accepted = await post(zjph, up.referralId, 'accept', { appointmentAt: appointment.iso });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', appointmentAt: appointment.iso });
    expect(await slotsUsed('hosp-zjph', 'CARD', appointment.day)).toBe(1);
    expect(await referredTo(pid, 'hosp-zjph')).toMatchObject({ personId: pid, institutionId: 'hosp-zjph', referralId: up.referralId, status: 'accepted' });

    expect((await post(zjph, up.referralId, 'arrive')).body.status).toBe('arrived');
    expect((await referredTo(pid, 'hosp-zjph'))?.status).toBe('arrived');
    // Cancellation is only before arrival.
    const lateCancel = await post(lingyin, up.referralId, 'cancel');
    expect([lateCancel.status, slug(lateCancel.body)]).toEqual([409, 'invalid-transition']);
    expect((await post(zjph, up.referralId, 'complete')).body.status).toBe('completed');
    expect((await referredTo(pid, 'hosp-zjph'))?.status).toBe('completed');

    const seen = await get(lingyin, up.referralId);
    expect(seen.status).toBe(200);
    expect(seen.body.history.map((h: { status: string; by: string }) => [h.status, h.by])).toEqual([
      ['submitted', 'clinic-lingyin'], ['accepted', 'hosp-zjph'], ['arrived', 'hosp-zjph'], ['completed', 'hosp-zjph'],
    ]);
    for (const h of seen.body.history) expect(h.at).toMatch(/Z$/);

    // Down: no toInstitutionId → back to the clinic the patient came from.
    const down = await refer(zjph, {
      personId: pid, direction: 'down', department: 'GP', reason: '冠脉支架术后，病情稳定', diagnoses: ['Z95.5'], urgency: 'routine',
      upwardReferralId: up.referralId, followUpPlan: '每月复查血脂、肝功能；阿司匹林+阿托伐他汀长期服用；3个月后心内科复诊',
    });
    expect(down).toMatchObject({ direction: 'down', status: 'submitted', fromInstitutionId: 'hosp-zjph', toInstitutionId: 'clinic-lingyin', upwardReferralId: up.referralId });
    expect((await get(zjph, up.referralId)).body.downwardReferralIds).toEqual([down.referralId]);
    const followUp = localAt(5, '09:00');
    expect((await post(lingyin, down.referralId, 'accept', { appointmentAt: followUp.iso })).body.status).toBe('accepted');
    expect(await slotsUsed('clinic-lingyin', 'GP', followUp.day)).toBe(1);
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
    const otherPerson = await rt.call(zjph, 'POST', '/referrals', downBody({ personId: people[0] }));
    expect([otherPerson.status, otherPerson.body.errors?.[0]?.path]).toEqual([400, 'body.personId']);
    const noPlan = await rt.call(zjph, 'POST', '/referrals', downBody({ followUpPlan: undefined }));
    expect([noPlan.status, noPlan.body.errors?.[0]?.path]).toEqual([400, 'body.followUpPlan']);
    const named = await refer(zjph, downBody({ toInstitutionId: 'clinic-hubin' }));
    expect(named.toInstitutionId).toBe('clinic-hubin');
  });

  it('cancelling an accepted upward referral gives the slot back and removes "referred to"', async () => {
    const pid = person();
    const appointment = localAt(4);
    const up = await refer(hubin, upBody(pid, { department: 'ORTH' }));
    await post(zjph, up.referralId, 'accept', { appointmentAt: appointment.iso });
    expect(await slotsUsed('hosp-zjph', 'ORTH', appointment.day)).toBe(1);
    expect(await referredTo(pid, 'hosp-zjph')).toBeDefined();
    const cancelled = await post(hubin, up.referralId, 'cancel');
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(await slotsUsed('hosp-zjph', 'ORTH', appointment.day)).toBe(0);
    expect(await referredTo(pid, 'hosp-zjph')).toBeUndefined();
    const again = await post(hubin, up.referralId, 'cancel');
    expect([again.status, slug(again.body)]).toEqual([409, 'invalid-transition']);
  });

  it('"referred to" follows the person’s latest accepted upward referral to that hospital', async () => {
    const pid = person();
    const first = await refer(lingyin, upBody(pid, { department: 'RESP', toInstitutionId: 'hosp-zjph' }));
    const second = await refer(lingyin, upBody(pid, { department: 'ENDO', toInstitutionId: 'hosp-zjph' }));
    await post(zjph, first.referralId, 'accept', { appointmentAt: localAt(2).iso });
    await post(zjph, second.referralId, 'accept', { appointmentAt: localAt(3).iso });
    expect(await referredTo(pid, 'hosp-zjph')).toMatchObject({ referralId: second.referralId, status: 'accepted' });
    // The older one moving on does not take the item back from the newer one…
    await post(zjph, first.referralId, 'arrive');
    expect(await referredTo(pid, 'hosp-zjph')).toMatchObject({ referralId: second.referralId, status: 'accepted' });
    // …cancelling the newer one removes it…
    await post(lingyin, second.referralId, 'cancel');
    expect(await referredTo(pid, 'hosp-zjph')).toBeUndefined();
    // …and the older one, still live, records itself again when it next moves.
    await post(zjph, first.referralId, 'complete');
    expect(await referredTo(pid, 'hosp-zjph')).toMatchObject({ referralId: first.referralId, status: 'completed' });
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

  it('a department no designated hospital has is unroutable; a named institution must be able to receive it', async () => {
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

  it('the sender cancelling while the receiver accepts: exactly one of them happens', async () => {
    const pid = person();
    const r = await refer(beishan, upBody(pid, { toInstitutionId: 'hosp-xihu', department: 'RESP' }));
    const appointment = localAt(6);
    const [accept, cancel] = await Promise.all([
      post(xihu, r.referralId, 'accept', { appointmentAt: appointment.iso }),
      post(beishan, r.referralId, 'cancel'),
    ]);
    const final = (await get(beishan, r.referralId)).body;
    if (accept.status === 200) {
      // Accepted first, then cancelled from accepted: both legal in that order; the slot is back.
      expect(cancel.status === 200 ? 'cancelled' : 'accepted').toBe(final.status);
    } else {
      expect([accept.status, slug(accept.body), cancel.status, final.status]).toEqual([409, 'invalid-transition', 200, 'cancelled']);
    }
    expect(await slotsUsed('hosp-xihu', 'RESP', appointment.day)).toBe(final.status === 'accepted' ? 1 : 0);
    expect(!!(await referredTo(pid, 'hosp-xihu'))).toBe(final.status === 'accepted');
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
    expect(await itemCount()).toBe(countAfterCreate);
    expect(countAfterCreate).toBeGreaterThan(before!);

    const stranger = await rt.call(lingyin, 'POST', '/referrals', upBody('p_notenrolled000000000000000'));
    expect([stranger.status, slug(stranger.body)]).toEqual([422, 'not-enrolled']);
  });
});

describe('worklists', () => {
  it('incoming and outgoing boxes, by status, paginated with an opaque nextToken', async () => {
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

// Last: the sweeps act on every overdue referral in the table, as of a time a day ahead.
describe('SLA expiry', () => {
  const sla = () => rt.province.referralSlaHours;
  const hoursAhead = (h: number) => new Date(Date.now() + h * 3_600_000);

  it('an untriaged referral expires and is re-routed automatically; again later with nowhere left, it stays expired', async () => {
    const r = await refer(lingyin, upBody(person(), { department: 'CARD' }));
    expect(r.toInstitutionId).toBe('hosp-zjph');
    // Not yet due: nothing happens.
    await rt.runSchedule('referral-sla-sweep', hoursAhead(sla() - 1));
    expect((await get(lingyin, r.referralId)).body.status).toBe('submitted');

    await rt.runSchedule('referral-sla-sweep', hoursAhead(sla() + 1));
    const moved = (await get(lingyin, r.referralId)).body;
    expect(moved).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-xihu', expiredBy: ['hosp-zjph'] });
    expect(moved.history.map((h: { status: string; by: string }) => [h.status, h.by])).toEqual([
      ['submitted', 'clinic-lingyin'], ['expired', 'platform'], ['submitted', 'platform'],
    ]);
    expect(new Date(moved.slaDueAt).getTime()).toBeGreaterThan(hoursAhead(sla() + 1).getTime());
    expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted', 'ReferralExpired', 'ReferralRerouted']);

    // The same sweep again is a no-op (idempotent).
    await rt.runSchedule('referral-sla-sweep', hoursAhead(sla() + 1));
    expect((await get(lingyin, r.referralId)).body.history).toHaveLength(3);

    // hosp-xihu lets it lapse too; no other hospital has CARD: it stays expired, the sender decides.
    await rt.runSchedule('referral-sla-sweep', hoursAhead(2 * sla() + 2));
    const lapsed = (await get(lingyin, r.referralId)).body;
    expect(lapsed).toMatchObject({ status: 'expired', expiredBy: ['hosp-zjph', 'hosp-xihu'] });
    expect(lapsed.slaDueAt).toBeUndefined();
    // The sender may still name a hospital that let it lapse (it did not reject it).
    const manual = await post(lingyin, r.referralId, 'reroute', { toInstitutionId: 'hosp-zjph' });
    expect(manual.body).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-zjph' });
  });

  it('concurrent sweeps move each overdue referral once', async () => {
    const batch = [];
    for (let i = 0; i < 6; i++) batch.push(await refer(i % 2 ? lingyin : beishan, upBody(person(), { department: 'NEUR' })));
    for (const r of batch) expect(r.toInstitutionId).toBe('hosp-zjph'); // only it has NEUR
    const at = hoursAhead(3 * sla() + 3);
    await Promise.all([rt.runSchedule('referral-sla-sweep', at), rt.runSchedule('referral-sla-sweep', at), rt.runSchedule('referral-sla-sweep', at)]);
    for (const [i, r] of batch.entries()) {
      const body = (await get(i % 2 ? lingyin : beishan, r.referralId)).body;
      expect(body.status).toBe('expired');
      expect(body.history.filter((h: { status: string }) => h.status === 'expired')).toHaveLength(1);
      expect(await eventsOf(r.referralId)).toEqual(['ReferralSubmitted', 'ReferralExpired']);
    }
  });

  it('a referral triaged in time is left alone', async () => {
    const r = await refer(beishan, upBody(person(), { department: 'ORTH' }));
    await post(zjph, r.referralId, 'accept', { appointmentAt: localAt(1).iso });
    await rt.runSchedule('referral-sla-sweep', hoursAhead(4 * sla() + 4));
    expect((await get(beishan, r.referralId)).body.status).toBe('accepted');
  });
});
