// Advice and guidance over HTTP (API.md v2): a clinic asks, the hospital answers with a
// recommendation, the clinic converts it to a referral (linked both ways) or closes it; routing as
// for a referral, worklists, messages to the institutions, optimistic locking, and the SLA sweep
// that re-routes (or closes) what nobody answered.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { adviceKey } from '../../functions/advice/keys.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { countItems, outboxEvents } from '../support/table.ts';

let rt: TestRuntime;
let operator: Caller;
let lingyin: Caller; // clinic, lead hospital hosp-zjph
let beishan: Caller;
let zjph: Caller;
let xihu: Caller;
let pharmacy: Caller;
let people: string[];
let next = 0;
const person = () => people[next++]!;

beforeAll(async () => {
  rt = await startTestRuntime();
  [operator, lingyin, beishan, zjph, xihu, pharmacy] = await Promise.all([
    rt.as('operator'), rt.as('clinic', 'clinic-lingyin'), rt.as('clinic', 'clinic-beishan'), rt.as('hospital', 'hosp-zjph'), rt.as('hospital', 'hosp-xihu'), rt.as('pharmacy', 'ph-xihu-1'),
  ]);
  const enrolled = await rt.call(operator, 'POST', '/enrollments', {
    people: Array.from({ length: 40 }, (_, i) => ({ nationalId: demoNationalId('330106', '19580808', 700 + i), name: `咨询${i}`, district: '西湖区', personalAccountFen: 10_000 })),
  });
  people = enrolled.body.personIds;
});
afterAll(() => rt?.stop());

const ask = async (who: Caller, body: Record<string, unknown>) => {
  const res = await rt.call(who, 'POST', '/advice-requests', { department: 'CARD', question: '患者血压波动大，降压方案是否需要调整？', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { adviceId: string; toInstitutionId: string; status: string; version: number };
};
const act = (who: Caller, id: string, action: string, body?: unknown, headers?: Record<string, string>) => rt.call(who, 'POST', `/advice-requests/${id}/${action}`, body, headers);
const get = (who: Caller, id: string) => rt.call(who, 'GET', `/advice-requests/${id}`);
const eventsOf = async (adviceId: string) => (await outboxEvents(rt, { adviceId })).map((e) => e.detailType);
/** Messages in an institution's inbox (the notifications outbox), texts only. */
const inbox = async (institutionId: string) => {
  await rt.settle();
  const res = await rt.db.send(new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `NOTIFICATION#INST#${institutionId}` } }));
  return (res.Items ?? []).map((i) => String(i.text));
};

describe('ask → answer → convert', () => {
  it('the clinic asks, the hospital answers recommending a referral, the clinic converts it: a referral linked both ways', async () => {
    const pid = person();
    const created = await rt.call(lingyin, 'POST', '/advice-requests', { personId: pid, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '胸闷一周，心电图ST段压低，是否需要上转？', diagnoses: ['I20.9'] });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"0"');
    const a = created.body;
    expect(a).toMatchObject({ status: 'open', personId: pid, fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph', department: 'CARD', version: 0, allowedActions: ['close'] });
    expect(a.patient.name).toBe('咨询0');
    expect(a.slaDueAt).toBeDefined();

    // The hospital finds it in its incoming worklist and is told.
    const incoming = await rt.call(zjph, 'GET', '/advice-requests?box=incoming&status=open');
    expect(incoming.body.items.map((x: { adviceId: string }) => x.adviceId)).toContain(a.adviceId);
    expect(incoming.body.items.find((x: { adviceId: string }) => x.adviceId === a.adviceId).allowedActions).toEqual(['reply']);
    expect((await inbox('hosp-zjph')).some((t) => t.includes(a.adviceId) && t.includes('心血管内科'))).toBe(true);

    const replied = await act(zjph, a.adviceId, 'reply', { answer: '建议尽快上转行冠脉CTA评估', recommendation: 'refer' }, { 'if-match': '"0"' });
    expect(replied.status).toBe(200);
    expect(replied.body).toMatchObject({ status: 'answered', answer: '建议尽快上转行冠脉CTA评估', recommendation: 'refer', version: 1, allowedActions: [] });
    expect(replied.headers.get('etag')).toBe('"1"');
    // The clinic is told the answer is there.
    expect((await inbox('clinic-lingyin')).some((t) => t.includes(a.adviceId) && t.includes('建议转诊'))).toBe(true);
    const seen = await get(lingyin, a.adviceId);
    expect(seen.body.allowedActions).toEqual(['convert', 'close']);

    const converted = await act(lingyin, a.adviceId, 'convert', { urgency: 'urgent' });
    expect(converted.status).toBe(201);
    const referral = converted.body;
    expect(referral).toMatchObject({
      status: 'submitted', adviceId: a.adviceId, personId: pid, direction: 'up', fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph',
      department: 'CARD', diagnoses: ['I20.9'], reason: '胸闷一周，心电图ST段压低，是否需要上转？', urgency: 'urgent',
    });
    expect(converted.headers.get('location')).toBe(`/referrals/${referral.referralId}`);
    const after = (await get(lingyin, a.adviceId)).body;
    expect(after).toMatchObject({ status: 'converted', referralId: referral.referralId, allowedActions: [] });
    expect((await rt.call(zjph, 'GET', `/referrals/${referral.referralId}`)).body.adviceId).toBe(a.adviceId);
    expect(await eventsOf(a.adviceId)).toEqual(['AdviceRequested', 'AdviceAnswered', 'AdviceConverted']);
    // The referral's submission and the request's conversion: one transaction, both announced.
    expect((await outboxEvents(rt, { referralId: referral.referralId })).map((e) => e.detailType).sort()).toEqual(['AdviceConverted', 'ReferralSubmitted']);

    // Once is all: converting again is a lost transition and makes no second referral.
    const again = await act(lingyin, a.adviceId, 'convert', {});
    expect([again.status, slug(again.body)]).toEqual([409, 'invalid-transition']);
    const outgoing = (await rt.call(lingyin, 'GET', '/referrals?box=outgoing&limit=200')).body.items.filter((r: { adviceId?: string }) => r.adviceId === a.adviceId);
    expect(outgoing).toHaveLength(1);
  });

  it('without a target it is routed like a referral: the clinic\'s lead hospital with the department', { tags: ['any-day'] }, async () => {
    const a = await ask(beishan, { personId: person() });
    expect(a.toInstitutionId).toBe('hosp-zjph');
    const none = await rt.call(lingyin, 'POST', '/advice-requests', { personId: person(), department: 'XNONE', question: '无此科室？' });
    expect([none.status, slug(none.body)]).toEqual([422, 'unroutable']);
    const clinic = await rt.call(lingyin, 'POST', '/advice-requests', { personId: person(), toInstitutionId: 'clinic-beishan', department: 'CARD', question: '问社区？' });
    expect([clinic.status, slug(clinic.body)]).toEqual([422, 'unroutable']);
  });

  it('the clinic closes what it no longer needs: withdrawn while open, resolved once answered', { tags: ['any-day'] }, async () => {
    const open = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-xihu' });
    expect((await act(lingyin, open.adviceId, 'close')).body).toMatchObject({ status: 'closed', closedReason: 'withdrawn', allowedActions: [] });
    const answered = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-xihu' });
    await act(xihu, answered.adviceId, 'reply', { answer: '可在社区继续观察', recommendation: 'manage-locally' });
    expect((await act(lingyin, answered.adviceId, 'close', {})).body).toMatchObject({ status: 'closed', closedReason: 'resolved' });
    const late = await act(xihu, open.adviceId, 'reply', { answer: '迟到的答复', recommendation: 'refer' });
    expect([late.status, slug(late.body)]).toEqual([409, 'invalid-transition']);
  });
});

describe('access, bad input, optimistic locking', () => {
  it('only the two institutions see it (others 404); each side makes only its own moves (403)', { tags: ['any-day'] }, async () => {
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-zjph' });
    for (const stranger of [beishan, xihu]) expect((await get(stranger, a.adviceId)).status).toBe(404);
    expect((await rt.call(pharmacy, 'GET', `/advice-requests/${a.adviceId}`)).status).toBe(403);
    expect((await rt.call(zjph, 'POST', '/advice-requests', { personId: person(), department: 'CARD', question: '医院不能发起' })).status).toBe(403);
    expect([(await act(lingyin, a.adviceId, 'reply', { answer: '自问自答', recommendation: 'refer' })).status]).toEqual([403]);
    await act(zjph, a.adviceId, 'reply', { answer: '建议转诊', recommendation: 'refer' });
    expect((await act(zjph, a.adviceId, 'convert', {})).status).toBe(403);
    expect((await act(beishan, a.adviceId, 'close')).status).toBe(404);
  });

  it('bad input is 400 with field errors and writes nothing; an unknown person is not-enrolled', { tags: ['any-day'] }, async () => {
    await rt.settle();
    const before = await countItems(rt);
    const bad = await rt.call(lingyin, 'POST', '/advice-requests', { personId: person(), department: 'CARD', question: '', diagnoses: ['not-icd'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.diagnoses.0', 'body.question']);
    const stranger = await rt.call(lingyin, 'POST', '/advice-requests', { personId: 'p_notenrolled01', department: 'CARD', question: '谁？' });
    expect([stranger.status, slug(stranger.body)]).toEqual([422, 'not-enrolled']);
    await rt.settle();
    expect(await countItems(rt)).toBe(before);
  });

  it('converts with no body as API.md says, also a request without diagnoses: the referral has its question and none', async () => {
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-zjph' });
    await act(zjph, a.adviceId, 'reply', { answer: '建议转诊', recommendation: 'refer' });
    const converted = await act(lingyin, a.adviceId, 'convert');
    expect(converted.status).toBe(201);
    expect(converted.body).toMatchObject({ adviceId: a.adviceId, toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '患者血压波动大，降压方案是否需要调整？', diagnoses: [], urgency: 'routine' });
    expect((await get(lingyin, a.adviceId)).body).toMatchObject({ status: 'converted', referralId: converted.body.referralId });
    // Given in the body, they are the referral's.
    const b = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-zjph' });
    await act(zjph, b.adviceId, 'reply', { answer: '建议转诊', recommendation: 'refer' });
    expect((await act(lingyin, b.adviceId, 'convert', { diagnoses: ['I10'], reason: '血压控制不佳' })).body).toMatchObject({ diagnoses: ['I10'], reason: '血压控制不佳' });
  });

  it('a reply on a stale view is 412 and writes nothing; the current ETag goes ahead', { tags: ['any-day'] }, async () => {
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-zjph' });
    expect((await act(lingyin, a.adviceId, 'close', undefined, { 'if-match': '"0"' })).status).toBe(200);
    const stale = await act(zjph, a.adviceId, 'reply', { answer: '答复', recommendation: 'refer' }, { 'if-match': '"0"' });
    expect([stale.status, slug(stale.body)]).toEqual([412, 'precondition-failed']);
    expect(await eventsOf(a.adviceId)).toEqual(['AdviceRequested', 'AdviceClosed']);
  });

  it('a conversion from a stale view is 412 and makes no referral; with the current ETag it converts', async () => {
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-zjph', diagnoses: ['I10'] });
    const replied = await act(zjph, a.adviceId, 'reply', { answer: '建议转诊', recommendation: 'refer' });
    expect(replied.headers.get('etag')).toBe('"1"');
    const fromAdvice = async () => (await rt.call(lingyin, 'GET', '/referrals?box=outgoing&limit=200')).body.items.filter((r: { adviceId?: string }) => r.adviceId === a.adviceId);

    // Acting on the version before the answer: refused, and no referral is made.
    const stale = await act(lingyin, a.adviceId, 'convert', { urgency: 'urgent' }, { 'if-match': '"0"' });
    expect([stale.status, slug(stale.body)]).toEqual([412, 'precondition-failed']);
    expect(await fromAdvice()).toEqual([]);
    expect((await get(lingyin, a.adviceId)).body).toMatchObject({ status: 'answered', version: 1 });
    expect(await eventsOf(a.adviceId)).toEqual(['AdviceRequested', 'AdviceAnswered']);

    // The version the clinic now sees goes ahead; the answer is the referral, with the referral's ETag.
    const converted = await act(lingyin, a.adviceId, 'convert', { urgency: 'urgent' }, { 'if-match': '"1"' });
    expect([converted.status, converted.headers.get('etag'), converted.body.adviceId, converted.body.version]).toEqual([201, '"0"', a.adviceId, 0]);
    expect((await fromAdvice()).map((r: { referralId: string }) => r.referralId)).toEqual([converted.body.referralId]);
  });
});

describe('worklists', () => {
  it('incoming and outgoing boxes by status, paginated', { tags: ['any-day'] }, async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ask(beishan, { personId: person(), toInstitutionId: 'hosp-xihu', department: 'RESP' })).adviceId);
    const first = await rt.call(beishan, 'GET', '/advice-requests?box=outgoing&status=open&limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await rt.call(beishan, 'GET', `/advice-requests?box=outgoing&status=open&limit=2&nextToken=${first.body.nextToken}`);
    const seen = [...first.body.items, ...second.body.items].map((x: { adviceId: string }) => x.adviceId);
    for (const id of ids) expect(seen).toContain(id);
    const foreign = await rt.call(lingyin, 'GET', `/advice-requests?box=outgoing&limit=2&nextToken=${first.body.nextToken}`);
    expect(foreign.status).toBe(400);
    expect((await rt.call(xihu, 'GET', '/advice-requests?box=incoming&status=open&limit=200')).body.items.map((x: { adviceId: string }) => x.adviceId)).toEqual(expect.arrayContaining(ids));
  });
});

describe('SLA', () => {
  const minutesAfter = (iso: string, m: number) => new Date(new Date(iso).getTime() + m * 60_000);

  it('unanswered past the SLA it is asked of another hospital; unanswered there too, with nobody left, it is closed and the clinic told', async () => {
    // A department only two hospitals of this test have: routing depends on them alone.
    const dept = 'ADVX';
    for (const id of ['hosp-advx-1', 'hosp-advx-2']) {
      expect((await rt.call(operator, 'POST', '/institutions', { id, name: `咨询医院${id.slice(-1)}`, type: 'hospital', level: 'secondary', district: '西湖区', designated: true, departments: [{ code: dept, name: '咨询科', dailyCapacity: 5 }] })).status).toBe(201);
    }
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-advx-1', department: dept });
    const created = (await get(lingyin, a.adviceId)).body;
    // Not yet due: nothing moves.
    await rt.runSchedule('advice-sla-sweep', minutesAfter(created.slaDueAt, -1));
    expect((await get(lingyin, a.adviceId)).body.toInstitutionId).toBe('hosp-advx-1');

    await rt.runSchedule('advice-sla-sweep', minutesAfter(created.slaDueAt, 1));
    const moved = (await get(lingyin, a.adviceId)).body;
    expect(moved).toMatchObject({ status: 'open', toInstitutionId: 'hosp-advx-2', expiredBy: ['hosp-advx-1'] });
    expect(new Date(moved.slaDueAt).getTime()).toBeGreaterThan(new Date(created.slaDueAt).getTime());
    expect((await inbox('hosp-advx-2')).some((t) => t.includes(a.adviceId))).toBe(true);
    // The first hospital lost it: it is no longer its to see, and it is told so.
    expect((await get(await rt.as('hospital', 'hosp-advx-1'), a.adviceId)).status).toBe(404);
    expect((await inbox('hosp-advx-1')).filter((t) => t.includes(a.adviceId))).toEqual(expect.arrayContaining([expect.stringContaining('请及时答复'), expect.stringContaining('未在规定时间内答复，已转至其他医院，贵院不再能查看或答复。')]));

    await rt.runSchedule('advice-sla-sweep', minutesAfter(moved.slaDueAt, 1));
    const closed = (await get(lingyin, a.adviceId)).body;
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'unanswered', expiredBy: ['hosp-advx-1', 'hosp-advx-2'] });
    expect(closed.history.map((h: { status: string; by: string }) => [h.status, h.by])).toEqual([['open', 'clinic-lingyin'], ['open', 'platform'], ['closed', 'platform']]);
    expect((await inbox('clinic-lingyin')).some((t) => t.includes(a.adviceId) && t.includes('未获'))).toBe(true);
    // Each lapse names the hospital that let it pass before the move that follows it.
    expect(await eventsOf(a.adviceId)).toEqual(['AdviceRequested', 'AdviceExpired', 'AdviceRerouted', 'AdviceExpired', 'AdviceClosed']);
    expect((await inbox('hosp-advx-2')).filter((t) => t.includes(a.adviceId))).toEqual(expect.arrayContaining([expect.stringContaining('请及时答复'), expect.stringContaining('未在规定时间内答复，已关闭。')]));
    // Off the SLA queue once closed.
    const item = (await rt.db.send(new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': adviceKey(a.adviceId).PK } }))).Items![0]!;
    expect(item.GSI3PK).toBeUndefined();
  });

  it('an answered request is left alone by the sweep', async () => {
    const a = await ask(lingyin, { personId: person(), toInstitutionId: 'hosp-xihu' });
    await act(xihu, a.adviceId, 'reply', { answer: '可基层管理', recommendation: 'manage-locally' });
    const slaDueAt = (await get(lingyin, a.adviceId)).body.slaDueAt ?? new Date().toISOString();
    await rt.runSchedule('advice-sla-sweep', minutesAfter(slaDueAt, 60 * 48));
    expect((await get(lingyin, a.adviceId)).body).toMatchObject({ status: 'answered', toInstitutionId: 'hosp-xihu' });
  });
});
