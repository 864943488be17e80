// The transactional outbox end to end on real DynamoDB Local: the state change and its event are
// one transaction, the stream poller feeds the real relay, the relay's real EventBridge client
// reaches the local bus, the bus invokes the audit consumer, which applies each event once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke } from '../../infra/local/lambda.ts';
import { auditRows, scanAll } from '../support/table.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime({ seed: false });
});
afterAll(() => rt?.stop());

const audited = (detailType: string, where: Record<string, unknown> = {}) => auditRows(rt, detailType, where);

const outboxItems = () => scanAll(rt, { FilterExpression: 'begins_with(PK, :p)', ExpressionAttributeValues: { ':p': 'OUTBOX#' } }) as Promise<Array<Record<string, any>>>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('transactional outbox', () => {
  it('registering an institution writes it and InstitutionRegistered together; the audit consumer receives it once', async () => {
    const op = await rt.as('operator');
    const res = await rt.call(op, 'POST', '/institutions', { id: 'clinic-a', name: '社区卫生服务中心 A', type: 'clinic', district: '西湖区', designated: true });
    expect(res.status).toBe(201);

    const outbox = (await outboxItems()).filter((i) => i.detailType === 'InstitutionRegistered');
    expect(outbox).toHaveLength(1);
    expect(JSON.parse(outbox[0]!.detail)).toMatchObject({ institutionId: 'clinic-a', type: 'clinic', province: 'ZJ', version: 1 });

    await rt.settle();
    const rows = await audited('InstitutionRegistered', { institutionId: 'clinic-a' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ institutionId: 'clinic-a', correlationId: expect.any(String) });
  });

  it('a rejected registration (duplicate id) writes no outbox item', async () => {
    const op = await rt.as('operator');
    const before = (await outboxItems()).length;
    const dup = await rt.call(op, 'POST', '/institutions', { id: 'clinic-a', name: 'again', type: 'clinic', district: '西湖区', designated: true });
    expect(dup.status).toBe(409);
    expect((await outboxItems()).length).toBe(before);
  });

  it('the same event delivered twice (EventBridge is at-least-once) is applied once', async () => {
    const op = await rt.as('operator');
    await rt.call(op, 'PUT', '/drugs/XTEST0001', { name: '测试药', category: 'A', unit: '盒' });
    await rt.settle();
    const [row] = await audited('DrugCatalogChanged', { drugCode: 'XTEST0001' });
    expect(row).toBeDefined();
    const event = {
      version: '0', id: 'redelivery', 'detail-type': 'DrugCatalogChanged', source: 'consortium.institutions',
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: row!.detail,
    };
    await invoke('audit', event);
    await invoke('audit', event);
    expect(await audited('DrugCatalogChanged', { drugCode: 'XTEST0001' })).toHaveLength(1);
  });

  it('an event published twice by the relay (a retried batch) reaches the consumer twice and is applied once', async () => {
    const op = await rt.as('operator');
    await rt.call(op, 'PUT', '/drugs/XTEST0002', { name: '测试药二', category: 'B', unit: '盒' });
    await rt.settle();
    const delivered = rt.bus.delivered;
    const [item] = (await outboxItems()).filter((i) => JSON.parse(i.detail).drugCode === 'XTEST0002');
    rt.bus.putEvents([{ Source: item!.source, DetailType: item!.detailType, Detail: item!.detail }]);
    await rt.settle();
    expect(rt.bus.delivered).toBe(delivered + 1);
    expect(await audited('DrugCatalogChanged', { drugCode: 'XTEST0002' })).toHaveLength(1);
  });

  it('a failing PutEvents is retried by the relay: nothing is lost', async () => {
    const op = await rt.as('operator');
    rt.bus.failNextPutEvents = 3;
    const res = await rt.call(op, 'POST', '/institutions', { id: 'ph-retry', name: '药房', type: 'pharmacy', district: '西湖区', designated: true });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));
    await rt.settle();
    expect(rt.bus.failNextPutEvents).toBe(0);
    expect(await audited('InstitutionRegistered', { institutionId: 'ph-retry' })).toHaveLength(1);
  });
});
