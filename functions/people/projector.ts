// Timeline projection: each event that makes or moves a referral, prescription, settlement or
// advice request puts the person's entry for that record as of the event (store.applyChange keeps
// the latest move; a redelivered or older event changes nothing). GET /people/{id}/timeline reads
// the projection a page at a time: one Query, never a scan nor each context's list.
import { eventConsumer } from '#shared/consumer';
import { logger } from '#shared/logger';
import { applyChange } from './store.ts';
import { timelineChanges, timelineEvents } from './timeline.ts';

const byType = new Map(timelineEvents.map((d) => [`${d.source}|${d.detailType}`, d]));

export const handler = eventConsumer(timelineEvents, async ({ source, detailType, detail }) => {
  for (const change of timelineChanges(byType.get(`${source}|${detailType}`)!, detail)) {
    if (!(await applyChange(change))) logger.info('timeline already as new; skipped', { kind: change.kind, id: change.id });
  }
});
