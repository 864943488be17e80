// SLA sweeper (scheduled): referrals still submitted past their due time expire and are re-routed
// to another institution with capacity, if any. The schedule's time is the clock. Runs may
// overlap (a slow run and the next tick, a manual trigger): each referral is moved by a write
// conditioned on the status and version it was read in, so at most one run moves it.
//
// One referral the sweep fails on must not hold up the rest: the failure is logged (by id only),
// counted, and the referral is put back on the queue behind what is due before its next try, so
// even one that fails every time cannot keep later ones from being reached. The run goes on to
// the end and then fails, so the invocation shows an error and the function's error alarm fires.
import { logger } from '#shared/logger';
import { scheduledHandler } from '#shared/scheduled';
import { expireOverdue, type SweepOutcome } from './service.ts';
import { deferOnQueue, overdueReferrals, type QueueEntry } from './store.ts';

const PAGE = 100;
/** Parallel moves: each is a few reads and one transaction. */
const CONCURRENCY = 4;
/** Bounded work per run; whatever is left is still on the queue for the next tick. */
const MAX_PER_RUN = 2_000;
/** A referral the sweep failed on is tried again after 10 min, 20 min, 40 min, … at most 16 hours. */
const RETRY_BASE_MINUTES = 10;
const RETRY_MAX_DOUBLINGS = 6;

const retryAt = (now: Date, failuresBefore: number) =>
  new Date(now.getTime() + RETRY_BASE_MINUTES * 60_000 * 2 ** Math.min(failuresBefore, RETRY_MAX_DOUBLINGS));

async function sweep(now: Date, correlationId?: string) {
  const counts: Record<SweepOutcome | 'failed', number> = { rerouted: 0, expired: 0, skipped: 0, failed: 0 };
  const ctx = { now, ...(correlationId ? { correlationId } : {}) };

  const attempt = async (entry: QueueEntry): Promise<SweepOutcome | 'failed'> => {
    try {
      return await expireOverdue(entry.referralId, ctx);
    } catch (err) {
      const e = err as Error;
      // The id and what went wrong, never the referral's content (a ZodError lists paths, not values).
      logger.error('SLA sweep failed on a referral', {
        referralId: entry.referralId, failuresBefore: entry.failures, errorName: e?.name, errorMessage: String(e?.message).slice(0, 500),
      });
      try {
        await deferOnQueue(entry, retryAt(now, entry.failures));
      } catch (deferErr) {
        logger.error('could not put the referral back on the SLA queue', { referralId: entry.referralId, errorName: (deferErr as Error)?.name });
      }
      return 'failed';
    }
  };

  let startKey: Record<string, unknown> | undefined;
  let seen = 0;
  do {
    const page = await overdueReferrals(now, PAGE, startKey);
    for (let i = 0; i < page.entries.length; i += CONCURRENCY) {
      const outcomes = await Promise.all(page.entries.slice(i, i + CONCURRENCY).map(attempt));
      for (const o of outcomes) counts[o]++;
    }
    seen += page.entries.length;
    startKey = page.next;
  } while (startKey && seen < MAX_PER_RUN);

  if (counts.failed) {
    throw new Error(`SLA sweep: ${counts.failed} of ${seen} referrals failed and were put back on the queue (rerouted ${counts.rerouted}, expired ${counts.expired}, skipped ${counts.skipped})`);
  }
  return { ...counts, seen };
}

export const handler = scheduledHandler((now, invocation) => sweep(now, invocation.id));
