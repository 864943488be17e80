// Advice and guidance through the screens (a GP asks, the hospital answers, the GP converts the
// answer into a referral, or withdraws a question), moves made on a stale view (two triage nurses on
// one worklist, a GP acting on a referral or a question that moved meanwhile: each is refused with
// 412, told so, shown what is there now, and nothing of theirs is written), and the operator's
// person records for complaint handling. Every new screen is photographed and checked with axe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shortId } from '../../console/src/lib/format.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { fillIssuerForm, focused, inBackground, login, lookAgain, newPage, people, screen, seriousViolations, startDesk, textOf, unavailable, type Desk } from './support.ts';

let desk: Desk;
let gp: Page;
let doctor: Page;
const patient = demoPeople[1]!;
let personId: string;
beforeAll(async () => {
  desk = await startDesk();
  personId = (await desk.rt.call(await desk.rt.as('operator'), 'POST', '/people/lookup', { nationalId: patient.nationalId })).body.personId;
});
afterAll(() => desk?.stop());

const poll = { timeout: 25_000, interval: 250 };

async function personOf(nationalId: string): Promise<string> {
  return (await desk.rt.call(await desk.rt.as('operator'), 'POST', '/people/lookup', { nationalId })).body.personId;
}

/** An advice request from the GP's clinic to the provincial hospital, made through the API. */
async function ask(nationalId: string, question: string, department: string): Promise<string> {
  const res = await desk.rt.call(await desk.rt.as('clinic', 'clinic-lingyin'), 'POST', '/advice-requests', { personId: await personOf(nationalId), toInstitutionId: 'hosp-zjph', department, question });
  expect(res.status).toBe(201);
  return res.body.adviceId;
}

/** An upward referral from the GP's clinic to the provincial hospital, made through the API. */
async function refer(nationalId: string, r: { department: string; reason: string; diagnoses: string[]; urgency: string }): Promise<string> {
  const res = await desk.rt.call(await desk.rt.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', { personId: await personOf(nationalId), direction: 'up', toInstitutionId: 'hosp-zjph', ...r });
  expect(res.status).toBe(201);
  return res.body.referralId;
}

/** One of the desk's advice requests (the clinic's asked, the hospital's to answer) opened from its list, by status tab and patient. */
async function openAdvice(page: Page, tab: string, name: string): Promise<void> {
  await page.getByRole('link', { name: '会诊咨询' }).click();
  await page.getByRole('button', { name: new RegExp(tab) }).click();
  const row = page.getByRole('row', { name: new RegExp(name) });
  await expect.poll(async () => row.count(), poll).toBe(1);
  await row.getByRole('link').click();
  await page.getByRole('heading', { name: /^咨询 [0-9A-Z]{6}$/ }).waitFor();
}

describe('advice: asked → answered → converted', () => {
  it('the GP asks cardiology at the provincial hospital about the patient', async () => {
    ({ page: gp } = await newPage(desk));
    await login(gp, desk.rt.url, people.gp);
    await gp.getByLabel('身份证号').fill(patient.nationalId);
    await gp.getByRole('button', { name: '查找患者' }).click();
    await gp.getByRole('link', { name: '咨询上级医院' }).click();
    await gp.getByRole('heading', { name: `咨询上级医院：${patient.name}` }).waitFor();
    // Back to 接诊: the patient found is still there, no second reading of the ID card.
    await gp.goBack();
    await expect.poll(textOf(gp.getByRole('region', { name: '患者' })), poll).toContain(patient.name);
    await gp.getByRole('link', { name: '咨询上级医院' }).click();
    await gp.getByRole('heading', { name: `咨询上级医院：${patient.name}` }).waitFor();
    // 骨科 picked for the platform to route, then a hospital without it: the department is cleared, and said.
    await gp.getByLabel('科室').selectOption({ label: '骨科' });
    await gp.getByLabel('咨询医院').selectOption({ label: '杭州市西湖区人民医院' });
    expect(await gp.getByLabel('科室').inputValue()).toBe('');
    expect(await textOf(gp.locator('form'))()).toContain('杭州市西湖区人民医院没有骨科，请重新选择科室');
    await gp.getByLabel('咨询医院').selectOption({ label: '浙江省人民医院' });
    await gp.getByLabel('科室').selectOption({ label: '心血管内科' });
    await gp.getByLabel('初步诊断').fill('I10');
    await gp.getByLabel('咨询问题').fill('高血压3年，联合用药后晨起血压仍在160/100左右，是否需要调整方案或上转？');
    await screen(gp, 'clinic-advice-1-ask');
    await gp.getByRole('button', { name: '发送咨询' }).click();
    await gp.getByRole('heading', { name: /^咨询 [0-9A-Z]{6}$/ }).waitFor();
    await expect.poll(textOf(gp.locator('main')), poll).toContain('待答复');
    expect(await gp.locator('main').innerText()).toContain('晨起血压');
    // Asked, not answered: the GP may only withdraw it.
    expect(await gp.getByRole('button', { name: '撤回咨询' }).isVisible()).toBe(true);
    expect(await gp.getByRole('button', { name: '转为转诊' }).count()).toBe(0);
    await screen(gp, 'clinic-advice-2-sent');
    // Its way back is to the tab it is on, 待答复 (the list's first tab, 已答复, would not show it).
    expect(await gp.getByRole('link', { name: '返回咨询列表' }).getAttribute('href')).toBe('#/clinic/advice?status=open');
    await gp.getByRole('link', { name: '返回咨询列表' }).click();
    await gp.getByRole('button', { name: /^待答复/, pressed: true }).waitFor();
    await expect.poll(() => gp.getByRole('row', { name: new RegExp(patient.name) }).count(), poll).toBe(1);
    // Asked: 接诊 no longer offers this patient's card to whoever comes next.
    await gp.getByRole('navigation').getByRole('link', { name: '接诊' }).click();
    await gp.getByLabel('身份证号').waitFor();
    expect(await gp.getByRole('region', { name: '患者' }).count()).toBe(0);
  });

  it('the hospital finds it among the open questions and answers: refer', async () => {
    ({ page: doctor } = await newPage(desk));
    await login(doctor, desk.rt.url, { ...people.nurse, staff: '周明（心内科医生）' });
    await doctor.getByRole('link', { name: '会诊咨询' }).click();
    await doctor.getByRole('heading', { name: '会诊咨询' }).waitFor();
    const row = doctor.getByRole('row', { name: new RegExp(patient.name) });
    await expect.poll(textOf(row), poll).toContain('灵隐街道社区卫生服务中心');
    await screen(doctor, 'hospital-advice-1-incoming');
    await row.getByRole('link').click();
    await doctor.getByRole('heading', { name: '答复' }).waitFor();
    // An answer without 处理建议: refused, and the keyboard taken to the choice.
    await doctor.getByLabel('答复意见').fill('建议上转心内科门诊，完善24小时动态血压及心脏超声，评估继发性高血压。');
    await doctor.getByRole('button', { name: '提交答复' }).click();
    await doctor.getByText('请选择处理建议').waitFor();
    await expect.poll(focused(doctor.getByRole('radio', { name: '建议基层管理' })), poll).toBe(true);
    await doctor.getByRole('radio', { name: '建议转诊' }).check();
    // A reload (login again: tokens live in memory) keeps the answer being written.
    await doctor.reload();
    await doctor.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(doctor, { ...people.nurse, staff: '周明（心内科医生）' });
    await doctor.getByRole('heading', { name: '答复' }).waitFor();
    expect(await doctor.getByLabel('答复意见').inputValue()).toBe('建议上转心内科门诊，完善24小时动态血压及心脏超声，评估继发性高血压。');
    expect(await doctor.getByRole('radio', { name: '建议转诊' }).isChecked()).toBe(true);
    await screen(doctor, 'hospital-advice-2-reply');
    await doctor.getByRole('button', { name: '提交答复' }).click();
    await expect.poll(textOf(doctor.getByRole('region', { name: /专家答复/ })), poll).toContain('动态血压');
    expect(await doctor.getByRole('button', { name: '提交答复' }).count()).toBe(0);
    await screen(doctor, 'hospital-advice-3-answered');
  });

  it('the GP sees the answer and converts it into a referral to the same hospital and department', async () => {
    await gp.getByRole('link', { name: '会诊咨询' }).click();
    await gp.getByRole('button', { name: /已答复/ }).click();
    const row = gp.getByRole('row', { name: new RegExp(patient.name) });
    await expect.poll(textOf(row), poll).toContain('建议转诊');
    await screen(gp, 'clinic-advice-3-list');
    await row.getByRole('link').click();
    await expect.poll(textOf(gp.getByRole('region', { name: /专家答复/ })), poll).toContain('动态血压');
    await gp.getByRole('button', { name: '转为转诊' }).click();
    expect(await gp.getByLabel('诊断（ICD-10，空格分隔）').inputValue()).toBe('I10');
    expect(await gp.getByRole('radio', { name: '加急' }).isChecked()).toBe(true);
    // Without a diagnosis it is not sent: triage needs one, as on 发起转诊.
    await gp.getByLabel('诊断（ICD-10，空格分隔）').fill('');
    await gp.getByRole('button', { name: '确认转诊' }).click();
    await expect.poll(textOf(gp.locator('.field.invalid')), poll).toContain('必填：转诊须有初步诊断');
    await gp.getByLabel('诊断（ICD-10，空格分隔）').fill('I10');
    await screen(gp, 'clinic-advice-4-convert');
    await gp.getByRole('button', { name: '确认转诊' }).click();

    // The referral's page, linked back to the request.
    await gp.getByRole('heading', { name: /^转诊 [0-9A-Z]{6}$/ }).waitFor();
    await expect.poll(textOf(gp.locator('main')), poll).toContain('来源咨询');
    expect(await gp.locator('main').innerText()).toMatch(/浙江省人民医院[\s\S]*心血管内科/);
    await screen(gp, 'clinic-advice-5-referral');
    const { rt } = desk;
    const advice = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', '/advice-requests?box=outgoing&status=converted')).body.items;
    expect(advice).toHaveLength(1);
    const referral = (await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${advice[0].referralId}`)).body;
    expect(referral).toMatchObject({ adviceId: advice[0].adviceId, personId, toInstitutionId: 'hosp-zjph', department: 'CARD', urgency: 'urgent', diagnoses: ['I10'] });
  });
});

describe('the GP withdraws a question', () => {
  it('withdraws one not answered yet: closed as withdrawn, nothing more to do', async () => {
    const { rt } = desk;
    const other = demoPeople[3]!;
    const adviceId = await ask(other.nationalId, '糖尿病足早期表现，是否需要专科评估？', 'ENDO');
    await openAdvice(gp, '待答复', other.name);
    // Asked first: dismissed, nothing is withdrawn.
    gp.once('dialog', (d) => void d.dismiss());
    await gp.getByRole('button', { name: '撤回咨询' }).click();
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body.status).toBe('open');
    gp.once('dialog', (d) => void d.accept());
    await gp.getByRole('button', { name: '撤回咨询' }).click();
    await expect.poll(textOf(gp.locator('main')), poll).toContain('已关闭（已撤回）');
    expect(await gp.getByRole('region', { name: '可执行操作' }).count()).toBe(0);
    await screen(gp, 'clinic-advice-6-withdrawn');
    const a = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    expect([a.status, a.closedReason, a.allowedActions]).toEqual(['closed', 'withdrawn', []]);
  });
});

describe('acting on a stale view: refused (412), said so, shown as it is now', () => {
  it('two hospital staff on one worklist: the second one\'s rejection of a referral the first just accepted', async () => {
    const { rt } = desk;
    const other = demoPeople[2]!;
    const referralId = await refer(other.nationalId, { department: 'RESP', reason: '慢性咳嗽两月', diagnoses: ['R05'], urgency: 'emergency' });

    // Both open the worklist: the emergency referral is on top for both.
    const pages: Page[] = [];
    for (const staff of ['陈静（分诊护士）', '周明（心内科医生）']) {
      const { page } = await newPage(desk);
      await login(page, rt.url, { ...people.nurse, staff });
      await expect.poll(textOf(page.getByRole('region', { name: /待分诊/ })), poll).toContain(other.name);
      pages.push(page);
    }
    const [first, second] = pages as [Page, Page];
    await second.getByRole('button', { name: '拒绝', exact: true }).click();
    await second.getByLabel('拒绝原因').fill('本科室床位已满');
    // The second one's list stays as it was (no poll in between) while the first one accepts.
    const foreground = await inBackground(second);
    await first.getByRole('button', { name: '接收并处理下一条' }).click();
    await expect.poll(async () => (await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${referralId}`)).body.status, poll).toBe('accepted');

    await second.getByRole('button', { name: '确认拒绝' }).click();
    const notice = second.getByRole('alert').filter({ hasText: '已被他人处理' });
    await expect.poll(textOf(notice), poll).toContain(other.name);
    expect(await notice.innerText()).toContain('您的操作未生效');
    // The list is as it is now: the referral is no longer waiting for triage.
    await expect.poll(async () => (await second.getByRole('region', { name: /待分诊/ }).count()) === 0 || !(await second.getByRole('region', { name: /待分诊/ }).innerText()).includes(other.name), poll).toBe(true);
    await foreground();
    await screen(second, 'hospital-stale-view-412');
    // Nothing of the second one's was written: accepted, never rejected.
    const r = (await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${referralId}`)).body;
    expect(r.history.map((h: { status: string }) => h.status)).toEqual(['submitted', 'accepted']);
  });

  it('the GP cancels a referral the patient has meanwhile arrived for: the notice stays though no move is left', async () => {
    const { rt } = desk;
    const other = demoPeople[5]!;
    const referralId = await refer(other.nationalId, { department: 'CARD', reason: '心悸反复发作', diagnoses: ['R00.2'], urgency: 'routine' });
    await gp.getByRole('link', { name: '转诊', exact: true }).click();
    await gp.getByRole('button', { name: /待接收/ }).click();
    await gp.getByRole('row', { name: new RegExp(other.name) }).getByRole('link').click();
    await gp.getByRole('button', { name: '撤销转诊' }).waitFor();

    const foreground = await inBackground(gp);
    const zjph = await rt.as('hospital', 'hosp-zjph');
    expect((await rt.call(zjph, 'POST', `/referrals/${referralId}/accept`, { appointmentAt: new Date(Date.now() + 2 * 86_400_000).toISOString() })).status).toBe(200);
    expect((await rt.call(zjph, 'POST', `/referrals/${referralId}/arrive`)).status).toBe(200);

    gp.once('dialog', (d) => void d.accept()); // 撤销转诊 asks first
    await gp.getByRole('button', { name: '撤销转诊' }).click();
    // Reloaded: arrived, and the clinic has no move left on it; the refusal is still said.
    await expect.poll(textOf(gp.locator('main')), poll).toContain('已到诊');
    await gp.getByText('当前状态下您无可执行的操作').waitFor();
    expect(await gp.getByRole('alert').filter({ hasText: '已被他人修改' }).isVisible()).toBe(true);
    // The button pressed is gone: the keyboard is on the refusal, not dropped to the page.
    await expect.poll(focused(gp.getByRole('alert').filter({ hasText: '已被他人修改' })), poll).toBe(true);
    expect(await gp.getByRole('button', { name: '撤销转诊' }).count()).toBe(0);
    await foreground();
    await screen(gp, 'clinic-referral-stale-412');
    const r = (await rt.call(zjph, 'GET', `/referrals/${referralId}`)).body;
    expect(r.history.map((h: { status: string }) => h.status)).toEqual(['submitted', 'accepted', 'arrived']);
  });

  it('the GP withdraws a question the hospital has just answered: refused, and the answer is there to act on', async () => {
    const { rt } = desk;
    const other = demoPeople[4]!;
    const adviceId = await ask(other.nationalId, '房颤患者抗凝方案是否需要调整？', 'CARD');
    await openAdvice(gp, '待答复', other.name);
    await gp.getByRole('button', { name: '撤回咨询' }).waitFor();

    const foreground = await inBackground(gp);
    const replied = await rt.call(await rt.as('hospital', 'hosp-zjph'), 'POST', `/advice-requests/${adviceId}/reply`, { answer: '可继续目前方案，三个月后复查肾功能。', recommendation: 'manage-locally' });
    expect(replied.status).toBe(200);

    gp.once('dialog', (d) => void d.accept());
    await gp.getByRole('button', { name: '撤回咨询' }).click();
    // Reloaded: the answer is shown, and the refusal is still said above it.
    await expect.poll(textOf(gp.getByRole('region', { name: /专家答复/ })), poll).toContain('复查肾功能');
    expect(await gp.getByRole('alert').filter({ hasText: '已被他人修改' }).innerText({ timeout: 1000 })).toContain('已为您刷新');
    // Now answered: closing it is "done with the answer", and converting is offered.
    expect(await gp.getByRole('button', { name: '关闭咨询' }).isVisible()).toBe(true);
    expect(await gp.getByRole('button', { name: '转为转诊' }).isVisible()).toBe(true);
    await foreground();
    await screen(gp, 'clinic-advice-stale-412');
    const a = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    expect(a.history.map((h: { status: string }) => h.status)).toEqual(['open', 'answered']);
  });

  it('the hospital answers a question the clinic has just withdrawn: refused, and the form gives way to what happened', async () => {
    const { rt } = desk;
    const other = demoPeople[6]!;
    const adviceId = await ask(other.nationalId, '甲状腺结节4类，是否需要穿刺？', 'ENDO');
    await openAdvice(doctor, '待答复', other.name);
    await doctor.getByRole('radio', { name: '建议转诊' }).check();
    await doctor.getByLabel('答复意见').fill('建议上转行细针穿刺。');

    const foreground = await inBackground(doctor);
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', `/advice-requests/${adviceId}/close`)).status).toBe(200);

    await doctor.getByRole('button', { name: '提交答复' }).click();
    await expect.poll(textOf(doctor.locator('main')), poll).toContain('已关闭（已撤回）');
    expect(await doctor.getByRole('alert').filter({ hasText: '已被他人修改' }).isVisible()).toBe(true);
    expect(await doctor.getByRole('button', { name: '提交答复' }).count()).toBe(0);
    // What she wrote is still there to copy, and why it was not sent.
    const unsent = doctor.getByRole('region', { name: '未送达的答复' });
    expect(await unsent.innerText()).toContain('社区已撤回该咨询');
    expect(await unsent.getByRole('textbox').inputValue()).toBe('建议上转行细针穿刺。');
    // The form went with 提交答复: the keyboard is on the refusal; 知道了 hands it to the title.
    const refusal = doctor.getByRole('alert').filter({ hasText: '已被他人修改' });
    await expect.poll(focused(refusal), poll).toBe(true);
    await foreground();
    await screen(doctor, 'hospital-advice-stale-412');
    await refusal.getByRole('button', { name: '知道了' }).click();
    await expect.poll(() => refusal.count(), poll).toBe(0);
    await expect.poll(focused(doctor.locator('main h1')), poll).toBe(true);
    const a = (await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/advice-requests/${adviceId}`)).body;
    expect([a.status, a.answer]).toEqual(['closed', undefined]);
  });

  it('the hospital answers while the API falters, or the question moves away: what she wrote is kept', async () => {
    const { rt } = desk;
    const other = demoPeople[7]!;
    const adviceId = await ask(other.nationalId, '冠脉支架术后一年，双抗是否可以停用一种？', 'CARD');
    await openAdvice(doctor, '待答复', other.name);
    await doctor.getByRole('radio', { name: '建议基层管理' }).check();
    const answer = '可停用氯吡格雷，继续阿司匹林长期服用，三个月后门诊复查。';
    await doctor.getByLabel('答复意见').fill(answer);

    // The API falters as the tab comes back to the front: the refresh fails (after its retries), the
    // question and the answer being written stay, and the screen says since when it is unrefreshed.
    const foreground = await inBackground(doctor);
    await unavailable(doctor, /\/advice-requests\/[^/?]+$/, 3);
    await foreground();
    const stale = doctor.locator('main .alert', { hasText: '暂时无法刷新' });
    await expect.poll(() => stale.count(), poll).toBe(1);
    expect(await stale.innerText()).toContain('暂时无法刷新（服务暂时不可用，503）');
    await expect.poll(() => doctor.locator('#announcer').innerText(), poll).toContain('暂时无法刷新');
    expect(await doctor.getByLabel('答复意见').inputValue()).toBe(answer);
    expect(await doctor.locator('main').innerText()).toContain('双抗');
    await screen(doctor, 'hospital-advice-refresh-failed');
    // The next refresh reads it again (she looks at another tab and back: at once, not at the next
    // poll): the note goes.
    await lookAgain(doctor);
    await expect.poll(() => stale.count(), poll).toBe(0);
    expect(await doctor.getByLabel('答复意见').inputValue()).toBe(answer);
    // Throttled (429, as API Gateway answers polls over its limit): the same, not a refusal.
    const again = await inBackground(doctor);
    await doctor.route(/\/advice-requests\/[^/?]+$/, (r) => r.fulfill({ status: 429, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429 }) }), { times: 1 });
    await again();
    await expect.poll(textOf(stale), poll).toContain('请求过于频繁');
    expect(await doctor.getByLabel('答复意见').inputValue()).toBe(answer);
    await lookAgain(doctor);
    await expect.poll(() => stale.count(), poll).toBe(0);

    // Not answered in time, the platform asks another hospital; her 提交答复 comes too late.
    const before = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    const bg = await inBackground(doctor);
    await rt.runSchedule('advice-sla-sweep', new Date(new Date(before.slaDueAt).getTime() + 60_000));
    const moved = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    expect(moved.toInstitutionId).not.toBe('hosp-zjph');
    await doctor.getByRole('button', { name: '提交答复' }).click();
    const goneAlert = doctor.getByRole('alert').filter({ hasText: '本院已无法查看该咨询' });
    await expect.poll(() => goneAlert.count(), poll).toBe(1);
    await expect.poll(focused(goneAlert), poll).toBe(true);
    const unsent = doctor.getByRole('region', { name: '未送达的答复' });
    expect(await unsent.innerText()).toContain('该咨询已不在本院');
    expect(await unsent.getByRole('textbox').inputValue()).toBe(answer);
    expect(await doctor.getByRole('button', { name: '提交答复' }).count()).toBe(0);
    await bg();
    expect(await seriousViolations(doctor)).toEqual([]);
    await screen(doctor, 'hospital-advice-gone');
    // Nothing of hers was written: the question waits, unanswered, at the other hospital.
    const now = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    expect([now.status, now.answer, now.toInstitutionId]).toEqual(['open', undefined, moved.toInstitutionId]);
  });

  it('the question moves away while her tab is in the background: coming back, what she wrote is there to copy', async () => {
    const { rt } = desk;
    const other = demoPeople[8]!;
    const adviceId = await ask(other.nationalId, '糖尿病合并CKD3期，二甲双胍是否需要减量？', 'ENDO');
    await openAdvice(doctor, '待答复', other.name);
    const answer = '建议减量至每日1000mg，每三个月复查eGFR。';
    await doctor.getByLabel('答复意见').fill(answer);
    const foreground = await inBackground(doctor);
    const { slaDueAt } = (await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'GET', `/advice-requests/${adviceId}`)).body;
    await rt.runSchedule('advice-sla-sweep', new Date(new Date(slaDueAt).getTime() + 60_000));
    // Back to the front, the page reads it again: no longer this hospital's (404), and said so.
    await foreground();
    await expect.poll(() => doctor.getByRole('alert').filter({ hasText: '本院已无法查看该咨询' }).count(), poll).toBe(1);
    expect(await doctor.getByRole('region', { name: '未送达的答复' }).getByRole('textbox').inputValue()).toBe(answer);
    expect(await doctor.getByRole('button', { name: '提交答复' }).count()).toBe(0);
  });
});

describe('operator: a person\'s records', () => {
  it('finds the person and shows their timeline and who read or changed their records', async () => {
    // A channel app issues a payment code for the patient's voucher, acting without them.
    const channel = await desk.rt.as('channel');
    const voucherId = (await desk.rt.call(channel, 'POST', '/vouchers', { nationalId: patient.nationalId, name: patient.name, channel: 'wechat' })).body.voucherId as string;
    expect((await desk.rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).status).toBe(201);
    // The hospital's own system polls the patient's referral and the question it came from, in turn, four times.
    const his = { token: await desk.rt.token('hospital', 'hosp-zjph', { subject: 'hosp-zjph:his-sync' }) };
    const converted = (await desk.rt.call(await desk.rt.as('clinic', 'clinic-lingyin'), 'GET', '/advice-requests?box=outgoing&status=converted')).body.items[0];
    const referralId = converted.referralId as string;
    for (let i = 0; i < 4; i++) {
      expect((await desk.rt.call(his, 'GET', `/referrals/${referralId}`)).status).toBe(200);
      expect((await desk.rt.call(his, 'GET', `/advice-requests/${converted.adviceId}`)).status).toBe(200);
    }
    // And pays at a pharmacy: the settlement's row says what it came to.
    const paid = await desk.rt.call(await desk.rt.as('pharmacy', 'ph-xihu-1'), 'POST', '/settlements', {
      code: (await desk.rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 2_345 }],
    }, { 'idempotency-key': `records-${voucherId}` });
    expect(paid.status).toBe(201);
    await desk.rt.settle();
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.operator);
    await page.getByRole('link', { name: '个人记录' }).click();
    await page.getByLabel('身份证号').fill(patient.nationalId);
    await page.getByRole('button', { name: '查询' }).click();
    const timeline = page.getByRole('table', { name: /就医与结算记录/ });
    await expect.poll(textOf(timeline), poll).toMatch(/会诊咨询[\s\S]*已转诊/);
    // Institutions' names load after the rows (shown as … meanwhile).
    await expect.poll(textOf(timeline), poll).toMatch(/转诊[\s\S]*待接收[\s\S]*浙江省人民医院/);
    // To the second, with the amount: two charges a few seconds apart are told apart.
    const settlementRow = timeline.getByRole('row').filter({ hasText: shortId(paid.body.settlementId) });
    await expect.poll(textOf(settlementRow), poll).toMatch(/\d{2}:\d{2}:\d{2}[\s\S]*医保结算[\s\S]*¥23\.45/);
    const access = page.getByRole('table', { name: /访问记录/ });
    await expect.poll(textOf(access), poll).toMatch(/浙江省人民医院[\s\S]*查看/);
    // Who, as the identity provider knows them: the account, and where to ask who it is.
    expect(await access.getByRole('columnheader').allInnerTexts()).toEqual(['时间', '访问者', '登录账号', '操作', '记录']);
    expect(await page.locator('main').innerText()).toContain('具体是谁，请凭账号向该机构或身份认证平台核实');
    // Each institution's name is its own query: the hospital's loaded says nothing of the clinic's.
    await expect.poll(textOf(access), poll).toMatch(/灵隐街道社区卫生服务中心[\s\S]*修改/);
    expect(await access.innerText()).toMatch(new RegExp(`渠道\\s+channel:dev\\s+修改\\s+医保电子凭证 ${shortId(voucherId)} 的付款码`));
    // The poller's four reads are one row with their count; each time is there on request.
    const polled = access.getByRole('row').filter({ hasText: 'hosp-zjph:his-sync' });
    await expect.poll(textOf(polled.first()), poll).toMatch(new RegExp(`查看\\s+共 4 次\\s+会诊咨询 ${shortId(converted.adviceId)}`));
    // Read in turn with the question, it is still one row of its own (not eight rows).
    expect(await polled.count()).toBe(2);
    expect(await polled.nth(1).innerText()).toMatch(new RegExp(`查看\\s+共 4 次\\s+转诊 ${shortId(referralId)}`));
    await polled.nth(1).getByRole('button', { name: '共 4 次' }).click();
    await expect.poll(() => access.locator('tr.sub').count(), poll).toBe(4);
    // A copy of everything is the person's to take (pid only), and the screen says where.
    expect(await page.getByRole('note').innerText()).toContain('只能由本人');
    // The operator's own reading is logged as well: it shows once refreshed (within seconds).
    await expect.poll(async () => {
      await page.getByRole('button', { name: '刷新访问记录' }).click();
      return access.innerText();
    }, poll).toMatch(/平台运营\s+platform:ops-zhao\s+查看(\s+共 \d+ 次)?\s+就医与结算记录/);
    await screen(page, 'operator-5-person-records');

    // 刷新访问记录 keeps the keyboard while it reads (a disabled button would drop it to the page).
    const refresh = page.getByRole('button', { name: '刷新访问记录' });
    // A press: once the button is no longer busy (a click meanwhile is ignored), then its read, and
    // until it is done (or gone with the last page).
    const idle = async (button: typeof refresh) => expect.poll(async () => (await button.count()) === 0 || (await button.getAttribute('aria-disabled')) !== 'true', poll).toBe(true);
    const press = async (button: typeof refresh) => {
      await idle(button);
      const read = page.waitForResponse((r) => r.url().includes('/access-log'));
      await button.click();
      await read;
      await idle(button);
    };
    await press(refresh);
    expect(await focused(refresh)()).toBe(true);

    // Three pages of reads: 加载更多访问记录 keeps the keyboard while more is left, then goes with the
    // last page, the keyboard to the list's heading.
    const personId = await personOf(patient.nationalId);
    const operator = await desk.rt.as('operator');
    for (let i = 0; i < 110; i++) expect((await desk.rt.call(operator, 'GET', `/people/${personId}/timeline?limit=1`)).status).toBe(200);
    await desk.rt.settle();
    const more = page.getByRole('button', { name: '加载更多访问记录' });
    await expect.poll(async () => {
      await press(refresh);
      return more.count();
    }, poll).toBe(1);
    await press(more);
    expect(await more.count()).toBe(1);
    expect(await focused(more)()).toBe(true);
    // A page that fails (the API unavailable, injected, through the retries): the rows read stay,
    // what failed is said, and 加载更多 is there to try again.
    const rows = page.getByRole('table', { name: /访问记录/ }).locator('tbody tr');
    const before = await rows.count();
    await unavailable(page, /\/access-log\?.*nextToken=/, 3);
    await more.click();
    const failed = page.getByRole('alert').filter({ hasText: '更多记录未能读取（请求失败（503），请稍后重试），以下为已读取的记录' });
    await expect.poll(() => failed.count(), poll).toBe(1);
    expect(await rows.count()).toBe(before);
    expect(await more.count()).toBe(1);
    for (let n = 0; n < 5 && (await more.count()); n++) await press(more);
    expect(await failed.count()).toBe(0);
    expect(await more.count()).toBe(0);
    await expect.poll(focused(page.getByRole('heading', { name: '访问记录' })), poll).toBe(true);
    await expect.poll(() => page.locator('#announcer').innerText(), poll).toBe('已加载全部记录');
  });
});
