// Calendar arithmetic in the province's time zone (Asia/Shanghai has no DST, but we do not rely on it).

const formats = new Map<string, Intl.DateTimeFormat>();
/** The parts of an instant in a time zone, all numeric (hour 0..23). Formatters are cached per zone. */
function partsOf(at: Date, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute', number> {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute! };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD of an instant in a time zone. */
export function calendarDay(at: Date, timeZone: string): string {
  const p = partsOf(at, timeZone);
  return `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
}

export function calendarYear(at: Date, timeZone: string): number {
  return partsOf(at, timeZone).year;
}

/**
 * An instant as Chinese patients read it, in the province's time zone: `2026年12月2日 14:30` — month
 * and day without zero padding (as written in Chinese), 24-hour clock, two-digit minutes.
 */
export function chineseDateTime(at: Date, timeZone: string): string {
  const p = partsOf(at, timeZone);
  return `${p.year}年${p.month}月${p.day}日 ${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** How far a time zone's wall clock is ahead of UTC at an instant, in seconds (+28800 in Shanghai). */
export function utcOffsetSeconds(at: Date, timeZone: string): number {
  const p = partsOf(at, timeZone);
  return (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(at.getTime() / 60_000) * 60_000) / 1000;
}

export const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

export const addHours = (at: Date, hours: number) => new Date(at.getTime() + hours * 3_600_000);
