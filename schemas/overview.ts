// The operator's province overview: the day's settlement totals and referrals by status, read from
// a projection of domain events (functions/overview), never from a scan.
import * as z from 'zod';
import { calendarDate, fen, isoDateTime } from './common.ts';
import { referralStatuses } from './referrals.ts';
import { authProblems, defineRoute } from './route.ts';
import { totals } from './vouchers.ts';

/** One count per referral status (every status present). */
const countsByStatus = z.object(Object.fromEntries(referralStatuses.map((s) => [s, z.number().int().min(0)])) as Record<(typeof referralStatuses)[number], z.ZodNumber>);

export const overview = z
  .object({
    date: calendarDate,
    /** Settlements of the day (province time zone) across the province, reversed ones excluded. */
    settlements: totals.extend({ reversedCount: z.number().int(), reversedFen: fen }),
    referrals: z.object({
      /** Referrals in each status now, across the province. */
      byStatus: countsByStatus,
      /** Moves into each status on that day (a referral submitted and accepted that day counts in both). */
      enteredOnDate: countsByStatus,
    }),
    asOf: isoDateTime,
  })
  .meta({ id: 'Overview' });
export type Overview = z.infer<typeof overview>;

export const overviewRoutes = [
  defineRoute({
    operationId: 'getOverview',
    method: 'GET',
    path: '/overview',
    fn: 'overview',
    auth: ['operator'],
    tag: 'operator',
    summary: "Province overview: one day's settlement totals (default today) and referrals by status; a projection of events, seconds behind",
    query: z.object({ date: calendarDate.optional() }),
    responses: { 200: overview },
    problems: ['validation-failed', ...authProblems],
  }),
] as const;
