// Republishes the outbox items written in a time window to the province bus, as the relay does
// (functions/outbox/relay.ts, whose entry and PutEvents code this reuses). For the records the table
// stream gave up on: the relay's dead-letter queue holds only their shard and sequence range, the
// items themselves stay a week in the table. Consumers skip the events they already applied (by
// event id), so a window wider than needed, or a run repeated, publishes nothing twice in effect.
import { ScanCommand, type ScanCommandInput, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from '../../functions/shared/db.ts';
import { idTime } from '../../functions/shared/ids.ts';
import { OUTBOX_PREFIX, type OutboxItem } from '../../functions/shared/outbox.ts';
import { outboxEntry, outboxEventId, putEntries, PUT_EVENTS_BATCH } from '../../functions/outbox/relay.ts';

export interface RepublishOptions {
  /** Items written (their event id's time, the writer's clock) from `from` to `to`, both included. */
  from: Date;
  to: Date;
  /** Count what would be published, publish nothing. */
  dryRun?: boolean;
  /** Parallel Scan segments (a large table scans faster, with more read capacity at once). */
  segments?: number;
  /** Retries of a rejected PutEvents batch before giving up (running the script again is safe). */
  retries?: number;
  onPage?: (sofar: RepublishProgress) => void;
}

export interface RepublishProgress {
  /** Outbox items read, in or out of the window. */
  scanned: number;
  /** In the window. */
  found: number;
  published: number;
}

export const writtenIn = (item: Pick<OutboxItem, 'PK'>, from: Date, to: Date) => {
  const t = idTime(outboxEventId(item));
  return t >= from.getTime() && t <= to.getTime();
};

export async function republishOutbox(o: RepublishOptions): Promise<RepublishProgress> {
  if (!(o.from.getTime() <= o.to.getTime())) throw new Error('the window must have from <= to');
  const sofar: RepublishProgress = { scanned: 0, found: 0, published: 0 };
  const segments = o.segments ?? 1;
  const scanSegment = async (segment: number) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const input: ScanCommandInput = {
        TableName: tableName(),
        FilterExpression: 'begins_with(#pk, :prefix)',
        ProjectionExpression: '#pk, #source, #type, #detail',
        ExpressionAttributeNames: { '#pk': 'PK', '#source': 'source', '#type': 'detailType', '#detail': 'detail' },
        ExpressionAttributeValues: { ':prefix': OUTBOX_PREFIX },
        ExclusiveStartKey: startKey,
        ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
      };
      const page: ScanCommandOutput = await ddb.send(new ScanCommand(input));
      const items = (page.Items ?? []) as OutboxItem[];
      const chosen = items.filter((i) => writtenIn(i, o.from, o.to));
      sofar.scanned += items.length;
      sofar.found += chosen.length;
      if (!o.dryRun) {
        for (let i = 0; i < chosen.length; i += PUT_EVENTS_BATCH) {
          await publish(chosen.slice(i, i + PUT_EVENTS_BATCH), o.retries ?? 5);
          sofar.published += Math.min(PUT_EVENTS_BATCH, chosen.length - i);
        }
      }
      o.onPage?.({ ...sofar });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  };
  await Promise.all(Array.from({ length: segments }, (_, s) => scanSegment(s)));
  return sofar;
}

async function publish(items: OutboxItem[], retries: number): Promise<void> {
  let rest = items;
  for (let attempt = 0; ; attempt++) {
    const firstFailed = await putEntries(rest.map(outboxEntry));
    if (firstFailed === -1) return;
    rest = rest.slice(firstFailed);
    if (attempt >= retries) throw new Error(`PutEvents kept failing: ${rest.length} events from ${outboxEventId(rest[0]!)} not republished (run again)`);
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
  }
}
