// SLA sweeper (scheduled): referrals still submitted past their due time expire and are re-routed
// to another institution with capacity, if any. The schedule's time is the clock. Runs may
// overlap (a slow run and the next tick, a manual trigger): each referral is moved by a write
// conditioned on the status and version it was read in, so at most one run moves it.
import { scheduledHandler } from '#shared/scheduled';
import { expireOverdue, type SweepOutcome } from './service.ts';
import { overdueReferrals } from './store.ts';

const PAGE = 100;
/** Parallel moves: each is a few reads and one transaction. */
const CONCURRENCY = 4;
/** Bounded work per run; whatever is left is still on the queue for the next tick. */
const MAX_PER_RUN = 2_000;

export const handler = scheduledHandler(async (now) => {
  const counts: Record<SweepOutcome, number> = { rerouted: 0, expired: 0, skipped: 0 };
  let startKey: Record<string, unknown> | undefined;
  let seen = 0;
  do {
    const page = await overdueReferrals(now, PAGE, startKey);
    for (let i = 0; i < page.ids.length; i += CONCURRENCY) {
      const outcomes = await Promise.all(page.ids.slice(i, i + CONCURRENCY).map((id) => expireOverdue(id, now)));
      for (const o of outcomes) counts[o]++;
    }
    seen += page.ids.length;
    startKey = page.next;
  } while (startKey && seen < MAX_PER_RUN);
  return { ...counts, seen };
});
