// SLA sweeper (scheduled): referrals still submitted past their due time expire and are re-routed
// to another institution with capacity, if any. The schedule's time is the clock. Runs may
// overlap (a slow run and the next tick, a manual trigger): each referral is moved by a write
// conditioned on the status and version it was read in, so at most one run moves it. One referral
// the sweep fails on does not hold up the rest (functions/shared/sla-queue.ts).
import { scheduledHandler } from '#shared/scheduled';
import { sweepQueue } from '#shared/sla-queue';
import { referralKey, SLA_PARTITION } from './keys.ts';
import { expireOverdue } from './service.ts';

export const handler = scheduledHandler((now, invocation) =>
  sweepQueue({
    now,
    noun: { one: 'a referral', many: 'referrals' },
    partition: SLA_PARTITION,
    idAttribute: 'referralId',
    keyOf: referralKey,
    attempt: (id) => expireOverdue(id, { now, correlationId: invocation.id }),
  }),
);
