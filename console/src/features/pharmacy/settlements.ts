// The pharmacy's settlements as the desk reads them: a day's (every page, with its totals), and the
// recent ones a prescription may already have been paid by (the counter and the prescription cards
// share the 当日结算 queries, so what one shows the other does too).
import { useQueries } from '@tanstack/preact-query';
import { allPages, call } from '../../lib/api.ts';
import { calendarDay } from '../../lib/format.ts';
import { poll } from '../../lib/polling.ts';

/** A day's settlements of this pharmacy, every page, with the day's totals. */
export const daySettlements = (day: string) => allPages((nextToken) => call('listSettlements', { query: { date: day, limit: 200, nextToken } }));

/**
 * Yesterday's and today's settlements (one made just before midnight and not handed over against
 * is still the patient's payment), or undefined while they load.
 */
export function useRecentSettlements(enabled: boolean) {
  const days = [calendarDay(new Date(Date.now() - 86_400_000)), calendarDay()];
  const settled = useQueries({
    queries: days.map((day) => ({ queryKey: ['settlements', day], queryFn: () => daySettlements(day), enabled, refetchInterval: poll(30_000) })),
  });
  return settled.every((q) => q.data) ? settled.flatMap((q) => q.data!.items) : undefined;
}
