// Money and time as people at the counter read them: yuan from integer fen (integer arithmetic
// only), times in the province's time zone in zh-CN formats such as 2026年12月2日 14:30.

let timeZone = 'Asia/Shanghai';
export const setTimeZone = (tz: string) => {
  timeZone = tz;
  dateTimeFormat = undefined;
  secondsFormat = undefined;
  dateFormat = undefined;
};

/** ¥12.34 from 1234 fen; negative amounts as -¥12.34; thousands separated. */
export function yuan(fen: number): string {
  if (!Number.isInteger(fen)) throw new Error(`not an integer amount of fen: ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** "12.34", "12.3", "12" → fen; undefined for anything else (no floats: the text is split at the point). */
export function parseYuan(text: string): number | undefined {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** 1234 → "12.34", for an input field's value. */
export const yuanInput = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

let dateTimeFormat: Intl.DateTimeFormat | undefined;
let secondsFormat: Intl.DateTimeFormat | undefined;
let dateFormat: Intl.DateTimeFormat | undefined;
let sortableFormat: Intl.DateTimeFormat | undefined;

/** 2026年12月2日 14:30 */
export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  dateTimeFormat ??= new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return dateTimeFormat.format(new Date(iso));
}

/** 2026年12月2日 14:30:05: to the second, where the order of events matters (an access log). */
export function dateTimeSeconds(iso: string): string {
  secondsFormat ??= new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return secondsFormat.format(new Date(iso));
}

/** 2026年12月2日 (of a YYYY-MM-DD calendar day or an instant) */
export function date(value: string): string {
  dateFormat ??= new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: 'long', day: 'numeric' });
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00+08:00`) : new Date(value);
  return dateFormat.format(instant);
}

/** 2026-12-02 14:30:05 in the province's time zone: for files, where a spreadsheet sorts it as text. */
export function sortableDateTime(iso: string): string {
  sortableFormat ??= new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(sortableFormat.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** YYYY-MM-DD of an instant in the province's time zone. */
export function calendarDay(at: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The instant of a wall-clock time in the province's time zone ("2026-12-02", "09:30" → ISO UTC). */
export function instantOf(day: string, time: string): string {
  // The zone's offset at that day (Asia/Shanghai has no DST; this does not rely on it).
  const probe = new Date(`${day}T12:00:00Z`);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(probe);
  const offset = parts.find((p) => p.type === 'timeZoneName')?.value.replace('GMT', '') || '+00:00';
  return new Date(`${day}T${time}:00${offset === '' ? 'Z' : offset}`).toISOString();
}

/** Short handle of a server id for people to read aloud: the last 6 characters, upper case. */
export const shortId = (id: string) => id.slice(-6).toUpperCase();
