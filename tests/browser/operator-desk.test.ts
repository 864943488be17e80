// The operator desk's forms as an operator meets them: an enrolment file saved by Excel or WPS (quoted
// cells with commas, quotes and line breaks) read into the right columns, with the same national ID
// twice and a mistyped one held back before sending; editing a drug in the catalog without turning
// it into another; registering an institution (a department row removed, a code already taken).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page, Route } from 'playwright-core';
import { parseCsv } from '../../console/src/features/operator/csv.ts';
import { nationalIdCheckChar } from '../../schemas/common.ts';
import { date, shortId } from '../../console/src/lib/format.ts';
import { clearOfMidnight, provinceDay } from '../support/calendar.ts';
import { fillIssuerForm, focused, login, newPage, people, screen, startDesk, textOf, unavailable, type Desk } from './support.ts';

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

/** The enrolment file: its header, then one line per person. */
const enrolCsv = (lines: string[]) => Buffer.from('\ufeff' + ['身份证号,姓名,手机号,区县,个人账户余额（元）', ...lines, ''].join('\r\n'));
const upload = (page: Page, buffer: Buffer) => page.getByLabel('CSV 文件').setInputFiles({ name: '参保名单.csv', mimeType: 'text/csv', buffer });
/** The people of one enrolment request the page sent. */
const sentPeople = (route: Route) => (route.request().postDataJSON() as { people: Array<{ nationalId: string; name: string }> }).people;
/** A page's own beforeunload listeners, asked as the browser asks them: whether one objects to leaving. */
const objectsToLeaving = (page: Page) => page.evaluate(() => {
  const e = new Event('beforeunload', { cancelable: true });
  (globalThis as unknown as { dispatchEvent(e: Event): boolean }).dispatchEvent(e);
  return e.defaultPrevented;
});

/** Goes to a section of the console by its link, and waits for its heading. */
async function openSection(page: Page, section: string): Promise<void> {
  await page.getByRole('link', { name: section }).click();
  await page.getByRole('heading', { name: section, level: 1 }).waitFor();
}

/** Holds the page's requests to `path` until `release()`; `answered()` once one has come back. */
async function holdRequests(page: Page, path: string) {
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let answered = false;
  await page.route(`**${path}`, async (route) => {
    await held;
    await route.continue();
  });
  page.on('requestfinished', (r) => { if (new URL(r.url()).pathname === path) answered = true; });
  return { release, answered: () => answered };
}

/** Closing the tab is asked first (beforeunload): the question is declined, and the page stays. */
async function expectAskedBeforeClosing(page: Page): Promise<void> {
  const asked = page.waitForEvent('dialog', { timeout: 5_000 });
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  expect(dialog.type()).toBe('beforeunload');
  await dialog.dismiss();
  expect(page.isClosed()).toBe(false);
}

/** A new drug in the catalog, and a pharmacy of 西湖区 near clinic-lingyin registered with 5 of it (and 5 at `alsoAt`). */
async function pharmacyStocking(ph: { id: string; name: string; designated: boolean }, drug: { drugCode: string; name: string }, alsoAt: string[] = []) {
  const { rt } = desk;
  const api = await rt.as('operator');
  expect([200, 201]).toContain((await rt.call(api, 'PUT', `/drugs/${drug.drugCode}`, { name: drug.name, category: 'A', unit: '盒' })).status);
  const registered = await rt.call(api, 'POST', '/institutions', { ...ph, type: 'pharmacy', district: '西湖区', location: { lat: 30.2421, lng: 120.1221 } });
  expect(registered.status).toBe(201);
  for (const at of [ph.id, ...alsoAt]) {
    expect((await rt.call(await rt.as('pharmacy', at), 'PUT', `/pharmacies/${at}/stock`, { items: [{ drugCode: drug.drugCode, quantity: 5 }] })).status).toBe(200);
  }
}

/** The GP of clinic-lingyin finds the prescription on 处方's 已流转, at `pharmacyName`. */
async function gpSeesRouted(prescriptionId: string, pharmacyName: string): Promise<Page> {
  const { page: gp } = await newPage(desk);
  await login(gp, desk.rt.url, people.gp);
  await gp.getByRole('link', { name: '处方' }).click();
  await gp.getByRole('heading', { name: '本机构开具的处方' }).waitFor();
  await gp.getByRole('button', { name: /^已流转/ }).click();
  const row = gp.getByRole('row', { name: new RegExp(shortId(prescriptionId)) });
  await expect.poll(textOf(row), poll).toContain(pharmacyName);
  return gp;
}

/**
 * A run of batches held at `progress`: closing the tab is asked first; another screen and back shows
 * it still going; once released and answered (on another screen), coming back shows `result`.
 */
async function keptAboveTheScreen(page: Page, section: string, run: { progress: string; release: () => void; answered: () => boolean; result: string; meanwhile?: () => Promise<void> }) {
  const main = page.locator('main');
  await expectAskedBeforeClosing(page);
  await openSection(page, '全省概览');
  await openSection(page, section);
  await expect.poll(textOf(main), poll).toContain(run.progress);
  expect(await main.innerText()).toContain('正在分批提交');
  await run.meanwhile?.();
  await openSection(page, '全省概览');
  run.release();
  await expect.poll(run.answered, poll).toBe(true);
  await openSection(page, section);
  await expect.poll(textOf(main), poll).toContain(run.result);
}

async function operatorAt(section: string, viewport?: { width: number; height: number }): Promise<Page> {
  const { page } = await newPage(desk, viewport);
  await login(page, desk.rt.url, people.operator);
  await openSection(page, section);
  return page;
}

describe('参保登记', () => {
  it('reads a file as Excel and WPS save it (amounts with thousands separators), and holds back a repeated or mistyped national ID and a row without a name before sending', async () => {
    const page = await operatorAt('参保登记');
    const wang = id('11010819450101100');
    const li = id('11010819500202200');
    const zhou = id('11010819600303300');
    const wu = id('11010819700404400');
    const mistyped = `${wu.slice(0, 17)}${wu[17] === '0' ? '1' : '0'}`;
    const nameless = id('11010819800505500');
    const csv = '\ufeff' + [
      '身份证号,姓名,手机号,区县,个人账户余额（元）,备注',
      // Excel quotes a cell with a comma, a quote ("") or a line break; the columns after it stay theirs.
      // Excel writes an amount formatted with thousands separators so (quoted): the same amount.
      `${wang},"王伟, 重复",13900002222,西湖区,"1,088.00","行动不便，\r\n需上门"`,
      `${li},"李""小""红",,上城区,10,`,
      `${zhou},周九,,西湖区,20,`,
      `${mistyped},孙八,,西湖区,10,`,
      `${zhou},周九二,,西湖区,30,`,
      `${wu},吴十,,西湖区,5,""`,
      `${nameless},,,西湖区,5,`,
      '',
    ].join('\r\n');
    await page.getByLabel('CSV 文件').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // Row numbers are the spreadsheet's: the line break inside row 2's cell does not make a row.
    await expect.poll(textOf(page.locator('main')), poll).toContain('共 7 行：可提交 3 人，4 行有误，不提交');
    // Said to a screen reader too (the keyboard is still on the file input); the input is emptied once
    // read, so the same file, corrected and picked again, is read again; its name stays said.
    await expect.poll(() => page.locator('#announcer').innerText(), poll).toContain('共 7 行：可提交 3 人');
    expect(await page.getByLabel('CSV 文件').inputValue()).toBe('');
    expect(await page.locator('main').innerText()).toContain('当前文件：people.csv');
    const held = await page.getByRole('table', { name: '有误的行（不提交）' }).innerText();
    expect(held).toMatch(/4\s+身份证号\s+身份证号重复：与第 6 行相同/);
    expect(held).toMatch(/5\s+身份证号\s+身份证号无效：校验位不符/);
    expect(held).toMatch(/6\s+身份证号\s+身份证号重复：与第 4 行相同/);
    expect(held).toMatch(/8\s+姓名\s+必填/);
    expect(held).not.toMatch(/金额无效/);
    await screen(page, 'operator-enrol-excel-csv');

    await page.getByRole('button', { name: '提交登记（3 人）' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('新登记 3 人');
    const operator = await desk.rt.as('operator');
    const lookup = (nationalId: string) => desk.rt.call(operator, 'POST', '/people/lookup', { nationalId });
    const w = await lookup(wang);
    expect(w.body).toMatchObject({ name: '王伟, 重复', district: '西湖区' });
    expect((await desk.rt.call(operator, 'GET', `/enrollments/${w.body.personId}`)).body).toMatchObject({ phoneMasked: '139****2222', personalAccountFen: 108_800 });
    expect((await lookup(li)).body).toMatchObject({ name: '李"小"红', district: '上城区' });
    expect((await lookup(wu)).body).toMatchObject({ name: '吴十' });
    // Neither row of the repeated ID was sent: which one is right is the operator's call.
    expect((await lookup(zhou)).status).toBe(422);
    expect((await lookup(nameless)).status).toBe(422);
  });
});

describe('参保登记: batches that fail', () => {
  it('tells rows refused, rows whose answer was lost (maybe enrolled) and rows never sent apart, counts rows, sends only the lost ones again, and offers the failed rows as a file', async () => {
    const page = await operatorAt('参保登记');
    // Row 2 never sent (a mistyped ID); rows 3–504 are 502 people: a batch of 500 (row 4's phone
    // refused by the API) and one of 2 (rows 503–504) whose answer is lost after the API enrolled them.
    const person = (i: number) => id(`33010619850615${String(i).padStart(3, '0')}`);
    const good = id('33010619850614001');
    const mistyped = `${good.slice(0, 17)}${good[17] === '0' ? '1' : '0'}`;
    const lines = [`${mistyped},错号,,西湖区,1`];
    for (let i = 0; i < 502; i++) lines.push(`${person(i)},批量${i},${i === 1 ? '12345' : ''},西湖区,1.50`);
    await page.route('**/enrollments', async (route) => {
      if (sentPeople(route).length !== 2) return route.continue();
      await route.fetch(); // the API enrols them; the answer that comes back is a gateway's page
      await route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    });
    await upload(page, enrolCsv(lines));
    await page.getByRole('button', { name: '提交登记（502 人）' }).click();
    const main = page.locator('main');
    // Counted in rows: the lost batch is 2 rows, not "1 项".
    await expect.poll(textOf(main), { ...poll, timeout: 60_000 }).toContain('新登记 499 人，更新 0 人；未登记 4 行：平台拒绝 1 行，结果未知 2 行（可能已登记），未提交 1 行');
    expect(await main.innerText()).toContain('第 503–504 行中的 2 人结果未知（可能已登记）：未收到平台的回答（服务器暂时无法处理（网关错误），请稍后重试）：可能已登记，可重新提交，不会重复登记');
    const failed = await page.getByRole('table', { name: '未登记的行' }).innerText();
    expect(failed).toMatch(/2\s+未提交\s+身份证号\s+身份证号无效：校验位不符/);
    expect(failed).toMatch(/4\s+平台拒绝\s+手机号\s+手机号无效/);
    expect(failed).toMatch(/503\s+结果未知（可能已登记）/);
    expect(failed).toMatch(/504\s+结果未知（可能已登记）/);
    expect(failed).not.toContain('未提交：');
    await screen(page, 'operator-enrol-batch-lost');

    // The failed rows as a file: the input's columns and a 原因 column, under an ASCII name.
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载未登记的行（CSV）' }).click()]);
    expect(file.suggestedFilename()).toMatch(/^[\x21-\x7e]+\.csv$/);
    const read = parseCsv(await readFile(await file.path(), 'utf8'));
    if (!read.ok) throw new Error(read.message);
    expect(read.rows[0]).toEqual(['身份证号', '姓名', '手机号', '区县', '个人账户余额（元）', '原因']);
    expect(read.rows.slice(1).map((r) => r.slice(0, 5))).toEqual([
      [mistyped, '错号', '', '西湖区', '1'], [person(1), '批量1', '12345', '西湖区', '1.50'], [person(500), '批量500', '', '西湖区', '1.50'], [person(501), '批量501', '', '西湖区', '1.50'],
    ]);
    expect(read.rows.map((r) => r[5])).toEqual(['原因', expect.stringMatching(/^未提交：/), expect.stringMatching(/^平台拒绝：手机号/), expect.stringMatching(/^结果未知/), expect.stringMatching(/^结果未知/)]);

    // Sent again: only the two rows whose answer was lost; the API had enrolled them and says so.
    await page.unroute('**/enrollments');
    const resent: string[][] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/enrollments') resent.push((r.postDataJSON() as { people: Array<{ nationalId: string }> }).people.map((p) => p.nationalId)); });
    await page.getByRole('button', { name: '重新提交（2 人）' }).click();
    // Found enrolled: by the attempt whose answer was lost, most likely, and the summary says so.
    await expect.poll(textOf(main), poll).toContain('新登记 499 人，更新 2 人（其中 2 人是结果未知后重新提交的，多为上次已新登记）；未登记 2 行：平台拒绝 1 行，未提交 1 行');
    expect(await main.innerText()).toMatch(/重新提交进度\s*2 \/ 2 人/);
    expect(resent).toEqual([[person(500), person(501)]]);
    const operator = await desk.rt.as('operator');
    expect((await desk.rt.call(operator, 'POST', '/people/lookup', { nationalId: person(501) })).body).toMatchObject({ name: '批量501' });
  }, 120_000);

  it("says what the API said of a batch it refused whole (not UTF-8, too large), with its rows, and sends them again", async () => {
    const page = await operatorAt('参保登记');
    const a = id('33010619850616001');
    const b = id('33010619850616002');
    const refuse: Array<(route: Route) => Promise<void>> = [
      // A name with U+FFFD, as a GBK file decodes: the API refuses the body as not UTF-8.
      (route) => {
        const people = sentPeople(route);
        return route.continue({ postData: JSON.stringify({ people: people.map((p, i) => (i === 0 ? { ...p, name: `${p.name}\ufffd` } : p)) }) });
      },
      // Larger than the API takes: 413.
      (route) => route.continue({ postData: JSON.stringify({ people: sentPeople(route), pad: 'x'.repeat(1_100_000) }) }),
    ];
    await page.route('**/enrollments', (route) => (refuse.shift() ?? ((r: Route) => r.continue()))(route));
    await upload(page, enrolCsv([`${a},郑一,,西湖区,1`, `${b},郑二,,西湖区,2`]));
    await page.getByRole('button', { name: '提交登记（2 人）' }).click();
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('第 2–3 行中的 2 人平台拒绝：文件不是 UTF-8 编码（可能是 GBK），请在 Excel/WPS 中另存为“CSV UTF-8”后重新上传');
    expect(await main.innerText()).toContain('未登记 2 行：平台拒绝 2 行');
    expect(await main.innerText()).not.toContain('填写有误，请检查标红的项目');
    await page.getByRole('button', { name: '重新提交（2 人）' }).click();
    await expect.poll(textOf(main), poll).toContain('第 2–3 行中的 2 人平台拒绝：本批数据超过平台允许的大小');
    await page.getByRole('button', { name: '重新提交（2 人）' }).click();
    await expect.poll(textOf(main), poll).toContain('新登记 2 人，更新 0 人');
    expect(await main.innerText()).not.toContain('未登记');
  });

  it('holds back a row the file could not decode (U+FFFD from a GBK file) before sending, and says a file that is GBK throughout is not UTF-8', async () => {
    const page = await operatorAt('参保登记');
    const sent: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/enrollments') sent.push(r.url()); });
    const a = id('33010619850617001');
    const b = id('33010619850617002');
    // Row 3 appended by a GBK tool: 王伟 in GBK bytes, which UTF-8 cannot read.
    const gbkName = Buffer.from([0xcd, 0xf5, 0xce, 0xb0]);
    await upload(page, Buffer.concat([enrolCsv([`${a},郑一,,西湖区,1`]), Buffer.from(`${b},`), gbkName, Buffer.from(',,西湖区,1\r\n')]));
    await expect.poll(textOf(page.locator('main')), poll).toContain('共 2 行：可提交 1 人，1 行有误，不提交');
    expect(await page.getByRole('table', { name: '有误的行（不提交）' }).innerText()).toMatch(/3\s+姓名\s+含无法识别的字符（乱码）：文件可能不是 UTF-8 编码（可能是 GBK）/);

    // The whole file in GBK: its headings are what cannot be read.
    await upload(page, Buffer.concat([Buffer.from([0xc9, 0xed, 0xb7, 0xdd, 0xd6, 0xa4, 0xba, 0xc5]), Buffer.from(`,name\r\n${a},x\r\n`)]));
    await expect.poll(textOf(page.locator('main')), poll).toContain('表头无法读取：文件可能不是 UTF-8 编码（可能是 GBK）');
    expect(sent).toEqual([]);
  });

  it('keeps the import going and shown while the operator looks at another screen, and asks before the tab is closed mid-import', async () => {
    const page = await operatorAt('参保登记');
    const { release, answered } = await holdRequests(page, '/enrollments');
    await upload(page, enrolCsv([`${id('33010619850618001')},冯一,,西湖区,1`, `${id('33010619850618002')},冯二,,西湖区,1`]));
    await page.getByRole('button', { name: '提交登记（2 人）' }).click();
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('0 / 2');

    // Closing the tab now would cut the import: the browser asks first.
    await keptAboveTheScreen(page, '参保登记', { progress: '0 / 2', release, answered, result: '新登记 2 人，更新 0 人' });
    expect(await main.innerText()).toContain('2 / 2');
    expect(await objectsToLeaving(page)).toBe(false);
  });
});

describe('个人账户划入', () => {
  it('credits a file under a batch id (asked first), says what was refused, credits nobody twice when sent again or after a lost answer', async () => {
    const { rt } = desk;
    const api = await rt.as('operator');
    const [a, b, stranger] = [id('33010619780808101'), id('33010619780808102'), id('33010619780808103')];
    const enrolled = await rt.call(api, 'POST', '/enrollments', { people: [{ nationalId: a, name: '划入甲', district: '西湖区', personalAccountFen: 100 }, { nationalId: b, name: '划入乙', district: '西湖区', personalAccountFen: 0 }] });
    const [pa, pb] = enrolled.body.personIds as [string, string];
    const account = async (personId: string) => (await rt.call(api, 'GET', `/enrollments/${personId}`)).body.personalAccountFen;
    const file = Buffer.from('\ufeff' + ['身份证号,划入金额（元）', `${a},"1,500.00"`, `${b},800`, `${stranger},10`, `${id('33010619780808104')},0`, ''].join('\r\n'));

    const page = await operatorAt('个人账户划入');
    const sent: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/personal-account-credits') sent.push(r.method()); });
    await page.getByLabel('CSV 文件').setInputFiles({ name: '划入.csv', mimeType: 'text/csv', buffer: file });
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('共 4 行：可提交 3 人，合计 ¥2,310.00；1 行有误，不提交');
    expect(await page.getByRole('table', { name: '有误的行（不提交）' }).innerText()).toMatch(/5\s+划入金额\s+划入金额须大于 0/);
    // No batch id: said on its field, nothing sent.
    await page.getByRole('button', { name: '提交划入（3 人）' }).click();
    await expect.poll(textOf(page.locator('.field', { has: page.getByLabel('批次号') })), poll).toContain('请填写批次号');
    await expect.poll(focused(page.getByLabel('批次号')), poll).toBe(true);
    expect(sent).toEqual([]);

    await page.getByLabel('批次号').fill('2027年度划入');
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await page.getByRole('button', { name: '提交划入（3 人）' }).click();
    await expect.poll(textOf(main), poll).toContain('批次 2027年度划入：新划入 2 人，此前已划入 0 人（未重复划入），合计 ¥2,300.00；平台拒绝 1 行，文件有误未提交 1 行');
    expect(asked).toContain('按批次 2027年度划入 向 3 人划入合计 ¥2,310.00');
    const unpaid = await page.getByRole('table', { name: '未划入的行' }).innerText();
    expect(unpaid).toMatch(/4\s+身份证号\s+该身份证号未参保登记/);
    expect(unpaid).toMatch(/5\s+划入金额\s+划入金额须大于 0/);
    expect([await account(pa), await account(pb)]).toEqual([150_100, 80_000]);
    await screen(page, 'operator-credits');

    // The same file again under the same batch: nobody is credited twice.
    await page.getByLabel('CSV 文件').setInputFiles({ name: '划入.csv', mimeType: 'text/csv', buffer: file });
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '提交划入（3 人）' }).click();
    await expect.poll(textOf(main), poll).toContain('新划入 0 人，此前已划入 2 人（未重复划入），两者金额合计 ¥2,300.00');
    expect([await account(pa), await account(pb)]).toEqual([150_100, 80_000]);

    // A batch whose answer is lost on the way back (the platform credited it): sent again, credited once.
    let lose = true;
    await page.route('**/personal-account-credits', async (route) => {
      if (!lose) return route.continue();
      lose = false;
      await route.fetch();
      await route.abort('connectionreset');
    });
    await page.getByLabel('批次号').fill('2027-补划');
    await page.getByLabel('CSV 文件').setInputFiles({ name: '补划.csv', mimeType: 'text/csv', buffer: Buffer.from(`身份证号,划入金额（元）\r\n${a},5\r\n`) });
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '提交划入（1 人）' }).click();
    await expect.poll(textOf(main), poll).toContain('1 人未收到平台的回答，可能已划入');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '重新提交（1 人）' }).click();
    // The amount is the batch's for both groups, and says so: nothing was paid twice.
    await expect.poll(textOf(main), poll).toContain('批次 2027-补划：新划入 0 人，此前已划入 1 人（未重复划入），两者金额合计 ¥5.00');
    expect(await account(pa)).toBe(150_600);
  });
});

describe('个人账户划入 while the operator looks elsewhere', () => {
  it('keeps the run going and shown on another screen and back, with its batch id, and asks before the tab is closed mid-run', async () => {
    const { rt } = desk;
    const a = id('33010619780808105');
    const enrolled = await rt.call(await rt.as('operator'), 'POST', '/enrollments', { people: [{ nationalId: a, name: '划入丙', district: '西湖区', personalAccountFen: 0 }] });
    expect(enrolled.body.rejected).toEqual([]);
    const page = await operatorAt('个人账户划入');
    const { release, answered } = await holdRequests(page, '/personal-account-credits');
    await page.getByLabel('批次号').fill('2027-离开页面');
    await page.getByLabel('CSV 文件').setInputFiles({ name: '划入.csv', mimeType: 'text/csv', buffer: Buffer.from(`身份证号,划入金额（元）\r\n${a},12\r\n`) });
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: '提交划入（1 人）' }).click();
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('0 / 1');

    await keptAboveTheScreen(page, '个人账户划入', {
      progress: '0 / 1', release, answered, result: '批次 2027-离开页面：新划入 1 人，此前已划入 0 人（未重复划入），合计 ¥12.00',
      // The batch id stays with the run, and cannot change under it.
      meanwhile: async () => {
        expect(await page.getByLabel('批次号').inputValue()).toBe('2027-离开页面');
        expect(await page.getByLabel('批次号').isDisabled()).toBe(true);
      },
    });
    expect(await objectsToLeaving(page)).toBe(false);
    expect((await rt.call(await rt.as('operator'), 'GET', `/enrollments/${enrolled.body.personIds[0]}`)).body.personalAccountFen).toBe(1_200);
  });
});

describe('预警 and 全省概览 across midnight', () => {
  it("follow the province's day when midnight passes, unless the operator picked a day", async () => {
    const page = await operatorAt('预警');
    // The page's clock at fixed instants (the API keeps real time): any day works, and the days
    // expected are those instants' own, not today's.
    await page.clock.install({ time: new Date('2026-03-14T23:59:30+08:00') });
    const dayField = page.getByLabel('日期');
    const open = (section: string) => openSection(page, section);
    await open('全省概览');
    await open('预警');
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('2026年3月14日 没有预警');
    expect(await dayField.inputValue()).toBe('2026-03-14');
    const asked: string[] = [];
    page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname === '/alerts') asked.push(u.searchParams.get('date') ?? ''); });
    await page.clock.runFor(60_000);
    await expect.poll(textOf(main), poll).toContain('2026年3月15日 没有预警');
    expect(await dayField.inputValue()).toBe('2026-03-15');
    expect(asked).toContain('2026-03-15');

    await page.clock.setSystemTime(new Date('2026-03-15T23:59:30+08:00'));
    await open('全省概览');
    await expect.poll(textOf(main), poll).toContain('2026年3月15日 医保结算');
    await page.clock.runFor(60_000);
    await expect.poll(textOf(main), poll).toContain('2026年3月16日 医保结算');

    // A day picked stays picked across midnight; the latest day that may be picked moves on.
    await dayField.fill('2026-03-10');
    await expect.poll(textOf(main), poll).toContain('2026年3月10日 医保结算');
    await page.clock.setSystemTime(new Date('2026-03-16T23:59:30+08:00'));
    await page.clock.runFor(60_000);
    await expect.poll(() => dayField.getAttribute('max'), poll).toBe('2026-03-17');
    expect(await dayField.inputValue()).toBe('2026-03-10');
    expect(await main.innerText()).toContain('2026年3月10日 医保结算');
  });
});

describe('预警 and 全省概览 of another day', () => {
  it("stay picked across a reload and Back; the nav's 预警 is today's; a day in the address that is none, or has not come, says today is shown", async () => {
    await clearOfMidnight(60_000); // "today" is read once, below
    const page = await operatorAt('预警');
    const dayField = page.getByLabel('日期');
    const main = page.locator('main');
    const today = await dayField.inputValue(); // the screen's own today
    const earlier = new Date(Date.parse(`${today}T00:00:00Z`) - 3 * 86_400_000).toISOString().slice(0, 10);
    const earlierText = date(earlier); // as the screen writes it: 2026年3月14日
    await dayField.fill(earlier);
    await expect.poll(() => page.url(), poll).toContain(`#/operator/alerts?date=${earlier}`);
    await expect.poll(textOf(main), poll).toContain(`${earlierText} `);
    // The nav's 预警 right after a pick: today's.
    await page.getByRole('navigation').getByRole('link', { name: '预警' }).click();
    await expect.poll(() => dayField.inputValue(), poll).toBe(today);
    await dayField.fill(earlier);

    // A reload (login again: tokens live in memory): the same day.
    await page.reload();
    await page.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(page, people.operator);
    await page.getByRole('heading', { name: '预警', level: 1 }).waitFor();
    await expect.poll(() => dayField.inputValue(), poll).toBe(earlier);
    // Another screen, then Back.
    await openSection(page, '全省概览');
    await page.goBack();
    await page.getByRole('heading', { name: '预警', level: 1 }).waitFor();
    await expect.poll(() => dayField.inputValue(), poll).toBe(earlier);
    // The nav's 预警 is today's.
    await page.getByRole('navigation').getByRole('link', { name: '预警' }).click();
    await expect.poll(() => dayField.inputValue(), poll).toBe(today);
    expect(page.url()).not.toContain('date=');
    // 全省概览 keeps its day the same way.
    await openSection(page, '全省概览');
    await dayField.fill(earlier);
    await expect.poll(() => page.url(), poll).toContain(`?date=${earlier}`);
    // 全省概览 is the desk's start screen: right after login (no address) its nav link is today's too.
    const { page: fresh } = await newPage(desk);
    await login(fresh, desk.rt.url, people.operator);
    await fresh.getByRole('heading', { name: '全省概览', level: 1 }).waitFor();
    await fresh.getByLabel('日期').fill(earlier);
    await expect.poll(textOf(fresh.locator('main')), poll).toContain(`${earlierText} `);
    await fresh.getByRole('navigation').getByRole('link', { name: '全省概览' }).click();
    await expect.poll(() => fresh.getByLabel('日期').inputValue(), poll).toBe(today);
    // A day in the address that is none: today, and said.
    await page.goto(`${desk.rt.url}#/operator/alerts?date=2026-13-45`);
    await expect.poll(textOf(main), poll).toContain('地址中的日期“2026-13-45”不是有效日期，已显示今日。');
    expect(await dayField.inputValue()).toBe(today);
    // A day to come (a bookmark's date typed a day ahead): its totals would be zeros, as if nothing
    // had been settled. Today's are shown, and said.
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${desk.rt.url}#/operator?date=${tomorrow}`);
    await expect.poll(textOf(main), poll).toContain(`地址中的日期“${tomorrow}”尚未到来，已显示今日。`);
    expect(await dayField.inputValue()).toBe(today);
    await expect.poll(textOf(main), poll).toContain(`${date(today)} 医保结算`);
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
    await page.locator('main').getByText('已保存：苯磺酸氨氯地平片 5mg×28片').waitFor();
    await expect.poll(() => page.locator('#announcer').innerText(), poll).toBe('已保存：苯磺酸氨氯地平片 5mg×28片');
    await page.getByRole('cell', { name: '苯磺酸氨氯地平片 5mg×28片', exact: true }).waitFor();
    const after = (await desk.rt.call(await desk.rt.as('operator'), 'GET', '/drugs?limit=200')).body;
    expect(after.items).toHaveLength(before);
    expect(after.items.find((d: { drugCode: string }) => d.drugCode === 'XC08CAA001').name).toBe('苯磺酸氨氯地平片 5mg×28片');
  });
});

describe('药品目录 and 机构 that cannot be read', () => {
  it('say so instead of an empty list, and a new code typed meanwhile is said to be unchecked', async () => {
    const { page } = await newPage(desk);
    // The API unavailable for both lists (injected), from the start of the session.
    await unavailable(page, /\/drugs\?/);
    await unavailable(page, /\/institutions\?/);
    await login(page, desk.rt.url, people.operator);
    await openSection(page, '药品目录');
    const main = page.locator('main');
    await expect.poll(textOf(main), poll).toContain('药品目录无法读取：请求失败（503），请稍后重试');
    expect(await main.innerText()).not.toContain('目录为空');
    const code = page.locator('form').getByLabel('药品编码');
    await code.fill('XC08CAA001');
    await expect.poll(textOf(page.locator('form')), poll).toContain('目录未能读取，无法核对此编码是否已有药品');
    await screen(page, 'operator-drugs-unreadable');
    await openSection(page, '机构');
    await expect.poll(textOf(main), poll).toContain('机构列表无法读取：请求失败（503），请稍后重试');
    expect(await page.getByRole('table', { name: '已登记机构' }).count()).toBe(0);
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

  it('修改 changes one: a department closed, a capacity and its designation (asked first); what the form has not goes back as it was', async () => {
    const api = await desk.rt.as('operator');
    const registered = await desk.rt.call(api, 'POST', '/institutions', {
      id: 'hosp-ui-edit', name: '待修改医院', type: 'hospital', district: '西湖区', designated: true, location: { lat: 30.25, lng: 120.13 },
      departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 10 }, { code: 'RESP', name: '呼吸内科', dailyCapacity: 8 }],
    });
    expect(registered.status).toBe(201);
    const page = await operatorAt('机构');
    const puts: string[] = [];
    page.on('request', (r) => { if (r.method() === 'PUT') puts.push(new URL(r.url()).pathname); });
    await page.getByRole('button', { name: '修改 待修改医院' }).click();
    const form = page.locator('form');
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    expect(await form.getByLabel('机构编码').getAttribute('readonly')).not.toBeNull();
    await expect.poll(focused(form.getByLabel('名称', { exact: true })), poll).toBe(true);
    await form.getByRole('group', { name: '科室 1' }).getByLabel('日接诊量').fill('25');
    await form.getByRole('group', { name: '科室 2' }).getByRole('button', { name: '删除科室 2' }).click();
    await form.getByLabel('医保定点机构').uncheck();

    // Withdrawing the designation is asked first; declined, nothing is sent.
    page.once('dialog', (d) => { expect(d.message()).toContain('取消 待修改医院 的医保定点'); void d.dismiss(); });
    await form.getByRole('button', { name: '保存修改' }).click();
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    expect(puts).toEqual([]);
    page.once('dialog', (d) => void d.accept());
    await form.getByRole('button', { name: '保存修改' }).click();
    await page.locator('main').getByText('已保存：待修改医院').waitFor();
    // What a hospital's record decides, not a pharmacy's prescriptions.
    expect(await textOf(page.locator('main').getByText('已保存：待修改医院'))()).toContain('医保结算及转诊、会诊咨询的分配在 5 分钟内按新信息执行');
    expect(puts).toEqual(['/institutions/hosp-ui-edit']);
    const row = page.getByRole('row').filter({ hasText: 'hosp-ui-edit' });
    await expect.poll(textOf(row), poll).toContain('非定点');
    await expect.poll(focused(row.getByRole('button', { name: '修改 待修改医院' })), poll).toBe(true);
    expect(await form.getByRole('heading', { name: '登记机构' }).count()).toBe(1);

    const now = (await desk.rt.call(api, 'GET', '/institutions/hosp-ui-edit')).body;
    expect(now).toMatchObject({ designated: false, location: { lat: 30.25, lng: 120.13 }, departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 25 }], createdAt: registered.body.createdAt });
    expect(now.updatedAt).toEqual(expect.any(String));

    // Another operator changes it while this form is open (from the list's copy): saving is refused,
    // what they changed stands, and the form is filled again from the institution as it is now.
    await page.getByRole('button', { name: '修改 待修改医院' }).click();
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    const other = await desk.rt.call(api, 'PUT', '/institutions/hosp-ui-edit', { ...now, designated: true, name: '待修改医院（他人已改）' }, { 'if-match': `"${now.version}"` });
    expect(other.status).toBe(200);
    await form.getByLabel('区县').fill('上城区');
    await form.getByRole('button', { name: '保存修改' }).click();
    await expect.poll(textOf(form), poll).toContain('该机构刚被他人修改，未保存您的修改');
    await expect.poll(() => form.getByLabel('名称', { exact: true }).inputValue(), poll).toBe('待修改医院（他人已改）');
    expect(await form.getByLabel('区县').inputValue()).toBe('西湖区');
    expect(await form.getByLabel('医保定点机构').isChecked()).toBe(true);
    expect((await desk.rt.call(api, 'GET', '/institutions/hosp-ui-edit')).body).toMatchObject({ name: '待修改医院（他人已改）', district: '西湖区', version: other.body.version });
    // Saved again from the copy now shown, it goes through.
    await form.getByLabel('区县').fill('上城区');
    await form.getByRole('button', { name: '保存修改' }).click();
    await page.locator('main').getByText('已保存：待修改医院（他人已改）').waitFor();
    expect((await desk.rt.call(api, 'GET', '/institutions/hosp-ui-edit')).body).toMatchObject({ name: '待修改医院（他人已改）', district: '上城区' });
  });

  it('修改 begun is kept on another screen and back and across a reload, and said to be restored; once saved or cancelled it is not', async () => {
    const api = await desk.rt.as('operator');
    const registered = await desk.rt.call(api, 'POST', '/institutions', {
      id: 'hosp-ui-draft', name: '草稿医院', type: 'hospital', district: '西湖区', designated: true,
      departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 10 }],
    });
    expect(registered.status).toBe(201);
    const page = await operatorAt('机构');
    const form = page.locator('form');
    const open = (section: string) => openSection(page, section);
    await page.getByRole('button', { name: '修改 草稿医院' }).click();
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    await form.getByLabel('名称', { exact: true }).fill('草稿医院（改名）');
    await form.getByRole('group', { name: '科室 1' }).getByLabel('日接诊量').fill('25');
    await form.getByRole('button', { name: '添加科室' }).click();
    await form.getByRole('group', { name: '科室 2' }).getByLabel('科室编码').fill('RESP');

    const restoredAsLeft = async () => {
      await form.getByRole('heading', { name: '修改机构' }).waitFor();
      expect(await form.getByLabel('名称', { exact: true }).inputValue()).toBe('草稿医院（改名）');
      expect(await form.getByRole('group', { name: '科室 1' }).getByLabel('日接诊量').inputValue()).toBe('25');
      expect(await form.getByRole('group', { name: '科室 2' }).getByLabel('科室编码').inputValue()).toBe('RESP');
      expect(await textOf(form)()).toContain('已恢复您离开本页前尚未保存的修改');
    };
    await open('全省概览');
    await open('机构');
    await restoredAsLeft();
    // A reload (login again: tokens live in memory).
    await page.reload();
    await page.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(page, people.operator);
    await page.getByRole('heading', { name: '机构', level: 1 }).waitFor();
    await restoredAsLeft();

    // The restored rows are the form's own: the one added is removed, and what is saved is what shows.
    await form.getByRole('button', { name: '删除科室 2' }).click();
    await form.getByRole('button', { name: '保存修改' }).click();
    await page.locator('main').getByText('已保存：草稿医院（改名）').waitFor();
    expect((await desk.rt.call(api, 'GET', '/institutions/hosp-ui-draft')).body).toMatchObject({ name: '草稿医院（改名）', departments: [{ code: 'CARD', dailyCapacity: 25 }] });
    await open('全省概览');
    await open('机构');
    expect(await form.getByRole('heading', { name: '登记机构' }).count()).toBe(1);

    // Cancelled: nothing comes back either.
    await page.getByRole('button', { name: '修改 草稿医院（改名）' }).click();
    await form.getByLabel('名称', { exact: true }).fill('不要的名字');
    await form.getByRole('button', { name: '取消修改' }).click();
    await open('全省概览');
    await open('机构');
    expect(await form.getByRole('heading', { name: '登记机构' }).count()).toBe(1);
    await page.getByRole('button', { name: '修改 草稿医院（改名）' }).click();
    expect(await form.getByLabel('名称', { exact: true }).inputValue()).toBe('草稿医院（改名）');
    expect(await textOf(form)()).not.toContain('已恢复');
  });

  it('修改 on another institution asks before giving up an edit begun, and what was given up does not come back', async () => {
    const api = await desk.rt.as('operator');
    for (const [id, name] of [['hosp-ui-switch-a', '切换甲医院'], ['hosp-ui-switch-b', '切换乙医院']]) {
      expect((await desk.rt.call(api, 'POST', '/institutions', { id, name, type: 'hospital', district: '西湖区', designated: true })).status).toBe(201);
    }
    const page = await operatorAt('机构');
    const form = page.locator('form');
    const asked: string[] = [];
    let answer = false;
    page.on('dialog', (d) => { asked.push(d.message()); void (answer ? d.accept() : d.dismiss()); });
    const editingName = () => form.getByLabel('名称', { exact: true }).inputValue();

    // Nothing changed: no question, the other one is edited.
    await page.getByRole('button', { name: '修改 切换甲医院' }).click();
    await expect.poll(editingName, poll).toBe('切换甲医院');
    await page.getByRole('button', { name: '修改 切换乙医院' }).click();
    await expect.poll(editingName, poll).toBe('切换乙医院');
    expect(asked).toEqual([]);

    // Changed, and kept when the operator answers no.
    await page.getByRole('button', { name: '修改 切换甲医院' }).click();
    await expect.poll(editingName, poll).toBe('切换甲医院');
    // The form takes the keyboard to its first field once shown: typed elsewhere before, it lands there.
    await expect.poll(focused(form.getByLabel('名称', { exact: true })), poll).toBe(true);
    await form.getByLabel('区县').fill('上城区');
    await page.getByRole('button', { name: '修改 切换乙医院' }).click();
    await expect.poll(() => asked.length, poll).toBe(1);
    expect(asked[0]).toBe('放弃对 切换甲医院 尚未保存的修改？');
    expect(await editingName()).toBe('切换甲医院');
    expect(await form.getByLabel('区县').inputValue()).toBe('上城区');

    // Given up: the other one is edited, and the change does not come back on the first one.
    answer = true;
    await page.getByRole('button', { name: '修改 切换乙医院' }).click();
    await expect.poll(editingName, poll).toBe('切换乙医院');
    expect(asked).toHaveLength(2);
    await page.getByRole('button', { name: '修改 切换甲医院' }).click();
    await expect.poll(editingName, poll).toBe('切换甲医院');
    expect(await form.getByLabel('区县').inputValue()).toBe('西湖区');
    expect(await textOf(form)()).not.toContain('已恢复');
    expect(asked).toHaveLength(2);
    expect((await desk.rt.call(api, 'GET', '/institutions/hosp-ui-switch-a')).body).toMatchObject({ district: '西湖区' });
  });

  it("withdrawing a pharmacy's designation says what becomes of its prescriptions, the prescriber then sees one at another pharmacy, and 预警 names the one it kept", async () => {
    const { rt } = desk;
    const api = await rt.as('operator');
    const drug = 'XWDUI00001';
    await pharmacyStocking({ id: 'ph-ui-withdrawn', name: '待撤销定点药房', designated: true }, { drugCode: drug, name: '改派测试药' }, ['ph-xihu-3']);
    const patients = [{ nationalId: id('33010619900707071'), name: '改派患者' }, { nationalId: id('33010619900707072'), name: '已收费患者' }];
    const enrolled = await rt.call(api, 'POST', '/enrollments', { people: patients.map((p) => ({ ...p, district: '西湖区', personalAccountFen: 10_000 })) });
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const [rxId, paidId] = await Promise.all((enrolled.body.personIds as string[]).map(async (personId) => {
      const issued = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: drug, quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-ui-withdrawn' });
      expect(issued.status).toBe(201);
      return issued.body.prescriptionId as string;
    })) as [string, string];
    const where = async (rx = rxId) => (await rt.call(clinic, 'GET', `/prescriptions/${rx}`)).body.pharmacyId;
    await expect.poll(where, poll).toBe('ph-ui-withdrawn');
    await expect.poll(() => where(paidId), poll).toBe('ph-ui-withdrawn');
    // The second patient pays for theirs there before the withdrawal: it stays, and the operator is told.
    const channel = await rt.as('channel');
    const voucher = await rt.call(channel, 'POST', '/vouchers', { ...patients[1]!, channel: 'wechat' });
    const code = await rt.call(channel, 'POST', `/vouchers/${voucher.body.voucherId}/codes`);
    const paid = await rt.call(await rt.as('pharmacy', 'ph-ui-withdrawn'), 'POST', '/settlements',
      { code: code.body.code, prescriptionId: paidId, items: [{ drugCode: drug, quantity: 1, unitPriceFen: 1_850 }] }, { 'idempotency-key': 'ui-withdrawn-paid' });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);

    const page = await operatorAt('机构');
    const form = page.locator('form');
    // A clinic's question says what stops for a clinic, which settles nothing: receiving down
    // referrals. Answered no: nothing is saved, and the form is as it was.
    await page.getByRole('button', { name: '修改 灵隐街道社区卫生服务中心' }).click();
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    await form.getByLabel('医保定点机构').uncheck();
    let clinicAsked = '';
    page.once('dialog', (d) => { clinicAsked = d.message(); void d.dismiss(); });
    await form.getByRole('button', { name: '保存修改' }).click();
    await expect.poll(() => clinicAsked, poll).toContain('5 分钟内起，该机构不再被分派新的下转患者');
    expect(clinicAsked).not.toContain('医保结算');
    expect((await rt.call(api, 'GET', '/institutions/clinic-lingyin')).body.designated).toBe(true);
    await form.getByLabel('医保定点机构').check();

    await page.getByRole('button', { name: '修改 待撤销定点药房' }).click();
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    await form.getByLabel('医保定点机构').uncheck();
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await clearOfMidnight(30_000); // the alert is raised within seconds, on the day of the withdrawal
    await form.getByRole('button', { name: '保存修改' }).click();
    await page.locator('main').getByText('已保存：待撤销定点药房').waitFor();
    expect(asked).toContain('尚未收费（或收费已冲正）也未发药的处方由平台改派到其他定点药店，已收费或已部分发药的处方留在该药店办完');

    // The GP finds it on 已流转, at the nearest pharmacy of the patient's district that has the drug.
    await expect.poll(where, poll).toBe('ph-xihu-3');
    const gp = await gpSeesRouted(rxId, '九州大药房灵隐店');
    await screen(gp, 'clinic-prescription-withdrawn-pharmacy');

    // 预警, on the province day of the withdrawal, names the pharmacy and the prescription it kept.
    const withdrawnOn = provinceDay((await rt.call(api, 'GET', '/institutions/ph-ui-withdrawn')).body.updatedAt);
    await page.getByRole('link', { name: '预警' }).click();
    await page.getByLabel('日期').fill(withdrawnOn);
    const alert = page.getByRole('table', { name: /的预警$/ }).getByRole('row', { name: /取消定点后留店处方/ });
    await expect.poll(textOf(alert), poll).toContain(shortId(paidId));
    await expect.poll(textOf(alert), poll).toContain('待撤销定点药房');
    expect(await textOf(alert)()).toContain('1 张处方已收费或已部分发药，留在该药店办完');
    expect(await textOf(alert)()).not.toContain(shortId(rxId));
  });

  it('designating a pharmacy says it takes what waits in its district, and the prescriber then sees a waiting prescription there', async () => {
    const { rt } = desk;
    const api = await rt.as('operator');
    const drug = 'XDGUI00001';
    await pharmacyStocking({ id: 'ph-ui-designated', name: '新定点药房', designated: false }, { drugCode: drug, name: '新定点测试药' });
    const enrolled = await rt.call(api, 'POST', '/enrollments', { people: [{ nationalId: id('33010619900808081'), name: '等药患者', district: '西湖区', personalAccountFen: 10_000 }] });
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const issued = await rt.call(clinic, 'POST', '/prescriptions', { personId: enrolled.body.personIds[0], diagnoses: ['I10'], items: [{ drugCode: drug, quantity: 1, dosage: '每日一次' }] });
    expect(issued.status).toBe(201);
    const rxId = issued.body.prescriptionId as string;
    const read = async () => (await rt.call(clinic, 'GET', `/prescriptions/${rxId}`)).body as { status: string; pharmacyId?: string };
    // Only the undesignated pharmacy has the drug: it waits.
    await expect.poll(async () => (await read()).status, poll).toBe('unroutable');

    const page = await operatorAt('机构');
    await page.getByRole('button', { name: '修改 新定点药房' }).click();
    const form = page.locator('form');
    await form.getByRole('heading', { name: '修改机构' }).waitFor();
    // A pharmacy has no 级别 (the list shows —).
    expect(await form.getByLabel('级别').count()).toBe(0);
    await form.getByLabel('医保定点机构').check();
    await form.getByRole('button', { name: '保存修改' }).click();
    await page.locator('main').getByText('已保存：新定点药房').waitFor();
    expect(await textOf(page.locator('main').getByText('已保存：新定点药房'))()).toContain('医保结算与处方流转在 5 分钟内按新信息执行；西湖区患者因无药店可配而等待的处方，平台随即重新流转，该药店有货的可流转到该药店');

    await expect.poll(async () => (await read()).pharmacyId, poll).toBe('ph-ui-designated');
    await gpSeesRouted(rxId, '新定点药房');
  });

  it('refuses a blank 日接诊量 on its field, and says repeated department codes above the form and on the rows', async () => {
    const page = await operatorAt('机构');
    const sent: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/institutions' && r.method() === 'POST') sent.push(r.url()); });
    const form = page.locator('form');
    await form.getByLabel('机构编码').fill('hosp-new-capacity');
    await form.getByLabel('名称', { exact: true }).fill('新登记医院');
    // 级别 left out is recorded as a level, and the choice says which, by type.
    const unrated = form.getByLabel('级别').locator('option[value=""]');
    await form.getByLabel('类型').selectOption({ label: '社区卫生服务中心' });
    expect(await unrated.innerText()).toBe('未定级（按一级）');
    await form.getByLabel('类型').selectOption({ label: '医院' });
    expect(await unrated.innerText()).toBe('未定级（按二级）');
    await form.getByLabel('区县').fill('西湖区');
    const add = form.getByRole('button', { name: '添加科室' });
    await add.click();
    await add.click();
    const first = form.getByRole('group', { name: '科室 1' });
    const second = form.getByRole('group', { name: '科室 2' });
    // The keyboard goes on to the row just added.
    await expect.poll(focused(second.getByLabel('科室编码')), poll).toBe(true);
    await first.getByLabel('科室编码').fill('CARD');
    await first.getByLabel('科室名称').fill('心血管内科');
    await first.getByLabel('日接诊量').fill('');
    await second.getByLabel('科室编码').fill('RESP');
    await second.getByLabel('科室名称').fill('呼吸内科');
    await form.getByRole('button', { name: '登记' }).click();
    const capacity = first.getByLabel('日接诊量');
    await expect.poll(() => capacity.getAttribute('aria-invalid'), poll).toBe('true');
    expect(await textOf(first)()).toContain('必填');
    await expect.poll(focused(capacity), poll).toBe(true);

    // The same code twice: the rule is on the list, which has no field of its own.
    await capacity.fill('20');
    await second.getByLabel('科室编码').fill('CARD');
    await form.getByRole('button', { name: '登记' }).click();
    await expect.poll(textOf(form.getByRole('alert')), poll).toContain('科室编码不能重复');
    expect(await second.getByLabel('科室编码').getAttribute('aria-invalid')).toBe('true');
    expect(await textOf(second)()).toContain('科室编码重复：与科室 1 相同');
    expect(sent).toEqual([]);
    // The refusal takes the keyboard to the first code it marks (row 1's): typed before it has, the
    // next entry can land there instead, as a person's would.
    await expect.poll(focused(first.getByLabel('科室编码')), poll).toBe(true);

    await second.getByLabel('科室编码').fill('RESP');
    await form.getByRole('button', { name: '登记' }).click();
    await page.locator('main').getByText('已登记：新登记医院').waitFor();
    const registered = (await desk.rt.call(await desk.rt.as('operator'), 'GET', '/institutions/hosp-new-capacity')).body;
    expect(registered.departments).toEqual([{ code: 'CARD', name: '心血管内科', dailyCapacity: 20 }, { code: 'RESP', name: '呼吸内科', dailyCapacity: 10 }]);
  });
});
