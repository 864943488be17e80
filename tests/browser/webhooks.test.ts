// 系统对接 (webhooks) as a pharmacy's IT staff use it: a URL into a private network refused on its
// field; only the events that can reach a pharmacy (or a clinic) offered; a subscription added with
// its events chosen, its signing secret shown once and then never again; a real receiver (verifying
// with the standardwebhooks library) gets the prescription routed to the pharmacy; the deliveries
// list shows one delivered and one that failed after its retries; a subscription deleted; another
// pharmacy sees none of it. Two secrets not yet saved both stay, each naming its subscription; one
// deleted elsewhere meanwhile is said so when changed or deleted here, and leaves the list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { shortId } from '../../console/src/lib/format.ts';
import { focused, login, newPage, people, screen, seriousViolations, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
const receivers: Receiver[] = [];
beforeAll(async () => {
  // Retries a second apart, so a failing receiver is given up on within seconds.
  desk = await startDesk({ configure: (p) => ({ ...p, webhooks: { ...p.webhooks, retryDelaysSeconds: [1, 1], timeoutSeconds: 2 } }) });
});
afterAll(async () => {
  await desk?.stop();
  for (const r of receivers) await r.close();
});

const poll = { timeout: 20_000, interval: 250 };

describe('系统对接', () => {
  it('adds subscriptions with a secret shown once, shows their deliveries, and deletes one', async () => {
    const { rt } = desk;
    const good = await startReceiver();
    const failing = await startReceiver('/down');
    failing.answer = () => 500;
    receivers.push(good, failing);

    const { page } = await newPage(desk);
    await login(page, rt.url, people.pharmacist);
    await page.getByRole('link', { name: '系统对接' }).click();
    await page.getByText('尚未订阅任何事件推送').waitFor();
    await screen(page, 'webhooks-1-empty');
    // Every event is offered by its Chinese name, none by its code name.
    const offered = await page.locator('fieldset label').allInnerTexts();
    expect(offered).toEqual(expect.arrayContaining(['处方药品已备好', '追溯码重复销售']));
    expect(offered.filter((l) => /[A-Za-z]/.test(l))).toEqual([]);
    // Only what can reach a pharmacy: it is never a referral's party, and never issues a prescription.
    expect(await page.locator('fieldset legend').allInnerTexts()).toEqual(['处方', '药店库存', '医保结算']);
    expect(offered).not.toContain('处方已开具');

    // A URL into the private network: refused by the API, on its field; nothing added.
    await page.getByLabel('接收地址').fill('https://10.0.0.8/hooks');
    await page.getByLabel('处方已流转').check();
    await page.getByRole('button', { name: '添加订阅' }).click();
    await expect.poll(textOf(page.locator('.field.invalid')), poll).toContain('不得指向内网');
    await screen(page, 'webhooks-2-refused-url');

    await page.getByLabel('接收地址').fill(good.url);
    await page.getByLabel('医保结算完成').check();
    await page.getByRole('button', { name: '添加订阅' }).click();
    const secretPanel = page.getByRole('status', { name: '签名密钥' });
    await secretPanel.waitFor();
    // The keyboard is on what must be saved now (it was left on <body>): moved by an effect after
    // the panel is painted, so looked for until it has.
    await expect.poll(focused(secretPanel), poll).toBe(true);
    good.secret = (await secretPanel.locator('code').innerText()).trim();
    expect(good.secret).toMatch(/^whsec_/);
    // 复制密钥 copies it, and says so.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await secretPanel.getByRole('button', { name: '复制密钥' }).click();
    await expect.poll(textOf(secretPanel), poll).toContain('已复制');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(good.secret);
    await screen(page, 'webhooks-3-secret-once');
    await page.getByRole('button', { name: '我已保存' }).click();

    await page.getByLabel('接收地址').fill(failing.url);
    await page.getByLabel('处方已流转').check();
    await page.getByRole('button', { name: '添加订阅' }).click();
    failing.secret = (await secretPanel.locator('code').innerText()).trim();
    // Where the browser gives no clipboard, the secret is selected for Ctrl+C, and that is said.
    expect(await secretPanel.innerText()).not.toContain('已复制');
    await page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true })");
    await secretPanel.getByRole('button', { name: '复制密钥' }).click();
    await expect.poll(textOf(secretPanel), poll).toContain('已选中，请按 Ctrl+C 复制');
    expect(await page.evaluate('getSelection().toString()')).toBe(failing.secret);
    await page.getByRole('button', { name: '我已保存' }).click();
    await expect(page.getByRole('status', { name: '签名密钥' }).count()).resolves.toBe(0);
    const rows = page.locator('main table tbody tr');
    await expect.poll(() => rows.count(), poll).toBe(2);
    expect(await page.locator('main').innerText()).toContain('处方已流转、医保结算完成');

    // A prescription routed to this pharmacy: pushed to both receivers, verified by the library.
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const personId = (await rt.call(clinic, 'POST', '/people/lookup', { nationalId: demoPeople[9]!.nationalId })).body.personId;
    const rx = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(rx.status).toBe(201);
    // And a sale at the counter: the settlement to the good receiver only.
    const channel = await rt.as('channel');
    const voucherId = (await rt.call(channel, 'POST', '/vouchers', { nationalId: demoPeople[9]!.nationalId, name: demoPeople[9]!.name, channel: 'wechat' })).body.voucherId;
    const code = (await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code;
    const pharmacy = await rt.as('pharmacy', 'ph-xihu-1');
    const stl = await rt.call(pharmacy, 'POST', '/settlements', { code, items: [{ drugCode: 'XC10AAA005', quantity: 1, unitPriceFen: 2600 }] }, { 'idempotency-key': `webhooks-browser-${Date.now()}` });
    expect(stl.status).toBe(201);
    await rt.settle();
    expect(good.received.map((d) => [d.type, d.data.prescriptionId ?? d.data.settlementId]).sort()).toEqual([['PrescriptionRouted', rx.body.prescriptionId], ['SettlementCompleted', stl.body.settlementId]]);
    expect(failing.received.map((d) => d.answered)).toEqual([500, 500, 500]);
    expect([...good.refused, ...failing.refused]).toEqual([]);

    await rows.filter({ hasText: good.url }).getByRole('button', { name: '推送记录' }).click();
    const history = page.locator('.panel', { has: page.getByRole('heading', { name: /推送记录/ }) });
    await expect.poll(textOf(history), poll).toContain('已送达');
    expect(await history.innerText()).toContain('处方已流转');
    expect(await history.innerText()).toContain('HTTP 204');
    expect(await history.innerText()).toContain(good.received[0]!.id);
    // Each row says what it was about; a settlement opens its receipt.
    expect(await history.innerText()).toContain(`处方 ${shortId(rx.body.prescriptionId)}`);
    const settled = history.getByRole('link', { name: `结算 ${shortId(stl.body.settlementId)}` });
    await rows.filter({ hasText: failing.url }).getByRole('button', { name: '推送记录' }).click();
    await expect.poll(textOf(history), poll).toContain('已失败');
    expect(await history.innerText()).toContain('HTTP 500');
    await screen(page, 'webhooks-4-deliveries');
    await rows.filter({ hasText: good.url }).getByRole('button', { name: '推送记录' }).click();
    await settled.click();
    await page.getByRole('heading', { name: '结算小票', level: 1 }).waitFor();
    expect(page.url()).toContain(`#/pharmacy/settlements/${encodeURIComponent(stl.body.settlementId)}`);
    // The title shows while the receipt loads; its figures come after.
    await expect.poll(textOf(page.locator('main')), poll).toContain('¥26.00');
    await page.goBack();
    await page.getByRole('heading', { name: /系统对接/ }).waitFor();

    // The secret is never shown again: not after a reload, not in the list.
    await page.reload();
    await login(page, rt.url, people.pharmacist);
    await page.getByRole('link', { name: '系统对接' }).click();
    await expect.poll(() => rows.count(), poll).toBe(2);
    expect(await page.locator('main').innerText()).not.toContain('whsec_');

    // A lost or leaked secret is changed, not the subscription: asked first (dismissed: nothing);
    // the new one shown once, with the day both sign.
    const goodRow = rows.filter({ hasText: good.url });
    page.once('dialog', (d) => void d.dismiss());
    await goodRow.getByRole('button', { name: '更换密钥' }).click();
    expect(await secretPanel.count()).toBe(0);
    const listed = async () => (await rt.call(await rt.as('pharmacy', 'ph-xihu-1'), 'GET', '/webhooks')).body.items.find((w: { url: string }) => w.url === good.url);
    expect(await listed()).not.toHaveProperty('previousSecretExpiresAt');
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await goodRow.getByRole('button', { name: '更换密钥' }).click();
    await expect.poll(focused(secretPanel), poll).toBe(true);
    expect(asked).toContain('此后 24 小时内每条推送同时带新、旧两个签名');
    const changed = (await secretPanel.locator('code').innerText()).trim();
    expect(changed).toMatch(/^whsec_/);
    expect(changed).not.toBe(good.secret);
    expect(await secretPanel.innerText()).toContain('新的签名密钥（仅显示这一次）');
    expect(await secretPanel.innerText()).toContain('前，每条推送同时带新、旧两个密钥的签名');
    await screen(page, 'webhooks-5-secret-changed');
    await page.getByRole('button', { name: '我已保存' }).click();
    await expect.poll(textOf(goodRow), poll).toContain('已更换密钥，旧密钥签名至');
    expect(await listed()).toHaveProperty('previousSecretExpiresAt');
    // The receiver switched to it verifies the next delivery.
    good.secret = changed;
    const next = (await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code;
    const again = await rt.call(pharmacy, 'POST', '/settlements', { code: next, items: [{ drugCode: 'XC10AAA005', quantity: 1, unitPriceFen: 2600 }] }, { 'idempotency-key': `webhooks-browser-again-${Date.now()}` });
    expect(again.status).toBe(201);
    await rt.settle();
    expect(good.received.filter((d) => d.data.settlementId === again.body.settlementId)).toHaveLength(1);
    expect(good.refused).toEqual([]);

    // A clinic's desk is offered its referrals, questions and prescriptions, not settlements or stock.
    const { page: clinicPage } = await newPage(desk);
    await login(clinicPage, rt.url, people.gp);
    await clinicPage.getByRole('link', { name: '系统对接' }).click();
    await clinicPage.getByText('尚未订阅任何事件推送').waitFor();
    expect(await clinicPage.locator('fieldset legend').allInnerTexts()).toEqual(['转诊', '会诊咨询', '处方']);
    expect(await clinicPage.locator('main p.muted').first().innerText()).toContain('转诊、会诊咨询、处方事件');
    // A hospital's HIS may learn of a clinic's question as of a referral.
    const { page: hospitalPage } = await newPage(desk);
    await login(hospitalPage, rt.url, people.nurse);
    await hospitalPage.getByRole('link', { name: '系统对接' }).click();
    await hospitalPage.getByText('尚未订阅任何事件推送').waitFor();
    const questions = hospitalPage.getByRole('group', { name: '会诊咨询' });
    expect(await questions.locator('label').allInnerTexts()).toEqual(['会诊咨询已提交', '会诊咨询已答复', '会诊咨询超时', '会诊咨询已改派', '会诊咨询已转为转诊', '会诊咨询已关闭']);

    // Another pharmacy sees none of them.
    const { page: other } = await newPage(desk);
    await login(other, rt.url, people.otherPharmacist);
    await other.getByRole('link', { name: '系统对接' }).click();
    await other.getByText('尚未订阅任何事件推送').waitFor();

    // Delete the failing one, confirming the dialog.
    page.once('dialog', (d) => void d.accept());
    await rows.filter({ hasText: failing.url }).getByRole('button', { name: '删除' }).click();
    await expect.poll(() => rows.count(), poll).toBe(1);
    const mine = await rt.as('pharmacy', 'ph-xihu-1');
    expect((await rt.call(mine, 'GET', '/webhooks')).body.items.map((w: { url: string }) => w.url)).toEqual([good.url]);
    await screen(page, 'webhooks-5-after-delete');
  });

  it('keeps each unsaved secret, naming its subscription; one deleted elsewhere meanwhile is said so and leaves the list', async () => {
    const { rt } = desk;
    const his = await startReceiver('/pos');
    const backup = await startReceiver('/pos-backup');
    receivers.push(his, backup);
    const { page } = await newPage(desk);
    await login(page, rt.url, people.otherPharmacist);
    await page.getByRole('link', { name: '系统对接' }).click();
    await page.getByText('尚未订阅任何事件推送').waitFor();
    for (const r of [his, backup]) {
      await page.getByLabel('接收地址').fill(r.url);
      await page.getByLabel('处方已流转').check();
      await page.getByRole('button', { name: '添加订阅' }).click();
      await page.getByRole('status', { name: `签名密钥：${r.url}` }).waitFor();
    }
    // The second did not take the first, not yet saved, off the screen; the keyboard is on the newest.
    const first = page.getByRole('status', { name: `签名密钥：${his.url}` });
    const second = page.getByRole('status', { name: `签名密钥：${backup.url}` });
    expect(await page.getByRole('status', { name: /^签名密钥：/ }).count()).toBe(2);
    await expect.poll(focused(second), poll).toBe(true);
    expect(await first.innerText()).toContain(`订阅 ${his.url}`);
    expect(await first.locator('code').innerText()).not.toBe(await second.locator('code').innerText());
    await screen(page, 'webhooks-two-secrets');
    await second.getByRole('button', { name: '我已保存' }).click();
    expect(await first.isVisible()).toBe(true);
    expect(await second.count()).toBe(0);

    // Deleted through the API meanwhile (another tab, a colleague), one and then the other.
    const mine = await rt.as('pharmacy', 'ph-xihu-2');
    const idOf = async (url: string) => (await rt.call(mine, 'GET', '/webhooks')).body.items.find((w: { url: string }) => w.url === url).webhookId as string;
    const deleteElsewhere = async (url: string) => expect((await rt.call(mine, 'DELETE', `/webhooks/${await idOf(url)}`)).status).toBe(204);
    await deleteElsewhere(his.url);
    // Each row's buttons name its subscription for a screen reader.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `更换密钥 ${his.url}`, exact: true }).click();
    const gone = page.getByRole('alert').filter({ hasText: '该订阅已不存在（可能已由他人删除）' });
    await expect.poll(textOf(gone), poll).toContain(his.url);
    // The keyboard is on it: the row pressed on goes with the list read again.
    await expect.poll(focused(gone), poll).toBe(true);
    // Its secret is of no use now: taken away with it; the list read again without it.
    expect(await first.count()).toBe(0);
    const rows = page.locator('main table tbody tr');
    await expect.poll(() => rows.filter({ hasText: his.url }).count(), poll).toBe(0);
    await deleteElsewhere(backup.url);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `删除 ${backup.url}`, exact: true }).click();
    await expect.poll(textOf(gone), poll).toContain(backup.url);
    expect(await gone.count()).toBe(1);
    await page.getByText('尚未订阅任何事件推送').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
