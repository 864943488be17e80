// The three flows through the console's screens, as the people at each desk do them: a GP refers
// a patient up, the hospital's triage nurse accepts, the patient arrives and is referred back down,
// the GP prescribes, the pharmacist reviews, settles (a double click charges once) and dispenses;
// the operator sees the day in the overview. Every screen is photographed and checked with axe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { clearOfMidnight } from '../support/calendar.ts';
import { traced } from '../support/trace-codes.ts';
import { login, newPage, people, screen, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
let gp: Page;
let nurse: Page;
let pharmacist: Page;
const patient = demoPeople[0]!; // 王伟, 西湖区
let personId: string;
let voucherId: string;
beforeAll(async () => {
  // The flows' screens show "the day" (当日结算, 全省概览): the whole file runs within one day in
  // Shanghai (it takes about a minute and a half).
  await clearOfMidnight(240_000);
  desk = await startDesk();
  const { rt } = desk;
  const channel = await rt.as('channel');
  voucherId = (await rt.call(channel, 'POST', '/vouchers', { nationalId: patient.nationalId, name: patient.name, channel: 'wechat' })).body.voucherId;
  personId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: patient.nationalId })).body.personId;
});
afterAll(() => desk?.stop());

/** How wide the page is laid out: wider than the window, it scrolls sideways. */
const pageWidth = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);

const poll = { timeout: 25_000, interval: 250 };

describe('clinic → hospital → clinic → pharmacy', () => {
  it('the GP finds the patient and refers them up to cardiology, urgent', async () => {
    ({ page: gp } = await newPage(desk));
    await login(gp, desk.rt.url, people.gp);
    await gp.getByLabel('身份证号').fill(patient.nationalId);
    await gp.getByRole('button', { name: '查找患者' }).click();
    const card = gp.getByRole('region', { name: '患者' });
    await expect.poll(textOf(card), poll).toContain(patient.name);
    expect(await card.innerText()).toContain(`${patient.nationalId.slice(0, 3)}***********${patient.nationalId.slice(-4)}`);
    await screen(gp, 'clinic-1-patient');

    await gp.getByRole('link', { name: '发起转诊' }).click();
    await gp.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    await gp.getByLabel('接收医院').selectOption({ label: '浙江省人民医院' });
    await gp.getByLabel('科室').selectOption({ label: '心血管内科' });
    await gp.getByRole('radio', { name: '加急' }).check();
    await gp.getByLabel('诊断').fill('I20.9');
    await gp.getByLabel('转诊原因').fill('活动后胸闷一周，心电图 ST 段改变');
    await screen(gp, 'clinic-2-refer-form');
    await gp.getByRole('button', { name: '提交转诊' }).click();
    await gp.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    await expect.poll(textOf(gp.locator('main')), poll).toContain('待接收');
    await screen(gp, 'clinic-3-referral-slip');
  });

  it('the triage nurse sees it first in the worklist and accepts it with an appointment', async () => {
    ({ page: nurse } = await newPage(desk));
    await login(nurse, desk.rt.url, people.nurse);
    const triage = nurse.getByRole('region', { name: /待分诊/ });
    await expect.poll(textOf(triage), poll).toContain('灵隐街道社区卫生服务中心');
    expect(await triage.innerText()).toMatch(new RegExp(`加急\\s+${patient.name}`));
    await screen(nurse, 'hospital-1-worklist');
    const appointment = `${await nurse.getByLabel('预约日期').inputValue()} ${await nurse.getByLabel('预约时间').inputValue()}`;
    await nurse.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(nurse.getByRole('button', { name: /已接收/ })), poll).toContain('1');
    // The panel has gone to the next one (none here): what was done is said above the list.
    const [y, m, d] = appointment.slice(0, 10).split('-').map(Number);
    expect(await nurse.getByRole('status').filter({ hasText: '已接收' }).innerText()).toContain(`已接收，预约 ${y}年${m}月${d}日 ${appointment.slice(11)}：${patient.name}`);
    await screen(nurse, 'hospital-2-worklist-empty');
  });

  it('the patient arrives, is seen, and the hospital refers them back down with a follow-up plan', async () => {
    await nurse.getByRole('button', { name: /已接收/ }).click();
    await nurse.getByRole('link', { name: new RegExp(patient.name) }).first().click();
    await nurse.getByRole('button', { name: '登记到诊' }).click();
    await nurse.getByRole('button', { name: '完成诊疗' }).click();
    await screen(nurse, 'hospital-3-referral-completed');
    // The way on is 下转回社区, not "nothing to do" above it.
    await nurse.getByRole('link', { name: '下转回社区' }).waitFor();
    expect(await nurse.locator('main').innerText()).not.toContain('无可执行的操作');
    await nurse.getByRole('link', { name: '下转回社区' }).click();
    await nurse.getByRole('heading', { name: /^下转至 灵隐街道社区卫生服务中心$/ }).waitFor();
    expect(await nurse.getByLabel('诊断').inputValue()).toBe('I20.9');
    await nurse.getByLabel('随访计划').fill('每月随访血压、心率；坚持服用氨氯地平');
    await screen(nurse, 'hospital-4-down-referral-form');
    await nurse.getByRole('button', { name: '提交下转' }).click();
    await expect.poll(textOf(nurse.locator('main')), poll).toContain('每月随访血压');
    expect(await nurse.locator('main').innerText()).toContain('下转');
    await nurse.getByRole('link', { name: '下转记录', exact: true }).click();
    await expect.poll(textOf(nurse.locator('main table')), poll).toMatch(new RegExp(`${patient.name}.*\\s+灵隐街道社区卫生服务中心`));
    await screen(nurse, 'hospital-5-outgoing');
  });

  it('the GP sees the referral accepted and prescribes, nominating a pharmacy', async () => {
    await gp.getByRole('link', { name: '转诊', exact: true }).click();
    await gp.getByRole('button', { name: /已完成/ }).click();
    await expect.poll(textOf(gp.locator('main table')), poll).toContain('浙江省人民医院');
    await screen(gp, 'clinic-6-referrals');
    await gp.getByRole('link', { name: /^[0-9A-Z]{6}$/ }).first().click();
    await expect.poll(textOf(gp.locator('main')), poll).toContain('已完成');
    await gp.getByRole('link', { name: '开处方' }).click();
    // Prescribing from the referral: its diagnoses are there to start with.
    await expect.poll(() => gp.getByLabel('诊断').inputValue(), poll).toBe('I20.9');
    await gp.getByLabel('诊断').fill('I20.9 I10');
    await gp.getByLabel('药品', { exact: true }).selectOption({ label: '苯磺酸氨氯地平片 5mg（甲类）' });
    await gp.getByLabel('数量').fill('2');
    await gp.getByLabel('用法用量').fill('每日一次，每次一片');
    await gp.getByLabel('取药药店').selectOption({ label: '西湖大药房文三路店（西湖区）' });
    await screen(gp, 'clinic-4-prescribe-form');
    await gp.getByRole('button', { name: '开具处方' }).click();
    await gp.getByRole('heading', { name: '本机构开具的处方' }).waitFor();
    // Routing is asynchronous: the worklist refreshes by itself until the prescription shows as routed.
    await expect.poll(textOf(gp.locator('main table')), poll).toMatch(/苯磺酸氨氯地平片 5mg ×2\s+西湖大药房文三路店/);
    await screen(gp, 'clinic-5-prescriptions');
  });

  it('the pharmacist reviews the prescription, settles with a double click that charges once, and dispenses', async () => {
    const { rt } = desk;
    const operator = await rt.as('operator');
    const before = (await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen;

    ({ page: pharmacist } = await newPage(desk));
    await login(pharmacist, rt.url, people.pharmacist);
    await pharmacist.getByRole('link', { name: '处方', exact: true }).click();
    const card = pharmacist.getByRole('listitem', { name: /^处方 / });
    await expect.poll(textOf(card), poll).toContain('苯磺酸氨氯地平片 5mg');
    await screen(pharmacist, 'pharmacy-1-prescriptions');
    await pharmacist.getByRole('button', { name: '审核通过' }).click();
    await pharmacist.getByRole('button', { name: /已审核/ }).click();
    await pharmacist.getByRole('button', { name: '结算并发药' }).click();

    // The counter, with the prescription's drugs and quantities filled in; the price is the pharmacy's.
    await pharmacist.getByRole('heading', { name: '医保结算' }).waitFor();
    await expect.poll(() => pharmacist.getByLabel('药品编码').inputValue(), poll).toBe('XC08CAA001');
    expect(await pharmacist.getByLabel('数量').inputValue()).toBe('2');
    const code = (await rt.call(await rt.as('channel'), 'POST', `/vouchers/${voucherId}/codes`)).body.code;
    await pharmacist.getByLabel('医保电子凭证码').fill(code);
    await pharmacist.getByLabel('单价（元）').fill('35.00');
    await screen(pharmacist, 'pharmacy-2-counter');
    await pharmacist.getByRole('button', { name: '下一步：核对' }).click();
    await pharmacist.getByRole('heading', { name: '核对结算' }).waitFor();
    expect(await pharmacist.locator('main').innerText()).toContain('¥70.00');
    await screen(pharmacist, 'pharmacy-3-review');
    await pharmacist.getByRole('button', { name: '确认结算' }).dblclick();
    const receipt = pharmacist.getByRole('region', { name: '结算小票' });
    await expect.poll(textOf(receipt), poll).toContain('现金支付');
    await screen(pharmacist, 'pharmacy-4-receipt');

    // Charged once: one settlement that day, and the balance moved by exactly its personal-account share.
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    let list = (await rt.call(pharmacy, 'GET', `/settlements?date=${day}`)).body;
    if (list.items.length === 0) {
      // Just past midnight in Shanghai between the settlement and this read: the settlement's own day.
      const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() - 3_600_000));
      list = (await rt.call(pharmacy, 'GET', `/settlements?date=${yesterday}`)).body;
    }
    expect(list.items).toHaveLength(1);
    const s = list.items[0];
    expect(s.totalFen).toBe(7_000);
    expect((await rt.call(operator, 'GET', `/enrollments/${personId}`)).body.personalAccountFen).toBe(before - s.personalAccountFen);
    expect(await receipt.innerText()).toContain(`¥${(s.cashFen / 100).toFixed(2)}`);

    await pharmacist.getByRole('button', { name: '按此结算发药' }).click();
    await expect.poll(textOf(pharmacist.locator('main')), poll).toContain('已发药');
    const rx = (await rt.call(pharmacy, 'GET', '/prescriptions?status=dispensed')).body.items;
    expect(rx.map((p: { settlementId: string }) => p.settlementId)).toEqual([s.settlementId]);
  });

  it("the pharmacist's day: settlements with totals, and the stock editor", async () => {
    await pharmacist.getByRole('link', { name: '当日结算' }).click();
    await expect.poll(textOf(pharmacist.getByRole('definition').first()), poll).toBe('1');
    expect(await pharmacist.locator('main').innerText()).toContain('¥70.00');
    await screen(pharmacist, 'pharmacy-5-settlements');
    await pharmacist.getByRole('link', { name: '库存' }).click();
    const field = pharmacist.getByLabel('苯磺酸氨氯地平片 5mg 在库数量');
    await field.waitFor();
    await screen(pharmacist, 'pharmacy-6-stock');
    await field.fill('99');
    await pharmacist.getByRole('button', { name: '保存库存' }).click();
    await pharmacist.getByText('库存已保存').waitFor();
    const stock = (await desk.rt.call(await desk.rt.as('pharmacy', 'ph-xihu-1'), 'GET', '/pharmacies/ph-xihu-1/stock?limit=200')).body.items;
    expect(stock.find((i: { drugCode: string }) => i.drugCode === 'XC08CAA001').onHand).toBe(99);
  });

  it('on a 768-px tablet the worklist and the counter still fit', async () => {
    const { page } = await newPage(desk, { width: 768, height: 1024 });
    await login(page, desk.rt.url, people.pharmacist);
    await screen(page, 'tablet-pharmacy-counter');
    expect(await pageWidth(page)).toBeLessThanOrEqual(768);
    const { page: p2 } = await newPage(desk, { width: 768, height: 1024 });
    await login(p2, desk.rt.url, people.nurse);
    await p2.getByRole('button', { name: /已接收/ }).waitFor();
    await screen(p2, 'tablet-hospital-worklist');
    expect(await pageWidth(p2)).toBeLessThanOrEqual(768);
  });

  it('on a 390-px phone no list scrolls the page sideways: a wide table scrolls in its own box', async () => {
    const { rt } = desk;
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    // An open prescription: its row has 作废, under a header only a screen reader reads.
    const issued = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC10AAA005', quantity: 1, dosage: '每晚一片' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(issued.status).toBe(201);
    await expect.poll(async () => (await rt.call(clinic, 'GET', `/prescriptions/${issued.body.prescriptionId}`)).body.status, { timeout: 30_000 }).toBe('routed');
    for (const [who, screens] of [
      [people.gp, ['#/clinic/referrals?status=completed', '#/clinic/prescriptions']],
      [people.nurse, ['#/hospital?status=completed', '#/hospital/outgoing']],
      [people.pharmacist, ['#/pharmacy/settlements']],
    ] as const) {
      const { page } = await newPage(desk, { width: 390, height: 844 });
      await login(page, rt.url, who);
      for (const at of screens) {
        await page.goto(`${rt.url}${at}`);
        await page.locator('main table tbody tr').first().waitFor();
        expect(await pageWidth(page), at).toBeLessThanOrEqual(390);
      }
      if (who === people.gp) {
        expect(await page.getByRole('button', { name: '作废' }).count()).toBeGreaterThan(0);
        await screen(page, 'phone-clinic-prescriptions');
      }
    }
  });
});

describe('operator', () => {
  it("sees the day's settlement and the referrals in the overview, and every operator screen", async () => {
    await desk.rt.settle();
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.operator);
    await page.getByRole('heading', { name: '全省概览' }).waitFor();
    await expect.poll(textOf(page.locator('main')), poll).toContain('¥70.00');
    await screen(page, 'operator-1-overview');
    // A relative's purchase paid partly from the payer's account: the overview names that part, and
    // the parts add up to the total.
    const { rt } = desk;
    const [payer, relative] = [demoPeople[6]!, demoPeople[5]!]; // 2,500 yuan in the account; none
    const payerId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: payer.nationalId })).body.personId as string;
    expect((await rt.call(await rt.asPerson(payerId), 'POST', '/family-bindings', { beneficiaryNationalId: relative.nationalId, beneficiaryName: relative.name, relation: 'parent' })).status).toBe(201);
    const channel = await rt.as('channel');
    const relativeVoucher = (await rt.call(channel, 'POST', '/vouchers', { nationalId: relative.nationalId, name: relative.name, channel: 'wechat' })).body.voucherId;
    const code = (await rt.call(channel, 'POST', `/vouchers/${relativeVoucher}/codes`)).body.code;
    const aid = await rt.call(await rt.as('pharmacy', 'ph-xihu-1'), 'POST', '/settlements', { code, items: [traced({ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_000 })] }, { 'idempotency-key': `overview-aid-${relativeVoucher}` });
    expect(aid.body.mutualAidFen).toBeGreaterThan(0);
    await rt.settle();
    // Back to the overview from another screen: it asks again (its polling may have slowed meanwhile).
    await page.getByRole('link', { name: '机构' }).click();
    await page.getByRole('link', { name: '全省概览' }).click();
    const totals = page.locator('dl.totals');
    const shown = async () => Object.fromEntries(
      (await totals.locator('div').allInnerTexts()).map((t) => t.split('\n').map((x) => x.trim())).filter(([, v]) => v?.startsWith('¥')).map(([k, v]) => [k, Math.round(Number(v!.replace(/[¥,]/g, '')) * 100)]),
    );
    await expect.poll(async () => (await shown())['家庭共济'], poll).toBe(aid.body.mutualAidFen);
    const t = await shown();
    expect(t['统筹支付']! + t['个人账户']! + t['家庭共济']! + t['现金']!).toBe(t['费用总额']);
    await page.getByRole('link', { name: '机构' }).click();
    await page.getByRole('cell', { name: '浙江省人民医院', exact: true }).waitFor();
    await screen(page, 'operator-2-institutions');
    await page.getByRole('link', { name: '药品目录' }).click();
    await page.getByRole('cell', { name: '苯磺酸氨氯地平片 5mg', exact: true }).waitFor();
    await screen(page, 'operator-3-drugs');
  });

  it('enrols people from a CSV file after showing what it read, and reports the rows that failed, by row number', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.operator);
    await page.getByRole('link', { name: '参保登记' }).click();
    const csv = [
      '身份证号,姓名,手机号,区县,个人账户余额（元）',
      '11010519491231002X,钱七,13900001111,西湖区,1200.50',
      '110105194912310021,孙八,,西湖区,10',
      '110105195001010012,周九,,西湖区,12.345',
      '110105195001010020,吴十,2390000111,西湖区,5',
      '110105195001010039,郑一,,西湖区,',
    ].join('\n');
    await page.getByLabel('CSV 文件').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // Nothing is sent until the operator has seen what was read: a row whose amount cannot be read,
    // or whose national ID has a wrong check character, never is.
    await expect.poll(textOf(page.locator('main')), poll).toContain('共 5 行：可提交 2 人，3 行有误，不提交');
    const unread = await page.getByRole('table', { name: '有误的行（不提交）' }).innerText();
    expect(unread).toMatch(/3\s+身份证号\s+身份证号无效/);
    expect(unread).toMatch(/4\s+个人账户余额\s+金额无效：12\.345/);
    // A blank balance would set an enrolled person's account to 0: not sent either.
    expect(unread).toMatch(/6\s+个人账户余额\s+必填（元）/);
    await page.getByRole('button', { name: '提交登记（2 人）' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('新登记 1 人');
    const failed = page.getByRole('table', { name: '未登记的行' });
    const rows = await failed.innerText();
    expect(rows).toMatch(/3\s+未提交\s+身份证号\s+身份证号无效/);
    expect(rows).toMatch(/4\s+未提交\s+个人账户余额\s+金额无效/);
    expect(rows).toMatch(/5\s+平台拒绝\s+手机号\s+手机号无效：11位，以1开头/);
    await screen(page, 'operator-4-enrol');
    const operator = await desk.rt.as('operator');
    expect((await desk.rt.call(operator, 'POST', '/people/lookup', { nationalId: '110105195001010012' })).status).toBe(422);
    const found = await desk.rt.call(operator, 'POST', '/people/lookup', { nationalId: '11010519491231002X' });
    expect(found.body.name).toBe('钱七');
  });
});
