// Patient notifications over the real pipeline: API → outbox → stream → relay → local bus →
// notifier → notifications outbox → the runtime's SMS printer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { calendarDay } from '../../functions/shared/clock.ts';
import { startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { outboxEvents } from '../support/table.ts';

let rt: TestRuntime;
let lingyin: Caller;
let zjph: Caller;
let xihu: Caller;
const printed: string[] = [];
let people: Array<{ personId: string; phone?: string }>;

beforeAll(async () => {
  rt = await startTestRuntime({ log: (line) => printed.push(line) });
  [lingyin, zjph, xihu] = await Promise.all([rt.as('clinic', 'clinic-lingyin'), rt.as('hospital', 'hosp-zjph'), rt.as('hospital', 'hosp-xihu')]);
  const input = Array.from({ length: 6 }, (_, i) => ({
    nationalId: demoNationalId('330102', '19650315', 700 + i),
    name: `通知测试${i}`,
    ...(i === 5 ? {} : { phone: `1391234567${i}` }),
    district: '上城区',
    personalAccountFen: 0,
  }));
  const res = await rt.call(await rt.as('operator'), 'POST', '/enrollments', { people: input });
  people = res.body.personIds.map((personId: string, i: number) => ({ personId, phone: input[i]!.phone }));
});
afterAll(() => rt?.stop());

const upBody = (personId: string, extra: Record<string, unknown> = {}) => ({
  personId, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'urgent', ...extra,
});

async function notificationsOf(personId: string) {
  await rt.settle();
  const res = await rt.db.send(
    new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `NOTIFICATION#${personId}` }, ConsistentRead: true }),
  );
  return res.Items ?? [];
}

/** The one outbox event of this type about the referral (every page of the outbox). */
async function outboxEvent(referralId: string, detailType: string) {
  const found = await outboxEvents(rt, { referralId }, detailType);
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function waitForPrinted(fragment: string, count: number) {
  for (let i = 0; i < 100 && printed.filter((l) => l.includes(fragment)).length < count; i++) await new Promise((r) => setTimeout(r, 100));
  return printed.filter((l) => l.includes(fragment));
}

describe('notifications', () => {
  it('each patient-facing event becomes one Chinese SMS record with the masked phone, printed by the runtime', async () => {
    const { personId } = people[0]!;
    const created = await rt.call(lingyin, 'POST', '/referrals', upBody(personId));
    expect(created.status).toBe(201);
    const id = created.body.referralId;
    const day = calendarDay(new Date(Date.now() + 2 * 86_400_000), 'Asia/Shanghai');
    const accepted = await rt.call(zjph, 'POST', `/referrals/${id}/accept`, { appointmentAt: `${day}T14:30:00+08:00` });
    expect(accepted.status).toBe(200);
    await rt.call(zjph, 'POST', `/referrals/${id}/arrive`); // not patient-facing: no message

    const records = await notificationsOf(personId);
    expect(records.map((r) => r.detailType)).toEqual(['ReferralSubmitted', 'ReferralAccepted']);
    for (const r of records) expect(r).toMatchObject({ channel: 'sms', phoneMasked: '139****5670', personId, status: 'pending' });
    expect(records[0]!.text).toBe('【医联体】您好，灵隐街道社区卫生服务中心已为您申请转诊至浙江省人民医院心血管内科，待医院确认后将短信通知您就诊时间。');
    const [y, m, d] = day.split('-').map(Number);
    expect(records[1]!.text).toBe(`【医联体】浙江省人民医院心血管内科已接收您的转诊，就诊时间：${y}年${m}月${d}日 14:30。请携带身份证件按时就诊。`);
    // No full phone number and no name anywhere in the records.
    const raw = JSON.stringify(records);
    expect(raw).not.toContain('13912345670');
    expect(raw).not.toContain('通知测试');

    // The notifier handles events as they come (EventBridge does not order them): order-free.
    const lines = await waitForPrinted('139****5670', 2);
    expect([...lines].sort()).toEqual([`sms to 139****5670: ${records[0]!.text}`, `sms to 139****5670: ${records[1]!.text}`].sort());
  });

  it('rejection and cancellation are told; an expiry that was re-routed in the same sweep is told once, as the re-route', async () => {
    const { personId } = people[1]!;
    const r = (await rt.call(lingyin, 'POST', '/referrals', upBody(personId, { toInstitutionId: 'hosp-xihu' }))).body;
    await rt.call(xihu, 'POST', `/referrals/${r.referralId}/reject`, { reason: '无床位' });
    await rt.call(lingyin, 'POST', `/referrals/${r.referralId}/reroute`, {});
    await rt.call(lingyin, 'POST', `/referrals/${r.referralId}/cancel`);
    const texts = (await notificationsOf(personId)).map((n) => [n.detailType, n.text]);
    expect(texts).toEqual([
      ['ReferralSubmitted', expect.stringContaining('杭州市西湖区人民医院心血管内科')],
      ['ReferralRejected', '【医联体】杭州市西湖区人民医院暂时无法接收您的转诊，灵隐街道社区卫生服务中心将为您另行安排，请留意后续短信。'],
      ['ReferralRerouted', expect.stringContaining('已改派至浙江省人民医院心血管内科')],
      ['ReferralCancelled', '【医联体】您在浙江省人民医院心血管内科的转诊已取消，如有疑问请联系灵隐街道社区卫生服务中心。'],
    ]);
    // The rejection reason is not sent to the patient.
    expect(JSON.stringify(texts)).not.toContain('无床位');

    const { personId: expiring } = people[2]!;
    const e = (await rt.call(lingyin, 'POST', '/referrals', upBody(expiring))).body;
    await rt.runSchedule('referral-sla-sweep', new Date(Date.now() + (rt.province.referralSlaHours.routine + 1) * 3_600_000));
    const told = await notificationsOf(expiring);
    expect(told.map((n) => n.detailType)).toEqual(['ReferralSubmitted', 'ReferralRerouted']);
    expect(told[1]!.text).toContain('杭州市西湖区人民医院');
    expect((await rt.call(lingyin, 'GET', `/referrals/${e.referralId}`)).body.status).toBe('submitted');
  });

  it('the same event delivered twice, directly or through the bus, is recorded once', async () => {
    const { personId } = people[3]!;
    const r = (await rt.call(lingyin, 'POST', '/referrals', upBody(personId))).body;
    await rt.call(zjph, 'POST', `/referrals/${r.referralId}/reject`, { reason: '转外院' });
    expect(await notificationsOf(personId)).toHaveLength(2);

    const item = await outboxEvent(r.referralId, 'ReferralRejected');
    const event = {
      version: '0', id: 'redelivered', 'detail-type': item.detailType, source: item.source,
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: item.detail,
    };
    await invoke('notifier', event);
    await invoke('notifier', event);
    const delivered = rt.bus.delivered;
    rt.bus.putEvents([{ Source: item.source, DetailType: item.detailType, Detail: JSON.stringify(item.detail) }]);
    await rt.settle();
    expect(rt.bus.delivered).toBeGreaterThan(delivered); // it did reach the consumers again
    const records = await notificationsOf(personId);
    expect(records.map((n) => n.detailType)).toEqual(['ReferralSubmitted', 'ReferralRejected']);
  });

  it('a person without a mobile number gets no record, and no event ends in the dead-letter file', async () => {
    const { personId, phone } = people[5]!;
    expect(phone).toBeUndefined();
    const r = await rt.call(lingyin, 'POST', '/referrals', upBody(personId));
    expect(r.status).toBe(201);
    expect(await notificationsOf(personId)).toEqual([]);
    expect(existsSync(join(rt.dataDir, 'bus', 'dead-letters.jsonl'))).toBe(false);
  });
});

describe('prescription notifications', () => {
  it('routed: the patient is told where to collect; unroutable: the patient and the prescriber are told', async () => {
    const { personId } = people[1]!;
    const hubin = await rt.as('clinic', 'clinic-hubin');
    const routed = await rt.call(hubin, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }] });
    expect(routed.status).toBe(201);
    // A drug no pharmacy in the district stocks: nowhere to route.
    await rt.call(await rt.as('operator'), 'PUT', '/drugs/XRARE0001', { name: '罕见药', category: 'B', unit: '盒' });
    const stuck = await rt.call(hubin, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XRARE0001', quantity: 1, dosage: '每日一次' }] });
    expect(stuck.status).toBe(201);
    await rt.settle();

    const pharmacyId = (await rt.call(hubin, 'GET', `/prescriptions/${routed.body.prescriptionId}`)).body.pharmacyId;
    const pharmacyName = (await rt.call(hubin, 'GET', `/institutions/${pharmacyId}`)).body.name;
    // Two prescriptions routed independently: their messages come in either order.
    const sms = (await notificationsOf(personId))
      .filter((r) => String(r.source) === 'consortium.prescriptions')
      .sort((a, b) => String(a.detailType).localeCompare(String(b.detailType)));
    expect(sms.map((r) => [r.detailType, r.channel, r.phoneMasked])).toEqual([
      ['PrescriptionRouted', 'sms', '139****5671'],
      ['PrescriptionUnroutable', 'sms', '139****5671'],
    ]);
    expect(sms[0]!.text).toContain(pharmacyName);
    expect(sms[1]!.text).toContain('湖滨街道社区卫生服务中心');

    const inbox = await rt.db.send(
      new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'NOTIFICATION#INST#clinic-hubin' }, ConsistentRead: true }),
    );
    expect(inbox.Items?.map((i) => [i.channel, i.detailType])).toEqual([['institution', 'PrescriptionUnroutable']]);
    expect(inbox.Items![0]!.text).toContain(stuck.body.prescriptionId);
    expect(JSON.stringify(inbox.Items)).not.toMatch(/通知测试|1391234567/);
    expect(await waitForPrinted('message to clinic-hubin', 1)).toHaveLength(1);
  });

  it('unroutable, then stock arrives: routed, and the patient and the prescriber are told as for a routing', async () => {
    const { personId } = people[4]!;
    const beishan = await rt.as('clinic', 'clinic-beishan');
    await rt.call(await rt.as('operator'), 'PUT', '/drugs/XRARE0002', { name: '罕见药二', category: 'B', unit: '盒' });
    const stuck = await rt.call(beishan, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XRARE0002', quantity: 1, dosage: '每日一次' }] });
    expect(stuck.status).toBe(201);
    await rt.settle();
    expect((await rt.call(beishan, 'GET', `/prescriptions/${stuck.body.prescriptionId}`)).body.status).toBe('unroutable');

    // A pharmacy of the person's district (上城区) stocks it.
    const stocked = await rt.call(await rt.as('pharmacy', 'ph-sc-2'), 'PUT', '/pharmacies/ph-sc-2/stock', { items: [{ drugCode: 'XRARE0002', quantity: 3 }] });
    expect(stocked.status).toBe(200);
    await rt.settle();
    expect((await rt.call(beishan, 'GET', `/prescriptions/${stuck.body.prescriptionId}`)).body).toMatchObject({ status: 'routed', pharmacyId: 'ph-sc-2' });

    const pharmacyName = (await rt.call(beishan, 'GET', '/institutions/ph-sc-2')).body.name;
    const sms = (await notificationsOf(personId)).filter((r) => String(r.source) === 'consortium.prescriptions');
    expect(sms.map((r) => r.detailType)).toEqual(['PrescriptionUnroutable', 'PrescriptionRouted']);
    expect(sms[1]!.text).toContain(pharmacyName);
    const inbox = await rt.db.send(
      new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'NOTIFICATION#INST#clinic-beishan' }, ConsistentRead: true }),
    );
    expect(inbox.Items?.map((i) => i.detailType)).toEqual(['PrescriptionUnroutable', 'PrescriptionRouted']);
    expect(inbox.Items![1]!.text).toBe(`处方 ${stuck.body.prescriptionId} 已有药房备齐药品，现已发送至${pharmacyName}，无需另行安排。`);
  });
});
