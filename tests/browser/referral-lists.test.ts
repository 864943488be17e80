// The referral lists say what the desk needs next and keep their place. The GP is told on 接诊 when
// a hospital refused (or let lapse) one of the clinic's referrals, with the reason in the list and
// the appointment time on 已接收; the tab is in the address, so F5 keeps it. The nurse comes back
// from a referral to the tab and filters she left, and a referral no longer hers says so rather
// than a bare 未找到.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateTime, shortId } from '../../console/src/lib/format.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { fillIssuerForm, focused, login, newPage, people, screen, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 25_000, interval: 250 };

async function refer(i: number, reason: string, department = 'CARD'): Promise<string> {
  const { rt } = desk;
  const personId = (await rt.call(await rt.as('operator'), 'POST', '/people/lookup', { nationalId: demoPeople[i]!.nationalId })).body.personId;
  const res = await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', {
    personId, direction: 'up', toInstitutionId: 'hosp-zjph', department, reason, diagnoses: ['I10'], urgency: 'routine',
  });
  expect(res.status).toBe(201);
  return res.body.referralId;
}

describe("the clinic's 转出", () => {
  it('a refused referral is announced on 接诊 with its reason; an accepted one shows when to go; the tab survives F5', async () => {
    const { rt } = desk;
    const zjph = await rt.as('hospital', 'hosp-zjph');
    const refused = await refer(12, '胸痛待查');
    expect((await rt.call(zjph, 'POST', `/referrals/${refused}/reject`, { reason: '请先完善心电图检查后再转' })).status).toBe(200);
    const taken = await refer(13, '血压控制不佳');
    const appointmentAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect((await rt.call(zjph, 'POST', `/referrals/${taken}/accept`, { appointmentAt })).status).toBe(200);

    const { page: gp } = await newPage(desk);
    await login(gp, rt.url, people.gp);
    const notice = gp.getByRole('alert').filter({ hasText: '本机构转出的转诊' });
    await expect.poll(textOf(notice), poll).toContain('1 条被拒绝，患者仍在等待：请改派或撤销');
    await screen(gp, 'clinic-referral-refused-notice');
    await notice.getByRole('link', { name: '查看' }).click();
    await gp.getByRole('button', { name: /^已拒绝/, pressed: true }).waitFor();
    const row = gp.getByRole('row', { name: new RegExp(shortId(refused)) });
    await expect.poll(textOf(row), poll).toContain('请先完善心电图检查后再转');
    expect(await gp.getByRole('columnheader', { name: '拒绝原因' }).count()).toBe(1);

    // F5: logged in again, the same tab.
    await gp.reload();
    await gp.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(gp, people.gp);
    await gp.getByRole('button', { name: /^已拒绝/, pressed: true }).waitFor();

    await gp.getByRole('button', { name: /^已接收/ }).click();
    expect(gp.url()).toContain('?status=accepted');
    // The tab is pressed at once; its table (and this header) once its list has loaded.
    await expect.poll(() => gp.getByRole('columnheader', { name: '预约时间' }).count(), poll).toBe(1);
    await expect.poll(textOf(gp.getByRole('row', { name: new RegExp(shortId(taken)) })), poll).toContain(dateTime(appointmentAt));

    // Rerouted elsewhere: no longer refused, and 接诊 stops saying so.
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', `/referrals/${refused}/reroute`, { toInstitutionId: 'hosp-xihu' })).status).toBe(200);
    await gp.getByRole('link', { name: '接诊' }).click();
    await gp.getByLabel('身份证号').waitFor();
    await expect.poll(() => notice.count(), poll).toBe(0);
  });

  it('改派 offers only the hospitals with the referral\'s department, and says so when there are none', async () => {
    const { rt } = desk;
    const zjph = await rt.as('hospital', 'hosp-zjph');
    const cardiac = await refer(17, '胸闷气短');
    const bones = await refer(18, '膝关节疼痛', 'ORTH');
    for (const id of [cardiac, bones]) expect((await rt.call(zjph, 'POST', `/referrals/${id}/reject`, { reason: '本周号源已满' })).status).toBe(200);

    const { page: gp } = await newPage(desk);
    await login(gp, rt.url, people.gp);
    const openReroute = async (referralId: string) => {
      await gp.goto(`${rt.url}#/clinic/referrals/${referralId}`);
      await gp.getByRole('button', { name: '改派' }).click();
      return gp.locator('form.subform');
    };
    // 西湖区人民医院 has 心血管内科: offered (once the hospitals have loaded).
    const cardiacForm = await openReroute(cardiac);
    await expect.poll(() => cardiacForm.getByLabel('改派至').locator('option').allTextContents(), poll).toEqual(['平台自动分配', '杭州市西湖区人民医院']);
    expect(await textOf(cardiacForm)()).toContain('只列出设有心血管内科的定点医院');
    // It has no 骨科: the GP is told none can take it, and offered no 改派 to be refused.
    const bonesForm = await openReroute(bones);
    await expect.poll(textOf(bonesForm), poll).toContain('没有其他设有骨科的定点医院可改派，可撤销本转诊。');
    expect(await bonesForm.getByLabel('改派至').count()).toBe(0);
    expect(await bonesForm.getByRole('button', { name: '确认改派' }).count()).toBe(0);
  });
});

describe("the hospital's worklist", () => {
  it('comes back with its tab and filters; a referral no longer the hospital\'s says so, with the way back', async () => {
    const { rt } = desk;
    const zjph = await rt.as('hospital', 'hosp-zjph');
    const seen = await refer(14, '骨质疏松随访', 'ORTH');
    expect((await rt.call(zjph, 'POST', `/referrals/${seen}/accept`, { appointmentAt: new Date(Date.now() + 86_400_000).toISOString() })).status).toBe(200);

    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    await nurse.getByRole('button', { name: /^已接收/ }).click();
    await nurse.getByLabel('科室').selectOption({ label: '骨科' });
    const row = nurse.getByRole('row', { name: new RegExp(demoPeople[14]!.name) });
    await row.getByRole('link').click();
    await nurse.getByRole('heading', { name: `转诊 ${shortId(seen)}` }).waitFor();
    // The keyboard starts at the new screen's title once the referral has loaded, not on the page.
    await expect.poll(focused(nurse.getByRole('heading', { name: `转诊 ${shortId(seen)}` })), poll).toBe(true);
    await nurse.getByRole('link', { name: '返回工作台' }).click();
    await nurse.getByRole('button', { name: /^已接收/, pressed: true }).waitFor();
    expect(await nurse.getByLabel('科室').inputValue()).toBe('ORTH');
    await expect.poll(() => row.count(), poll).toBe(1);
    // Back from the detail page, and F5, keep them too.
    await row.getByRole('link').click();
    await nurse.getByRole('heading', { name: `转诊 ${shortId(seen)}` }).waitFor();
    await nurse.goBack();
    await nurse.getByRole('button', { name: /^已接收/, pressed: true }).waitFor();
    await nurse.reload();
    await nurse.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(nurse, people.nurse);
    await nurse.getByRole('button', { name: /^已接收/, pressed: true }).waitFor();
    // Once the hospital's departments have loaded (the select has no option for it before).
    await expect.poll(() => nurse.getByLabel('科室').inputValue(), poll).toBe('ORTH');

    // Rejected here, then sent elsewhere by the clinic: this hospital may no longer read it.
    const moved = await refer(15, '心悸');
    expect((await rt.call(zjph, 'POST', `/referrals/${moved}/reject`, { reason: '本院心内科本周已满' })).status).toBe(200);
    expect((await rt.call(await rt.as('clinic', 'clinic-lingyin'), 'POST', `/referrals/${moved}/reroute`, { toInstitutionId: 'hosp-xihu' })).status).toBe(200);
    await nurse.goto(`${rt.url}#/hospital/referrals/${moved}`);
    await expect.poll(textOf(nurse.locator('main')), poll).toContain('本院已无法查看该转诊：它可能已被社区改派至其他医院或撤销。');
    await nurse.getByRole('link', { name: '返回工作台' }).click();
    await nurse.getByRole('heading', { name: '转入工作台' }).waitFor();
  });

  it('a rejection reason half typed comes back after F5, in the panel and on the detail page', async () => {
    const { rt } = desk;
    const waiting = await refer(16, '反复头晕');
    const { page: nurse } = await newPage(desk);
    await login(nurse, rt.url, people.nurse);
    const panel = nurse.getByRole('region', { name: /待分诊/ });
    await expect.poll(textOf(panel), poll).toContain(demoPeople[16]!.name);
    await panel.getByRole('button', { name: '拒绝' }).click();
    await panel.getByLabel('拒绝原因').fill('本院神经内科');
    await nurse.reload();
    await nurse.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(nurse, people.nurse);
    await expect.poll(() => panel.getByLabel('拒绝原因').inputValue(), poll).toBe('本院神经内科');

    await nurse.goto(`${rt.url}#/hospital/referrals/${waiting}`);
    await nurse.getByRole('heading', { name: `转诊 ${shortId(waiting)}` }).waitFor();
    await nurse.getByRole('region', { name: '可执行操作' }).getByRole('button', { name: '拒绝' }).click();
    await nurse.getByLabel('拒绝原因').fill('请转神经内科');
    await nurse.reload();
    await nurse.getByRole('button', { name: '登录' }).click();
    await fillIssuerForm(nurse, people.nurse);
    await expect.poll(() => nurse.getByLabel('拒绝原因').inputValue(), poll).toBe('请转神经内科');
    expect((await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${waiting}`)).body.status).toBe('submitted');
  });

  it("下转记录 and 会诊咨询 keep their tab on Back, and a nav link shows its list as the link says (no tab: the first)", async () => {
    const { page: nurse } = await newPage(desk);
    await login(nurse, desk.rt.url, people.nurse);
    const pressed = (name: RegExp) => nurse.getByRole('button', { name, pressed: true });
    const nav = (name: string) => nurse.getByRole('navigation').getByRole('link', { name });
    // Right after login the worklist's address is the bare page: its nav link is still the same screen.
    await nurse.getByRole('button', { name: /^已完成/ }).click();
    await nav('转入工作台').click();
    await pressed(/^待接收/).waitFor();
    for (const [list, tab, first] of [['下转记录', /^已接收/, /^待接收/], ['会诊咨询', /^已转诊/, /^待答复/]] as const) {
      await nav(list).click();
      await nurse.getByRole('heading', { name: list, level: 1 }).waitFor();
      await nurse.getByRole('button', { name: tab }).click();
      await expect.poll(() => nurse.url(), poll).toContain('?status=');
      // Another screen, then Back: the tab left.
      await nav('转入工作台').click();
      await nurse.getByRole('heading', { name: '转入工作台' }).waitFor();
      await nurse.goBack();
      await pressed(tab).waitFor();
      // The nav's link (no tab in it): the first tab, as the address says.
      await nav(list).click();
      await pressed(first).waitFor();
      expect(nurse.url()).not.toContain('status=');
    }
    // So on the worklist: a tab and a filter, then its nav link.
    await nav('转入工作台').click();
    await nurse.getByRole('button', { name: /^已完成/ }).click();
    await nurse.getByLabel('科室').selectOption({ label: '骨科' });
    await nav('转入工作台').click();
    await pressed(/^待接收/).waitFor();
    await expect.poll(() => nurse.getByLabel('科室').inputValue(), poll).toBe('');
  });
});
