// The pharmacy desk after its usability review: a settlement made for a prescription and left with
// 下一位患者 before 按此结算发药 is dispensed from the prescription's card against that settlement (no
// second charge), or reversed from 当日结算 while its drugs are not handed over (refused once they
// are); a row of 当日结算 reopens its receipt; 审核通过 says where the prescription went; a voucher
// code refused at the counter is replaced by the next scan, and the scanner's Enter moves on;
// 当日结算 of another day is in the address, so a reload and Back keep it; a sale left at 核对 (for
// another screen, or by an expired session) is put back, saying whether the patient may have been
// charged, and a settled one never is.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { clearOfMidnight, provinceDay, provinceDays } from '../support/calendar.ts';
import type { Caller } from '../support/runtime.ts';
import { traceCodes } from '../support/trace-codes.ts';
import { fillIssuerForm, focused, login, newPage, people, screen, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
let operator: Caller;
let channel: Caller;
let clinic: Caller;
let pharmacy: Caller;
beforeAll(async () => {
  desk = await startDesk();
  [operator, channel, clinic, pharmacy] = await Promise.all([desk.rt.as('operator'), desk.rt.as('channel'), desk.rt.as('clinic', 'clinic-lingyin'), desk.rt.as('pharmacy', 'ph-xihu-1')]);
});
afterAll(() => desk?.stop());

const poll = { timeout: 25_000, interval: 250 };
const shortId = (id: string) => id.slice(-6).toUpperCase();

interface Person { personId: string; voucherId: string }
async function patient(i: number): Promise<Person> {
  const { rt } = desk;
  const p = demoPeople[i]!;
  const voucherId = (await rt.call(channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' })).body.voucherId as string;
  const personId = (await rt.call(operator, 'POST', '/people/lookup', { nationalId: p.nationalId })).body.personId as string;
  return { personId, voucherId };
}
const voucherCode = async (p: Person) => (await desk.rt.call(channel, 'POST', `/vouchers/${p.voucherId}/codes`)).body.code as string;
const balance = async (personId: string) => (await desk.rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen as number;
const prescription = async (id: string) => (await desk.rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body;
/** A drug's stock at this pharmacy, as the API has it. */
const stockOf = async (drugCode: string) =>
  (await desk.rt.call(pharmacy, 'GET', '/pharmacies/ph-xihu-1/stock?limit=200')).body.items.find((i: { drugCode: string }) => i.drugCode === drugCode) as { onHand: number; reserved: number };
/** The settlement a trace code was sold in, as the settling pharmacy reads it. */
async function settlementOf(code: string) {
  const sale = (await desk.rt.call(operator, 'GET', `/trace-codes/${code}`)).body;
  return (await desk.rt.call(pharmacy, 'GET', `/settlements/${sale.settlementId}`)).body;
}
/** The person's settlements at this pharmacy on a day, as the API lists them. */
async function settlementsOf(personId: string, day: string) {
  const items = (await desk.rt.call(pharmacy, 'GET', `/settlements?date=${day}&limit=200`)).body.items as Array<{ personId: string; settlementId: string; status: string; personalAccountFen: number }>;
  return items.filter((s) => s.personId === personId);
}

/** Paid for here in full, naming prescription `id`: `quantity` packs of XC10AAA005, each pack's trace code scanned. */
async function paidInFull(p: Person, id: string, quantity: number) {
  const made = await desk.rt.call(pharmacy, 'POST', '/settlements', { code: await voucherCode(p), prescriptionId: id, items: [{ drugCode: 'XC10AAA005', quantity, unitPriceFen: 2_600, traceCodes: traceCodes(quantity) }] }, { 'idempotency-key': `paid-${id}` });
  expect(made.status).toBe(201);
  return made.body;
}

/** A prescription from the clinic, routed to this pharmacy (nominated). */
async function routed(p: Person, items: Array<{ drugCode: string; quantity: number }>): Promise<string> {
  const issued = await desk.rt.call(clinic, 'POST', '/prescriptions', { personId: p.personId, diagnoses: ['I10'], items: items.map((i) => ({ ...i, dosage: '每日一次' })), nominatedPharmacyId: 'ph-xihu-1' });
  expect(issued.status).toBe(201);
  const id = issued.body.prescriptionId as string;
  await expect.poll(async () => (await prescription(id)).status, poll).toBe('routed');
  return id;
}

async function pharmacist(): Promise<Page> {
  const { page } = await newPage(desk);
  await login(page, desk.rt.url, people.pharmacist);
  await page.getByRole('heading', { name: '医保结算' }).waitFor();
  return page;
}


describe('a settlement made for a prescription', () => {
  it('left with 下一位患者 before 按此结算发药, is dispensed from the prescription\'s card without a second charge, and then cannot be reversed', async () => {
    await clearOfMidnight(120_000); // the card offers today's settlements; a reversal is same-day
    const p = await patient(6);
    const id = await routed(p, [{ drugCode: 'XC08CAA001', quantity: 2 }]);
    const before = await balance(p.personId);
    const page = await pharmacist();

    // 审核通过: the card leaves 已流转, and the screen says where it went and goes there.
    await page.getByRole('link', { name: '处方', exact: true }).click();
    const card = page.getByRole('listitem', { name: `处方 ${shortId(id)}` });
    await card.getByRole('button', { name: '审核通过' }).click();
    const accepted = page.getByRole('status').filter({ hasText: `处方 ${shortId(id)} 已审核通过，可在「已审核」中结算发药` });
    await accepted.waitFor();
    await screen(page, 'pharmacy-desk-1-accepted');
    await accepted.getByRole('button', { name: '去结算发药' }).click();
    expect(await page.getByRole('button', { name: /^已审核/ }).getAttribute('aria-pressed')).toBe('true');

    // Settled at the counter; the pharmacist moves on without handing over.
    await card.getByRole('button', { name: '结算并发药' }).click();
    await page.getByRole('heading', { name: '医保结算' }).waitFor();
    await expect.poll(() => page.getByLabel('数量').inputValue(), poll).toBe('2');
    const codes = traceCodes(2);
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    const line = page.getByRole('group', { name: '第 1 行药品' });
    await line.getByLabel('单价（元）').fill('26.00');
    for (const c of codes) {
      await line.getByLabel('追溯码', { exact: true }).fill(c);
      await line.getByLabel('追溯码', { exact: true }).press('Enter');
    }
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await page.getByRole('button', { name: '确认结算' }).click();
    await page.getByRole('button', { name: '按此结算发药' }).waitFor();
    await page.getByRole('button', { name: '下一位患者' }).click();
    await page.getByRole('heading', { name: '医保结算' }).waitFor();
    const s = await settlementOf(codes[0]!);
    expect(s).toMatchObject({ prescriptionId: id, status: 'settled' });
    expect(await balance(p.personId)).toBe(before - s.personalAccountFen);
    expect((await prescription(id)).status).toBe('accepted');

    // Under 已审核 the card offers that settlement: 按此结算发药, no new charge.
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByRole('button', { name: /^已审核/ }).click();
    await expect.poll(textOf(card), poll).toContain(`已结算未发药：结算 ${shortId(s.settlementId)}`);
    await screen(page, 'pharmacy-desk-2-settled-not-dispensed');
    await card.getByRole('button', { name: '按此结算发药' }).click();
    await page.getByRole('status').filter({ hasText: `处方 ${shortId(id)} 已发药` }).waitFor();
    const rx = await prescription(id);
    expect(rx.status).toBe('dispensed');
    expect(rx.dispenses.map((d: { settlementId: string }) => d.settlementId)).toEqual([s.settlementId]);
    // One charge: one settlement of the person that day, the balance taken once.
    expect((await settlementsOf(p.personId, provinceDay(s.settledAt))).map((x) => x.settlementId)).toEqual([s.settlementId]);
    expect(await balance(p.personId)).toBe(before - s.personalAccountFen);

    // 当日结算 says it was handed over against and offers no reversal, which the API refuses.
    await page.getByRole('link', { name: '当日结算' }).click();
    expect(await page.getByLabel('日期').inputValue()).toBe(provinceDay(s.settledAt));
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `结算 ${shortId(s.settlementId)} 小票` }) });
    await expect.poll(textOf(row), poll).toContain('已结算 已发药');
    expect(await row.getByRole('button', { name: `冲正结算 ${shortId(s.settlementId)}` }).count()).toBe(0);
    const refused = await desk.rt.call(pharmacy, 'POST', `/settlements/${s.settlementId}/reversal`);
    expect(refused.status).toBe(409);
    expect((await desk.rt.call(pharmacy, 'GET', `/settlements/${s.settlementId}`)).body).toMatchObject({ status: 'settled', handedOverAt: rx.dispenses[0].at });
    expect(await balance(p.personId)).toBe(before - s.personalAccountFen);
  });

  it('not yet dispensed, is reversed from 当日结算, whose row reopens its receipt; the totals say they leave reversals out', async () => {
    await clearOfMidnight(120_000); // a reversal is same-day
    const { rt } = desk;
    const p = await patient(12);
    const id = await routed(p, [{ drugCode: 'XC10AAA005', quantity: 1 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const before = await balance(p.personId);
    const s = await paidInFull(p, id, 1);
    expect(await balance(p.personId)).toBe(before - s.personalAccountFen);

    const page = await pharmacist();
    await page.getByRole('link', { name: '当日结算' }).click();
    expect(await page.getByLabel('日期').inputValue()).toBe(provinceDay(s.settledAt));
    const row = page.getByRole('row').filter({ hasText: shortId(s.settlementId) });
    await expect.poll(textOf(row), poll).toContain(shortId(id));
    // Rows are told apart by whose they are (the name, the ID's last four).
    expect(await row.innerText()).toContain(`${demoPeople[12]!.name}（尾号 ${demoPeople[12]!.nationalId.slice(-4)}）`);

    // The row's 结算号 reopens the receipt: print, 按此结算发药 and 冲正 are there.
    await row.getByRole('link', { name: `结算 ${shortId(s.settlementId)} 小票` }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '结算小票' }).waitFor();
    const receipt = page.getByRole('region', { name: '结算小票' });
    await expect.poll(textOf(receipt), poll).toContain(`处方 ${shortId(id)}`);
    // Opened by the keyboard, the keyboard is on the receipt's title, not lost while it loaded.
    await expect.poll(focused(page.getByRole('heading', { name: '结算小票' })), poll).toBe(true);
    await page.getByRole('button', { name: '打印小票' }).waitFor();
    await page.getByRole('button', { name: '按此结算发药' }).waitFor();
    await page.getByRole('button', { name: '冲正' }).waitFor();
    await screen(page, 'pharmacy-desk-3-receipt-reopened');
    await page.getByRole('button', { name: '返回结算列表' }).click();

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: `冲正结算 ${shortId(s.settlementId)}` }).click();
    await expect.poll(textOf(row), poll).toContain('已冲正');
    expect(await balance(p.personId)).toBe(before);
    expect((await rt.call(pharmacy, 'GET', `/settlements/${s.settlementId}`)).body.status).toBe('reversed');
    // Visible, not only to screen readers: the totals leave the reversed one out.
    const main = textOf(page.locator('main'));
    await expect.poll(main, poll).toContain('合计（不含已冲正的结算）');
    await expect.poll(main, poll).toMatch(/笔数\s*\d+\s*另有 \d+ 笔已冲正/);
    await screen(page, 'pharmacy-desk-4-reversed');
    // Its receipt reopened says when it was reversed, not to hand the cash back (that was done then).
    await row.getByRole('link', { name: `结算 ${shortId(s.settlementId)} 小票` }).click();
    await expect.poll(textOf(page.locator('main')), poll).toMatch(/已于 .+ 冲正，款项已退回/);
    expect(await page.locator('main').innerText()).not.toContain('请退还患者');
    expect(await page.getByRole('button', { name: '冲正' }).count()).toBe(0);
    await page.getByRole('button', { name: '返回结算列表' }).click();

    // Reversed, it is no longer offered on the card: the prescription is settled anew.
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByRole('button', { name: /^已审核/ }).click();
    const card = page.getByRole('listitem', { name: `处方 ${shortId(id)}` });
    await card.getByRole('button', { name: '结算并发药' }).waitFor();
    expect(await card.innerText()).not.toContain('已结算未发药');
  });
});

describe('the voucher code box', () => {
  it('a refused code is replaced by the next scan, and the scanner\'s Enter moves on (to the drugs, then to 核对)', async () => {
    await clearOfMidnight(90_000); // the person's settlements are counted on the day of the first
    const { rt } = desk;
    const p = await patient(14);
    const used = await voucherCode(p);
    const first = await rt.call(pharmacy, 'POST', '/settlements', { code: used, items: [{ drugCode: 'XA10BAA001', quantity: 1, unitPriceFen: 2_000 }] }, { 'idempotency-key': `used-${p.personId}` });
    expect(first.status).toBe(201);
    const page = await pharmacist();
    const box = page.getByLabel('医保电子凭证码');
    const line = page.getByRole('group', { name: '第 1 行药品' });

    // A scanner types the code, then Enter: on to the first drug, no line break in the code.
    await expect.poll(focused(box), poll).toBe(true);
    await page.keyboard.type(used);
    await page.keyboard.press('Enter');
    await expect.poll(focused(line.getByLabel('药品编码')), poll).toBe(true);
    expect(await box.inputValue()).toBe(used);
    // The drug's barcode, then Enter: on to 数量, then 单价 — not a 核对 of the half-filled line.
    await page.keyboard.type('XA10BAA001');
    await page.keyboard.press('Enter');
    await expect.poll(focused(line.getByLabel('数量')), poll).toBe(true);
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await expect.poll(focused(line.getByLabel('单价（元）')), poll).toBe(true);
    expect(await textOf(line)()).not.toContain('单价：元');
    // The drug's name shows under its code; the line's boxes stay level all the same.
    const tops = await Promise.all(['药品编码', '数量', '单价（元）'].map(async (l) => (await line.getByLabel(l, { exact: true }).boundingBox())!.y));
    expect(new Set(tops).size).toBe(1);
    expect(await page.getByRole('heading', { name: '医保结算' }).count()).toBe(1);
    await page.keyboard.type('20.00');
    await page.getByRole('button', { name: '下一步：核对' }).click();

    // Refused: back at the form, the code named; the patient's next code, scanned, replaces it.
    await expect.poll(textOf(page.locator('main')), poll).toContain('该医保电子凭证码已使用，请患者刷新二维码后重新扫码');
    // Once, under the box the next scan goes to.
    expect(await page.getByText('该医保电子凭证码已使用，请患者刷新二维码后重新扫码').count()).toBe(1);
    await page.getByRole('heading', { name: '医保结算' }).waitFor();
    await expect.poll(focused(box), poll).toBe(true);
    await screen(page, 'pharmacy-desk-5-code-refused');
    const fresh = await voucherCode(p);
    await page.keyboard.type(fresh);
    expect(await box.inputValue()).toBe(fresh);
    const before = await balance(p.personId);
    // Every line filled: the scanner's Enter goes on to 核对.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '核对结算' }).waitFor();
    // The keyboard is on the new step's title, not left on <body>.
    await expect.poll(focused(page.getByRole('heading', { name: '核对结算' })), poll).toBe(true);
    await expect.poll(textOf(page.getByRole('region', { name: '预结算' })), poll).toContain('现金支付');
    await page.getByRole('button', { name: '确认结算' }).click();
    await expect.poll(textOf(page.getByRole('region', { name: '结算小票' })), poll).toContain('现金支付');
    const mine = await settlementsOf(p.personId, provinceDay(first.body.settledAt));
    expect(mine.map((x) => x.status)).toEqual(['settled', 'settled']);
    const second = mine.find((x) => x.settlementId !== first.body.settlementId)!;
    expect(await balance(p.personId)).toBe(before - second.personalAccountFen);
  });
});

describe('当日结算 of another day', () => {
  it('stays picked across a reload and Back; the nav\'s 当日结算 is today\'s; a receipt goes back to its own day', async () => {
    await clearOfMidnight(120_000); // "today" is read once and expected again after a reload and a login
    const { rt } = desk;
    const p = await patient(15);
    const made = await rt.call(pharmacy, 'POST', '/settlements', { code: await voucherCode(p), items: [{ drugCode: 'XA10BAA001', quantity: 1, unitPriceFen: 1_800 }] }, { 'idempotency-key': `day-${p.personId}` });
    expect(made.status).toBe(201);
    const page = await pharmacist();
    await page.getByRole('link', { name: '当日结算' }).click();
    const day = page.getByLabel('日期');
    const today = await day.inputValue();
    // The day before the one the screen calls today (its own clock, not the test's).
    const before = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    await day.fill(before);
    await expect.poll(() => page.url(), poll).toMatch(new RegExp(`#/pharmacy/settlements\\?date=${before}$`));

    // A reload asks for the login again and comes back to that day.
    await page.reload();
    await page.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(page, people.pharmacist);
    await expect.poll(() => day.inputValue(), poll).toBe(before);
    // Away and Back: still that day.
    await page.getByRole('link', { name: '库存' }).click();
    await page.getByRole('heading', { name: '库存' }).waitFor();
    await page.goBack();
    await expect.poll(() => day.inputValue(), poll).toBe(before);
    // The nav's 当日结算 is today's.
    await page.getByRole('link', { name: '当日结算' }).click();
    await expect.poll(() => day.inputValue(), poll).toBe(today);

    // A receipt opened while another day is shown goes back to the day it was made.
    await day.fill(before);
    await page.goto(`${rt.url}#/pharmacy/settlements/${made.body.settlementId}`);
    await page.getByRole('heading', { name: '结算小票' }).waitFor();
    await page.getByRole('button', { name: '返回结算列表' }).click();
    await expect.poll(() => day.inputValue(), poll).toBe(provinceDay(made.body.settledAt));
    await expect.poll(textOf(page.getByRole('row').filter({ hasText: shortId(made.body.settlementId) })), poll).toContain('18.00');

    // A receipt address that names no settlement of this pharmacy says so, with the way back.
    await page.goto(`${rt.url}#/pharmacy/settlements/stl_doesnotexist`);
    await page.getByRole('heading', { name: '结算小票' }).waitFor();
    await page.getByRole('link', { name: '返回当日结算' }).click();
    await expect.poll(() => day.inputValue(), poll).toBe(today);

    // The day's CSV: an ASCII name (a Chinese one was dropped, and .csv with it), times that sort as text.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 CSV' }).click()]);
    const settledDay = provinceDay(made.body.settledAt);
    expect(download.suggestedFilename()).toBe(`settlements-ph-xihu-1-${settledDay}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    const row = csv.split('\r\n').find((l) => l.includes(made.body.settlementId))!;
    expect(row).toMatch(new RegExp(`^"${made.body.settlementId}","${shortId(made.body.settlementId)}","${settledDay} \\d{2}:\\d{2}:\\d{2}","已结算","18.00",`));
  });
});

describe('当日结算 left open overnight', () => {
  it("moves to the new day at the province's midnight (a 24-hour pharmacy), unless a day was picked", async () => {
    const page = await pharmacist();
    // The page's clock at fixed instants (the API keeps real time): the days expected are theirs.
    await page.clock.install({ time: new Date('2026-03-14T23:59:30+08:00') });
    await page.getByRole('link', { name: '当日结算' }).click();
    const heading = page.getByRole('heading', { level: 1 });
    await expect.poll(textOf(heading), poll).toContain('2026年3月14日 结算');
    await page.clock.runFor(60_000);
    await expect.poll(textOf(heading), poll).toContain('2026年3月15日 结算');
    expect(await page.getByLabel('日期').inputValue()).toBe('2026-03-15');

    // A day picked stays, across the next midnight too; the latest day that may be picked moves on.
    await page.getByLabel('日期').fill('2026-03-10');
    await expect.poll(textOf(heading), poll).toContain('2026年3月10日 结算');
    await page.clock.setSystemTime(new Date('2026-03-15T23:59:30+08:00'));
    await page.clock.runFor(60_000);
    await expect.poll(() => page.getByLabel('日期').getAttribute('max'), poll).toBe('2026-03-16');
    expect(await textOf(heading)()).toContain('2026年3月10日 结算');
  });
});

describe('a sale left at 核对', () => {
  it('is put back after 当日结算 and after an expired session, saying whether the patient may have been charged; a settled one is not', async () => {
    const { rt } = desk;
    const p = await patient(16);
    const page = await pharmacist();
    const fillSale = async () => {
      await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
      const line = page.getByRole('group', { name: '第 1 行药品' });
      await line.getByLabel('药品编码').fill('XA10BAA001');
      await line.getByLabel('单价（元）').fill('21.00');
      await page.getByRole('button', { name: '下一步：核对' }).click();
      await page.getByRole('heading', { name: '核对结算' }).waitFor();
    };
    const drugOnLine1 = () => page.getByRole('group', { name: '第 1 行药品' }).getByLabel('药品编码').inputValue();

    // Left before 确认结算 to look at 当日结算: back, the drugs are there and nothing was sent.
    await fillSale();
    await page.getByRole('link', { name: '当日结算' }).click();
    await page.getByLabel('日期').waitFor();
    await page.getByRole('link', { name: '医保结算' }).click();
    await expect.poll(drugOnLine1, poll).toBe('XA10BAA001');
    expect(await page.getByRole('group', { name: '第 1 行药品' }).getByLabel('单价（元）').inputValue()).toBe('21.00');
    expect(await page.getByLabel('医保电子凭证码').inputValue()).toBe('');
    await expect.poll(textOf(page.getByRole('status').filter({ hasText: '上次核对结算未完成' })), poll).toContain('未扣款');

    // 确认结算 refused for an expired session (fault injected: the API's 401): after logging in again,
    // the drugs are back and the pharmacist is told to check 当日结算 before charging again.
    await fillSale();
    await page.route('**/settlements', (route) => (route.request().method() === 'POST'
      ? route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'https://consortium.example/problems/unauthorized', title: 'Missing or invalid credentials', status: 401 }) })
      : route.continue()));
    await page.getByRole('button', { name: '确认结算' }).click();
    await fillIssuerForm(page, people.pharmacist);
    await page.unroute('**/settlements');
    await expect.poll(drugOnLine1, poll).toBe('XA10BAA001');
    const warning = page.getByRole('alert').filter({ hasText: '未收到结果' });
    await expect.poll(textOf(warning), poll).toContain('不能确定是否已扣款');
    await warning.getByRole('link', { name: '当日结算' }).waitFor();
    await screen(page, 'pharmacy-desk-6-sale-resumed');
    // The warning stays with the sale: away to another prescription's counter and back, and 核对 again.
    const rx = await routed(p, [{ drugCode: 'XC10AAA005', quantity: 1 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${rx}/accept`)).status).toBe(200);
    await page.goto(`${rt.url}#/pharmacy/counter/${rx}`);
    await expect.poll(drugOnLine1, poll).toBe('XC10AAA005');
    expect(await page.getByText('未收到结果').count()).toBe(0);
    await page.getByRole('link', { name: '医保结算' }).click();
    await expect.poll(drugOnLine1, poll).toBe('XA10BAA001');
    await expect.poll(textOf(warning), poll).toContain('不能确定是否已扣款');
    // The scanner's Enter does not send a sale put back on to 核对: the pharmacist checks it first.
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    await page.getByLabel('医保电子凭证码').press('Enter');
    expect(await page.getByRole('heading', { name: '医保结算' }).count()).toBe(1);
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await page.getByRole('heading', { name: '核对结算' }).waitFor();
    await page.getByRole('link', { name: '库存' }).click();
    await page.getByRole('link', { name: '医保结算' }).click();
    await expect.poll(textOf(warning), poll).toContain('不能确定是否已扣款');

    // Settled this time: its receipt, then away and back — the counter is empty, nothing to charge twice.
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await page.getByRole('button', { name: '确认结算' }).click();
    await page.getByRole('button', { name: '下一位患者' }).waitFor();
    await page.getByRole('link', { name: '当日结算' }).click();
    await page.getByLabel('日期').waitFor();
    await page.getByRole('link', { name: '医保结算' }).click();
    await page.getByLabel('医保电子凭证码').waitFor();
    expect(await drugOnLine1()).toBe('');
    expect(await page.getByText('上次').count()).toBe(0);
    // One charge over the three attempts: the refused 确认结算 wrote nothing.
    const started = new Date(Date.now() - 120_000).toISOString();
    const days = provinceDays([started, new Date().toISOString()]);
    const charged = (await Promise.all(days.map((d) => settlementsOf(p.personId, d)))).flat();
    expect(charged.map((x) => x.status)).toEqual(['settled']);
  });
});

describe('a 确认结算 whose answer does not say what happened', () => {
  /** A walk-in sale up to the quote. */
  async function toQuote(page: Page, p: Person) {
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    const line = page.getByRole('group', { name: '第 1 行药品' });
    await line.getByLabel('药品编码').fill('XA10BAA001');
    await line.getByLabel('单价（元）').fill('19.00');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(textOf(page.getByRole('region', { name: '预结算' })), poll).toContain('现金支付');
  }
  /** The next POST /settlements reaches the API, which settles; the answer the page gets is `answer`'s. */
  async function loseAnswer(page: Page, answer: (route: import('playwright-core').Route) => Promise<void>) {
    let reached = 0;
    await page.route('**/settlements', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      reached = (await route.fetch()).status();
      await answer(route);
    });
    await page.getByRole('button', { name: '确认结算' }).click();
    await expect.poll(() => reached, poll).toBe(201);
  }
  const unknownSaid = '结算结果未知：可能已扣款。请点 确认结算 重试（不会重复扣款），或先到 当日结算 核对';

  it('lost on the network: says it may have been charged, keeps the attempt through 返回修改, and the retry returns the same settlement', async () => {
    await clearOfMidnight(120_000); // the person's settlements are counted on one day
    const p = await patient(18);
    const page = await pharmacist();
    await toQuote(page, p);
    await loseAnswer(page, (route) => route.abort('failed'));
    const said = page.getByRole('alert').filter({ hasText: '结算结果未知' });
    await expect.poll(textOf(said), poll).toContain(unknownSaid);
    await screen(page, 'pharmacy-desk-7-answer-lost');
    const charged = await settlementsOf(p.personId, provinceDay(new Date().toISOString()));
    expect(charged).toHaveLength(1); // the API did settle

    // 返回修改 does not drop it: the form says so, and 核对 unchanged is that attempt again.
    await page.getByRole('button', { name: '返回修改' }).click();
    await expect.poll(textOf(page.getByRole('alert').filter({ hasText: '未收到结果' })), poll).toContain('不会重复扣款');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(textOf(said), poll).toContain(unknownSaid);
    await page.unroute('**/settlements');
    await page.getByRole('button', { name: '确认结算' }).click();
    const receipt = page.getByRole('region', { name: '结算小票' });
    await expect.poll(textOf(receipt), poll).toContain(`结算号 ${shortId(charged[0]!.settlementId)}`);
    // One settlement, charged once.
    expect((await settlementsOf(p.personId, provinceDay(new Date().toISOString()))).map((s) => s.settlementId)).toEqual([charged[0]!.settlementId]);
  });

  it('an HTML 504 from a proxy: said in Chinese as unknown, on the review step, and the retry returns the same settlement', async () => {
    await clearOfMidnight(120_000);
    const p = await patient(20);
    const page = await pharmacist();
    await toQuote(page, p);
    await loseAnswer(page, (route) => route.fulfill({ status: 504, contentType: 'text/html', body: '<html><body><h1>504 Gateway Time-out</h1></body></html>' }));
    await expect.poll(textOf(page.getByRole('alert').filter({ hasText: '结算结果未知' })), poll).toContain(unknownSaid);
    await page.getByRole('heading', { name: '核对结算' }).waitFor();
    expect(await page.locator('main').innerText()).not.toMatch(/Unexpected token|Gateway/);
    await page.unroute('**/settlements');
    await page.getByRole('button', { name: '确认结算' }).click();
    const receipt = page.getByRole('region', { name: '结算小票' });
    await expect.poll(textOf(receipt), poll).toContain('现金支付');
    const charged = await settlementsOf(p.personId, provinceDay(new Date().toISOString()));
    expect(charged).toHaveLength(1);
    expect(await receipt.innerText()).toContain(`结算号 ${shortId(charged[0]!.settlementId)}`);
  });

  it("changed after a lost answer, the sale's used code is said to be most likely charged already, not to be scanned again", async () => {
    await clearOfMidnight(120_000);
    const p = await patient(17);
    const page = await pharmacist();
    await toQuote(page, p);
    await loseAnswer(page, (route) => route.abort('failed'));
    await page.unroute('**/settlements');
    // 返回修改, and a click into 数量 as soon as the form shows, before the screen's own effects have
    // run (a frame later): the keyboard stays in 数量, not taken to the code box, where what she
    // types next would alter the code of the sale in doubt.
    const stayed = await page.evaluate(async () => {
      // Runs in the page (the tests' TypeScript has no DOM types).
      type El = { focus(): void; click(): void; textContent: string | null; id: string; labels?: { textContent: string | null }[] };
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): El[]; activeElement: El | null } }).document;
      const win = globalThis as unknown as { requestAnimationFrame(f: () => void): void };
      [...doc.querySelectorAll('button')].find((b) => b.textContent === '返回修改')!.click();
      const quantity = () => [...doc.querySelectorAll('input')].find((i) => i.labels?.[0]?.textContent === '数量');
      for (let i = 0; i < 20 && !quantity(); i++) await Promise.resolve();
      quantity()!.focus();
      await new Promise<void>((r) => win.requestAnimationFrame(() => setTimeout(r, 100)));
      return doc.activeElement === quantity();
    });
    expect(stayed).toBe(true);
    await page.getByRole('group', { name: '第 1 行药品' }).getByLabel('数量').fill('2');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('该码已用于上次未收到结果的那笔结算：很可能已扣款');
    expect(await page.locator('main').innerText()).not.toContain('请患者刷新二维码');
    expect(await settlementsOf(p.personId, provinceDay(new Date().toISOString()))).toHaveLength(1);
  });

  it('a retry of the attempt in doubt that is refused (the first still under way behind a timeout) still says it may have been charged, never to scan again', async () => {
    await clearOfMidnight(120_000);
    const p = await patient(19);
    const page = await pharmacist();
    await toQuote(page, p);
    await loseAnswer(page, (route) => route.fulfill({ status: 504, contentType: 'text/html', body: '<html><body>504</body></html>' }));
    await expect.poll(textOf(page.getByRole('alert').filter({ hasText: '结算结果未知' })), poll).toContain(unknownSaid);
    // The retry is answered 409, as a retry racing its first attempt can be (the code is used either way).
    await page.unroute('**/settlements');
    await page.route('**/settlements', (route) => (route.request().method() !== 'POST' ? route.continue() : route.fulfill({
      status: 409, contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'https://consortium.example/problems/code-already-used', title: 'Voucher code already used', status: 409 }),
    })));
    await page.getByRole('button', { name: '确认结算' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('上次的结算可能已扣款（或仍在处理中）：请先到当日结算核对');
    await page.getByRole('heading', { name: '核对结算' }).waitFor();
    expect(await page.locator('main').innerText()).not.toContain('重新扫码');
    await screen(page, 'pharmacy-desk-8-retry-refused');
    // Still the attempt in doubt: without the fault, its retry returns the one settlement.
    await page.unroute('**/settlements');
    await page.getByRole('button', { name: '确认结算' }).click();
    await expect.poll(textOf(page.getByRole('region', { name: '结算小票' })), poll).toContain('现金支付');
    expect(await settlementsOf(p.personId, provinceDay(new Date().toISOString()))).toHaveLength(1);
  });
});

describe('a prescription paid and not handed over', () => {
  it('offers no second charge: the card only dispenses against the settlement, and its counter warns and refuses', async () => {
    await clearOfMidnight(120_000);
    const { rt } = desk;
    const p = await patient(22);
    const id = await routed(p, [{ drugCode: 'XC10AAA005', quantity: 2 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const s = await paidInFull(p, id, 2);

    const page = await pharmacist();
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByRole('button', { name: /^已审核/ }).click();
    const card = page.getByRole('listitem', { name: `处方 ${shortId(id)}` });
    await expect.poll(textOf(card), poll).toContain(`已结算未发药：结算 ${shortId(s.settlementId)}`);
    await card.getByRole('button', { name: '按此结算发药' }).waitFor();
    expect(await card.getByRole('button', { name: '结算并发药' }).count()).toBe(0);

    // Its counter reached by address: said, nothing prefilled, and the drug typed in is refused.
    await page.goto(`${rt.url}#/pharmacy/counter/${id}`);
    const warning = page.getByRole('alert').filter({ hasText: '已结算、尚未发药' });
    await expect.poll(textOf(warning), poll).toContain(shortId(s.settlementId));
    // The nav says where this counter belongs: 处方, from whose card it is opened.
    expect(await page.getByRole('navigation', { name: '工作台导航' }).getByRole('link', { name: '处方' }).getAttribute('aria-current')).toBe('page');
    await screen(page, 'pharmacy-desk-8-paid-counter');
    const line = page.getByRole('group', { name: '第 1 行药品' });
    expect(await line.getByLabel('药品编码').inputValue()).toBe('');
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    await line.getByLabel('药品编码').fill('XC10AAA005');
    await line.getByLabel('数量').fill('2');
    await line.getByLabel('单价（元）').fill('26.00');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(textOf(line), poll).toContain('已结算未发药：请按已结算发药');
    expect(await page.getByRole('heading', { name: '核对结算' }).count()).toBe(0);
    // The way on: that settlement's receipt, which dispenses against it.
    await warning.getByRole('link', { name: /按已结算发药/ }).click();
    await page.getByRole('button', { name: '按此结算发药' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain(`处方 ${shortId(id)} 已发药`);
    expect((await settlementsOf(p.personId, provinceDay(s.settledAt))).map((x) => x.settlementId)).toEqual([s.settlementId]);
  });

  it('paid for in full, handed over in part by the POS: the card dispenses the rest against the same settlement, charging nothing', async () => {
    await clearOfMidnight(120_000);
    const { rt } = desk;
    const p = await patient(21);
    const id = await routed(p, [{ drugCode: 'XC10AAA005', quantity: 3 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const s = await paidInFull(p, id, 3);
    // The pharmacy's own POS hands over the one pack on the shelf.
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/dispense`, { settlementId: s.settlementId, items: [{ drugCode: 'XC10AAA005', quantity: 1 }] })).body.status).toBe('partially-dispensed');

    const page = await pharmacist();
    // Its receipt says what it still pays for.
    await page.goto(`${rt.url}#/pharmacy/settlements/${encodeURIComponent(s.settlementId)}`);
    await expect.poll(textOf(page.locator('main')), poll).toContain('已按此结算部分发药；尚可按此结算交付：');
    expect(await page.locator('main').innerText()).toContain('×2，无需再次收费');
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByRole('button', { name: /^部分发药/ }).click();
    const card = page.getByRole('listitem', { name: `处方 ${shortId(id)}` });
    await expect.poll(textOf(card), poll).toContain(`已结算未发药：结算 ${shortId(s.settlementId)}`);
    expect(await card.getByRole('button', { name: '结算并发药' }).count()).toBe(0);
    await card.getByRole('button', { name: '按此结算发药' }).click();
    await expect.poll(async () => (await prescription(id)).status, poll).toBe('dispensed');
    expect((await prescription(id)).dispenses.map((d: { settlementId: string; items: unknown }) => [d.settlementId, d.items])).toEqual([
      [s.settlementId, [{ drugCode: 'XC10AAA005', quantity: 1 }]],
      [s.settlementId, [{ drugCode: 'XC10AAA005', quantity: 2 }]],
    ]);
    expect((await settlementsOf(p.personId, provinceDay(s.settledAt))).map((x) => x.settlementId)).toEqual([s.settlementId]);
  });

  it('paid at another desk while this one is at 核对: 确认结算 is refused by the API, naming that settlement, and nothing is charged twice', async () => {
    await clearOfMidnight(120_000);
    const { rt } = desk;
    const p = await patient(23);
    const id = await routed(p, [{ drugCode: 'XC10AAA005', quantity: 2 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const before = await balance(p.personId);

    const page = await pharmacist();
    await page.goto(`${rt.url}#/pharmacy/counter/${id}`);
    const line = page.getByRole('group', { name: '第 1 行药品' });
    await expect.poll(() => line.getByLabel('数量').inputValue(), poll).toBe('2');
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(p));
    await line.getByLabel('单价（元）').fill('26.00');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await page.getByRole('heading', { name: '核对结算' }).waitFor();
    await expect.poll(textOf(page.locator('main')), poll).toContain('¥52.00');
    // The quote is in (确认结算 waits for it): the other desk's sale comes after it, not before.
    await expect.poll(() => page.getByRole('button', { name: '确认结算' }).isEnabled(), poll).toBe(true);

    // Another desk settles the same prescription first (its own scan of a new code).
    const other = await rt.call(pharmacy, 'POST', '/settlements', { code: await voucherCode(p), prescriptionId: id, items: [{ drugCode: 'XC10AAA005', quantity: 2, unitPriceFen: 2_600 }] }, { 'idempotency-key': `other-desk-${id}` });
    expect(other.status).toBe(201);
    await page.getByRole('button', { name: '确认结算' }).click();
    await expect.poll(textOf(line), poll).toContain(`已由结算 ${shortId(other.body.settlementId)} 支付、尚未发药`);
    expect(await page.locator('main').innerText()).toContain('该处方的药品已由另一笔结算付款');
    // The counter reads the settlement made meanwhile and points to it, as for one it knew before.
    await expect.poll(textOf(page.getByRole('alert').filter({ hasText: '已结算、尚未发药' })), poll).toContain(shortId(other.body.settlementId));
    const today = provinceDay(other.body.settledAt);
    expect((await settlementsOf(p.personId, today)).map((x) => x.settlementId)).toEqual([other.body.settlementId]);
    expect(await balance(p.personId)).toBe(before - other.body.personalAccountFen);
  });

  it('cancelled by the prescriber after it was paid: the receipt says so and offers 冲正, with the cash to give back', async () => {
    await clearOfMidnight(120_000);
    const { rt } = desk;
    const p = await patient(10);
    const id = await routed(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);
    const made = await rt.call(pharmacy, 'POST', '/settlements', { code: await voucherCode(p), prescriptionId: id, items: [{ drugCode: 'XA10BAA001', quantity: 1, unitPriceFen: 2_000 }] }, { 'idempotency-key': `cancelled-${id}` });
    expect(made.status).toBe(201);
    const page = await pharmacist();
    await page.goto(`${rt.url}#/pharmacy/settlements/${made.body.settlementId}`);
    // Enabled once the receipt has read the prescription, still to be filled: only then the cancel, so
    // the page learns of it from the refused dispense. (Read after the cancel, the button never shows.)
    await expect.poll(() => page.getByRole('button', { name: '按此结算发药' }).isEnabled(), poll).toBe(true);
    expect((await rt.call(clinic, 'POST', `/prescriptions/${id}/cancel`, {})).status).toBe(200);
    await page.getByRole('button', { name: '按此结算发药' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toMatch(new RegExp(`处方 ${shortId(id)} 已被开方医生作废，不能按此结算发药。请今日冲正本结算，将款项退还患者（现金 ¥[\\d,.]+ 当面退还）`));
    expect(await page.getByRole('button', { name: '按此结算发药' }).count()).toBe(0);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '冲正' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toMatch(/已冲正：.*现金 ¥[\d,.]+ 请退还患者/);
    expect((await rt.call(pharmacy, 'GET', `/settlements/${made.body.settlementId}`)).body.status).toBe('reversed');
  });
});

/** 库存 at a desk of its own, once a drug's row has loaded: its quantity box and its row. */
async function stockRow(drug: string) {
  const page = await pharmacist();
  await page.getByRole('link', { name: '库存' }).click();
  const box = page.getByLabel(`${drug} 在库数量`);
  await expect.poll(() => box.inputValue(), poll).toMatch(/^\d+$/);
  return { page, box, row: page.getByRole('row').filter({ has: box }) };
}

describe('库存', () => {
  it('a cleared, a written-out or an out-of-range quantity is refused on its row, and nothing is saved', async () => {
    const { page, box, row } = await stockRow('苯磺酸氨氯地平片 5mg');
    const before = await box.inputValue();
    for (const [typed, said] of [['', '请填写在库数量'], ['1e3', '须为不小于 0 的整数'], ['2000000', '不能大于 1000000']] as const) {
      await box.fill(typed);
      await page.getByRole('button', { name: '保存库存' }).click();
      await expect.poll(textOf(row), poll).toContain(said);
      expect(await box.getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByText('库存已保存').count()).toBe(0);
    }
    await screen(page, 'pharmacy-desk-9-stock-refused');
    expect(String((await stockOf('XC08CAA001')).onHand)).toBe(before);
  });
});

describe('库存, two desks', () => {
  it("a count another desk changed since this one read it is not overwritten: the row shows the count now and says what was not saved", async () => {
    const { page, box, row } = await stockRow('苯磺酸氨氯地平片 5mg');
    const before = Number(await box.inputValue());
    await box.fill(String(before + 5));
    // Meanwhile a delivery of 10 is recorded elsewhere (the pharmacy's system, through the API).
    expect((await desk.rt.call(pharmacy, 'PUT', '/pharmacies/ph-xihu-1/stock', { items: [{ drugCode: 'XC08CAA001', quantity: before + 10 }] })).status).toBe(200);
    await page.getByRole('button', { name: '保存库存' }).click();
    await expect.poll(textOf(row), poll).toContain(`其他人已将在库数量改为 ${before + 10}，您填写的 ${before + 5} 未保存`);
    await expect.poll(() => box.inputValue(), poll).toBe(String(before + 10));
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    // 保存库存 has nothing left to save (disabled): the keyboard is on the row changed, not lost.
    await expect.poll(focused(box), poll).toBe(true);
    const onHand = async () => (await stockOf('XC08CAA001')).onHand;
    expect(await onHand()).toBe(before + 10);
    await screen(page, 'pharmacy-desk-10-stock-changed-meanwhile');
    // Counted again from what it is now: saved.
    await box.fill(String(before + 8));
    await page.getByRole('button', { name: '保存库存' }).click();
    await page.getByText('库存已保存').waitFor();
    expect(await onHand()).toBe(before + 8);
  });
});

describe('库存, a reservation meanwhile', () => {
  it('a count below what was reserved since the screen read it is refused on its row, which then shows what is reserved now', async () => {
    const { page, box, row } = await stockRow('阿托伐他汀钙片 20mg');
    const onHand = Number(await box.inputValue());
    const reservedShown = async () => Number(await row.getByRole('cell').nth(2).innerText());
    const before = await reservedShown();
    // Meanwhile a prescription routed here reserves 2; the screen still shows the reservation before it.
    const id = await routed(await patient(13), [{ drugCode: 'XC10AAA005', quantity: 2 }]);
    expect(await reservedShown()).toBe(before);
    // Not below what the screen shows, so the row's own check passes it: the API refuses it, on its line.
    await box.fill(String(before + 1));
    const answer = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/stock'));
    await page.getByRole('button', { name: '保存库存' }).click();
    expect((await answer).status()).toBe(409);
    await expect.poll(textOf(row), poll).toContain(`不能少于已预留的 ${before + 2}`);
    await expect.poll(reservedShown, poll).toBe(before + 2);
    const now = await stockOf('XC10AAA005');
    expect([now.onHand, now.reserved]).toEqual([onHand, before + 2]);
    expect((await desk.rt.call(clinic, 'POST', `/prescriptions/${id}/cancel`, {})).status).toBe(200);
  });
});

describe('a prescription the counter cannot settle', () => {
  it("another person's code is said as such; 审核通过 of one the GP cancelled says it was cancelled; an impossible day, or one to come, in 当日结算's address is today's", async () => {
    const { rt } = desk;
    const [p, other] = [await patient(2), await patient(4)];
    const open = await routed(p, [{ drugCode: 'XA10BAA001', quantity: 1 }]);
    expect((await rt.call(pharmacy, 'POST', `/prescriptions/${open}/accept`)).status).toBe(200);
    const page = await pharmacist();
    await page.goto(`${rt.url}#/pharmacy/counter/${open}`);
    const line = page.getByRole('group', { name: '第 1 行药品' });
    await expect.poll(() => line.getByLabel('药品编码').inputValue(), poll).toBe('XA10BAA001');
    await page.getByLabel('医保电子凭证码').fill(await voucherCode(other));
    await line.getByLabel('单价（元）').fill('20.00');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('该码不是此处方患者的医保电子凭证');
    await page.getByRole('heading', { name: '医保结算' }).waitFor();

    const cancelled = await routed(other, [{ drugCode: 'XA10BAA001', quantity: 1 }]);
    await page.getByRole('link', { name: '处方', exact: true }).click();
    const card = page.getByRole('listitem', { name: `处方 ${shortId(cancelled)}` });
    await card.getByRole('button', { name: '审核通过' }).waitFor();
    expect((await rt.call(clinic, 'POST', `/prescriptions/${cancelled}/cancel`, {})).status).toBe(200);
    await card.getByRole('button', { name: '审核通过' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain(`处方 ${shortId(cancelled)} 已被开方医生作废，无需审核`);
    await expect.poll(() => card.count(), poll).toBe(0);
    expect(await page.locator('main').innerText()).toContain('已被开方医生作废');

    await page.goto(`${rt.url}#/pharmacy/settlements?date=2026-13-45`);
    await expect.poll(textOf(page.locator('main')), poll).toContain('地址中的日期“2026-13-45”不是有效日期，已显示今日结算');
    await page.getByText('合计（不含已冲正的结算）').waitFor();
    // A day to come: not an empty day's zeros, today's, and said.
    await page.goto(`${rt.url}#/pharmacy/settlements?date=2999-12-31`);
    await expect.poll(textOf(page.locator('main')), poll).toContain('地址中的日期“2999-12-31”尚未到来，已显示今日结算');
    expect(await page.getByLabel('日期').inputValue()).not.toBe('2999-12-31');
  });
});
