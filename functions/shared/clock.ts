// Calendar arithmetic in the province's time zone (Asia/Shanghai has no DST, but we do not rely on it).

/** YYYY-MM-DD of an instant in a time zone. */
export function calendarDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export function calendarYear(at: Date, timeZone: string): number {
  return Number(calendarDay(at, timeZone).slice(0, 4));
}

export const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

export const addHours = (at: Date, hours: number) => new Date(at.getTime() + hours * 3_600_000);
