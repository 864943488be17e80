// The operator desk's forms as an operator meets them: an enrolment file saved by Excel or WPS (quoted
// cells with commas, quotes and line breaks) read into the right columns, with the same national ID
// twice and a mistyped one held back before sending; editing a drug in the catalog without turning
// it into another; registering an institution (a department row removed, a code already taken).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { nationalIdCheckChar } from '../../schemas/common.ts';
import { focused, login, newPage, people, screen, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 15_000, interval: 200 };

/** A valid national ID from 17 digits. */
const id = (first17: string) => first17 + nationalIdCheckChar(first17);

/** Whether the element is wholly within the window (not scrolled off). */
const inView = (l: Locator) => () => l.evaluate((el) => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= (globalThis as unknown as { innerHeight: number }).innerHeight;
});

async function operatorAt(section: string, viewport?: { width: number; height: number }): Promise<Page> {
  const { page } = await newPage(desk, viewport);
  await login(page, desk.rt.url, people.operator);
  await page.getByRole('link', { name: section }).click();
  await page.getByRole('heading', { name: section, level: 1 }).waitFor();
  return page;
}

describe('参保登记', () => {
  it('reads a file as Excel and WPS save it, and holds back a repeated or mistyped national ID before sending', async () => {
    const page = await operatorAt('参保登记');
    const wang = id('11010819450101100');
    const li = id('11010819500202200');
    const zhou = id('11010819600303300');
    const wu = id('11010819700404400');
    const mistyped = `${wu.slice(0, 17)}${wu[17] === '0' ? '1' : '0'}`;
    const csv = '\ufeff' + [
      '身份证号,姓名,手机号,区县,个人账户余额（元）,备注',
      // Excel quotes a cell with a comma, a quote ("") or a line break; the columns after it stay theirs.
      `${wang},"王伟, 重复",13900002222,西湖区,88.00,"行动不便，\r\n需上门"`,
      `${li},"李""小""红",,上城区,10,`,
      `${zhou},周九,,西湖区,20,`,
      `${mistyped},孙八,,西湖区,10,`,
      `${zhou},周九二,,西湖区,30,`,
      `${wu},吴十,,西湖区,5,""`,
      '',
    ].join('\r\n');
    await page.getByLabel('CSV 文件').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // Row numbers are the spreadsheet's: the line break inside row 2's cell does not make a row.
    await expect.poll(textOf(page.locator('main')), poll).toContain('共 6 行：可提交 3 人，3 行有误，不提交');
    const held = await page.getByRole('table', { name: '有误的行（不提交）' }).innerText();
    expect(held).toMatch(/4\s+身份证号\s+身份证号重复：与第 6 行相同/);
    expect(held).toMatch(/5\s+身份证号\s+身份证号无效：校验位不符/);
    expect(held).toMatch(/6\s+身份证号\s+身份证号重复：与第 4 行相同/);
    expect(held).not.toMatch(/金额无效/);
    await screen(page, 'operator-enrol-excel-csv');

    await page.getByRole('button', { name: '提交登记（3 人）' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('新登记 3 人');
    const operator = await desk.rt.as('operator');
    const lookup = (nationalId: string) => desk.rt.call(operator, 'POST', '/people/lookup', { nationalId });
    const w = await lookup(wang);
    expect(w.body).toMatchObject({ name: '王伟, 重复', district: '西湖区' });
    expect((await desk.rt.call(operator, 'GET', `/enrollments/${w.body.personId}`)).body).toMatchObject({ phoneMasked: '139****2222', personalAccountFen: 8800 });
    expect((await lookup(li)).body).toMatchObject({ name: '李"小"红', district: '上城区' });
    expect((await lookup(wu)).body).toMatchObject({ name: '吴十' });
    // Neither row of the repeated ID was sent: which one is right is the operator's call.
    expect((await lookup(zhou)).status).toBe(422);
  });
});

describe('药品目录', () => {
  it('编辑 takes the operator to the form, says which drug is changing, keeps its code, and can be cancelled', async () => {
    // A small window: the form is below the catalog, out of sight until 编辑 brings it up.
    const page = await operatorAt('药品目录', { width: 1024, height: 600 });
    const form = page.locator('form');
    const code = form.getByLabel('药品编码');
    const name = form.getByLabel('名称', { exact: true });
    const edit = page.getByRole('button', { name: '编辑 苯磺酸氨氯地平片 5mg' });
    await edit.click();
    await expect.poll(focused(name), poll).toBe(true);
    const notice = form.getByText('正在修改 苯磺酸氨氯地平片 5mg（XC08CAA001）');
    await expect.poll(inView(notice), poll).toBe(true);
    expect(await code.inputValue()).toBe('XC08CAA001');
    expect(await code.isEditable()).toBe(false);
    await screen(page, 'operator-drug-editing');

    // Cancelled: the form is empty for a new drug and focus is back on the row's 编辑.
    await form.getByRole('button', { name: '取消修改' }).click();
    await expect.poll(() => notice.count(), poll).toBe(0);
    expect(await code.inputValue()).toBe('');
    expect(await code.isEditable()).toBe(true);
    await expect.poll(focused(edit), poll).toBe(true);

    // A new drug under a code the catalog has would replace that drug: said before saving.
    await code.fill('XC08CAA001');
    await expect.poll(textOf(form), poll).toContain('目录中已有此编码：苯磺酸氨氯地平片 5mg');
    await code.fill('');

    const before = (await desk.rt.call(await desk.rt.as('operator'), 'GET', '/drugs?limit=200')).body.items.length;
    await edit.click();
    await expect.poll(focused(name), poll).toBe(true);
    await name.fill('苯磺酸氨氯地平片 5mg×28片');
    await form.getByRole('button', { name: '保存' }).click();
    await page.getByText('已保存：苯磺酸氨氯地平片 5mg×28片').waitFor();
    await page.getByRole('cell', { name: '苯磺酸氨氯地平片 5mg×28片', exact: true }).waitFor();
    const after = (await desk.rt.call(await desk.rt.as('operator'), 'GET', '/drugs?limit=200')).body;
    expect(after.items).toHaveLength(before);
    expect(after.items.find((d: { drugCode: string }) => d.drugCode === 'XC08CAA001').name).toBe('苯磺酸氨氯地平片 5mg×28片');
  });
});

describe('登记机构', () => {
  it('removes a department row (its errors with it) and marks 机构编码 when the code is already registered', async () => {
    const page = await operatorAt('机构');
    const form = page.locator('form');
    await form.getByLabel('机构编码').fill('hosp-zjph');
    await form.getByLabel('名称', { exact: true }).fill('浙江省人民医院（重复）');
    await form.getByLabel('类型').selectOption({ label: '医院' });
    await form.getByLabel('区县').fill('上城区');
    const add = form.getByRole('button', { name: '添加科室' });
    await add.click();
    await add.click();
    const first = form.getByRole('group', { name: '科室 1' });
    const second = form.getByRole('group', { name: '科室 2' });
    await first.getByLabel('科室编码').fill('OLD');
    await second.getByLabel('科室编码').fill('CARD');
    await second.getByLabel('科室名称').fill('心血管内科');
    // Row 1 has no name: refused here, on that row.
    await form.getByRole('button', { name: '登记' }).click();
    await expect.poll(() => first.locator('.field.invalid').count(), poll).toBeGreaterThan(0);

    await first.getByRole('button', { name: '删除科室 1' }).click();
    await expect.poll(() => form.getByRole('group', { name: /^科室 \d$/ }).count(), poll).toBe(1);
    expect(await first.getByLabel('科室编码').inputValue()).toBe('CARD');
    expect(await first.getByLabel('科室名称').inputValue()).toBe('心血管内科');
    expect(await first.locator('.field.invalid').count()).toBe(0);
    await expect.poll(focused(add), poll).toBe(true);

    await form.getByRole('button', { name: '登记' }).click();
    const idField = form.locator('.field', { has: page.getByLabel('机构编码') });
    await expect.poll(textOf(idField), poll).toContain('该机构编码已登记');
    expect(await form.getByLabel('机构编码').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(focused(form.getByLabel('机构编码')), poll).toBe(true);
    await screen(page, 'operator-institution-code-taken');
  });
});
