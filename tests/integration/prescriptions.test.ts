// The prescription router and expiry sweeper on real DynamoDB Local, driven directly (as the bus and
// the schedule would) alongside the running platform: redelivered rejections, prescriptions past
// their validity, and concurrent sweeps paging through the expiry index.
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRICTS, demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { newPrescription } from '../../functions/prescriptions/domain.ts';
import * as store from '../../functions/prescriptions/store.ts';
import { startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let hubin: Caller;
let personId: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  hubin = await rt.as('clinic', 'clinic-hubin');
  const person = { nationalId: demoNationalId('330102', '19700303', 700), name: '集成测试', district: DISTRICTS.shangcheng, personalAccountFen: 0 };
  const res = await rt.call(await rt.as('operator'), 'POST', '/enrollments', { people: [person] });
  personId = res.body.personIds[0];
});
afterAll(() => rt?.stop());

const item = (drugCode: string, quantity = 1) => ({ drugCode, quantity, dosage: '1 tablet once daily' });

async function outbox(detailType: string) {
  const details: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res: ScanCommandOutput = await rt.db.send(
      new ScanCommand({
        TableName: rt.tableName,
        FilterExpression: 'begins_with(PK, :p) AND detailType = :t',
        ExpressionAttributeValues: { ':p': 'OUTBOX#', ':t': detailType },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const i of res.Items ?? []) details.push(JSON.parse(String(i.detail)));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return details;
}

const busEvent = (detailType: string, detail: unknown) => ({
  version: '0', id: `test-${Math.random()}`, 'detail-type': detailType, source: 'consortium.prescriptions',
  account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail,
});

async function stockOf(pharmacyId: string, drugCode: string) {
  const res = await rt.call(await rt.as('pharmacy', pharmacyId), 'GET', `/pharmacies/${pharmacyId}/stock?limit=200`);
  return res.body.items.find((s: { drugCode: string }) => s.drugCode === drugCode) as { available: number; reserved: number };
}

describe('prescription router', () => {
  it('a PrescriptionRejected delivered again after the prescription was routed elsewhere changes nothing', async () => {
    const issued = await rt.call(hubin, 'POST', '/prescriptions', { personId, diagnoses: ['J45.901'], items: [item('XC08CAA001')] });
    const id = issued.body.prescriptionId as string;
    await rt.settle();
    expect((await store.getPrescription(id))?.pharmacyId).toBe('ph-sc-2');
    const res = await rt.call(await rt.as('pharmacy', 'ph-sc-2'), 'POST', `/prescriptions/${id}/reject`, { reason: '缺货' });
    expect(res.status).toBe(200);
    await rt.settle();
    const rerouted = await store.getPrescription(id);
    expect(rerouted).toMatchObject({ status: 'routed', pharmacyId: 'ph-sc-1', rejectedBy: ['ph-sc-2'] });

    const rejected = (await outbox('PrescriptionRejected')).find((d) => d.prescriptionId === id);
    await Promise.all([invoke('prescriptionRouter', busEvent('PrescriptionRejected', rejected)), invoke('prescriptionRouter', busEvent('PrescriptionRejected', rejected))]);
    expect(await store.getPrescription(id)).toEqual(rerouted);
    expect((await outbox('PrescriptionRouted')).filter((d) => d.prescriptionId === id)).toHaveLength(2);
  });

  it('leaves a prescription past its validity to the sweeper instead of reserving stock for it', async () => {
    const issuedAt = new Date(Date.now() - 80 * 3_600_000);
    const rx = newPrescription({ prescriptionId: 'rx_stale0000000000000000000001', prescriberId: 'clinic-hubin', personId, diagnoses: ['I10'], items: [item('XC08CAA001')], now: issuedAt, validityHours: 72 });
    await store.putIssued(rx, { now: issuedAt });
    await rt.settle(); // the relay published PrescriptionIssued and the router saw it
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('issued');
    await rt.runSchedule('prescription-expiry', new Date());
    expect((await store.getPrescription(rx.prescriptionId))?.status).toBe('expired');
  });
});

describe('expiry sweeper', () => {
  it('three concurrent sweeps page through 150 overdue prescriptions (several pages per shard) and expire each once, releasing every reservation', async () => {
    const drug = 'XSWEEP0001';
    await rt.call(await rt.as('operator'), 'PUT', `/drugs/${drug}`, { name: '清扫测试药', category: 'C', unit: '盒' });
    const pharmacy = await rt.as('pharmacy', 'ph-sc-2');
    expect((await rt.call(pharmacy, 'PUT', '/pharmacies/ph-sc-2/stock', { items: [{ drugCode: drug, quantity: 1_000 }] })).status).toBe(200);

    const ids: string[] = [];
    for (let i = 0; i < 150; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () => rt.call(hubin, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [item(drug, 2)] })),
      );
      ids.push(...batch.map((r) => r.body.prescriptionId as string));
    }
    await rt.settle();
    expect(await stockOf('ph-sc-2', drug)).toMatchObject({ available: 700, reserved: 300 });
    // Some accepted too: they hold stock the same way.
    for (const id of ids.slice(0, 10)) expect((await rt.call(pharmacy, 'POST', `/prescriptions/${id}/accept`)).status).toBe(200);

    const due = new Date(Date.now() + 73 * 3_600_000);
    await Promise.all([1, 2, 3].map(() => rt.runSchedule('prescription-expiry', due)));

    for (const id of ids) expect((await store.getPrescription(id))?.status).toBe('expired');
    expect(await stockOf('ph-sc-2', drug)).toMatchObject({ available: 1_000, reserved: 0 });
    const expired = (await outbox('PrescriptionExpired')).filter((d) => ids.includes(String(d.prescriptionId)));
    expect(expired).toHaveLength(150);
    expect(new Set(expired.map((d) => d.prescriptionId)).size).toBe(150);
  }, 90_000);
});
