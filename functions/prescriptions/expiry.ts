// The expiry sweeper (scheduled): prescriptions not dispensed within the province's validity become
// `expired` and their reserved stock is released. Overdue ones come from the sparse expiry index
// (GSI3), never a scan. Each expiry is the same conditional transition as any other, so a sweep that
// runs twice, or two sweeps at once, expire each prescription once.
import { mapLimited } from '#shared/concurrency';
import { withRaceRetries } from '#shared/db';
import { logger } from '#shared/logger';
import { scheduledHandler } from '#shared/scheduled';
import { applyTransition, canTransition, isOverdue } from './domain.ts';
import { EXPIRY_SHARDS } from './keys.ts';
import * as store from './store.ts';

/** Bounds one run's work (and duration); what is left is the next run's. */
const MAX_PER_RUN = 2_000;
const CONCURRENCY = 8;
/**
 * Expiries of one pharmacy's prescriptions all write its stock row, so parallel ones collide often.
 * A background run has minutes (its timeout is 300 s), so it waits its turn far longer than a request.
 */
const RACE_RETRIES = 25;
const RACE_BUDGET_MS = 60_000;

async function expireOne(prescriptionId: string, now: Date): Promise<boolean> {
  return withRaceRetries(async () => {
    const rx = await store.getPrescription(prescriptionId);
    // The index is eventually consistent: what it lists may have moved on already.
    if (!rx || !canTransition('expire', rx.status) || !isOverdue(rx, now)) return false;
    await store.writeTransition(rx, applyTransition(rx, 'expire', { at: now, actor: 'sweeper' }), { now });
    return true;
  }, RACE_RETRIES, RACE_BUDGET_MS);
}

export async function sweep(now: Date): Promise<{ expired: number; skipped: number; failed: number }> {
  let expired = 0;
  let skipped = 0;
  let failed = 0;
  // One prescription that cannot expire must not hold up the rest: log it, carry on, fail the run.
  const attempt = (id: string) =>
    expireOne(id, now).catch((err: Error) => {
      logger.error('could not expire prescription', { prescriptionId: id, error: err });
      failed++;
      return undefined;
    });
  let budget = MAX_PER_RUN;
  // Shard after shard. Expiries at one pharmacy all write its stock row, and parallel writers of one
  // row only collide and back off (24 racers on one row took two minutes for 150): one lane per
  // pharmacy, one expiry at a time in a lane, CONCURRENCY lanes at once.
  for (let shard = 0; shard < EXPIRY_SHARDS && budget > 0; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await store.overduePage(shard, now, startKey);
      startKey = page.next;
      const due = page.due.slice(0, Math.max(0, budget));
      budget -= due.length;
      const lanes = new Map<string, typeof due>();
      for (const d of due) {
        const lane = d.pharmacyId ?? d.prescriptionId;
        lanes.set(lane, [...(lanes.get(lane) ?? []), d]);
      }
      await mapLimited([...lanes.values()], CONCURRENCY, async (lane) => {
        for (const { prescriptionId } of lane) {
          const done = await attempt(prescriptionId);
          if (done === true) expired++; else if (done === false) skipped++;
        }
      });
    } while (startKey && budget > 0);
  }
  if (failed) throw new Error(`expiry sweep: ${failed} prescriptions could not be expired (expired ${expired}, skipped ${skipped})`);
  return { expired, skipped, failed };
}

export const handler = scheduledHandler(sweep);
