// The province's calendar: days and Chinese date-times in Asia/Shanghai, checked for every day of a
// common and a leap year against plain UTC arithmetic (Shanghai is UTC+8 all year, no DST).
import { describe, expect, it } from 'vitest';
import { calendarDay, calendarYear, chineseDateTime, utcOffsetSeconds } from '../../functions/shared/clock.ts';
import { limitKey, type Limit } from '../../functions/shared/limits.ts';

const TZ = 'Asia/Shanghai';
const HOUR = 3_600_000;

/** The instant at which Shanghai's wall clock shows y-m-d h:min (m 1-based), by arithmetic alone. */
const shanghai = (y: number, m: number, d: number, h: number, min: number) => new Date(Date.UTC(y, m - 1, d, h, min) - 8 * HOUR);

/** Every day of a year as [y, m, d], from UTC arithmetic (not from the code under test). */
function daysOf(year: number): Array<[number, number, number]> {
  const days: Array<[number, number, number]> = [];
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 24 * HOUR) {
    const d = new Date(t);
    days.push([year, d.getUTCMonth() + 1, d.getUTCDate()]);
  }
  return days;
}

describe('the province calendar', () => {
  for (const year of [2026, 2028]) {
    it(`${year}: every day reads as Chinese patients read it, at the first and the last minute and in between`, () => {
      const days = daysOf(year);
      expect(days).toHaveLength(year === 2028 ? 366 : 365);
      for (const [y, m, d] of days) {
        for (const [h, min, text] of [[0, 0, '00:00'], [9, 5, '09:05'], [14, 30, '14:30'], [23, 59, '23:59']] as const) {
          const at = shanghai(y, m, d, h, min);
          expect(chineseDateTime(at, TZ)).toBe(`${y}年${m}月${d}日 ${text}`);
          expect(calendarDay(at, TZ)).toBe(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
          expect(calendarYear(at, TZ)).toBe(y);
        }
      }
    });
  }

  it('midnight on 31 December in Shanghai is still the old year in UTC, and the new year starts at 16:00 UTC', () => {
    expect(chineseDateTime(new Date('2026-12-30T16:00:00Z'), TZ)).toBe('2026年12月31日 00:00');
    expect(chineseDateTime(new Date('2026-12-31T15:59:59Z'), TZ)).toBe('2026年12月31日 23:59');
    expect(chineseDateTime(new Date('2026-12-31T16:00:00Z'), TZ)).toBe('2027年1月1日 00:00');
    expect(calendarDay(new Date('2026-12-31T16:00:00Z'), TZ)).toBe('2027-01-01');
    expect(calendarYear(new Date('2026-12-31T15:59:59.999Z'), TZ)).toBe(2026);
    expect(calendarYear(new Date('2026-12-31T16:00:00Z'), TZ)).toBe(2027);
    // 29 February exists in 2028 only; the day after 28 February 2027 is 1 March.
    expect(chineseDateTime(new Date('2028-02-29T01:02:00Z'), TZ)).toBe('2028年2月29日 09:02');
    expect(chineseDateTime(new Date('2027-02-28T16:00:00Z'), TZ)).toBe('2027年3月1日 00:00');
  });

  it('the notification time has no zero padding of month or day (the appointment SMS)', () => {
    expect(chineseDateTime(new Date('2026-12-02T06:30:00Z'), TZ)).toBe('2026年12月2日 14:30');
    expect(chineseDateTime(new Date('2027-01-05T00:00:00Z'), TZ)).toBe('2027年1月5日 08:00');
  });
});

describe('limits counted per day', () => {
  const day: Limit = { key: 'test', max: 1, windowSeconds: 86_400, timeZone: TZ, what: 'test' };
  const windowAt = (at: Date) => limitKey(day, at).SK;

  it("start at the province's midnight, not UTC's (08:00 in Beijing), on every day of a leap year", () => {
    for (const [y, m, d] of daysOf(2028)) {
      const midnight = shanghai(y, m, d, 0, 0);
      expect(utcOffsetSeconds(midnight, TZ)).toBe(8 * 3600);
      expect(windowAt(midnight)).toBe(String(midnight.getTime() / 1000));
      // The last second before is the day before's; 08:00 and 23:59 are the same day's.
      expect(windowAt(new Date(midnight.getTime() - 1000))).toBe(String(midnight.getTime() / 1000 - 86_400));
      expect(windowAt(shanghai(y, m, d, 8, 0))).toBe(windowAt(midnight));
      expect(windowAt(shanghai(y, m, d, 23, 59))).toBe(windowAt(midnight));
    }
  });

  it('without a time zone, windows stay aligned to UTC', () => {
    const utc = { ...day, timeZone: undefined };
    expect(limitKey(utc, new Date('2028-02-29T23:59:59Z')).SK).toBe(String(Date.UTC(2028, 1, 29) / 1000));
  });
});
