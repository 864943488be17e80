// The clinic's side of referrals and prescriptions through its screens: a patient the hospital sends
// back down is found under 转入 (with how many wait, on 接诊 too), opened and accepted; 撤销转诊 asks
// first, and a dismissed question writes nothing; 开具处方 says which prescription it issued and where
// it went, and lands where that prescription is listed; the hospital's 下转 names one of the
// clinic's departments, kept with the rest of the form across a reload. Every new screen is
// photographed and checked with axe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { dateTime, shortId } from '../../console/src/lib/format.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { fillIssuerForm, focused, inBackground, login, logOut, lookAgain, newPage, people, screen, startDesk, textOf, unavailable, type Desk } from './support.ts';

let desk: Desk;
let gp: Page;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 25_000, interval: 250 };

async function personOf(nationalId: string): Promise<string> {
  return (await desk.rt.call(await desk.rt.as('operator'), 'POST', '/people/lookup', { nationalId })).body.personId;
}

/** An upward referral to the provincial hospital, made through the API (by default from the GP's clinic, to cardiology). */
async function refer(nationalId: string, reason: string, o: { from?: string; department?: string; diagnoses?: string[] } = {}): Promise<string> {
  const res = await desk.rt.call(await desk.rt.as('clinic', o.from ?? 'clinic-lingyin'), 'POST', '/referrals', {
    personId: await personOf(nationalId), direction: 'up', toInstitutionId: 'hosp-zjph', department: o.department ?? 'CARD', reason, diagnoses: o.diagnoses ?? ['I10'], urgency: 'routine',
  });
  expect(res.status).toBe(201);
  return res.body.referralId;
}

/** The hospital accepts, sees and completes an upward referral (through the API), so that the nurse can send the patient back. */
async function seenAndDone(upId: string): Promise<void> {
  const { rt } = desk;
  const zjph = await rt.as('hospital', 'hosp-zjph');
  expect((await rt.call(zjph, 'POST', `/referrals/${upId}/accept`, { appointmentAt: new Date(Date.now() + 2 * 86_400_000).toISOString() })).status).toBe(200);
  expect((await rt.call(zjph, 'POST', `/referrals/${upId}/arrive`)).status).toBe(200);
  expect((await rt.call(zjph, 'POST', `/referrals/${upId}/complete`)).status).toBe(200);
}

/** At 接诊: the patient found by their ID, then one of the moves offered for them (发起转诊, 开处方). */
async function fromReception(page: Page, patient: { nationalId: string }, move: string): Promise<void> {
  await page.getByLabel('身份证号').fill(patient.nationalId);
  await page.getByRole('button', { name: '查找患者' }).click();
  await page.getByRole('link', { name: move }).click();
}

/** The text of the 科室 line of a referral's summary. */
const departmentOf = (page: Page) => () => page.locator('dl.facts dt:text-is("科室") + dd').innerText();

describe('转入: a referral sent down to the clinic', () => {
  const patient = demoPeople[2]!;
  let downId: string;

  it('the hospital refers the patient back down; its slip names the clinic\'s department', async () => {
    const { rt } = desk;
    // Up, seen and done at the hospital (through the API), so that the nurse can send them back.
    const upId = await refer(patient.nationalId, '血压控制不佳，需调整方案');
    await seenAndDone(upId);

    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    await nurse.goto(`${rt.url}#/hospital/down/${upId}`);
    await nurse.getByRole('heading', { name: '下转至 灵隐街道社区卫生服务中心' }).waitFor();
    await nurse.getByLabel('随访计划').fill('每两周随访血压；氨氯地平维持');
    // A second code mistyped is said on the field (it is the list's second item), and nothing is sent.
    const diagnoses = nurse.getByLabel('诊断（ICD-10，空格分隔）');
    await diagnoses.fill('I10 E1X');
    await nurse.getByRole('button', { name: '提交下转' }).click();
    await expect.poll(() => diagnoses.getAttribute('aria-invalid'), poll).toBe('true');
    expect(await nurse.getByRole('heading', { name: '下转至 灵隐街道社区卫生服务中心' }).count()).toBe(1);
    await diagnoses.fill('I10');
    await nurse.getByRole('button', { name: '提交下转' }).click();
    await nurse.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    const waiting = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', '/referrals?box=incoming&status=submitted')).body.items;
    expect(waiting.map((r: { direction: string; fromInstitutionId: string }) => [r.direction, r.fromInstitutionId])).toEqual([['down', 'hosp-zjph']]);
    downId = waiting[0].referralId;
    expect(nurse.url()).toContain(downId);
    // The department is the receiving clinic's: its name, not the code.
    await expect.poll(departmentOf(nurse), poll).toBe('全科');

    // Back on the upward referral: the down referral is named and linked, and a second is not the obvious next step.
    await nurse.goto(`${rt.url}#/hospital/referrals/${upId}`);
    const already = nurse.getByRole('status').filter({ hasText: '已下转回社区' });
    await expect.poll(textOf(already), poll).toContain(`转诊 ${shortId(downId)}（待接收）`);
    expect(await nurse.getByRole('link', { name: '下转回社区' }).count()).toBe(0);
    await nurse.getByRole('link', { name: '再次下转' }).click();
    await expect.poll(textOf(nurse.locator('main form')), poll).toContain(`该患者已按此上转下转回社区（${shortId(downId)}），再次提交会产生另一条下转。`);
    await screen(nurse, 'hospital-down-again');
    await nurse.goBack();
    await already.getByRole('link', { name: `转诊 ${shortId(downId)}` }).click();
    await nurse.getByRole('heading', { name: `转诊 ${shortId(downId)}` }).waitFor();
    // A down referral is read under 下转记录 (the nav says so), and goes back to that list, not to 转入工作台.
    const nav = nurse.getByRole('navigation');
    await expect.poll(() => nav.locator('[aria-current="page"]').innerText(), poll).toBe('下转记录');
    await nurse.getByRole('link', { name: '返回下转记录' }).click();
    await nurse.getByRole('heading', { name: '下转记录', level: 1 }).waitFor();
    await nurse.getByRole('link', { name: shortId(downId) }).click();
    await nurse.getByRole('heading', { name: `转诊 ${shortId(downId)}` }).waitFor();
    // The list as left: another tab picked, then the referral opened from elsewhere, then back.
    await nurse.getByRole('link', { name: '返回下转记录' }).click();
    await nurse.getByRole('button', { name: /^已接收/ }).click();
    await expect.poll(() => nurse.url(), poll).toContain('?status=accepted');
    await nurse.evaluate((id) => { location.hash = `#/hospital/outgoing/${id}`; }, downId);
    await nurse.getByRole('link', { name: '返回下转记录' }).click();
    await nurse.getByRole('button', { name: /^已接收/, pressed: true }).waitFor();
    // A list that cannot be read again (the API unavailable: injected) says so, and since when what
    // it shows (its tab's count read it) was read: not a bare "没有…的下转".
    await unavailable(nurse, /\/referrals\?box=outgoing/);
    await nurse.getByRole('button', { name: /^已拒绝/ }).click();
    await expect.poll(textOf(nurse.locator('main')), poll).toContain('暂时无法刷新（服务暂时不可用，503），以下为');
    await nurse.unroute(/\/referrals\?box=outgoing/);
  });

  it('the GP is told on 接诊, finds it under 转入 with the count, opens it and accepts it', async () => {
    const { rt } = desk;
    ({ page: gp } = await newPage(desk));
    await login(gp, rt.url, people.gp);
    // Where the GP spends the day: told that one waits, with the way to it.
    const told = gp.getByRole('status').filter({ hasText: '下转到本机构的转诊' });
    await expect.poll(textOf(told), poll).toContain('有 1 条待接收');
    await screen(gp, 'clinic-incoming-1-notice');

    // Through the desk's own navigation: 转诊, then 转入.
    await gp.getByRole('link', { name: '转诊', exact: true }).click();
    await gp.getByRole('heading', { name: '转出的转诊' }).waitFor();
    const inbox = gp.getByRole('navigation', { name: '转出或转入' }).getByRole('link', { name: /^转入/ });
    await expect.poll(textOf(inbox), poll).toMatch(/待接收\s*1/);
    await inbox.click();
    await gp.getByRole('heading', { name: '转入的转诊' }).waitFor();
    await expect.poll(textOf(gp.getByRole('button', { name: /^待接收/ })), poll).toMatch(/待接收\s*1/);
    const row = gp.getByRole('row', { name: new RegExp(patient.name) });
    await expect.poll(textOf(row), poll).toContain('浙江省人民医院');
    expect(await row.innerText()).toContain(shortId(downId));
    await screen(gp, 'clinic-incoming-2-list');

    await row.getByRole('link', { name: shortId(downId) }).click();
    await gp.getByRole('heading', { name: `转诊 ${shortId(downId)}` }).waitFor();
    await expect.poll(departmentOf(gp), poll).toBe('全科');
    expect(await gp.locator('main').innerText()).toContain('每两周随访血压');
    await screen(gp, 'clinic-incoming-3-referral');
    // The API's moves for the receiver, and only those.
    const moves = gp.getByRole('region', { name: '可执行操作' }).getByRole('button');
    expect(await moves.allInnerTexts()).toEqual(['接收', '拒绝']);

    await gp.getByRole('button', { name: '接收', exact: true }).click();
    await gp.getByRole('button', { name: '确认接收' }).click();
    await expect.poll(textOf(gp.locator('dl.facts')), poll).toMatch(/状态\s+已接收/);
    const r = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/referrals/${downId}`)).body;
    expect(r.history.map((h: { status: string }) => h.status)).toEqual(['submitted', 'accepted']);

    // Back on the list the counts have moved with it.
    await gp.getByRole('link', { name: '返回转入列表' }).click();
    await gp.getByRole('heading', { name: '转入的转诊' }).waitFor();
    await expect.poll(textOf(gp.getByRole('button', { name: /^待接收/ })), poll).toMatch(/待接收\s*0/);
    await expect.poll(textOf(gp.getByRole('button', { name: /^已接收/ })), poll).toMatch(/已接收\s*1/);
    await expect.poll(textOf(inbox), poll).toMatch(/待接收\s*0/);
    await gp.getByRole('button', { name: /^已接收/ }).click();
    await expect.poll(textOf(gp.locator('main table')), poll).toContain(shortId(downId));
  });
});

describe('a 下转 the clinic refused', () => {
  it("is said on the hospital's 转入工作台 until it is rerouted or cancelled, with the way to it and why", async () => {
    const { rt } = desk;
    const patient = demoPeople[13]!;
    const upId = await refer(patient.nationalId, '冠心病支架术后');
    await seenAndDone(upId);
    const zjph = await rt.as('hospital', 'hosp-zjph');
    const down = await rt.call(zjph, 'POST', '/referrals', {
      personId: await personOf(patient.nationalId), direction: 'down', toInstitutionId: 'clinic-lingyin', department: 'GP', reason: '病情稳定，转回社区继续治疗',
      diagnoses: ['I25.1'], urgency: 'routine', upwardReferralId: upId, followUpPlan: '每月随访',
    });
    expect(down.status).toBe(201);
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', `/referrals/${down.body.referralId}/reject`, { reason: '本中心康复床位已满' })).status).toBe(200);
    // The hospital's only refused 下转 in this file.
    expect((await rt.call(zjph, 'GET', '/referrals?box=outgoing&status=rejected')).body.items.length).toBe(1);

    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    const told = nurse.getByRole('alert').filter({ hasText: '本院下转的转诊' });
    await expect.poll(textOf(told), poll).toContain('本院下转的转诊有 1 条被拒绝，患者仍在等待：请改派或撤销。');
    await screen(nurse, 'hospital-down-rejected-notice');
    // Its numbers could not be read again (the API unavailable: injected): said to be from before.
    const outgoing = /\/referrals\?box=outgoing/;
    await unavailable(nurse, outgoing);
    await lookAgain(nurse);
    await expect.poll(textOf(told), poll).toContain('请改派或撤销。（暂时无法刷新，为此前的数量）');
    await nurse.unroute(outgoing);
    await lookAgain(nurse);
    await expect.poll(textOf(told), poll).not.toContain('暂时无法刷新');
    await told.getByRole('link', { name: '查看' }).click();
    await nurse.getByRole('heading', { name: '下转记录', level: 1 }).waitFor();
    await nurse.getByRole('button', { name: /^已拒绝/, pressed: true }).waitFor();
    await expect.poll(textOf(nurse.locator('main table')), poll).toContain(shortId(down.body.referralId));
    // Why the clinic refused it, on its row: what the nurse needs to reroute it or call the patient.
    expect(await nurse.getByRole('columnheader', { name: '拒绝原因' }).count()).toBe(1);
    expect(await nurse.getByRole('row', { name: new RegExp(shortId(down.body.referralId)) }).innerText()).toContain('本中心康复床位已满');
    // One the clinic took shows when the clinic will see the patient.
    const other = demoPeople[16]!;
    const otherUp = await refer(other.nationalId, '心衰稳定期');
    await seenAndDone(otherUp);
    const taken = await rt.call(zjph, 'POST', '/referrals', {
      personId: await personOf(other.nationalId), direction: 'down', toInstitutionId: 'clinic-lingyin', department: 'GP', reason: '病情稳定，转回社区继续治疗',
      diagnoses: ['I50.9'], urgency: 'routine', upwardReferralId: otherUp, followUpPlan: '每周随访',
    });
    expect(taken.status).toBe(201);
    const followUp = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/T.*/, 'T02:00:00.000Z'); // 10:00 in Shanghai
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', `/referrals/${taken.body.referralId}/accept`, { appointmentAt: followUp })).status).toBe(200);
    await nurse.getByRole('button', { name: /^已接收/ }).click();
    await nurse.getByRole('columnheader', { name: '随访预约' }).waitFor();
    await expect.poll(textOf(nurse.getByRole('row', { name: new RegExp(shortId(taken.body.referralId)) })), poll).toContain(dateTime(followUp));
    // Cancelled (the patient followed up elsewhere): no longer said.
    expect((await rt.call(zjph, 'POST', `/referrals/${down.body.referralId}/cancel`)).status).toBe(200);
    await nurse.getByRole('link', { name: '转入工作台' }).click();
    await nurse.getByRole('heading', { name: '转入工作台', level: 1 }).waitFor();
    await expect.poll(() => told.count(), poll).toBe(0);
  });
});

describe('撤销转诊 asks first', () => {
  it('a dismissed confirmation sends nothing; a confirmed one cancels', async () => {
    const { rt } = desk;
    const other = demoPeople[3]!;
    const referralId = await refer(other.nationalId, '心悸反复发作');
    const cancels: string[] = [];
    gp.on('request', (req) => { if (req.method() === 'POST' && req.url().endsWith(`/referrals/${referralId}/cancel`)) cancels.push(req.url()); });

    await gp.getByRole('link', { name: '转诊', exact: true }).click();
    await gp.getByRole('heading', { name: '转出的转诊' }).waitFor();
    await gp.getByRole('row', { name: new RegExp(other.name) }).getByRole('link').click();
    await gp.getByRole('heading', { name: `转诊 ${shortId(referralId)}` }).waitFor();

    const asked: string[] = [];
    gp.once('dialog', (d) => { asked.push(d.message()); void d.dismiss(); });
    await gp.getByRole('button', { name: '撤销转诊' }).click();
    await expect.poll(() => asked.length, poll).toBe(1);
    expect(asked[0]).toContain(`撤销转诊 ${shortId(referralId)}`);
    expect(asked[0]).toContain(other.name);
    expect(asked[0]).toContain('不能恢复');
    // Dismissed: still waiting, on screen and at the API.
    expect(await gp.locator('dl.facts').innerText()).toMatch(/状态\s+待接收/);
    expect(await gp.getByRole('button', { name: '撤销转诊' }).isEnabled()).toBe(true);
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    expect((await rt.call(clinic, 'GET', `/referrals/${referralId}`)).body.history.map((h: { status: string }) => h.status)).toEqual(['submitted']);

    gp.once('dialog', (d) => void d.accept());
    await gp.getByRole('button', { name: '撤销转诊' }).click();
    await expect.poll(textOf(gp.locator('dl.facts')), poll).toMatch(/状态\s+已撤销/);
    // One request over both clicks: the dismissed one sent none, not even late.
    expect(cancels).toHaveLength(1);
    expect((await rt.call(clinic, 'GET', `/referrals/${referralId}`)).body.history.map((h: { status: string }) => h.status)).toEqual(['submitted', 'cancelled']);
  });
});

describe('开具处方 says what it issued', () => {
  it('names the new prescription and where it went, on a list that shows it', async () => {
    const { rt } = desk;
    const patient = demoPeople[0]!;
    await gp.getByRole('link', { name: '接诊' }).click();
    await fromReception(gp, patient, '开处方');
    await gp.getByRole('heading', { name: `开处方：${patient.name}` }).waitFor();
    await gp.getByLabel('诊断').fill('I10');
    await gp.getByLabel('药品', { exact: true }).selectOption({ label: '苯磺酸氨氯地平片 5mg（甲类）' });
    await gp.getByLabel('数量').fill('2');
    await gp.getByLabel('用法用量').fill('每日一次，每次一片');
    await gp.getByLabel('取药药店').selectOption({ label: '西湖大药房文三路店（西湖区）' });
    // A line refused and removed takes its errors with it: line 2 (empty: drug and dosage) goes, and
    // line 3 (no dosage) moves into its place with its own error only.
    await gp.getByRole('button', { name: '添加药品' }).click();
    await gp.getByRole('button', { name: '添加药品' }).click();
    const line = (n: number) => gp.getByRole('group', { name: `第 ${n} 种药品` });
    await line(3).getByLabel('药品', { exact: true }).selectOption('XA10BAA001');
    await gp.getByRole('button', { name: '开具处方' }).click();
    await expect.poll(() => line(2).locator('[aria-invalid="true"]').count(), poll).toBe(2);
    expect(await line(3).locator('[aria-invalid="true"]').count()).toBe(1);
    await line(2).getByRole('button', { name: '删除第 2 种' }).click();
    await expect.poll(() => line(3).count(), poll).toBe(0);
    expect(await line(2).getByLabel('药品', { exact: true }).inputValue()).toBe('XA10BAA001');
    expect(await line(2).locator('[aria-invalid="true"]').count()).toBe(1);
    expect(await line(2).getByLabel('用法用量').getAttribute('aria-invalid')).toBe('true');
    await line(2).getByRole('button', { name: '删除第 2 种' }).click();
    await expect.poll(() => line(2).count(), poll).toBe(0);
    await gp.getByRole('button', { name: '开具处方' }).click();
    await gp.getByRole('heading', { name: '本机构开具的处方' }).waitFor();

    const personId = await personOf(patient.nationalId);
    const issued = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', '/prescriptions?limit=200')).body.items.filter((p: { personId: string }) => p.personId === personId);
    expect(issued).toHaveLength(1);
    const id = shortId(issued[0].prescriptionId);

    const said = gp.getByRole('status').filter({ hasText: '处方已开具' });
    await expect.poll(textOf(said), poll).toContain(`处方号 ${id}，患者 `);
    // Shown where it is now (已开具 for a moment, then 已流转 once routed), marked as the new one.
    const row = gp.getByRole('row', { name: new RegExp(id) });
    await expect.poll(textOf(row), poll).toContain('新开具');
    // Routed to the nominated pharmacy: said, and the list is on 已流转 with it there.
    await expect.poll(textOf(said), poll).toContain('已流转至 西湖大药房文三路店');
    await gp.getByRole('button', { name: /^已流转/, pressed: true }).waitFor();
    await expect.poll(textOf(row), poll).toMatch(/苯磺酸氨氯地平片 5mg ×2\s+西湖大药房文三路店/);
    await screen(gp, 'clinic-prescription-issued');
  });

  it('the same drug again is refused, pointing to 作废; cancelled from the list (asked first), it can be prescribed again', async () => {
    const { rt } = desk;
    const patient = demoPeople[0]!;
    const personId = await personOf(patient.nationalId);
    const open = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', '/prescriptions?limit=200')).body.items.find((p: { personId: string }) => p.personId === personId);
    const id = shortId(open.prescriptionId);
    const prescribeAgain = async () => {
      await gp.getByRole('link', { name: '接诊' }).click();
      await fromReception(gp, patient, '开处方');
      await gp.getByLabel('诊断').fill('I10');
      await gp.getByLabel('药品', { exact: true }).selectOption({ label: '苯磺酸氨氯地平片 5mg（甲类）' });
      await gp.getByLabel('数量').fill('1');
      await gp.getByLabel('用法用量').fill('每日一次，每次一片');
      await gp.getByRole('button', { name: '开具处方' }).click();
    };
    await prescribeAgain();
    await expect.poll(textOf(gp.locator('main form')), poll).toContain('可在“处方”中将其作废');
    expect(await gp.locator('main form').innerText()).toContain(id);

    await gp.getByRole('link', { name: '处方' }).click();
    await gp.getByRole('button', { name: /^已流转/ }).click();
    const row = gp.getByRole('row', { name: new RegExp(id) });
    // Dismissed: nothing happens.
    gp.once('dialog', (d) => void d.dismiss());
    await row.getByRole('button', { name: `作废处方 ${id}` }).click();
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/prescriptions/${open.prescriptionId}`)).body.status).toBe('routed');
    let asked = '';
    gp.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    // Cancelled, and its answer lost on the way back (the network, injected): read again, it is
    // said as cancelled, not as 未作废 (the GP would tell the patient it still holds).
    await gp.route(/\/prescriptions\/[^/]+\/cancel$/, async (r) => { await r.fetch(); await r.abort('connectionreset'); }, { times: 1 });
    await row.getByRole('button', { name: `作废处方 ${id}` }).click();
    await expect.poll(textOf(gp.getByRole('status').filter({ hasText: '已作废' })), poll).toContain(`处方 ${id} 已作废，药店预留的药品已释放`);
    expect(await gp.locator('main').innerText()).not.toContain('未作废');
    expect(asked).toContain(`作废处方 ${id}（${patient.name}`);
    await expect.poll(() => row.count(), poll).toBe(0);
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/prescriptions/${open.prescriptionId}`)).body.status).toBe('cancelled');
    await gp.getByRole('button', { name: /^已作废/ }).click();
    await expect.poll(() => row.count(), poll).toBe(1);
    // Ended prescriptions offer nothing to do.
    expect(await row.getByRole('button').count()).toBe(0);
    await screen(gp, 'clinic-prescription-cancelled');

    await prescribeAgain();
    await gp.getByRole('heading', { name: '本机构开具的处方' }).waitFor();
    await expect.poll(textOf(gp.getByRole('status').filter({ hasText: '处方已开具' })), poll).toContain('处方号');

    // Refused because it moved on meanwhile (here: cancelled from another screen): said above the
    // list, where it stays though the row leaves the tab.
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    // Routed by the platform, asynchronously: polled, since a quiet moment can come before the stream shows the new prescription.
    const routedNow = async () => (await rt.call(clinic, 'GET', '/prescriptions?status=routed&limit=200')).body.items.find((p: { personId: string }) => p.personId === personId);
    await expect.poll(routedNow, poll).toBeDefined();
    const again = await routedNow();
    const againId = shortId(again.prescriptionId);
    await gp.getByRole('button', { name: /^已流转/ }).click();
    const againRow = gp.getByRole('row', { name: new RegExp(againId) });
    await expect.poll(() => againRow.count(), poll).toBe(1);
    const foreground = await inBackground(gp);
    expect((await rt.call(clinic, 'POST', `/prescriptions/${again.prescriptionId}/cancel`)).status).toBe(200);
    gp.once('dialog', (d) => void d.accept());
    await againRow.getByRole('button', { name: `作废处方 ${againId}` }).click();
    const refused = gp.getByRole('alert').filter({ hasText: '未作废' });
    await expect.poll(textOf(refused), poll).toContain(`处方 ${againId} 未作废：当前状态不允许此操作`);
    await expect.poll(() => againRow.count(), poll).toBe(0);
    expect(await refused.count()).toBe(1);
    await foreground();
  });
});

describe('下转 to a clinic with several departments', () => {
  it('the nurse picks the receiving department; the pick survives a reload and is what the clinic gets', async () => {
    const { rt } = desk;
    const patient = demoPeople[4]!;
    const clinicId = 'clinic-cuiyuan';
    const made = await rt.call(await rt.as('operator'), 'POST', '/institutions', {
      id: clinicId, name: '翠苑街道社区卫生服务中心', type: 'clinic', level: 'primary', district: '西湖区', designated: true,
      departments: [{ code: 'GP', name: '全科', dailyCapacity: 30 }, { code: 'REHAB', name: '康复医学科', dailyCapacity: 10 }, { code: 'TCM', name: '中医科', dailyCapacity: 10 }, { code: 'DENT', name: '口腔科', dailyCapacity: 0 }],
    });
    expect(made.status).toBe(201);
    const upId = await refer(patient.nationalId, '股骨颈骨折术后', { from: clinicId, department: 'ORTH', diagnoses: ['S72.0'] });
    await seenAndDone(upId);

    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    await nurse.goto(`${rt.url}#/hospital/down/${upId}`);
    await nurse.getByRole('heading', { name: '下转至 翠苑街道社区卫生服务中心' }).waitFor();
    const department = nurse.getByLabel('接收科室');
    // The clinic's departments by name, its first until the nurse picks; not one closed to referrals (口腔科, 0 a day).
    await expect.poll(() => department.locator('option').allInnerTexts(), poll).toEqual(['全科', '康复医学科', '中医科']);
    expect(await department.inputValue()).toBe('GP');
    await department.selectOption({ label: '康复医学科' });
    await nurse.getByLabel('随访计划').fill('术后康复训练，每周两次');
    // A reload in the middle asks for the login again (tokens live in memory) and keeps what was
    // chosen and written.
    await nurse.reload();
    await nurse.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(nurse, people.nurse);
    await nurse.getByRole('heading', { name: '下转至 翠苑街道社区卫生服务中心' }).waitFor();
    await expect.poll(() => department.inputValue(), poll).toBe('REHAB');
    expect(await nurse.getByLabel('随访计划').inputValue()).toBe('术后康复训练，每周两次');
    await screen(nurse, 'hospital-down-department');

    await nurse.getByRole('button', { name: '提交下转' }).click();
    await nurse.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    await expect.poll(departmentOf(nurse), poll).toBe('康复医学科');
    const waiting = (await rt.call(await rt.as('clinic', clinicId), 'GET', '/referrals?box=incoming&status=submitted')).body.items;
    expect(waiting.map((r: { department: string; upwardReferralId: string }) => [r.department, r.upwardReferralId])).toEqual([['REHAB', upId]]);
  });
});

describe('a form for a patient, reloaded', () => {
  it('goes to another screen and back with what was typed in it; once sent, the form for the patient is empty again', async () => {
    const patient = demoPeople[15]!;
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.gp);
    await fromReception(page, patient, '发起转诊');
    await page.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    await page.getByLabel('转诊原因').fill('活动后气促一月');
    await page.getByRole('navigation').getByRole('link', { name: '处方', exact: true }).click();
    await page.getByRole('heading', { name: '本机构开具的处方' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    expect(await page.getByLabel('转诊原因').inputValue()).toBe('活动后气促一月');
    // Sent: the draft goes with it.
    await page.getByLabel('接收医院').selectOption({ label: '浙江省人民医院' });
    await page.getByLabel('科室').selectOption({ label: '心血管内科' });
    await page.getByLabel('诊断').fill('I50.9');
    await page.getByRole('button', { name: '提交转诊' }).click();
    await page.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: '接诊' }).click();
    await fromReception(page, patient, '发起转诊');
    await page.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    expect(await page.getByLabel('转诊原因').inputValue()).toBe('');
  });

  it('still names the patient the GP looked up; a refused submit goes to the first field; logging out forgets them and the drafts; a form for nobody known sends nothing', async () => {
    const { rt } = desk;
    const patient = demoPeople[5]!;
    const { page } = await newPage(desk);
    await login(page, rt.url, people.gp);
    await fromReception(page, patient, '开处方');
    await page.getByRole('heading', { name: `开处方：${patient.name}` }).waitFor();
    await page.getByLabel('诊断').fill('E11.9');
    await page.reload();
    await page.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(page, people.gp);
    // The name, not 患者 <short id>, and what was typed.
    await page.getByRole('heading', { name: `开处方：${patient.name}` }).waitFor();
    expect(await page.getByLabel('诊断').inputValue()).toBe('E11.9');
    // Submitted unfinished: the keyboard goes to the first field named, not left on the button.
    await page.getByRole('button', { name: '开具处方' }).click();
    await expect.poll(focused(page.locator('form .field.invalid').first().locator('input, select, textarea').first()), poll).toBe(true);

    // A draft still waiting in the tab (left by a reload on another form) goes at logout too.
    const stored = () => page.evaluate(() => Object.keys((globalThis as unknown as { sessionStorage: object }).sessionStorage).sort());
    await page.evaluate(() => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('console.draft.refer-x', '{"reason":"头晕"}'));
    expect(await stored()).toEqual(['console.draft.refer-x', 'console.owner', 'console.people']);
    await logOut(page);
    expect(await stored()).toEqual([]);

    // The form's address again in a new session (Back, a bookmark): whom it is for is not known at
    // this desk any more, so it says so and sends nothing until the patient is looked up.
    const personId = await personOf(patient.nationalId);
    await login(page, `${rt.url}#/clinic/prescribe/${personId}`, people.gp);
    await page.getByRole('heading', { name: `开处方：患者 ${shortId(personId)}`, exact: true }).waitFor();
    expect(await page.getByRole('alert').filter({ hasText: '未确认患者身份' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: '开具处方' }).isDisabled()).toBe(true);
  });
});

describe('a shared workstation', () => {
  it("after F5 another clinic's GP logs in to neither the draft, the patient nor the page; the GP who left them gets all back", async () => {
    const { rt } = desk;
    const patient = demoPeople[7]!;
    const { page } = await newPage(desk);
    await login(page, rt.url, people.gp);
    await fromReception(page, patient, '发起转诊');
    await page.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    await page.getByLabel('诊断').fill('F32.9');
    await page.getByLabel('转诊原因').fill('抑郁发作，需专科评估');
    await page.reload();
    await page.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(page, people.otherGp);
    await page.getByRole('button', { name: '退出登录' }).waitFor();
    // Her desk's start, not the other GP's form: nothing of that patient, not even the address.
    const personId = await personOf(patient.nationalId);
    await page.getByRole('heading', { name: '接诊' }).waitFor();
    expect(page.url()).not.toContain(personId);
    expect(await page.locator('main').innerText()).not.toContain(patient.name);
    // The form's address typed again: whom it is for is not known here, and nothing typed is shown.
    await page.goto(`${rt.url}#/clinic/refer/${personId}`);
    await page.getByRole('heading', { name: `转诊：患者 ${shortId(personId)}`, exact: true }).waitFor();
    expect(await page.getByLabel('转诊原因').inputValue()).toBe('');
    expect(await page.getByLabel('诊断').inputValue()).toBe('');
    expect(await page.getByRole('button', { name: '提交转诊' }).isDisabled()).toBe(true);

    // The same GP after a reload gets the form back as it was.
    const { page: own } = await newPage(desk);
    await login(own, rt.url, people.gp);
    await fromReception(own, patient, '发起转诊');
    await own.getByLabel('转诊原因').fill('头晕');
    await own.reload();
    await own.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(own, people.gp);
    await own.getByRole('heading', { name: `转诊：${patient.name}` }).waitFor();
    expect(await own.getByLabel('转诊原因').inputValue()).toBe('头晕');
  });

  /** A GP's 发起转诊 for the patient to the provincial hospital's cardiology, filled in, not sent. */
  async function referralFilledIn(patient: { nationalId: string }, reason: string) {
    const personId = await personOf(patient.nationalId);
    const { page } = await newPage(desk);
    await login(page, `${desk.rt.url}`, people.gp);
    await fromReception(page, patient, '发起转诊');
    await page.getByLabel('接收医院').selectOption({ label: '浙江省人民医院' });
    await page.getByLabel('科室').selectOption({ label: '心血管内科' });
    await page.getByLabel('诊断').fill('I10');
    await page.getByLabel('转诊原因').fill(reason);
    return { page, personId };
  }

  it('a double-click on 提交转诊 sends one referral', async () => {
    const { rt } = desk;
    const { page, personId } = await referralFilledIn(demoPeople[9]!, '血压控制不佳');
    await page.getByRole('button', { name: '提交转诊' }).dblclick();
    await page.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    await rt.settle();
    const mine = (await rt.call(clinic, 'GET', '/referrals?box=outgoing&limit=200')).body.items.filter((r: { personId: string; reason: string }) => r.personId === personId && r.reason === '血压控制不佳');
    expect(mine).toHaveLength(1);
  });

  it('提交转诊 whose answer was lost, pressed again, is the same referral: the patient is not referred twice', async () => {
    const { rt } = desk;
    const { page, personId } = await referralFilledIn(demoPeople[14]!, '胸痛待查，答复丢失');
    // The referral is made, and its answer lost on the way back (the network, injected).
    let made = false;
    await page.route(/\/referrals$/, async (r) => {
      if (r.request().method() !== 'POST') return r.continue();
      made = (await r.fetch()).status() === 201;
      await r.abort('connectionreset');
    }, { times: 1 });
    await page.getByRole('button', { name: '提交转诊' }).click();
    await expect.poll(textOf(page.locator('main')), poll).toContain('无法连接到服务器');
    expect(made).toBe(true);
    // Pressed again, as the screen says: answered with the referral already made.
    await page.getByRole('button', { name: '提交转诊' }).click();
    await page.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const mine = (await rt.call(clinic, 'GET', '/referrals?box=outgoing&limit=200')).body.items.filter((r: { personId: string; reason: string }) => r.personId === personId && r.reason === '胸痛待查，答复丢失');
    expect(mine).toHaveLength(1);
    expect(await page.locator('main').innerText()).toContain(shortId(mine[0].referralId));
  });
});

describe('发起转诊', () => {
  it('a department the newly chosen hospital lacks is cleared, and the field says why', async () => {
    const { rt } = desk;
    const patient = demoPeople[11]!;
    const { page } = await newPage(desk);
    await login(page, rt.url, people.gp);
    await fromReception(page, patient, '发起转诊');
    await page.getByLabel('科室').selectOption({ label: '骨科' });
    await page.getByLabel('接收医院').selectOption({ label: '杭州市西湖区人民医院' });
    const field = page.locator('.field.invalid', { has: page.getByLabel('科室') });
    await expect.poll(textOf(field), poll).toContain('杭州市西湖区人民医院没有骨科，请重新选择科室');
    expect(await page.getByLabel('科室').inputValue()).toBe('');
    // A department both have stays when the hospital changes.
    await page.getByLabel('科室').selectOption({ label: '心血管内科' });
    expect(await field.count()).toBe(0);
    await page.getByLabel('接收医院').selectOption({ label: '浙江省人民医院' });
    expect(await page.getByLabel('科室').inputValue()).toBe('CARD');
  });

  it('a hospital list that cannot be read is said, on a referral and on a question, not an empty 科室 that only asks to pick one', async () => {
    const { page } = await newPage(desk);
    // The API unavailable for the list (injected), from the start of the session.
    await unavailable(page, /\/institutions\?.*type=hospital/);
    await login(page, desk.rt.url, people.gp);
    await fromReception(page, demoPeople[12]!, '发起转诊');
    await expect.poll(textOf(page.locator('main')), poll).toContain('医院及科室列表无法读取：请求失败（503），请稍后重试');
    // The same on 咨询上级医院, which asks for a hospital and a department too.
    await page.goBack();
    await page.getByRole('link', { name: '咨询上级医院' }).click();
    await page.getByRole('heading', { name: /^咨询上级医院：/ }).waitFor();
    await expect.poll(textOf(page.locator('main')), poll).toContain('医院及科室列表无法读取：请求失败（503），请稍后重试');
  });
});
