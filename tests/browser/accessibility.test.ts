// The console's accessibility audit, kept: an error set while the doctor arrows through a select
// leaves the keyboard where it is (only a refused submit takes it to a field); a button busy with its
// request keeps the keyboard, and one that goes with what it acted on hands it on (never to <body>);
// results the keyboard does not move to are said in the shell's live region; a field in error is
// marked invalid; the tab's title follows the screen; the triage panel's reject form takes the
// keyboard and gives it back. And the axe audit every screen goes through still finds what it is for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { focused, login, lookAgain, newPage, people, screen, seriousViolations, startDesk, textOf, unavailable, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 25_000, interval: 250 };
const shortId = (id: string) => id.slice(-6).toUpperCase();
/** Where the keyboard is: its tag and accessible text, or BODY when it fell out of the page. */
const focusOf = (page: Page) => () => page.evaluate(() => {
  const at = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null } | null; body: unknown } }).document;
  return !at.activeElement || at.activeElement === at.body ? 'BODY' : `${at.activeElement.tagName} ${at.activeElement.textContent?.trim().slice(0, 40)}`;
});
const announced = (page: Page) => textOf(page.locator('#announcer'));

describe('the clinic desk', () => {
  it('keeps the keyboard on 接收医院 while its arrows clear a department; a refused submit takes it to the first invalid field', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.gp);
    await expect.poll(() => page.title(), poll).toBe('接诊 · 医联体工作台');

    // 查找患者 with nothing typed: refused, the field marked and focused.
    const id = page.getByLabel('身份证号');
    await page.getByRole('button', { name: '查找患者' }).click();
    await expect.poll(() => id.getAttribute('aria-invalid'), poll).toBe('true');
    await expect.poll(focused(id), poll).toBe(true);

    // Found: said in the live region; the keyboard stays on the button.
    const person = demoPeople[3]!;
    await id.fill(person.nationalId);
    const find = page.getByRole('button', { name: '查找患者' });
    await find.click();
    await expect.poll(announced(page), poll).toContain(`已找到患者：${person.name}`);
    expect(await focused(find)()).toBe(true);
    expect(await id.getAttribute('aria-invalid')).toBeNull();
    await screen(page, 'a11y-clinic-found');

    await page.getByRole('link', { name: '发起转诊' }).click();
    // Not the patient: browsers keep tab titles in their history, past logging out.
    await expect.poll(() => page.title(), poll).toBe('发起转诊 · 医联体工作台');
    const hospital = page.getByLabel('接收医院');
    const dept = page.getByLabel('科室');
    await dept.selectOption({ label: '骨科' });
    await hospital.focus();
    // Arrowing through the hospitals: one without 骨科 clears it, and says so in the field.
    for (let i = 0; i < 4 && (await dept.inputValue()) !== ''; i++) {
      await page.keyboard.press('ArrowDown');
      // Let any focus move (an effect after paint) happen before looking.
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      expect(await focused(hospital)()).toBe(true);
    }
    expect(await dept.inputValue()).toBe('');
    expect(await dept.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field.invalid .error').first().innerText()).toContain('没有骨科');
    expect(await focused(hospital)()).toBe(true);

    // The submit refused: the keyboard goes to the first field it marks.
    await page.getByRole('button', { name: '提交转诊' }).click();
    await expect.poll(focused(dept), poll).toBe(true);
    await screen(page, 'a11y-clinic-refer-refused');
  });

  it('names each tab with its count apart, and puts wide lists in a scrolling region the keyboard reaches', async () => {
    // A referral of its own, so that the list is a table.
    const rt = desk.rt;
    const personId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: demoPeople[5]!.nationalId })).body.personId;
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '血压控制不佳', diagnoses: ['I10'], urgency: 'routine' })).status).toBe(201);
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.gp);
    await page.getByRole('link', { name: '转诊', exact: true }).click();
    await expect.poll(() => page.title(), poll).toBe('转出的转诊 · 医联体工作台');
    await page.getByRole('button', { name: /^待接收 \d+$/ }).waitFor();
    const region = page.getByRole('region', { name: '待接收的转诊' });
    await region.waitFor({ timeout: 25_000 });
    expect(await region.getAttribute('tabindex')).toBe('0');
    expect(await region.getByRole('table').count()).toBe(1);
  });
});

describe('the pharmacy desk', () => {
  it('hands the keyboard on after 审核通过 and says 通知取药', async () => {
    const { rt } = desk;
    const p = demoPeople[4]!;
    const [operator, channel, clinic, pharmacy] = await Promise.all([rt.as('operator'), rt.as('channel'), rt.as('clinic', 'clinic-lingyin'), rt.as('pharmacy', 'ph-xihu-1')]);
    await rt.call(channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' });
    const personId = (await rt.call(operator, 'POST', '/people/lookup', { nationalId: p.nationalId })).body.personId;
    const issued = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(issued.status).toBe(201);
    const id = issued.body.prescriptionId as string;
    await expect.poll(async () => (await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.status, poll).toBe('routed');

    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.pharmacist);
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await expect.poll(() => page.title(), poll).toBe('流转到本店的处方 · 医联体工作台');
    const card = page.getByRole('listitem', { name: `处方 ${shortId(id)}` });
    // 拒绝 with no reason: said in the field, which has the keyboard; nothing is sent. Escape closes it.
    const rejects: string[] = [];
    page.on('request', (r) => void (r.method() === 'POST' && r.url().endsWith(`/prescriptions/${id}/reject`) && rejects.push(r.url())));
    await card.getByRole('button', { name: '拒绝' }).click();
    const reason = card.getByLabel('拒绝原因');
    await expect.poll(focused(reason), poll).toBe(true);
    await reason.fill('   ');
    await card.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(card), poll).toContain('请填写原因');
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    expect(await focused(reason)()).toBe(true);
    // The list's refresh fails meanwhile (the API unavailable, injected): the card and the reason
    // being typed stay, and the screen says since when it is unrefreshed; the note goes once it reads again.
    await reason.fill('该药品本店缺货');
    const lists = /\/prescriptions\?/;
    await unavailable(page, lists);
    await lookAgain(page);
    const stale = page.locator('main .alert', { hasText: '暂时无法刷新' });
    await expect.poll(() => stale.count(), poll).toBe(1);
    expect(await reason.inputValue()).toBe('该药品本店缺货');
    await page.unroute(lists);
    await lookAgain(page); // the next refresh at once, not at the list's next poll
    await expect.poll(() => stale.count(), poll).toBe(0);
    expect(await reason.inputValue()).toBe('该药品本店缺货');
    await page.keyboard.press('Escape');
    expect(rejects).toEqual([]);
    expect((await rt.call(pharmacy, 'GET', `/prescriptions/${id}`)).body.status).toBe('routed');
    await card.getByRole('button', { name: '审核通过' }).click();
    // The card leaves the tab: the keyboard is on what became of it, not on the page.
    const note = page.getByRole('status').filter({ hasText: `处方 ${shortId(id)} 已审核通过` });
    await note.waitFor();
    await expect.poll(focused(note), poll).toBe(true);
    await card.waitFor({ state: 'detached' });
    expect(await focusOf(page)()).not.toBe('BODY');

    await note.getByRole('button', { name: '去结算发药' }).click();
    const ready = card.getByRole('button', { name: /通知取药$/ });
    await ready.click();
    await expect.poll(announced(page), poll).toContain(`已通知患者取药：处方 ${shortId(id)}`);
    expect(await focused(ready)()).toBe(true);
    await screen(page, 'a11y-pharmacy-ready');
  });
});

describe('the hospital triage panel', () => {
  it('takes the keyboard to the reason on 拒绝, and back to 拒绝 on 返回 or Escape; a blank reason or appointment is said in its field', async () => {
    const { rt } = desk;
    const personId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: demoPeople[6]!.nationalId })).body.personId;
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷待查', diagnoses: ['I10'], urgency: 'routine' })).status).toBe(201);
    const { page } = await newPage(desk);
    // No move leaves the page in this test: what is blank is said without asking the API.
    const moves: string[] = [];
    page.on('request', (r) => void (r.method() === 'POST' && /\/referrals\/[^/]+\/(accept|reject)$/.test(r.url()) && moves.push(r.url())));
    await login(page, desk.rt.url, people.nurse);
    const panel = page.getByRole('region', { name: /待分诊/ });
    // The panel shows the most urgent, oldest referral: this one or another test's.
    const shown = (await panel.getByRole('link', { name: '查看详情' }).getAttribute('href'))!.split('/').pop()!;
    await panel.getByRole('button', { name: '拒绝' }).click();
    await expect.poll(focused(panel.getByLabel('拒绝原因')), poll).toBe(true);
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(panel), poll).toContain('请填写原因');
    expect(await focused(panel.getByLabel('拒绝原因'))()).toBe(true);
    await panel.getByRole('button', { name: '返回' }).click();
    await expect.poll(focused(panel.getByRole('button', { name: '拒绝' })), poll).toBe(true);
    // A date or a time cleared: which one, in its field, with the keyboard.
    const day = panel.getByLabel('预约日期');
    const time = panel.getByLabel('预约时间');
    const [dayWas, timeWas] = [await day.inputValue(), await time.inputValue()];
    await day.fill('');
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain('请选择预约日期');
    await expect.poll(focused(day), poll).toBe(true);
    await day.fill(dayWas);
    await time.fill('');
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain('请选择预约时间');
    await expect.poll(focused(time), poll).toBe(true);
    expect(await textOf(panel)()).not.toContain('请选择预约日期');
    await time.fill(timeWas);

    // Escape closes the form as 返回 does, the reason kept; not while an input method composes.
    await panel.getByRole('button', { name: '拒绝' }).click();
    const reason = panel.getByLabel('拒绝原因');
    await expect.poll(focused(reason), poll).toBe(true);
    await reason.fill('床位已满');
    await reason.evaluate((el) => el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', isComposing: true, bubbles: true })));
    expect(await reason.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(focused(panel.getByRole('button', { name: '拒绝' })), poll).toBe(true);
    expect(await reason.count()).toBe(0);
    await panel.getByRole('button', { name: '拒绝' }).click();
    expect(await reason.inputValue()).toBe('床位已满');
    await expect.poll(focused(reason), poll).toBe(true);
    await page.keyboard.press('Escape');

    // So on the referral's own screen: 拒绝 there opens its form in place (aria-expanded), and Escape
    // closes it, the keyboard back on 拒绝.
    await panel.getByRole('link', { name: '查看详情' }).click();
    const actions = page.getByRole('region', { name: '可执行操作' });
    const opener = actions.getByRole('button', { name: '拒绝' });
    await opener.press('Enter');
    // The form takes the keyboard: from the button, Tab would reach 接收 and the rest first.
    await expect.poll(focused(actions.getByLabel('拒绝原因')), poll).toBe(true);
    await actions.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(actions), poll).toContain('请填写原因');
    await actions.getByLabel('拒绝原因').fill('请转神经内科');
    await page.keyboard.press('Escape');
    await expect.poll(focused(opener), poll).toBe(true);
    expect(await opener.getAttribute('aria-expanded')).toBe('false');
    expect(await actions.getByLabel('拒绝原因').count()).toBe(0);
    // 接收 there with its day cleared: said, the keyboard on it.
    await actions.getByRole('button', { name: '接收', exact: true }).click();
    await actions.getByLabel('预约日期').fill('');
    await actions.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(actions), poll).toContain('请选择预约日期');
    await expect.poll(focused(actions.getByLabel('预约日期')), poll).toBe(true);
    expect(moves).toEqual([]);
    expect((await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${shown}`)).body.status).toBe('submitted');
  });
});

describe('the operator desk', () => {
  it('marks every field a refused form names, those without their own aria-invalid too', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.operator);
    await page.getByRole('link', { name: '机构', exact: true }).click();
    await expect.poll(() => page.title(), poll).toBe('机构 · 医联体工作台');
    await page.getByRole('button', { name: '登记', exact: true }).click();
    const name = page.getByLabel('名称', { exact: true });
    await expect.poll(() => name.getAttribute('aria-invalid'), poll).toBe('true');
    expect(await page.getByLabel('区县').getAttribute('aria-invalid')).toBe('true');
    // The first of them has the keyboard.
    await expect.poll(focused(page.getByLabel('机构编码')), poll).toBe(true);

    // Refused again in the same words: the keyboard goes back there, not left on the button.
    const register = page.getByRole('button', { name: '登记', exact: true });
    await register.focus();
    await register.press('Enter');
    await expect.poll(focused(page.getByLabel('机构编码')), poll).toBe(true);
    // A field changed since is no longer said to be wrong (its message goes with the mark); the others still are.
    await name.fill('测试医院');
    await expect.poll(() => name.getAttribute('aria-invalid'), poll).toBe(null);
    expect((await page.locator('.field.invalid').allInnerTexts()).join('\n')).not.toContain('请填写名称');
    expect(await page.getByLabel('区县').getAttribute('aria-invalid')).toBe('true');
    // Another refusal says what is still wrong, and only that.
    await register.click();
    await expect.poll(focused(page.getByLabel('机构编码')), poll).toBe(true);
    expect(await name.getAttribute('aria-invalid')).toBe(null);
    expect(await page.getByLabel('区县').getAttribute('aria-invalid')).toBe('true');
  });
});

describe('the audit every screen goes through', () => {
  it('finds what a person with a screen reader or low vision would meet: a button without a name, text too faint to read', async () => {
    const { page, context } = await newPage(desk);
    await page.setContent(`<!doctype html><html lang="zh-CN"><head><title>审计</title></head><body><main><h1>库存</h1>
      <button><svg width="16" height="16" aria-hidden="true"></svg></button>
      <p style="color:#c8c8c8;background:#fff">已预留 2</p></main></body></html>`);
    const found = await seriousViolations(page);
    expect(found.map((v) => v.split(' ')[0])).toEqual(['button-name', 'color-contrast']);
    // The same page with both mended passes.
    await page.setContent(`<!doctype html><html lang="zh-CN"><head><title>审计</title></head><body><main><h1>库存</h1>
      <button aria-label="刷新">↻</button><p style="color:#333;background:#fff">已预留 2</p></main></body></html>`);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
