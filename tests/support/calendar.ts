// The province calendar in tests. Expected days come from what the API returned (a settlement's
// settledAt, an event's occurredAt) through the clock module, never from a separate "today".
import { calendarDay } from '../../functions/shared/clock.ts';

const TZ = 'Asia/Shanghai';

/** The province calendar day (YYYY-MM-DD) of an instant the API returned. */
export const provinceDay = (iso: string, timeZone = TZ) => calendarDay(new Date(iso), timeZone);

/** The distinct province days of these instants, in order. */
export const provinceDays = (isos: readonly string[], timeZone = TZ) => [...new Set(isos.map((i) => provinceDay(i, timeZone)))].sort();

/**
 * For a scenario whose rule is "on the same calendar day" (a settlement and its reversal): when the
 * province's next midnight is less than `marginMs` away, waits until it has passed, so the scenario
 * runs within one day at any hour. The boundary itself is tested at fixed instants (tests/unit).
 */
export async function clearOfMidnight(marginMs = 10_000, timeZone = TZ): Promise<void> {
  const today = calendarDay(new Date(), timeZone);
  if (calendarDay(new Date(Date.now() + marginMs), timeZone) === today) return;
  while (calendarDay(new Date(), timeZone) === today) await new Promise((r) => setTimeout(r, 50));
}

/**
 * For a scenario that counts within one fixed window of `windowSeconds` (a rate limit): when the
 * window ends in less than `marginMs`, waits until the next one has begun.
 */
export async function clearOfWindowEnd(windowSeconds: number, marginMs = 10_000): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}
