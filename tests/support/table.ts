// Test-only reads of a runtime's table that must see all of it: Scans paginated to the end (a
// single Scan page stops at 1 MB, before any filter is applied, so one page can miss items).
// Prefer a targeted Get or Query where the keys allow one.
import { QueryCommand, ScanCommand, type QueryCommandOutput, type ScanCommandInput, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { auditPartitions } from '../../functions/audit/keys.ts';
import { calendarDay } from '../../functions/shared/clock.ts';
import { OUTBOX_PREFIX } from '../../functions/shared/table.ts';
import type { TestRuntime } from './runtime.ts';

type ScanInput = Omit<ScanCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Select'>;

/** Every item the Scan selects, all pages. */
export async function scanAll(rt: TestRuntime, input: ScanInput = {}): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res: ScanCommandOutput = await rt.db.send(new ScanCommand({ ...input, TableName: rt.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(res.Items ?? []));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** How many items the table holds (those the Scan's filter selects), all pages. */
export async function countItems(rt: TestRuntime, input: Pick<ScanInput, 'FilterExpression' | 'ExpressionAttributeValues'> = {}): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const res: ScanCommandOutput = await rt.db.send(new ScanCommand({ ...input, TableName: rt.tableName, Select: 'COUNT', ExclusiveStartKey: startKey, ConsistentRead: true }));
    count += res.Count ?? 0;
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return count;
}

export interface OutboxRecord {
  source: string;
  detailType: string;
  detail: Record<string, unknown> & { id: string };
}

/**
 * Outbox events (the transactional outbox has no index by entity: the relay reads it from the
 * stream), optionally of one detail type, whose detail matches `where`, in the order they were
 * written (event ids sort by time).
 */
export async function outboxEvents(rt: TestRuntime, where: Record<string, unknown> = {}, detailType?: string): Promise<OutboxRecord[]> {
  const items = await scanAll(rt, {
    FilterExpression: detailType ? 'begins_with(PK, :p) AND detailType = :t' : 'begins_with(PK, :p)',
    ExpressionAttributeValues: { ':p': OUTBOX_PREFIX, ...(detailType ? { ':t': detailType } : {}) },
  });
  return items
    .map((i) => ({ source: String(i.source), detailType: String(i.detailType), detail: JSON.parse(String(i.detail)) as OutboxRecord['detail'] }))
    .filter((e) => Object.entries(where).every(([k, v]) => e.detail[k] === v))
    .sort((a, b) => a.detail.id.localeCompare(b.detail.id));
}

/**
 * Rows of the audit projection (filed by the province calendar day of each event's occurredAt, on
 * every shard of the day) for
 * the outbox events of `detailType` whose detail matches `where`: the days come from the events
 * themselves, so a test that runs across midnight in Shanghai reads the right partitions.
 */
export async function auditRows(rt: TestRuntime, detailType: string, where: Record<string, unknown> = {}): Promise<Array<Record<string, any>>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const events = await outboxEvents(rt, where, detailType);
  const days = new Set(events.map((e) => calendarDay(new Date(String(e.detail.occurredAt)), rt.province.timeZone)));
  const rows: Array<Record<string, unknown>> = [];
  for (const pk of [...days].flatMap(auditPartitions)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const res: QueryCommandOutput = await rt.db.send(
        new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey: startKey, ConsistentRead: true }),
      );
      rows.push(...(res.Items ?? []));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
  }
  const ids = new Set(events.map((e) => e.detail.id));
  return rows.filter((r) => r.detailType === detailType && ids.has((r.detail as { id: string }).id)) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
