// The operator and catalog part of API.md over HTTP against the local runtime (seeded demo province).
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '../../functions/shared/db.ts';
import { demoNationalId, demoPeople } from '../../infra/local/demo-province.ts';
import { badTokens } from '../support/tokens.ts';
import { countItems, outboxEvents } from '../support/table.ts';
import { traceCodes } from '../support/trace-codes.ts';
import { clearOfMidnight } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
beforeAll(async () => {
  rt = await startTestRuntime();
  operator = await rt.as('operator');
});
afterAll(() => rt?.stop());

/** Items in the table once asynchronous consumers have caught up. */
const itemCount = async () => {
  await rt.settle();
  return countItems(rt);
};

/**
 * The person pays ¥70 at ph-xihu-1, as at the counter: their voucher activated by the channel app,
 * a code from it, one traced pack. The 201 answer.
 */
async function settleAtPharmacy(person: { nationalId: string; name: string }, idempotencyKey: string) {
  const channel = await rt.as('channel');
  const voucher = await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' });
  const code = (await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`)).body.code;
  const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
  const settled = await rt.call(pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 7_000, traceCodes: traceCodes(1) }] }, { 'idempotency-key': idempotencyKey });
  expect(settled.status).toBe(201);
  return settled;
}

describe('public routes', () => {
  it('GET /health answers 200 {"status":"ok"} without a token', { tags: ['any-day'] }, async () => {
    const res = await rt.call(undefined, 'GET', '/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('GET /openapi.json is an OpenAPI 3.1 document of the routes', { tags: ['any-day'] }, async () => {
    const res = await rt.call(undefined, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/institutions', '/institutions/{id}', '/enrollments', '/enrollments/{personId}', '/drugs/{drugCode}']));
  });

  it('an unknown path is a problem+json 404', { tags: ['any-day'] }, async () => {
    const res = await rt.call(operator, 'GET', '/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('authentication', () => {
  it("one token's GET, POST and PUT within the authorizer cache's minute are all let through (the cached policy covers the whole stage)", { tags: ['any-day'] }, async () => {
    const token = await rt.as('operator');
    expect((await rt.call(token, 'GET', '/institutions')).status).toBe(200);
    const id = `clinic-cache-${Date.now().toString(36)}`;
    expect((await rt.call(token, 'POST', '/institutions', { id, name: '缓存', type: 'clinic', district: '西湖区', designated: true })).status).toBe(201);
    expect((await rt.call(token, 'PUT', '/drugs/XCACHE001', { name: '缓存药', category: 'C', unit: '盒' })).status).toBe(201);
    // The gateway reused the first answer: no authorizer time on the later requests.
    const again = await rt.call(token, 'GET', `/institutions/${id}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('server-timing')).toMatch(/authorizer;dur=0,/);
  });

  it('takes the scheme in any case (RFC 9110: "bearer" is "Bearer"), and nothing but a bearer token', { tags: ['any-day'] }, async () => {
    const { token } = await rt.as('operator');
    const withHeader = (authorization: string) => fetch(`${rt.url}/institutions`, { headers: { authorization } }).then((r) => r.status);
    expect(await Promise.all(['bearer', 'BEARER', 'Bearer'].map((scheme) => withHeader(`${scheme} ${token}`)))).toEqual([200, 200, 200]);
    expect(await Promise.all([`Basic ${token}`, token, `Bearer${token}`].map(withHeader))).toEqual([401, 401, 401]);
  });

  it('refuses a missing, forged, expired, alg:none, wrong-province, wrong-audience or tampered token with 401 problem+json', { tags: ['any-day'] }, async () => {
    const t = await badTokens(rt.dataDir, 'ZJ');
    const none = await rt.call(undefined, 'GET', '/institutions');
    expect(none.status).toBe(401);
    for (const [name, token] of Object.entries(t)) {
      if (name === 'valid') continue;
      const res = await rt.call({ token }, 'GET', '/institutions');
      expect([name, res.status]).toEqual([name, 401]);
      expect(slug(res.body)).toBe('unauthorized');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await rt.call({ token: t.valid }, 'GET', '/institutions')).status).toBe(200);
  });

  it('a valid token of the wrong role gets 403 forbidden and writes nothing', { tags: ['any-day'] }, async () => {
    const before = await itemCount();
    for (const [role, inst] of [['pharmacy', 'ph-xihu-1'], ['clinic', 'clinic-lingyin'], ['channel', undefined], ['hospital', 'hosp-zjph']] as const) {
      const who = await rt.as(role, inst);
      const res = await rt.call(who, 'POST', '/institutions', { id: 'x-1', name: 'x', type: 'clinic', district: 'd', designated: true });
      expect([role, res.status, slug(res.body)]).toEqual([role, 403, 'forbidden']);
      expect((await rt.call(who, 'PUT', '/drugs/XC08CAA001', { name: 'x', category: 'C', unit: 'x' })).status).toBe(403);
    }
    expect(await itemCount()).toBe(before);
  });
});

describe('institutions', () => {
  it('registers one (201), reads it back, refuses the same id (409 conflict)', { tags: ['any-day'] }, async () => {
    const body = {
      id: 'hosp-new', name: '新院区', type: 'hospital', level: 'tertiary', district: '西湖区', designated: true,
      location: { lat: 30.1, lng: 120.1 }, departments: [{ code: 'CARD', name: '心内科', dailyCapacity: 5 }],
    };
    const created = await rt.call(operator, 'POST', '/institutions', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, createdAt: expect.any(String) });
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    expect((await rt.call(pharmacy, 'GET', '/institutions/hosp-new')).body).toEqual(created.body);
    const dup = await rt.call(operator, 'POST', '/institutions', body);
    expect([dup.status, slug(dup.body)]).toEqual([409, 'conflict']);
  });

  it('PUT changes one (a round trip of GET): routing follows its departments and designation; its id and type stay', async () => {
    const body = {
      id: 'hosp-edit', name: '改院区', type: 'hospital', level: 'tertiary', district: '西湖区', designated: true,
      departments: [{ code: 'XKEEP', name: '保留科', dailyCapacity: 5 }, { code: 'XGONE', name: '撤销科', dailyCapacity: 3 }],
    };
    const created = (await rt.call(operator, 'POST', '/institutions', body)).body;
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const personId = (await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId: demoNationalId('330106', '19820303', 801), name: '改院', district: '西湖区', personalAccountFen: 0 }] })).body.personIds[0];
    const refer = (department: string) => rt.call(clinic, 'POST', '/referrals', { personId, direction: 'up', department, reason: '复查', diagnoses: ['I10'], urgency: 'routine' });
    const routed = await refer('XGONE');
    expect([routed.status, routed.body.toInstitutionId]).toEqual([201, 'hosp-edit']);
    expect((await rt.call(clinic, 'POST', `/referrals/${routed.body.referralId}/cancel`)).status).toBe(200);

    // A department closed, another's capacity changed, renamed: what GET gave, changed, goes back.
    const changed = { ...created, name: '改院区（新）', departments: [{ code: 'XKEEP', name: '保留科', dailyCapacity: 9 }] };
    const put = await rt.call(operator, 'PUT', '/institutions/hosp-edit', changed);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ ...changed, createdAt: created.createdAt, updatedAt: expect.any(String), version: 2 });
    expect((await rt.call(clinic, 'GET', '/institutions/hosp-edit')).body).toEqual(put.body);
    expect(slug((await refer('XGONE')).body)).toBe('unroutable');
    expect((await refer('XKEEP')).body.toInstitutionId).toBe('hosp-edit');

    // Its designation withdrawn (取消定点), with If-Match naming the version read: routing passes it by.
    const read = await rt.call(operator, 'GET', '/institutions/hosp-edit');
    expect([read.headers.get('etag'), read.body.version]).toEqual(['"2"', 2]);
    const withdrawn = await rt.call(operator, 'PUT', '/institutions/hosp-edit', { ...read.body, designated: false }, { 'if-match': '"2"' });
    expect([withdrawn.status, withdrawn.headers.get('etag'), withdrawn.body.version]).toEqual([200, '"3"', 3]);
    expect(slug((await refer('XKEEP')).body)).toBe('unroutable');
    // Another operator's edit from the copy before that: 412, and the withdrawal stands.
    const stale = await rt.call(operator, 'PUT', '/institutions/hosp-edit', { ...read.body, name: '改院区（另一位）' }, { 'if-match': '"2"' });
    expect([stale.status, slug(stale.body)]).toEqual([412, 'precondition-failed']);
    expect((await rt.call(operator, 'GET', '/institutions/hosp-edit')).body).toMatchObject({ designated: false, name: '改院区（新）', version: 3 });

    // What does not change, or is not there: 400 on the field, 404; operators only.
    const asClinic = await rt.call(operator, 'PUT', '/institutions/hosp-edit', { ...put.body, type: 'clinic' });
    expect([asClinic.status, asClinic.body.errors]).toEqual([400, [{ path: 'body.type', message: 'must be hospital' }]]);
    const otherId = await rt.call(operator, 'PUT', '/institutions/hosp-edit', { ...put.body, id: 'hosp-zjph' });
    expect([otherId.status, otherId.body.errors[0].path]).toEqual([400, 'body.id']);
    expect((await rt.call(operator, 'PUT', '/institutions/hosp-nowhere', { ...body, id: undefined })).status).toBe(404);
    expect((await rt.call(clinic, 'PUT', '/institutions/hosp-edit', put.body)).status).toBe(403);
    expect((await rt.call(operator, 'GET', '/institutions/hosp-edit')).body).toMatchObject({ type: 'hospital', designated: false, name: '改院区（新）', version: 3 });
  });

  it('validates the body with field-level errors and writes nothing', { tags: ['any-day'] }, async () => {
    const before = await itemCount();
    const res = await rt.call(operator, 'POST', '/institutions', { id: 'bad id!', name: '', type: 'spa', district: 'd', designated: 'yes', departments: [{ code: 'A', name: 'a', dailyCapacity: -1 }] });
    expect(res.status).toBe(400);
    expect(slug(res.body)).toBe('validation-failed');
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.id', 'body.name', 'body.type', 'body.designated', 'body.departments.0.dailyCapacity']));
    const notJson = await rt.call(operator, 'POST', '/institutions', '{"id":');
    expect([notJson.status, slug(notJson.body)]).toEqual([400, 'validation-failed']);
    const leadNotHospital = await rt.call(operator, 'POST', '/institutions', { id: 'c-x', name: 'c', type: 'clinic', district: 'd', designated: true, leadHospitalId: 'ph-xihu-1' });
    expect(leadNotHospital.status).toBe(400);
    // "platform" is the platform itself in every history (an automatic reroute's mover): not an institution.
    const reserved = await rt.call(operator, 'POST', '/institutions', { id: 'Platform', name: '平台', type: 'clinic', district: '西湖区', designated: true });
    expect([reserved.status, reserved.body.errors]).toEqual([400, [{ path: 'body.id', message: expect.stringContaining('reserved') }]]);
    const pharmacyWards = await rt.call(operator, 'POST', '/institutions', { id: 'ph-wards', name: '药店', type: 'pharmacy', district: '西湖区', designated: true, departments: [{ code: 'GP', name: '全科', dailyCapacity: 5 }] });
    expect([pharmacyWards.status, pharmacyWards.body.errors]).toEqual([400, [{ path: 'body.departments', message: 'a pharmacy has no departments' }]]);
    expect(await itemCount()).toBe(before);
  });

  it('refuses an oversized body with 413 before touching the table', { tags: ['any-day'] }, async () => {
    const res = await rt.call(operator, 'POST', '/institutions', { id: 'big', name: 'x'.repeat(70 * 1024), type: 'clinic', district: 'd', designated: true });
    expect([res.status, slug(res.body)]).toEqual([413, 'payload-too-large']);
    // Enrolment batches have a larger limit of their own.
    const people = Array.from({ length: 500 }, (_, i) => ({ nationalId: demoNationalId('330110', '19600101', i), name: '某某某某', district: '余杭区某某街道某某社区', personalAccountFen: i }));
    const batch = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ enrolled: 500, rejected: [] });
  });

  it('lists by type with pagination and an opaque nextToken', { tags: ['any-day'] }, async () => {
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const res = await rt.call(clinic, 'GET', `/institutions?type=pharmacy&limit=2${next ? `&nextToken=${next}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: { id: string; type: string }) => (expect(i.type).toBe('pharmacy'), i.id)));
      next = res.body.nextToken;
    } while (next);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seen).size).toBe(seen.length);
    const badToken = await rt.call(clinic, 'GET', '/institutions?nextToken=garbage');
    expect([badToken.status, slug(badToken.body)]).toEqual([400, 'validation-failed']);
    const badLimit = await rt.call(clinic, 'GET', '/institutions?limit=500');
    expect(badLimit.status).toBe(400);
  });

  it('404 for an unknown institution', { tags: ['any-day'] }, async () => {
    const res = await rt.call(operator, 'GET', '/institutions/nope');
    expect([res.status, slug(res.body)]).toEqual([404, 'not-found']);
  });
});

describe('enrolments', () => {
  it('enrols valid people, rejects bad national IDs by index, and never stores the ID in clear', async () => {
    const people = [
      { nationalId: '11010519491231002X', name: '张三', phone: '13800138000', district: '西湖区', personalAccountFen: 12_345 },
      { nationalId: '110105194912310021', name: '李四', district: '西湖区', personalAccountFen: 1 }, // bad check digit
      { nationalId: '440524198001010013', name: '王五', district: '上城区', personalAccountFen: 0, annualPooledUsedFen: 500 },
      { nationalId: '11010519491231002X', name: '张三', district: '西湖区', personalAccountFen: 1 }, // duplicate in batch
      { name: '无证', district: 'x', personalAccountFen: 1.5 },
    ];
    const res = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ enrolled: 2, updated: 0 });
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3, 4]);
    expect(res.body.rejected[0].errors[0].path).toBe('nationalId');

    const personId = res.body.personIds[0];
    const got = await rt.call(operator, 'GET', `/enrollments/${personId}`);
    expect(got.body).toEqual({
      personId, nationalIdMasked: '110***********002X', name: '张三', phoneMasked: '138****8000', district: '西湖区', personalAccountFen: 12_345, annualPooledUsedFen: 0,
    });
    const raw = JSON.stringify((await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: { PK: `PERSON#${personId}`, SK: 'PROFILE' } }))).Item);
    expect(raw).not.toContain('11010519491231002X');
    expect((await rt.call(operator, 'GET', `/enrollments/${res.body.personIds[2]}`)).body.annualPooledUsedFen).toBe(500);
  });

  it('refuses by index an ID whose check character is right but that cannot be anyone\'s (no such day, a birth in the future, no such province) and a balance over ¥1,000,000', async () => {
    const impossible = [demoNationalId('330106', '19800230', 901), demoNationalId('330106', '20990101', 901), demoNationalId('999999', '19800101', 901)];
    const people = [...impossible, demoNationalId('330106', '19800228', 901), demoNationalId('330106', '19800228', 902)]
      .map((nationalId, i) => ({ nationalId, name: `不可能${i}`, district: '西湖区', personalAccountFen: i === 4 ? 100_000_001 : 100_000_000 }));
    const res = await rt.call(operator, 'POST', '/enrollments', { people });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ enrolled: 1, updated: 0 });
    expect(res.body.rejected.map((r: { index: number; errors: Array<{ path: string }> }) => [r.index, r.errors[0]!.path]))
      .toEqual([[0, 'nationalId'], [1, 'nationalId'], [2, 'nationalId'], [4, 'personalAccountFen']]);
    expect(res.body.personIds.map(Boolean)).toEqual([false, false, false, true, false]);
    expect((await rt.call(operator, 'GET', `/enrollments/${res.body.personIds[3]}`)).body.personalAccountFen).toBe(100_000_000);
  });

  it('the same person enrolled again keeps the personId and counts as updated', { tags: ['any-day'] }, async () => {
    const p = demoPeople[0]!;
    const res = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...p, personalAccountFen: 777 }] });
    expect(res.body).toMatchObject({ enrolled: 0, updated: 1, rejected: [] });
    const again = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...p, nationalId: p.nationalId.toLowerCase() }] });
    expect(again.body.personIds[0]).toBe(res.body.personIds[0]);
    expect((await rt.call(operator, 'GET', `/enrollments/${res.body.personIds[0]}`)).body.personalAccountFen).toBe(p.personalAccountFen);
  });

  it('a file sent again after people settled keeps what they spent; new figures for them are refused by index, nothing written for them', async () => {
    await clearOfMidnight(60_000); // the reversal at the end is same-day
    const enrolee = (i: number) => ({ nationalId: demoNationalId('330106', '19810909', 700 + i), name: `再导入${i}`, district: '西湖区', personalAccountFen: 250_000, annualPooledUsedFen: 100_000 });
    const [spender, saver] = [enrolee(0), enrolee(1)];
    const ids = (await rt.call(operator, 'POST', '/enrollments', { people: [spender, saver] })).body.personIds as string[];
    const balances = async (personId: string) => {
      const { personalAccountFen, annualPooledUsedFen } = (await rt.call(operator, 'GET', `/enrollments/${personId}`)).body;
      return { personalAccountFen, annualPooledUsedFen };
    };
    // The spender settles at a pharmacy (a code from the channel app, as at the counter).
    const settled = await settleAtPharmacy(spender, 'reimport-1');
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    const spent = await balances(ids[0]!);
    const s = settled.body;
    expect(s.personalAccountFen + s.pooledFundFen).toBeGreaterThan(0);
    expect(spent).toEqual({ personalAccountFen: spender.personalAccountFen - s.personalAccountFen, annualPooledUsedFen: spender.annualPooledUsedFen + s.pooledFundFen });

    // The same file again (a retry of failed rows): both updated, the spender's balances untouched.
    const again = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...spender, phone: '13800138000' }, saver] });
    expect(again.body).toMatchObject({ enrolled: 0, updated: 2, rejected: [], personIds: ids });
    expect(await balances(ids[0]!)).toEqual(spent);
    expect((await rt.call(operator, 'GET', `/enrollments/${ids[0]}`)).body.phoneMasked).toBe('138****8000');

    // New figures: applied to the one who has not settled since; the spender is refused by index.
    const changed = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...saver, personalAccountFen: 300_000 }, { ...spender, personalAccountFen: 300_000, name: '改名' }] });
    expect(changed.body).toMatchObject({ enrolled: 0, updated: 1, personIds: [ids[1], null] });
    expect(changed.body.rejected).toEqual([{ index: 1, errors: [{ path: 'personalAccountFen', message: expect.stringContaining('does not overwrite balances a settlement or credit changed') }] }]);
    expect((await balances(ids[1]!)).personalAccountFen).toBe(300_000);
    expect(await balances(ids[0]!)).toEqual(spent);
    expect((await rt.call(operator, 'GET', `/enrollments/${ids[0]}`)).body.name).toBe(spender.name);

    // Its reversal gives back exactly what it took: nothing was created by the second file.
    expect((await rt.call(pharmacy, 'POST', `/settlements/${settled.body.settlementId}/reversal`)).status).toBe(200);
    expect(await balances(ids[0]!)).toEqual({ personalAccountFen: spender.personalAccountFen, annualPooledUsedFen: spender.annualPooledUsedFen });
  });

  it('people enrolled before enrolments were tracked: the same figures as their balances are adopted; others are refused, nothing overwritten', { tags: ['any-day'] }, async () => {
    const enrolee = (i: number) => ({ nationalId: demoNationalId('330106', '19821010', 720 + i), name: `旧登记${i}`, district: '西湖区', personalAccountFen: 80_000 });
    const [same, spent] = [enrolee(0), enrolee(1)];
    const ids = (await rt.call(operator, 'POST', '/enrollments', { people: [same, spent] })).body.personIds as string[];
    // As stored before this version: no enrolledVersion nor enrolled figures; the second has spent since.
    for (const id of ids) {
      await rt.db.send(new UpdateCommand({ TableName: rt.tableName, Key: { PK: `PERSON#${id}`, SK: 'PROFILE' }, UpdateExpression: 'REMOVE enrolledVersion, enrolledAccountFen' }));
    }
    await rt.db.send(new UpdateCommand({ TableName: rt.tableName, Key: { PK: `PERSON#${ids[1]}`, SK: 'PROFILE' }, UpdateExpression: 'SET personalAccountFen = :b ADD balanceVersion :one', ExpressionAttributeValues: { ':b': 75_000, ':one': 1 } }));

    const res = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...same, phone: '13900139000' }, spent] });
    expect(res.body).toMatchObject({ enrolled: 0, updated: 1, personIds: [ids[0], null] });
    expect(res.body.rejected).toEqual([{ index: 1, errors: [{ path: 'personalAccountFen', message: expect.stringContaining('enrolled before enrolments were tracked') }] }]);
    expect((await rt.call(operator, 'GET', `/enrollments/${ids[1]}`)).body.personalAccountFen).toBe(75_000);
    // The first is tracked now: new figures apply while nothing has spent from them…
    const item = async (id: string) => (await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: { PK: `PERSON#${id}`, SK: 'PROFILE' } }))).Item!;
    const tracked = await item(ids[0]!);
    expect([tracked.enrolledVersion, tracked.enrolledAccountFen]).toEqual([tracked.balanceVersion, 80_000]);
    expect((await rt.call(operator, 'POST', '/enrollments', { people: [{ ...same, personalAccountFen: 90_000 }] })).body).toMatchObject({ updated: 1, rejected: [] });
    expect((await rt.call(operator, 'GET', `/enrollments/${ids[0]}`)).body.personalAccountFen).toBe(90_000);
  });

  it('an import that finds a person created since it looked (an overlapping import) updates them: what a settlement changed meanwhile stays', async () => {
    const [a, b] = [0, 1].map((i) => ({ nationalId: demoNationalId('330106', '19800808', 600 + i), name: `重叠${i}`, district: '西湖区', personalAccountFen: 1_000 }));
    const personA = (await rt.call(operator, 'POST', '/enrollments', { people: [a] })).body.personIds[0] as string;
    const key = { PK: `PERSON#${personA}`, SK: 'PROFILE' };
    await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: key }));
    // Between this import's look (BatchGetItem: A is new) and its writes, another import creates A and a
    // settlement draws on the pooled fund: the race a real province can produce but not on cue.
    let raced = false;
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (!raced && /BatchGet/.test(String(context.commandName))) {
          raced = true;
          expect((await rt.call(operator, 'POST', '/enrollments', { people: [a] })).body.enrolled).toBe(1);
          await rt.db.send(new UpdateCommand({ TableName: rt.tableName, Key: key, UpdateExpression: 'SET annualPooledUsedFen = :u ADD balanceVersion :one', ExpressionAttributeValues: { ':u': 5_000, ':one': 1 } }));
        }
        return out;
      },
      { step: 'initialize', name: 'overlappingImport' },
    );
    try {
      const res = await rt.call(operator, 'POST', '/enrollments', { people: [a, b] });
      expect(raced).toBe(true);
      expect(res.body).toMatchObject({ enrolled: 1, updated: 1, rejected: [] });
    } finally {
      ddb.middlewareStack.remove('overlappingImport');
    }
    expect((await rt.call(operator, 'GET', `/enrollments/${personA}`)).body.annualPooledUsedFen).toBe(5_000);
    // The version only goes up: a settlement priced from the balances before cannot commit.
    expect((await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: key }))).Item?.balanceVersion).toBe(3);
  });

  it('refuses an empty or oversized batch, and other roles', { tags: ['any-day'] }, async () => {
    expect((await rt.call(operator, 'POST', '/enrollments', { people: [] })).status).toBe(400);
    const big = Array.from({ length: 501 }, () => demoPeople[0]);
    expect((await rt.call(operator, 'POST', '/enrollments', { people: big })).status).toBe(400);
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    expect((await rt.call(pharmacy, 'GET', '/enrollments/p_abcdefgh')).status).toBe(403);
    expect((await rt.call(operator, 'GET', '/enrollments/p_unknown0')).status).toBe(404);
  });
});

describe('personal-account credits (划入)', () => {
  const person = (i: number, personalAccountFen: number) => ({ nationalId: demoNationalId('330106', '19820808', 800 + i), name: `划入${i}`, district: '西湖区', personalAccountFen });
  const account = async (personId: string) => (await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen as number;
  const credit = (batchId: string, credits: unknown[]) => rt.call(operator, 'POST', '/personal-account-credits', { batchId, credits });

  it('adds each amount once per batch, for people who settled too; the batch again credits nobody twice; another amount is refused by index', async () => {
    const [spender, saver, stranger] = [person(0, 20_000), person(1, 0), person(2, 0)];
    const ids = (await rt.call(operator, 'POST', '/enrollments', { people: [spender, saver] })).body.personIds as string[];
    // The spender settles: an enrolment of new figures is refused for them from now on (it would put back what they spent).
    const settled = await settleAtPharmacy(spender, 'credit-1');
    const spent = await account(ids[0]!);
    expect(spent).toBe(20_000 - settled.body.personalAccountFen);

    const res = await credit('2027年度划入', [
      { nationalId: spender.nationalId, amountFen: 150_000 },
      { nationalId: saver.nationalId, amountFen: 80_000 },
      { nationalId: stranger.nationalId, amountFen: 100 },
      { nationalId: '110105194912310020', amountFen: 100 },
      { nationalId: saver.nationalId, amountFen: 1 },
      { nationalId: spender.nationalId.toLowerCase(), amountFen: 0 },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ credited: 2, alreadyCredited: 0, personIds: [ids[0], ids[1], null, null, null, null] });
    expect(res.body.rejected.map((r: { index: number; errors: Array<{ path: string; message: string }> }) => [r.index, r.errors[0]!.path, r.errors[0]!.message])).toEqual([
      [2, 'nationalId', 'not enrolled'],
      [3, 'nationalId', expect.stringContaining('check character')],
      [4, 'nationalId', 'same person as index 1 in this request'],
      [5, 'amountFen', 'a credit adds at least 1 fen'],
    ]);
    expect([await account(ids[0]!), await account(ids[1]!)]).toEqual([spent + 150_000, 80_000]);

    // The same file again, and again five times at once: nobody is credited twice.
    const again = await credit('2027年度划入', [{ nationalId: spender.nationalId, amountFen: 150_000 }, { nationalId: saver.nationalId, amountFen: 80_000 }]);
    expect(again.body).toMatchObject({ credited: 0, alreadyCredited: 2, rejected: [], personIds: ids });
    const racing = await Promise.all(Array.from({ length: 5 }, () => credit('2027-racing', [{ nationalId: saver.nationalId, amountFen: 1_000 }])));
    expect(racing.map((r) => r.body.credited).reduce((a, b) => a + b, 0)).toBe(1);
    expect([await account(ids[0]!), await account(ids[1]!)]).toEqual([spent + 150_000, 81_000]);
    // Another amount under a batch that credited the person: refused, nothing written.
    const other = await credit('2027年度划入', [{ nationalId: saver.nationalId, amountFen: 90_000 }]);
    expect(other.body.rejected).toEqual([{ index: 0, errors: [{ path: 'amountFen', message: 'batch 2027年度划入 credited 80000 fen to this person before; a batch credits a person once' }] }]);
    expect(await account(ids[1]!)).toBe(81_000);

    // The credit is money like a settlement: the spender pays from it, and an enrolment of new figures still cannot overwrite it.
    const refused = await rt.call(operator, 'POST', '/enrollments', { people: [{ ...saver, personalAccountFen: 5 }] });
    expect(refused.body.rejected).toEqual([{ index: 0, errors: [{ path: 'personalAccountFen', message: expect.stringContaining('does not overwrite balances') }] }]);
    expect(await account(ids[1]!)).toBe(81_000);
    await rt.settle();
    const events = (await outboxEvents(rt, { personId: ids[1] }, 'PersonalAccountCredited')).map((e) => [e.detail.batchId, e.detail.amountFen]);
    expect(events.sort()).toEqual([['2027-racing', 1_000], ['2027年度划入', 80_000]]);
  });

  it('refuses a bad batch id, an empty or oversized request, and other roles, writing nothing', { tags: ['any-day'] }, async () => {
    const before = await itemCount();
    const saver = person(3, 0);
    for (const batchId of ['', 'a#b', 'x'.repeat(65), '2027 划入']) {
      const res = await credit(batchId, [{ nationalId: saver.nationalId, amountFen: 1 }]);
      expect([res.status, slug(res.body), res.body.errors?.[0]?.path]).toEqual([400, 'validation-failed', 'body.batchId']);
    }
    expect((await credit('b', [])).status).toBe(400);
    expect((await credit('b', Array.from({ length: 501 }, () => ({ nationalId: saver.nationalId, amountFen: 1 })))).status).toBe(400);
    for (const role of ['channel', 'clinic', 'pharmacy'] as const) {
      const who = role === 'channel' ? await rt.as('channel') : await rt.as(role, role === 'clinic' ? 'clinic-lingyin' : 'ph-xihu-1');
      expect((await rt.call(who, 'POST', '/personal-account-credits', { batchId: 'b', credits: [{ nationalId: saver.nationalId, amountFen: 1 }] })).status).toBe(403);
    }
    expect(await itemCount()).toBe(before);
  });
});

describe('drug catalog', () => {
  it('reads a seeded drug; PUT creates (201) then replaces (200); operator only', { tags: ['any-day'] }, async () => {
    const clinic = await rt.as('clinic', 'clinic-hubin');
    expect((await rt.call(clinic, 'GET', '/drugs/XC09CAA001')).body).toEqual({ drugCode: 'XC09CAA001', name: '缬沙坦胶囊 80mg', category: 'B', unit: '盒', longTermAllowed: true });
    const created = await rt.call(operator, 'PUT', '/drugs/XNEW00001', { name: '新药', category: 'C', unit: '盒' });
    expect(created.status).toBe(201);
    const replaced = await rt.call(operator, 'PUT', '/drugs/XNEW00001', { name: '新药', category: 'B', unit: '盒' });
    expect([replaced.status, replaced.body.category]).toEqual([200, 'B']);
    expect((await rt.call(clinic, 'GET', '/drugs/XNEW00001')).body.category).toBe('B');
    expect((await rt.call(operator, 'PUT', '/drugs/XNEW00001', { name: '新药', category: 'D', unit: '盒' })).status).toBe(400);
    expect((await rt.call(operator, 'GET', '/drugs/bad code')).status).toBe(400);
    expect((await rt.call(operator, 'GET', '/drugs/XNONE0000')).status).toBe(404);
  });

  it('PUT takes the representation GET returns: the same drugCode round-trips, another one is a 400 on body.drugCode', { tags: ['any-day'] }, async () => {
    expect((await rt.call(operator, 'PUT', '/drugs/XROUND001', { name: '往返药', category: 'A', unit: '盒' })).status).toBe(201);
    const got = await rt.call(operator, 'GET', '/drugs/XROUND001');
    const edited = { ...got.body, name: '往返药（新包装）' };
    const put = await rt.call(operator, 'PUT', '/drugs/XROUND001', edited);
    expect([put.status, put.body]).toEqual([200, edited]);
    expect((await rt.call(operator, 'GET', '/drugs/XROUND001')).body).toEqual(edited);

    await rt.settle(); // the accepted PUT's event lands in the audit projection first
    const before = await countItems(rt);
    const other = await rt.call(operator, 'PUT', '/drugs/XROUND001', { ...edited, drugCode: 'XC08CAA001' });
    expect([other.status, slug(other.body), other.body.errors]).toEqual([400, 'validation-failed', [{ path: 'body.drugCode', message: expect.stringContaining('XROUND001') }]]);
    expect((await rt.call(operator, 'GET', '/drugs/XC08CAA001')).body.name).not.toBe(edited.name);
    expect((await rt.call(operator, 'GET', '/drugs/XROUND001')).body).toEqual(edited);
    expect(await countItems(rt)).toBe(before);
  });
});
