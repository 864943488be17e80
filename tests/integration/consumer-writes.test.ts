// The writes every domain event makes, spread over the table: consumers' once-only markers and the
// audit rows of a day were the province's hottest partition keys at peak (every event, one key;
// docs/capacity.md). They must land on many keys and still apply each event exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_SHARDS } from '../../functions/audit/keys.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { auditRows, scanAll } from '../support/table.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime({ seed: false });
});
afterAll(() => rt?.stop());

describe('writes of every event', () => {
  it("a consumer's once-only markers are each on a partition key of their own, and an event is still applied once", async () => {
    // Imported after the runtime has set the functions' environment (table name, endpoints).
    const { applyOnce } = await import('../../functions/shared/consumer.ts');
    const ids = Array.from({ length: 5 }, (_, i) => `evt_spread_${i}`);
    for (const id of ids) expect(await applyOnce('spread-test', id, [])).toBe(true);
    expect(await applyOnce('spread-test', ids[0]!, [])).toBe(false);

    const markers = await scanAll(rt, { FilterExpression: 'begins_with(PK, :p)', ExpressionAttributeValues: { ':p': 'CONSUMED#spread-test' } });
    expect(markers).toHaveLength(ids.length);
    expect(new Set(markers.map((m) => m.PK)).size).toBe(ids.length);
  });

  it("a day's audit rows are spread over the day's shards, one row per event even when it is delivered again", async () => {
    const op = await rt.as('operator');
    const drugs = Array.from({ length: 40 }, (_, i) => `XSPRD${String(i).padStart(4, '0')}`);
    for (const code of drugs) expect((await rt.call(op, 'PUT', `/drugs/${code}`, { name: '分片', category: 'A', unit: '盒' })).status).toBe(201);
    await rt.settle();

    const rows = (await auditRows(rt, 'DrugCatalogChanged')).filter((r) => drugs.includes(r.detail.drugCode));
    expect(rows).toHaveLength(drugs.length);
    const shards = new Set(rows.map((r) => Number(/^AUDIT#\d{4}-\d{2}-\d{2}#(\d+)$/.exec(String(r.PK))?.[1])));
    expect(shards.size).toBeGreaterThan(AUDIT_SHARDS / 2);
    for (const s of shards) expect(s >= 0 && s < AUDIT_SHARDS).toBe(true);

    // EventBridge delivers at least once: the same event again changes nothing.
    const row = rows[0]!;
    await invoke('audit', {
      version: '0', id: 'again', 'detail-type': 'DrugCatalogChanged', source: 'consortium.institutions',
      account: '000000000000', time: new Date().toISOString(), region: 'local', resources: [], detail: row.detail,
    });
    expect((await auditRows(rt, 'DrugCatalogChanged', { drugCode: row.detail.drugCode }))).toHaveLength(1);
  });
});
