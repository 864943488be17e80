// Overview projection: settlement and referral events into sharded counters (keys.ts), each event
// applied once (applyOnce writes its marker in the same transaction as the additions).
import { calendarDay, epochSeconds } from '#shared/clock';
import { applyOnce, eventConsumer } from '#shared/consumer';
import { tableName, updateExpression, withRaceRetries, type TxItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { deltasOf, referralEvents, settlementEvents } from './counters.ts';
import { dayCounterKey, shardOf, statusCounterKey } from './keys.ts';

/** Day items are kept a little over a year, for the overview of any day of the past year. */
const DAY_TTL_SECONDS = 400 * 24 * 3600;

function addTo(key: { PK: string; SK: string }, amounts: Record<string, number>, extra: Record<string, unknown> = {}): TxItem | undefined {
  if (!Object.keys(amounts).length) return undefined;
  return { write: { Update: { TableName: tableName(), Key: key, ...updateExpression({ add: amounts, set: extra }) } } };
}

export const handler = eventConsumer([...settlementEvents, ...referralEvents], async ({ source, detailType, detail }) => {
  const def = [...settlementEvents, ...referralEvents].find((d) => d.source === source && d.detailType === detailType)!;
  const deltas = deltasOf(def, detail as Record<string, unknown>);
  const occurredAt = new Date(detail.occurredAt);
  // A reversal is only allowed on the settlement's own day, so its day is the settlement's.
  const day = calendarDay(occurredAt, provinceConfig().timeZone);
  const shard = shardOf(detail.id);
  const writes = [
    addTo(dayCounterKey(day, shard), deltas.day, { entity: 'overview-day', expiresAt: epochSeconds(occurredAt) + DAY_TTL_SECONDS }),
    addTo(statusCounterKey(shard), deltas.status, { entity: 'overview-status' }),
  ].filter((w): w is TxItem => !!w);
  // Two events on one shard at once cancel each other's transaction: recompute and retry.
  await withRaceRetries(() => applyOnce('overview', detail.id, writes));
});
