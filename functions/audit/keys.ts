// Keys of the audit projection. Every event of the province is one row, so a day's rows are spread
// over AUDIT_SHARDS partition keys (chosen by the event id): at a Shandong peak, ~500 events/s of
// 1 WCU each, 16 keys keep each near 30 WCU/s (docs/capacity.md). Reading a day reads every shard.
import { shardOf } from '#shared/shards';

export const AUDIT_SHARDS = 16;

/** The partition keys of one calendar day's rows. */
export const auditPartitions = (day: string) => Array.from({ length: AUDIT_SHARDS }, (_, shard) => `AUDIT#${day}#${shard}`);

export const auditKey = (day: string, occurredAt: string, eventId: string) => ({
  PK: `AUDIT#${day}#${shardOf(eventId, AUDIT_SHARDS)}`,
  SK: `${occurredAt}#${eventId}`,
});
