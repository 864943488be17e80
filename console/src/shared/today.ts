// The province's today on a screen left open: it moves to the new day when the province's midnight
// passes (its zone, as lib/format.ts's calendarDay), so a desk watched overnight shows the new day's
// figures without a reload.
import { useEffect, useState } from 'preact/hooks';
import { calendarDay, instantOf } from '../lib/format.ts';

/** The day after a YYYY-MM-DD calendar day. */
export const nextDay = (day: string) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + 1)).toISOString().slice(0, 10);
};

/**
 * Milliseconds until the province's next day begins, but at most a minute: a timer does not run
 * while the machine sleeps, and one that wakes each minute catches up with the date soon after.
 */
export const untilNextCheck = (now = Date.now()) => Math.min(Math.max(Date.parse(instantOf(nextDay(calendarDay(new Date(now))), '00:00')) - now, 0) + 10, 60_000);

/** Today in the province, re-rendering the screen when it changes. */
export function useToday(): string {
  const [today, setToday] = useState(() => calendarDay());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const check = () => {
      setToday(calendarDay());
      timer = setTimeout(check, untilNextCheck());
    };
    timer = setTimeout(check, untilNextCheck());
    return () => clearTimeout(timer);
  }, []);
  return today;
}

/**
 * The day a screen shows: today, following it past midnight (a desk watched overnight), unless
 * another day was picked (`start`, say from the address); picking today's date follows today again.
 */
export function useShownDay(start?: string): { day: string; today: string; pick: (day: string) => void } {
  const today = useToday();
  const [picked, setPicked] = useState(() => (start === calendarDay() ? undefined : start));
  return { day: picked ?? today, today, pick: (d) => setPicked(d === today ? undefined : d) };
}
