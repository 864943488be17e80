// The vouchers part of API.md over HTTP against the local runtime: activation, codes, settlement
// with its split and balances, idempotency, reversal, reconciliation, tenancy and races.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { MAX_LINE_QUANTITY } from '../../schemas/vouchers.ts';
import { clearOfMidnight, clearOfWindowEnd, provinceDay, provinceDays } from '../support/calendar.ts';
import { countItems } from '../support/table.ts';
import { seededTraceCodes, traced } from '../support/trace-codes.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
let channel: Caller;
let pharmacyA: Caller;
let pharmacyB: Caller;
let seq = 500;

beforeAll(async () => {
  // An app's limit on failed identity checks is 100 in 15 minutes by default, 5 per ID; 5 and 3 here, to reach them.
  rt = await startTestRuntime({ configure: (p) => ({ ...p, identityChecks: { ...p.identityChecks, failuresPerAppPer15Minutes: 5, failuresPerIdPer15Minutes: 3 } }) });
  [operator, channel, pharmacyA, pharmacyB] = await Promise.all([
    rt.as('operator'),
    rt.as('channel'),
    rt.as('pharmacy', 'ph-xihu-1'),
    rt.as('pharmacy', 'ph-xihu-2'),
  ]);
});
afterAll(() => rt?.stop());
// A split depends on the year's pooled-fund use and a reversal on the settlement's day: each scenario
// runs within one province day (the boundaries themselves are unit-tested at fixed instants).
beforeEach(() => clearOfMidnight(30_000));

let keySeq = 0;
const key = () => `test-key-${Date.now()}-${keySeq++}`;

/** Enrols a fresh person and activates their voucher; returns ids and the national ID. */
async function personWithVoucher(personalAccountFen: number, annualPooledUsedFen = 0) {
  const nationalId = demoNationalId('330106', '19700101', seq++);
  const name = `测试${seq}`;
  const enrolled = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name, district: '西湖区', personalAccountFen, annualPooledUsedFen }] });
  expect(enrolled.body.rejected).toEqual([]);
  const activated = await rt.call(channel, 'POST', '/vouchers', { nationalId, name, channel: 'wechat' });
  expect(activated.status).toBe(201);
  return { nationalId, name, personId: enrolled.body.personIds[0] as string, voucherId: activated.body.voucherId as string };
}

const code = async (voucherId: string) => {
  const res = await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`);
  expect(res.status).toBe(201);
  return res.body.code as string;
};
const balances = async (personId: string) => (await rt.call(operator, 'GET', `/enrollments/${personId}`)).body;
const settle = (who: Caller, body: unknown, idempotencyKey = key()) => rt.call(who, 'POST', '/settlements', body, { 'idempotency-key': idempotencyKey });

// Demo catalog: XC08CAA001 is category A, XC09CAA001 category B, XA11CCA001 category C.
// Every pack scanned with its trace code (the demo province requires them); the same code, the same codes.
const basket = (c: string) => ({
  code: c,
  items: [
    { drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 50_000, traceCodes: seededTraceCodes(`${c}A`, 2) },
    { drugCode: 'XC09CAA001', quantity: 1, unitPriceFen: 10_000, traceCodes: seededTraceCodes(`${c}B`, 1) },
    { drugCode: 'XA11CCA001', quantity: 1, unitPriceFen: 3_000, traceCodes: seededTraceCodes(`${c}C`, 1) },
  ],
});

describe('activation', () => {
  it('activates once per person: 201, then 200 with the same voucher; wrong name or unknown person 422 not-enrolled', { tags: ['any-day'] }, async () => {
    const p = await personWithVoucher(1_000);
    const again = await rt.call(channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'alipay' });
    expect([again.status, again.body.voucherId, again.body.status]).toEqual([200, p.voucherId, 'active']);
    const wrongName = await rt.call(channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: '别人', channel: 'wechat' });
    expect([wrongName.status, slug(wrongName.body)]).toEqual([422, 'not-enrolled']);
    const unknown = await rt.call(channel, 'POST', '/vouchers', { nationalId: demoNationalId('330106', '19990101', 999), name: '无名', channel: 'wechat' });
    expect([unknown.status, slug(unknown.body)]).toEqual([422, 'not-enrolled']);
    const valid = demoNationalId('330106', '19990101', 998);
    const wrongCheck = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    const badId = await rt.call(channel, 'POST', '/vouchers', { nationalId: wrongCheck, name: '无名', channel: 'wechat' });
    expect([badId.status, slug(badId.body)]).toEqual([400, 'validation-failed']);
    expect((await rt.call(pharmacyA, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' })).status).toBe(403);
    const got = await rt.call(operator, 'GET', `/vouchers/${p.voucherId}`);
    expect(got.body).toMatchObject({ voucherId: p.voucherId, personId: p.personId, status: 'active', channel: 'wechat' });
  });

  it('a voucher belongs to the channel apps that activated it: another app sees, codes and suspends nothing until it activates it itself', { tags: ['any-day'] }, async () => {
    const p = await personWithVoucher(1_000);
    const otherApp = { token: await rt.token('channel', undefined, { subject: 'alipay-mini-program' }) };
    for (const [method, path] of [['GET', ''], ['POST', '/codes'], ['POST', '/suspend'], ['POST', '/resume']] as const) {
      const res = await rt.call(otherApp, method, `/vouchers/${p.voucherId}${path}`);
      expect([method, path, res.status, slug(res.body)]).toEqual([method, path, 404, 'not-found']);
    }
    expect((await rt.call(operator, 'GET', `/vouchers/${p.voucherId}`)).body.status).toBe('active');
    // Activating (knowing the person's ID and name, after its own real-name check) makes it one of them.
    const activated = await rt.call(otherApp, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'alipay' });
    expect([activated.status, activated.body.voucherId]).toEqual([200, p.voucherId]);
    expect((await rt.call(otherApp, 'POST', `/vouchers/${p.voucherId}/codes`)).status).toBe(201);
    expect((await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).status).toBe(201);
  });

  it('failed activations: 5 per app and 3 per national ID in each app (here) in 15 minutes, then 429 with Retry-After, whether the ID is enrolled or not', async () => {
    await clearOfWindowEnd(15 * 60, 30_000); // the limit counts in fixed 15-minute windows
    const p = await personWithVoucher(1_000);
    const guesser = { token: await rt.token('channel', undefined, { subject: 'guessing-app' }) };
    // Wrong names for an enrolled person and unknown IDs count alike, and read alike.
    const tries = [
      { nationalId: p.nationalId, name: '猜一' }, { nationalId: demoNationalId('330106', '19990202', 901), name: '猜二' },
      { nationalId: p.nationalId, name: '猜三' }, { nationalId: demoNationalId('330106', '19990202', 902), name: '猜四' },
      { nationalId: demoNationalId('330106', '19990202', 903), name: '猜五' },
    ];
    for (const t of tries) {
      const res = await rt.call(guesser, 'POST', '/vouchers', { ...t, channel: 'wechat' });
      expect([res.status, slug(res.body), res.body.detail]).toEqual([422, 'not-enrolled', 'no enrolment matches this national ID and name']);
    }
    for (const t of [{ nationalId: p.nationalId, name: p.name }, { nationalId: demoNationalId('330106', '19990202', 904), name: '猜六' }]) {
      const limited = await rt.call(guesser, 'POST', '/vouchers', { ...t, channel: 'wechat' });
      expect([limited.status, slug(limited.body)]).toEqual([429, 'rate-limited']);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    }
    // Per national ID within each app: another app's three failures on this person's ID stop its
    // guesses at that ID (not at others: the app is under its own limit).
    const other = { token: await rt.token('channel', undefined, { subject: 'other-app' }) };
    for (let i = 0; i < 3; i++) expect((await rt.call(other, 'POST', '/vouchers', { nationalId: p.nationalId, name: '又猜', channel: 'wechat' })).status).toBe(422);
    expect((await rt.call(other, 'POST', '/vouchers', { nationalId: p.nationalId, name: '再猜', channel: 'wechat' })).status).toBe(429);
    expect((await rt.call(other, 'POST', '/vouchers', { nationalId: demoNationalId('330106', '19990202', 905), name: '再猜', channel: 'wechat' })).status).toBe(422);
    // The person themselves, through that app (a token acting for them), is not stopped by others' guesses.
    const self = await rt.asPerson(p.personId, 'other-app');
    expect((await rt.call(self, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' })).status).toBe(200);
    // Guesses by others never keep the person from their voucher in the app they use.
    const honest = { token: await rt.token('channel', undefined, { subject: 'honest-app' }) };
    expect((await rt.call(honest, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' })).status).toBe(200);
  });

  it('a name written with another middle dot activates; a body not in UTF-8 is 400 and no failed check', { tags: ['any-day'] }, async () => {
    const app = { token: await rt.token('channel', undefined, { subject: 'encoding-app' }) };
    const nationalId = demoNationalId('330106', '19850505', seq++);
    expect((await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name: '阿卜杜拉·艾山', district: '西湖区', personalAccountFen: 0 }] })).body.rejected).toEqual([]);
    // A GBK system's 王伟 (CD F5 CE B0), six times: more than the app's five failures would allow.
    const gbk = Buffer.concat([Buffer.from(`{"nationalId":"${nationalId}","name":"`), Buffer.from([0xcd, 0xf5, 0xce, 0xb0]), Buffer.from('","channel":"wechat"}')]);
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${rt.url}/vouchers`, { method: 'POST', headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' }, body: gbk });
      const body = (await res.json()) as { type?: string; errors?: unknown };
      expect([res.status, slug(body), body.errors]).toEqual([400, 'validation-failed', [{ path: 'body', message: 'invalid UTF-8' }]]);
    }
    // The katakana middle dot of a Japanese-style IME: the same name.
    const activated = await rt.call(app, 'POST', '/vouchers', { nationalId, name: '阿卜杜拉・艾山', channel: 'wechat' });
    expect(activated.status).toBe(201);
  });

  it('50 racing wrong activations by one app: exactly 5 are tried, 45 are 429', async () => {
    await clearOfWindowEnd(15 * 60, 30_000);
    const racer = { token: await rt.token('channel', undefined, { subject: 'racing-app' }) };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rt.call(racer, 'POST', '/vouchers', { nationalId: demoNationalId('330106', '19990303', 700 + i), name: '猜', channel: 'wechat' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect([statuses.filter((s) => s === 422).length, statuses.filter((s) => s === 429).length]).toEqual([5, 45]);
  });

  it('suspend and resume by channel or operator; no codes while suspended; invalid transitions 409', { tags: ['any-day'] }, async () => {
    const p = await personWithVoucher(1_000);
    const early = await code(p.voucherId);
    expect((await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/suspend`)).body.status).toBe('suspended');
    const again = await rt.call(operator, 'POST', `/vouchers/${p.voucherId}/suspend`);
    expect([again.status, slug(again.body)]).toEqual([409, 'invalid-transition']);
    const noCode = await rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`);
    expect([noCode.status, slug(noCode.body)]).toEqual([422, 'voucher-not-active']);
    const withOldCode = await settle(pharmacyA, basket(early));
    expect([withOldCode.status, slug(withOldCode.body)]).toEqual([422, 'voucher-not-active']);
    expect((await rt.call(operator, 'POST', `/vouchers/${p.voucherId}/resume`)).body.status).toBe('active');
    expect((await rt.call(pharmacyA, 'POST', `/vouchers/${p.voucherId}/resume`)).status).toBe(403);
    expect((await rt.call(channel, 'POST', '/vouchers/vch_nope0000/suspend')).status).toBe(404);
  });
});

describe('settlement', () => {
  it('splits by category and province policy, debits balances in the same transaction, publishes SettlementCompleted', async () => {
    const p = await personWithVoucher(50_000, 100); // deductible counts as met (pooled fund already paid this year)
    const res = await settle(pharmacyA, basket(await code(p.voucherId)));
    expect(res.status).toBe(201);
    // ZJ: pharmacy ratio 0.7, B self-pay 10%. A 100 000 eligible; B 10 000 → share 1 000, eligible 9 000; C 3 000.
    // fund = floor(0.7 × 109 000) = 76 300; account = min(50 000, 110 000 − 76 300 = 33 700); cash = rest.
    expect(res.body).toMatchObject({
      voucherId: p.voucherId, personId: p.personId, institutionId: 'ph-xihu-1', status: 'settled',
      totalFen: 113_000, pooledFundFen: 76_300, personalAccountFen: 33_700, cashFen: 3_000,
    });
    expect(res.body.pooledFundFen + res.body.personalAccountFen + res.body.cashFen).toBe(res.body.totalFen);
    expect(await balances(p.personId)).toMatchObject({ personalAccountFen: 50_000 - 33_700, annualPooledUsedFen: 100 + 76_300 });
    expect((await rt.call(pharmacyA, 'GET', `/settlements/${res.body.settlementId}`)).body).toEqual(res.body);
  });

  it('a person with too little in the account pays the rest in cash; deductible applies first', async () => {
    const p = await personWithVoucher(10_000);
    const res = await settle(pharmacyA, { code: await code(p.voucherId), items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100_000 })] });
    // deductible 80 000 first; fund = floor(0.7 × 20 000) = 14 000; account min(10 000, 86 000); cash 76 000
    expect(res.body).toMatchObject({ totalFen: 100_000, deductibleAppliedFen: 80_000, pooledFundFen: 14_000, personalAccountFen: 10_000, cashFen: 76_000 });
    expect((await balances(p.personId)).personalAccountFen).toBe(0);
  });

  it('Idempotency-Key: same key and body replays the same response; another body is 422; no key is 400', async () => {
    const p = await personWithVoucher(100_000, 100);
    const c = await code(p.voucherId);
    const k = key();
    const first = await settle(pharmacyA, basket(c), k);
    const second = await settle(pharmacyA, basket(c), k);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect((await balances(p.personId)).personalAccountFen).toBe(100_000 - first.body.personalAccountFen);
    const other = await settle(pharmacyA, { ...basket(c), items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1 }] }, k);
    expect([other.status, slug(other.body)]).toEqual([422, 'idempotency-key-reused']);
    const noKey = await rt.call(pharmacyA, 'POST', '/settlements', basket(c));
    expect([noKey.status, slug(noKey.body)]).toEqual([400, 'validation-failed']);
    const reused = await settle(pharmacyA, basket(c));
    expect([reused.status, slug(reused.body)]).toEqual([409, 'code-already-used']);
  });

  it('expired code 410, tampered or foreign code 400, unknown drug 400 — and none of them changes anything', async () => {
    const p = await personWithVoucher(20_000);
    const before = await balances(p.personId);
    const secret = JSON.parse(readFileSync(join(rt.dataDir, 'secrets.json'), 'utf8')).voucherKey as string;
    const now = Math.floor(Date.now() / 1000);
    const kid = `v-${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`; // the local secret's version
    const expired = await new SignJWT({ pid: p.personId })
      .setProtectedHeader({ alg: 'HS256', kid }).setIssuer('consortium:ZJ').setAudience('consortium-voucher-code')
      .setSubject(p.voucherId).setJti(`c_expired${now}`).setIssuedAt(now - 120).setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(secret));
    const r410 = await settle(pharmacyA, basket(expired));
    expect([r410.status, slug(r410.body)]).toEqual([410, 'code-expired']);

    const good = await code(p.voucherId);
    const [h, payload, sig] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'vch_other' })).toString('base64url');
    const tampered = await settle(pharmacyA, basket(`${h}.${forgedPayload}.${sig}`));
    expect([tampered.status, slug(tampered.body)]).toEqual([400, 'validation-failed']);
    expect((await settle(pharmacyA, basket('not-a-code-at-all-xxxxxxxxxxxxx'))).status).toBe(400);

    const unknownDrug = await settle(pharmacyA, { code: good, items: [{ drugCode: 'XNOSUCH01', quantity: 1, unitPriceFen: 100 }] });
    expect([unknownDrug.status, slug(unknownDrug.body)]).toEqual([400, 'validation-failed']);
    expect(unknownDrug.body.errors[0].path).toBe('body.items.0.drugCode');
    const badBody = await settle(pharmacyA, { code: good, items: [{ drugCode: 'XC08CAA001', quantity: 0, unitPriceFen: 1.5 }] });
    expect(badBody.status).toBe(400);
    expect(await balances(p.personId)).toEqual(before);
    // The code was not consumed by the refused attempts.
    expect((await settle(pharmacyA, basket(good))).status).toBe(201);
  });

  it('only designated pharmacies and hospitals settle; clinics and channels may not', { tags: ['any-day'] }, async () => {
    const p = await personWithVoucher(20_000);
    const c = await code(p.voucherId);
    const privatePharmacy = await rt.as('pharmacy', 'ph-private-1');
    expect((await settle(privatePharmacy, basket(c))).status).toBe(403);
    expect((await settle(await rt.as('clinic', 'clinic-lingyin'), basket(c))).status).toBe(403);
    expect((await settle(channel, basket(c))).status).toBe(403);
  });

  it('at a tertiary hospital without a referral the hospital ratio applies', async () => {
    const p = await personWithVoucher(0, 100);
    const hospital = await rt.as('hospital', 'hosp-zjph');
    const res = await settle(hospital, { code: await code(p.voucherId), items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000 })] });
    expect(res.body).toMatchObject({ institutionId: 'hosp-zjph', pooledFundFen: 6_000, personalAccountFen: 0, cashFen: 4_000 }); // ratio.tertiary 0.6
  });
});

describe('reversal and reconciliation', () => {
  it('restores balances exactly; a second reversal is 409; another pharmacy sees and reverses nothing', async () => {
    const p = await personWithVoucher(30_000, 100);
    const before = await balances(p.personId);
    const s = (await settle(pharmacyA, basket(await code(p.voucherId)))).body;
    expect((await balances(p.personId)).personalAccountFen).toBe(before.personalAccountFen - s.personalAccountFen);

    expect((await rt.call(pharmacyB, 'GET', `/settlements/${s.settlementId}`)).status).toBe(404);
    expect((await rt.call(pharmacyB, 'POST', `/settlements/${s.settlementId}/reversal`)).status).toBe(404);

    const reversed = await rt.call(pharmacyA, 'POST', `/settlements/${s.settlementId}/reversal`);
    expect(reversed.status).toBe(200);
    expect(reversed.body).toMatchObject({ settlementId: s.settlementId, status: 'reversed', reversedAt: expect.any(String), totalFen: s.totalFen });
    expect(await balances(p.personId)).toEqual(before);
    const twice = await rt.call(pharmacyA, 'POST', `/settlements/${s.settlementId}/reversal`);
    expect([twice.status, slug(twice.body)]).toEqual([409, 'invalid-transition']);
    expect(await balances(p.personId)).toEqual(before);
  });

  it('GET /settlements?date= lists only the caller\'s settlements of the day, paginated, totals without reversed ones', async () => {
    const pharmacyC = await rt.as('pharmacy', 'ph-sc-1');
    const made = [];
    for (let i = 0; i < 3; i++) {
      const p = await personWithVoucher(5_000, 100);
      made.push((await settle(pharmacyC, { code: await code(p.voucherId), items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000 * (i + 1) }] })).body);
    }
    expect((await rt.call(pharmacyC, 'POST', `/settlements/${made[0].settlementId}/reversal`)).status).toBe(200);
    // Each settlement is listed under its own day (settledAt in the province's time zone).
    const day = provinceDay(made[0].settledAt);
    expect(provinceDays(made.map((s) => s.settledAt))).toEqual([day]);
    const seen: string[] = [];
    let next: string | undefined;
    let totals;
    do {
      const res = await rt.call(pharmacyC, 'GET', `/settlements?date=${day}&limit=2${next ? `&nextToken=${next}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((s: { settlementId: string; institutionId: string }) => (expect(s.institutionId).toBe('ph-sc-1'), s.settlementId)));
      totals = res.body.totals;
      next = res.body.nextToken;
    } while (next);
    expect(seen.sort()).toEqual(made.map((s) => s.settlementId).sort());
    const kept = made.slice(1);
    expect(totals).toEqual({
      count: 2,
      totalFen: kept.reduce((t, s) => t + s.totalFen, 0),
      pooledFundFen: kept.reduce((t, s) => t + s.pooledFundFen, 0),
      personalAccountFen: kept.reduce((t, s) => t + s.personalAccountFen, 0),
      mutualAidFen: 0,
      cashFen: kept.reduce((t, s) => t + s.cashFen, 0),
    });
    const other = await rt.call(pharmacyB, 'GET', `/settlements?date=${day}`);
    expect(other.body.items.map((s: { settlementId: string }) => s.settlementId)).not.toContain(made[1].settlementId);
    expect((await rt.call(pharmacyC, 'GET', '/settlements?date=2026-13-01')).status).toBe(400);
    expect((await rt.call(pharmacyC, 'GET', '/settlements')).status).toBe(400);
  });
});

describe('races', () => {
  it('100 concurrent settlements with one code: exactly one 201, 99 × 409 code-already-used, debited once', async () => {
    const p = await personWithVoucher(1_000_000, 100);
    const c = await code(p.voucherId);
    const results = await Promise.all(Array.from({ length: 100 }, () => settle(pharmacyA, { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000 }] })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && slug(r.body) === 'code-already-used')).toHaveLength(99);
    const won = results.find((r) => r.status === 201)!.body;
    expect((await balances(p.personId)).personalAccountFen).toBe(1_000_000 - won.personalAccountFen);
  });

  it('50 concurrent settlements with different codes on one person: the account never goes negative and debits add up', async () => {
    const p = await personWithVoucher(30_000, 100);
    const codes = await Promise.all(Array.from({ length: 50 }, () => code(p.voucherId)));
    const results = await Promise.all(codes.map((c) => settle(pharmacyA, { code: c, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 10_000 }] })));
    const ok = results.filter((r) => r.status === 201).map((r) => r.body);
    // Every request either settled or failed cleanly (a bounded retry may give up under this much contention).
    for (const r of results) expect([201, 409, 503]).toContain(r.status);
    expect(ok.length).toBeGreaterThan(0);
    const after = await balances(p.personId);
    expect(after.personalAccountFen).toBeGreaterThanOrEqual(0);
    expect(30_000 - after.personalAccountFen).toBe(ok.reduce((t, s) => t + s.personalAccountFen, 0));
    expect(after.annualPooledUsedFen - 100).toBe(ok.reduce((t, s) => t + s.pooledFundFen, 0));
    for (const s of ok) expect(s.pooledFundFen + s.personalAccountFen + s.cashFen).toBe(s.totalFen);
  });
});

describe('bounds', () => {
  const itemCount = async () => {
    await rt.settle();
    return countItems(rt);
  };

  it('the probe\'s oversized purchase, one above the province limit and a repeated drug line are 400 and write nothing', { tags: ['any-day'] }, async () => {
    const p = await personWithVoucher(1_000_000);
    // The codes first: issuing one is in the person's access log, an item of its own.
    const codes = [await code(p.voucherId), await code(p.voucherId), await code(p.voucherId)];
    const before = await itemCount();
    const limit = rt.province.policy.maxSettlementFen;
    const probe = await settle(pharmacyA, { code: codes[0], items: [{ drugCode: 'XC08CAA001', quantity: 1001, unitPriceFen: 10_000_000 }] });
    expect([probe.status, slug(probe.body), probe.body.errors?.[0]?.path]).toEqual([400, 'validation-failed', 'body.items.0.quantity']);
    const above = await settle(pharmacyA, { code: codes[1], items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: limit + 1 }] });
    expect([above.status, above.body.errors?.[0]?.path]).toEqual([400, 'body.items']);
    expect(above.body.detail).toContain(String(limit));
    const twice = await settle(pharmacyA, { code: codes[2], items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100 }, { drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 100 }] });
    expect([twice.status, twice.body.errors?.[0]?.path]).toEqual([400, 'body.items.1.drugCode']);
    expect(await itemCount()).toBe(before);
    expect((await balances(p.personId)).personalAccountFen).toBe(1_000_000);
  });

  it('whatever the province accepts can be read back through every route: GET, the day\'s list, the reversal', async () => {
    const limit = rt.province.policy.maxSettlementFen;
    const drugs = ['XC08CAA001', 'XC09CAA001', 'XA11CCA001'];
    const purchase = fc
      .subarray(drugs, { minLength: 1 })
      .chain((codes) =>
        fc.tuple(...codes.map((drugCode) => fc.record({ drugCode: fc.constant(drugCode), quantity: fc.integer({ min: 1, max: MAX_LINE_QUANTITY }), unitPriceFen: fc.integer({ min: 0, max: limit }) }))),
      )
      .filter((items) => items.reduce((t, i) => t + i.quantity * i.unitPriceFen, 0) <= limit);
    // The limit itself, exactly, then random purchases up to it.
    const atLimit = [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: limit }];
    await fc.assert(
      fc.asyncProperty(purchase, async (items) => {
        const p = await personWithVoucher(3_000_000, 100);
        const res = await settle(pharmacyA, { code: await code(p.voucherId), items });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const s = res.body;
        expect((await rt.call(pharmacyA, 'GET', `/settlements/${s.settlementId}`)).body).toEqual(s);
        const listed = await rt.call(pharmacyA, 'GET', `/settlements?date=${provinceDay(s.settledAt)}&limit=200`);
        expect(listed.status).toBe(200);
        const reversed = await rt.call(pharmacyA, 'POST', `/settlements/${s.settlementId}/reversal`);
        expect([reversed.status, reversed.body.totalFen]).toEqual([200, s.totalFen]);
      }),
      { numRuns: 6, examples: [[atLimit]] },
    );
  });
});
