// The hospital's triage panel holds the referral the nurse is working on: one more urgent arriving
// meanwhile is announced with a way to take it first, not swapped in under her hands (her half-typed
// rejection reason stays, and what she confirms is the patient she read). After each triage the
// keyboard is on the next one; a referral someone else took meanwhile is said to have gone, and the
// next is shown when she asks. The first Tab offers a way past the header and the nav. The
// appointment proposed is the day the clinic asked for, or for an emergency the next quarter hour.
// A day with no slot left is said at its date, and the referral stays hers to accept on another.
// A move whose answer was lost is found to be hers (pressed again, or seen gone), not another's.
// A triage refused as moved meanwhile leaves the keyboard on the notice that says so. A retry after
// a lost answer, refused while the referral still cannot be read, says the first press may have made
// the move; a first press refused says it did nothing, read or not. A 拒绝 whose answer was lost or
// is still awaited, seen gone once the clinic rerouted it, is not said to be nothing of hers; the next
// she then asks for is the most urgent. An answer that comes after she moved on is said without
// taking her from the referral she is working on.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortId } from '../../console/src/lib/format.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { focused, inBackground, login, lookAgain, newPage, people, screen, startDesk, textOf, unavailable, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

// Long enough for the worklist's next poll (10 s, backing off while nothing changes). Where a test
// waits for the list to see a change, the nurse looks at another tab and back (`lookAgain`), which
// reads it at once: the same refresh, without the wait.
const poll = { timeout: 45_000, interval: 250 };

const lists = /\/referrals\?/;
const accepts = /\/referrals\/[^/]+\/accept$/;
const rejects = /\/referrals\/[^/]+\/reject$/;
/** The next accept reaches the API and is made; its answer is lost on the way back. */
const loseNextAnswer = (page: Page) => page.route(accepts, async (r) => { await r.fetch(); await r.abort('connectionreset'); }, { times: 1 });
/** A promise a route waits on, and the function that lets it go on. */
function gate(): { passed: Promise<void>; open: () => void } {
  let open!: () => void;
  const passed = new Promise<void>((resolve) => { open = resolve; });
  return { passed, open };
}
/** Holds the list's refreshes until the function returned is called: only the page's own moves find out meanwhile. */
async function holdLists(page: Page): Promise<() => void> {
  const held = gate();
  await page.route(lists, async (r) => { await held.passed; await r.continue(); });
  return held.open;
}
/** A nurse logged in, her worklist's panel showing the named patient's referral. */
async function nurseWith(patient: string): Promise<{ nurse: Page; panel: Locator }> {
  const { page: nurse } = await newPage(desk);
  await login(nurse, desk.rt.url, people.nurse);
  const panel = nurse.getByRole('region', { name: /待分诊/ });
  await expect.poll(textOf(panel), poll).toContain(patient);
  return { nurse, panel };
}
/** A nurse's worklist with demoPeople[i]'s referral in the panel, 拒绝 pressed and the reason typed. */
async function rejecting(i: number, reason: string): Promise<{ nurse: Page; panel: Locator }> {
  const { nurse, panel } = await nurseWith(demoPeople[i]!.name);
  await panel.getByRole('button', { name: '拒绝' }).click();
  await panel.getByLabel('拒绝原因').fill(reason);
  return { nurse, panel };
}

async function refer(i: number, urgency: 'routine' | 'urgent' | 'emergency', reason: string, department = 'CARD'): Promise<string> {
  const { rt } = desk;
  const personId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: demoPeople[i]!.nationalId })).body.personId;
  const res = await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', {
    personId, direction: 'up', toInstitutionId: 'hosp-zjph', department, reason, diagnoses: ['I10'], urgency,
  });
  expect(res.status).toBe(201);
  return res.body.referralId;
}
const statusOf = async (id: string) => (await desk.rt.call(await desk.rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${id}`)).body.status;

describe('the triage panel', () => {
  it('keeps its patient while the nurse works; a more urgent one is announced; the keyboard follows; one taken elsewhere is said', async () => {
    const first = await refer(7, 'routine', '血压波动');
    const second = await refer(8, 'routine', '胸闷待查');
    const { nurse, panel } = await nurseWith(demoPeople[7]!.name);
    // The first Tab offers a way past the header and the nav, to the screen's title.
    await nurse.keyboard.press('Tab');
    expect(await focused(nurse.getByRole('button', { name: '跳到主要内容' }))()).toBe(true);
    await nurse.keyboard.press('Enter');
    expect(await focused(nurse.getByRole('heading', { name: '转入工作台', level: 1 }))()).toBe(true);

    // She starts rejecting the first; an emergency arrives meanwhile.
    await panel.getByRole('button', { name: '拒绝' }).click();
    await panel.getByLabel('拒绝原因').fill('本院心内科床位已满');
    const emergency = await refer(9, 'emergency', '急性胸痛');
    await lookAgain(nurse);
    await expect.poll(textOf(panel), poll).toContain('新到一条更紧急的转诊（急诊）');
    // Still her patient and her words.
    expect(await panel.innerText()).toContain(demoPeople[7]!.name);
    expect(await panel.innerText()).not.toContain(demoPeople[9]!.name);
    expect(await panel.getByLabel('拒绝原因').inputValue()).toBe('本院心内科床位已满');
    await screen(nurse, 'hospital-triage-more-urgent');
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(nurse.getByText(/^已拒绝，已退回转出机构/)), poll).toContain(shortId(first));
    expect(await statusOf(first)).toBe('rejected');
    expect(await statusOf(emergency)).toBe('submitted');

    // Next is the emergency, and the keyboard is on it.
    await expect.poll(textOf(panel), poll).toContain(demoPeople[9]!.name);
    await expect.poll(focused(nurse.locator('#triage-title')), poll).toBe(true);
    // Another nurse accepts it meanwhile (the API, as her colleague's screen would).
    const zjph = await desk.rt.as('hospital', 'hosp-zjph');
    expect((await desk.rt.call(zjph, 'POST', `/referrals/${emergency}/accept`, { appointmentAt: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(200);
    await lookAgain(nurse);
    // Said where she was working, and the next patient is not put under her hands until she asks.
    // Whose it was and what became of it.
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(emergency)} 已不在待接收列表：本院其他人员已接收`);
    expect(await panel.innerText()).toContain(demoPeople[9]!.name);
    expect(await panel.innerText()).not.toContain(demoPeople[8]!.name);
    expect(await panel.getByRole('button', { name: /接收/ }).count()).toBe(0);
    await expect.poll(focused(nurse.locator('#triage-title')), poll).toBe(true);
    await screen(nurse, 'hospital-triage-gone');
    await panel.getByRole('button', { name: '处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain(demoPeople[8]!.name);
    // The last one: no "（其后还有 0 条）".
    expect(await nurse.locator('#triage-title').innerText()).toBe('待分诊');
    await expect.poll(focused(nurse.locator('#triage-title')), poll).toBe(true);

    // The last one accepted by keyboard: focus on the accept button, Enter; then the screen's title.
    await panel.getByRole('button', { name: '接收并处理下一条' }).focus();
    await nurse.keyboard.press('Enter');
    await expect.poll(textOf(nurse.getByText(/^已接收，预约/)), poll).toContain(shortId(second));
    await expect.poll(focused(nurse.locator('main h1')), poll).toBe(true);
    expect(await statusOf(second)).toBe('accepted');

    // A link into another desk (a pharmacy's) opens this one's start and says so.
    await nurse.goto(`${desk.rt.url}#/pharmacy/settlements`);
    await nurse.getByRole('heading', { name: '转入工作台' }).waitFor();
    // That title was already there (a change of hash, not a new page): the notice comes with the hashchange.
    await expect.poll(() => nurse.getByRole('status').filter({ hasText: '该地址不属于本工作台（医院）' }).count(), poll).toBe(1);
  });

  it("proposes the appointment the referral asks for: the clinic's preferred day at 09:00, an emergency's next quarter hour", async () => {
    const { rt } = desk;
    const patient = demoPeople[10]!;
    // The GP asks for a day three days ahead (the field offers today onwards).
    const { page: gp } = await newPage(desk);
    await login(gp, rt.url, people.gp);
    await gp.getByLabel('身份证号').fill(patient.nationalId);
    await gp.getByRole('button', { name: '查找患者' }).click();
    await gp.getByRole('link', { name: '发起转诊' }).click();
    await gp.getByLabel('接收医院').selectOption({ label: '浙江省人民医院' });
    await gp.getByLabel('科室').selectOption({ label: '心血管内科' });
    await gp.getByLabel('诊断').fill('I10');
    await gp.getByLabel('转诊原因').fill('血压控制不佳，需调整方案');
    const min = (await gp.getByLabel('希望就诊日期').getAttribute('min'))!;
    const preferred = new Date(Date.parse(`${min}T00:00:00Z`) + 3 * 86_400_000).toISOString().slice(0, 10);
    // Typed in part (one digit in its first part, the year or the month by the browser's locale):
    // said on its field, not sent without it.
    await gp.getByLabel('希望就诊日期').focus();
    await gp.keyboard.type('1');
    await gp.getByRole('button', { name: '提交转诊' }).click();
    await expect.poll(textOf(gp.locator('form')), poll).toContain('日期不完整：请填写年、月、日，或清空（不指定日期）');
    expect(await gp.getByRole('button', { name: '提交转诊' }).count()).toBe(1);
    // A day gone by: said, not sent (the API would route for today, and the nurse read a past wish).
    const yesterday = new Date(Date.parse(`${min}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    await gp.getByLabel('希望就诊日期').fill(yesterday);
    await gp.getByRole('button', { name: '提交转诊' }).click();
    await expect.poll(textOf(gp.locator('form')), poll).toContain('希望就诊日期不能早于今天');
    expect(await gp.getByRole('button', { name: '提交转诊' }).count()).toBe(1);
    await gp.getByLabel('希望就诊日期').fill(preferred);
    await gp.getByRole('button', { name: '提交转诊' }).click();
    await expect.poll(textOf(gp.locator('dl.facts dt:text-is("希望就诊日期") + dd')), poll).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日$/);

    // The nurse's picker starts on that day, and says why.
    const { nurse, panel } = await nurseWith(patient.name);
    expect(await panel.innerText()).toContain('希望就诊');
    expect([await panel.getByLabel('预约日期').inputValue(), await panel.getByLabel('预约时间').inputValue()]).toEqual([preferred, '09:00']);
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(nurse.getByText(/^已接收，预约/)), poll).toContain(patient.name);
    const accepted = (await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', '/referrals?box=incoming&status=accepted')).body.items
      .find((r: { patient?: { name: string } }) => r.patient?.name === patient.name);
    expect(accepted.appointmentAt).toBe(new Date(`${preferred}T09:00:00+08:00`).toISOString());

    // An emergency: the patient is on the way, so the next quarter hour, not tomorrow morning.
    const before = Date.now();
    await refer(11, 'emergency', '突发胸痛两小时');
    await lookAgain(nurse);
    await expect.poll(textOf(panel), poll).toContain(demoPeople[11]!.name);
    const proposed = Date.parse(`${await panel.getByLabel('预约日期').inputValue()}T${await panel.getByLabel('预约时间').inputValue()}:00+08:00`);
    expect(proposed % 900_000).toBe(0);
    expect(proposed).toBeGreaterThanOrEqual(before);
    expect(proposed).toBeLessThanOrEqual(Date.now() + 900_000);
    await screen(nurse, 'hospital-triage-emergency-proposal');
  });

  it('a day with no slot left is said at 预约日期 and the referral stays, to be accepted on another day', async () => {
    const { rt } = desk;
    const zjph = await rt.as('hospital', 'hosp-zjph');
    // Nothing else waiting (the tests above leave one): the panel shows this test's referrals.
    const waiting = (await rt.call(zjph, 'GET', '/referrals?box=incoming&status=submitted')).body.items as Array<{ referralId: string }>;
    for (const w of waiting) expect((await rt.call(zjph, 'POST', `/referrals/${w.referralId}/accept`, { appointmentAt: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(200);
    // 神经内科 takes one referral a day.
    const operator = await rt.as('operator');
    const inst = (await rt.call(operator, 'GET', '/institutions/hosp-zjph')).body;
    const departments = inst.departments.map((d: { code: string }) => (d.code === 'NEUR' ? { ...d, dailyCapacity: 1 } : d));
    expect((await rt.call(operator, 'PUT', '/institutions/hosp-zjph', { ...inst, departments }, { 'if-match': `"${inst.version}"` })).status).toBe(200);
    const mine = await refer(12, 'routine', '反复头晕', 'NEUR');
    const other = await refer(13, 'routine', '肢体麻木', 'NEUR');
    const third = await refer(14, 'routine', '记忆力减退', 'NEUR');

    const { nurse, panel } = await nurseWith(demoPeople[12]!.name);
    const day = await panel.getByLabel('预约日期').inputValue(); // the day the panel proposes
    // A colleague takes that day's one slot for the other patient.
    expect((await rt.call(zjph, 'POST', `/referrals/${other}/accept`, { appointmentAt: new Date(`${day}T10:00:00+08:00`).toISOString() })).status).toBe(200);
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    // Said at the date, which has the keyboard; the referral is still hers, not "handled by someone else".
    await expect.poll(textOf(panel), poll).toContain('该日该科室号源已约满，请选择其他日期');
    expect(await panel.getByLabel('预约日期').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(focused(panel.getByLabel('预约日期')), poll).toBe(true);
    expect(await panel.innerText()).toContain(demoPeople[12]!.name);
    expect(await nurse.locator('main').innerText()).not.toContain('已被他人处理');
    expect(await statusOf(mine)).toBe('submitted');
    await screen(nurse, 'hospital-triage-day-full');
    // The next day has its slot.
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    await panel.getByLabel('预约日期').fill(next);
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(nurse.getByText(/^已接收，预约/)), poll).toContain(shortId(mine));
    expect((await rt.call(zjph, 'GET', `/referrals/${mine}`)).body.appointmentAt).toBe(new Date(`${next}T09:00:00+08:00`).toISOString());

    // The same on a referral's own page: 接收 on that day, now full too, is said at its date and the form stays.
    await nurse.goto(`${rt.url}#/hospital/referrals/${third}`);
    const actions = nurse.getByRole('region', { name: '可执行操作' });
    await actions.getByRole('button', { name: '接收', exact: true }).click();
    await actions.getByLabel('预约日期').fill(next);
    await actions.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(actions), poll).toContain('该日该科室号源已约满，请选择其他日期');
    await expect.poll(focused(actions.getByLabel('预约日期')), poll).toBe(true);
    expect(await actions.getByRole('button', { name: '确认接收' }).count()).toBe(1);
    expect(await statusOf(third)).toBe('submitted');
  });

  it('a refresh that fails leaves the list and the reason half typed, says since when, and goes once it reads again', async () => {
    const id = await refer(15, 'urgent', '心悸伴晕厥一次');
    const { nurse, panel } = await rejecting(15, '本院心内科本周停诊');

    await unavailable(nurse, lists);
    const foreground = await inBackground(nurse);
    await foreground();
    const stale = nurse.locator('main .alert', { hasText: '暂时无法刷新' });
    await expect.poll(() => stale.count(), poll).toBe(1);
    expect(await panel.innerText()).toContain(demoPeople[15]!.name);
    expect(await panel.getByLabel('拒绝原因').inputValue()).toBe('本院心内科本周停诊');
    expect(await nurse.getByRole('table', { name: /待接收的转诊/ }).innerText()).toContain(demoPeople[15]!.name);
    // The tabs' counts, read by the same failing lists, are said to be from before.
    const waitingTab = nurse.getByRole('button', { name: /^待接收/ });
    await expect.poll(() => waitingTab.getAttribute('aria-pressed'), poll).toBe('true');
    await expect.poll(textOf(waitingTab), poll).toContain('（未能刷新）');
    expect(await waitingTab.locator('.count.stale').count()).toBe(1);
    await screen(nurse, 'hospital-triage-refresh-failed');

    await nurse.unroute(lists);
    await lookAgain(nurse);
    await expect.poll(() => stale.count(), poll).toBe(0);
    await expect.poll(textOf(waitingTab), poll).not.toContain('未能刷新');
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(nurse.getByText(/^已拒绝，已退回转出机构/)), poll).toContain(shortId(id));
    expect(await statusOf(id)).toBe('rejected');
  });

  it("a triage whose answer was lost is hers: pressed again, or seen gone by the list, it is not 已被他人处理", async () => {
    const { rt } = desk;
    const first = await refer(16, 'emergency', '突发胸痛一小时');
    const second = await refer(17, 'urgent', '心悸三天');
    const { nurse, panel } = await nurseWith(demoPeople[16]!.name);
    // The list's refreshes are held meanwhile: only her second press may find out what happened.
    const release = await holdLists(nurse);
    // The accept is made and its answer lost; so is the read that would tell her.
    await loseNextAnswer(nurse);
    await nurse.route(new RegExp(`/referrals/${first}$`), (r) => r.abort('connectionreset'), { times: 1 });
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain('无法连接到服务器');
    expect(await statusOf(first)).toBe('accepted');
    // She presses again: the API refuses the version she saw (412), and the screen finds the move was hers.
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(nurse.locator('main').getByText(/^已接收，预约/)), poll).toContain(shortId(first));
    expect(await nurse.locator('main').innerText()).not.toContain('已被他人处理');
    release();
    await nurse.unrouteAll({ behavior: 'wait' });

    // The next one: lost the same way, and this time the list's refresh sees it gone before she presses again.
    await expect.poll(textOf(panel), poll).toContain(demoPeople[17]!.name);
    await loseNextAnswer(nurse);
    await nurse.route(new RegExp(`/referrals/${second}$`), (r) => r.abort('connectionreset'), { times: 1 });
    const readLost = nurse.waitForEvent('requestfailed', (req) => req.url().endsWith(`/referrals/${second}`));
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain('无法连接到服务器');
    await readLost;
    await lookAgain(nurse);
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(second)} 已由您接收，无需再处理`);
    expect(await panel.innerText()).not.toContain('您未对其做任何操作');
    await screen(nurse, 'hospital-triage-own-move');

    // On a referral's own page the lost answer is found out at once.
    const third = await refer(18, 'routine', '头晕待查');
    await nurse.goto(`${rt.url}#/hospital/referrals/${third}`);
    const actions = nurse.getByRole('region', { name: '可执行操作' });
    await actions.getByRole('button', { name: '接收', exact: true }).click();
    await loseNextAnswer(nurse);
    await actions.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(nurse.locator('#announcer')), poll).toContain(`已接收：转诊 ${shortId(third)}`);
    expect(await actions.innerText()).not.toMatch(/无法连接|已被他人处理/);
    expect(await statusOf(third)).toBe('accepted');

    // Lost again, and this time nothing can read the referral after: pressed again, the API refuses
    // the version she saw (412). Her first press may have made it: not said to have done nothing.
    const fourth = await refer(21, 'routine', '活动后气短');
    await nurse.goto(`${rt.url}#/hospital/referrals/${fourth}`);
    await actions.getByRole('button', { name: '接收', exact: true }).click();
    const shown = await inBackground(nurse); // the page's own poll reads nothing meanwhile
    await loseNextAnswer(nurse);
    // The read after the first press is lost; the one after the second is throttled (429), which
    // tells nothing of the referral either.
    const throttled = JSON.stringify({ type: 'https://consortium.example/problems/rate-limited', title: 'Too many requests', status: 429 });
    await nurse.route(new RegExp(`/referrals/${fourth}$`), (r) => r.fulfill({ status: 429, contentType: 'application/problem+json', body: throttled }));
    await nurse.route(new RegExp(`/referrals/${fourth}$`), (r) => r.abort('connectionreset'), { times: 1 });
    await actions.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(actions), poll).toContain('无法连接到服务器');
    await actions.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(nurse.locator('main')), poll).toContain(`转诊 ${shortId(fourth)} 已有变化，本次操作未执行`);
    expect(await nurse.locator('main').innerText()).toContain('或您此前的操作已生效');
    expect(await nurse.locator('main').innerText()).not.toMatch(/已被他人修改|未生效/);
    await nurse.unrouteAll({ behavior: 'wait' });
    await shown();
    expect(await statusOf(fourth)).toBe('accepted');
  });

  it('a 拒绝 whose answer was lost, then rerouted by the clinic, is not said to be nothing of hers when the list sees it gone', async () => {
    const { rt } = desk;
    // A routine one waits behind (it is next when the notice comes), and she has opened this one's
    // page before: the console holds a copy of it as it was then.
    await refer(6, 'routine', '血脂异常复查');
    const refused = await refer(22, 'emergency', '胸闷伴大汗');
    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    await nurse.goto(`${rt.url}#/hospital/referrals/${refused}`);
    await expect.poll(textOf(nurse.locator('main')), poll).toContain(demoPeople[22]!.name);
    await nurse.goBack();
    const panel = nurse.getByRole('region', { name: /待分诊/ });
    await expect.poll(textOf(panel), poll).toContain(demoPeople[22]!.name);
    await panel.getByRole('button', { name: '拒绝' }).click();
    await panel.getByLabel('拒绝原因').fill('本院心内科病床已满');
    // The rejection is made, the clinic reroutes at once, and her answer is lost: the read after it
    // finds nothing here (404), which after a 拒绝 tells nothing of whether hers was made. The list's
    // refreshes are held until she has been told the answer was lost.
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    await nurse.route(rejects, async (r) => {
      await r.fetch();
      expect((await rt.call(clinic, 'POST', `/referrals/${refused}/reroute`, { toInstitutionId: 'hosp-xihu' })).status).toBe(200);
      await r.abort('connectionreset');
    }, { times: 1 });
    const release = await holdLists(nurse);
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(textOf(panel), poll).toContain('无法连接到服务器');
    release();
    await nurse.unrouteAll({ behavior: 'wait' });
    // The list's refresh (she comes back to the window: at once) sees it gone, and reading it says
    // only that it went elsewhere.
    await lookAgain(nurse);
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(refused)} 已不在待接收列表：已改派至其他医院。您此前的拒绝未收到应答，可能已生效。`);
    expect(await panel.innerText()).not.toContain('您未对其做任何操作');
    await screen(nurse, 'hospital-triage-gone-maybe-hers');
    const now = (await rt.call(clinic, 'GET', `/referrals/${refused}`)).body;
    expect(now).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-xihu' });
    expect(now.history.map((h: { status: string }) => h.status)).toContain('rejected');

    // The next: the same, but her answer is held until the list's refresh has seen it gone. While it
    // is awaited the panel is checking, not telling her she did nothing; then it is lost.
    const next = await refer(23, 'emergency', '反复胸痛三天');
    await lookAgain(nurse);
    // In the list first: then the most urgent when she asks for the next, not the routine one behind the notice.
    await expect.poll(() => nurse.getByRole('row', { name: new RegExp(demoPeople[23]!.name) }).count(), poll).toBe(1);
    await panel.getByRole('button', { name: '处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain(demoPeople[23]!.name);
    await panel.getByRole('button', { name: '拒绝' }).click();
    await panel.getByLabel('拒绝原因').fill('本院心内科病床已满');
    const answer = gate();
    const rerouted = gate();
    await nurse.route(rejects, async (r) => {
      await r.fetch();
      expect((await rt.call(clinic, 'POST', `/referrals/${next}/reroute`, { toInstitutionId: 'hosp-xihu' })).status).toBe(200);
      rerouted.open();
      await answer.passed;
      await r.abort('connectionreset');
    }, { times: 1 });
    const read = nurse.waitForResponse((res) => res.request().method() === 'GET' && new URL(res.url()).pathname.endsWith(`/referrals/${next}`), poll);
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await rerouted.passed;
    await lookAgain(nurse);
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(next)} 已不在待接收列表，正在核实其状态…`);
    // The panel's read of it has come back (404: elsewhere now); her answer has not. Still checking,
    // a moment after, not saying she did nothing.
    expect((await read).status()).toBe(404);
    await nurse.waitForTimeout(300);
    expect(await panel.innerText()).toContain('正在核实其状态');
    answer.open();
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(next)} 已不在待接收列表：已改派至其他医院。您此前的拒绝未收到应答，可能已生效。`);
  });

  it('an answer that comes after the panel moved on is said, and leaves her on the referral she is working on', async () => {
    const late = await refer(0, 'emergency', '胸痛伴出汗');
    const working = await refer(1, 'urgent', '心电图异常');
    const { nurse, panel } = await rejecting(0, '本院导管室检修');
    // Her 拒绝 is made; its answer is held until she is working on the next.
    const answer = gate();
    const made = gate();
    await nurse.route(rejects, async (r) => {
      const response = await r.fetch();
      made.open();
      await answer.passed;
      await r.fulfill({ response });
    }, { times: 1 });
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await made.passed;
    await lookAgain(nurse);
    // The list sees it gone, and the notice's read already shows her rejection.
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(late)} 已由您拒绝，无需再处理`);
    await panel.getByRole('button', { name: '处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain(demoPeople[1]!.name);
    await panel.getByRole('button', { name: '拒绝' }).click();
    const reason = panel.getByLabel('拒绝原因');
    await reason.fill('本院');
    answer.open();
    await expect.poll(textOf(nurse.locator('main')), poll).toContain(`已拒绝，已退回转出机构：${demoPeople[0]!.name}`);
    // Still hers, and the keyboard still in what she was typing.
    expect(await panel.innerText()).toContain(demoPeople[1]!.name);
    expect(await focused(reason)()).toBe(true);
    expect(await reason.inputValue()).toBe('本院');
    expect([await statusOf(late), await statusOf(working)]).toEqual(['rejected', 'submitted']);
    // And she finishes what she was typing.
    await reason.fill('本院导管室检修');
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(() => statusOf(working), poll).toBe('rejected');
  });

  it('a refusal that comes after the panel moved on is said without taking the keyboard from what she types', async () => {
    const late = await refer(2, 'emergency', '突发心悸');
    const working = await refer(3, 'emergency', '血压难以控制');
    const { nurse, panel } = await nurseWith(demoPeople[2]!.name);
    // Her 接收 is held on the way; a colleague accepts the referral meanwhile.
    const held = gate();
    await nurse.route(accepts, async (r) => { await held.passed; await r.continue(); }, { times: 1 });
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    const zjph = await desk.rt.as('hospital', 'hosp-zjph');
    expect((await desk.rt.call(zjph, 'POST', `/referrals/${late}/accept`, { appointmentAt: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(200);
    await lookAgain(nurse);
    // Hers can no longer be made: the notice says so without waiting for its answer.
    await expect.poll(textOf(panel), poll).toContain(`的转诊 ${shortId(late)} 已不在待接收列表：本院其他人员已接收`);
    await panel.getByRole('button', { name: '处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain(demoPeople[3]!.name);
    await panel.getByRole('button', { name: '拒绝' }).click();
    const reason = panel.getByLabel('拒绝原因');
    await reason.fill('本院');
    held.open();
    // Refused (412): said above the list, and the keyboard stays where she is typing.
    const notice = nurse.locator('main p.alert', { hasText: `（${shortId(late)}）已被他人处理或已由社区撤销，您的操作未生效` });
    await expect.poll(() => notice.count(), poll).toBe(1);
    expect(await focused(reason)()).toBe(true);
    expect(await panel.innerText()).toContain(demoPeople[3]!.name);
    expect(await statusOf(working)).toBe('submitted');
    await reason.fill('本院心内科病床已满');
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    await expect.poll(() => statusOf(working), poll).toBe('rejected');
  });

  it('a triage refused as moved meanwhile is said where the keyboard was, and the keyboard stays on it as the panel moves on', async () => {
    const { rt } = desk;
    const taken = await refer(19, 'emergency', '急性胸痛半小时');
    const next = await refer(20, 'emergency', '晕厥一次');
    const { nurse, panel } = await rejecting(19, '本院导管室检修');
    // The list's refreshes are held, so that only her 确认拒绝 finds out a colleague accepted it.
    const release = await holdLists(nurse);
    const zjph = await rt.as('hospital', 'hosp-zjph');
    expect((await rt.call(zjph, 'POST', `/referrals/${taken}/accept`, { appointmentAt: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(200);
    // Nor can the referral be read after the refusal: a first press, so nothing of hers is in doubt.
    await nurse.route(new RegExp(`/referrals/${taken}$`), (r) => r.abort('connectionreset'));
    await panel.getByRole('button', { name: '确认拒绝' }).click();
    const notice = nurse.locator('main p.alert', { hasText: `（${shortId(taken)}）已被他人处理或已由社区撤销，您的操作未生效` });
    await expect.poll(() => notice.count(), poll).toBe(1);
    release();
    await nurse.unrouteAll({ behavior: 'wait' });
    // The panel moves on to the next; the keyboard is on what happened, not dropped to the page.
    await expect.poll(textOf(panel), poll).toContain(demoPeople[20]!.name);
    await expect.poll(focused(notice), poll).toBe(true);
    expect(await statusOf(taken)).toBe('accepted');
    // 知道了 takes the notice away, and the keyboard to the screen's title.
    await notice.getByRole('button', { name: '知道了' }).click();
    await expect.poll(focused(nurse.locator('main h1')), poll).toBe(true);

    // Her 接收 of the next is made and its answer lost, and nothing can read the referral after:
    // pressed again, it is refused (412). That first press may have made it: the notice does not say
    // she did nothing, nor that another did it.
    const releaseAgain = await holdLists(nurse);
    await loseNextAnswer(nurse);
    await nurse.route(new RegExp(`/referrals/${next}$`), (r) => r.abort('connectionreset'));
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(textOf(panel), poll).toContain('无法连接到服务器');
    await panel.getByRole('button', { name: '接收并处理下一条' }).click();
    const unsure = nurse.locator('main p.alert', { hasText: `（${shortId(next)}）已有变化，本次操作未执行` });
    await expect.poll(() => unsure.count(), poll).toBe(1);
    expect(await unsure.innerText()).toContain('或您此前的操作已生效');
    expect(await nurse.locator('main').innerText()).not.toContain('您的操作未生效');
    await screen(nurse, 'hospital-triage-unconfirmed');
    releaseAgain();
    await nurse.unrouteAll({ behavior: 'wait' });
    expect(await statusOf(next)).toBe('accepted');
  });
});
