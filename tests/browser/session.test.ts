// Login and logout through the identity provider (tokens only in memory), and tenancy as a person
// at a console sees it: one pharmacy's screens never show another pharmacy's settlements or
// prescriptions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { fillIssuerForm, login, logOut, newPage, people, screen, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 20_000, interval: 250 };

describe('login and logout', () => {
  it('logs in with code + PKCE, keeps the tokens out of web storage, and logs out at the identity provider', async () => {
    const { page } = await newPage(desk);
    await page.goto(desk.rt.url);
    await page.getByRole('button', { name: '登录' }).waitFor();
    await screen(page, 'login-1-console');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { name: '登录工作台' }).waitFor();
    const authorize = new URL(page.url());
    expect(authorize.pathname).toBe('/_local/oidc/authorize');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    await screen(page, 'login-2-identity-provider');

    // A staff member of another kind of institution is refused with a message, not logged in.
    await page.getByLabel('角色').selectOption({ label: '药店' });
    await page.getByLabel('机构').selectOption({ label: '浙江省人民医院' });
    await page.getByLabel('工作人员').selectOption({ label: '林芳（执业药师）' });
    await page.getByRole('button', { name: '登录' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('请选择一家药店');

    await fillIssuerForm(page, people.pharmacist);
    await page.getByRole('button', { name: '退出登录' }).waitFor();
    expect(new URL(page.url()).search).toBe(''); // the code is gone from the address bar
    expect(await page.getByRole('banner').innerText()).toContain('林芳（执业药师）');
    const storage = await page.evaluate(() => {
      const g = globalThis as unknown as { localStorage: { length: number }; sessionStorage: Record<string, string> };
      return { local: g.localStorage.length, session: Object.fromEntries(Object.entries(g.sessionStorage).filter(([k]) => !k.startsWith('console.draft.'))) };
    });
    // Only whose the tab's drafts are (no token, nothing of the login's exchange).
    expect(storage).toEqual({ local: 0, session: { 'console.owner': JSON.stringify(['ph-xihu-1:rph-lin', 'ph-xihu-1', 'pharmacy']) } });

    await logOut(page);
    expect(await page.getByRole('button', { name: '退出登录' }).count()).toBe(0);
    // A reload holds no session either: tokens lived in memory only.
    await page.reload();
    await page.getByRole('button', { name: '登录' }).waitFor();
  });

  it('a token refused by the API sends the person back to login and puts their unsent form back afterwards', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.gp);
    await page.getByLabel('身份证号').fill(demoPeople[1]!.nationalId);
    await page.getByRole('button', { name: '查找患者' }).click();
    await page.getByRole('link', { name: '发起转诊' }).click();
    await page.getByLabel('转诊原因').fill('反复头晕，血压控制不佳');
    // Fault injection: the API answers this one request 401, as it does for an expired token. (A real
    // expiry takes over 30 s to be refused, the authorizer's clock tolerance: too long to wait.)
    await page.route('**/referrals', (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'https://consortium.example/problems/unauthorized', title: 'Missing or invalid credentials', status: 401 }) }));
    await page.getByLabel('科室').selectOption({ label: '心血管内科' });
    await page.getByLabel('诊断').fill('I10');
    await page.getByRole('button', { name: '提交转诊' }).click();
    await fillIssuerForm(page, people.gp);
    await page.unroute('**/referrals');
    await expect.poll(() => page.getByLabel('转诊原因').inputValue(), poll).toBe('反复头晕，血压控制不佳');
    expect(await page.getByLabel('诊断').inputValue()).toBe('I10');
  });
});

describe('tenancy', () => {
  it("a pharmacy's console never shows another pharmacy's settlements or prescriptions", async () => {
    const { rt } = desk;
    const person = demoPeople[6]!;
    const channel = await rt.as('channel');
    const voucherId = (await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' })).body.voucherId;
    const code = (await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code;
    const mine = await rt.as('pharmacy', 'ph-xihu-1');
    const settled = await rt.call(mine, 'POST', '/settlements', { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 4_321 }] }, { 'idempotency-key': 'tenancy-browser-0001' });
    expect(settled.status).toBe(201);
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const personId = (await rt.call(clinic, 'POST', '/people/lookup', { nationalId: person.nationalId })).body.personId;
    const rx = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    // Routed asynchronously: polled (a quiet moment can come before the stream shows the prescription).
    await expect.poll(async () => (await rt.call(clinic, 'GET', `/prescriptions/${rx.body.prescriptionId}`)).body.pharmacyId, poll).toBe('ph-xihu-1');

    // The pharmacy it belongs to sees both (so the other's empty screens are not an accident).
    const { page: own } = await newPage(desk);
    await login(own, rt.url, people.pharmacist);
    await own.getByRole('link', { name: '当日结算' }).click();
    await expect.poll(textOf(own.locator('main')), poll).toContain('¥43.21');
    await own.getByRole('link', { name: '处方', exact: true }).click();
    await expect.poll(textOf(own.locator('main')), poll).toContain(person.name);

    const { page } = await newPage(desk);
    await login(page, rt.url, people.otherPharmacist);
    await expect.poll(textOf(page.getByRole('banner')), poll).toContain('民生药店古荡店');
    await page.getByRole('link', { name: '当日结算' }).click();
    await page.getByText('当日没有结算').waitFor();
    expect(await page.locator('main').innerText()).not.toContain('¥43.21');
    await screen(page, 'tenancy-other-pharmacy-settlements');
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByText('没有已流转的处方').waitFor();
    expect(await page.locator('main').innerText()).not.toContain(person.name);
    // Nor by asking for the prescription's address directly.
    await page.goto(`${rt.url}/#/pharmacy/counter/${rx.body.prescriptionId}`);
    await page.getByRole('button', { name: '登录' }).waitFor(); // a new page load: memory-only tokens are gone
  });
});
