// Shared value types. Every boundary (HTTP, event detail, config, stored item) parses with these.
import * as z from 'zod';

/** ISO 7064 MOD 11-2 check character of the first 17 digits of a mainland resident ID. */
export function nationalIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    // Weight of position i is 2^(17-i) mod 11.
    sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  }
  return '10X98765432'[sum % 11]!;
}

export const isValidNationalId = (value: string, now = new Date()): boolean => !nationalIdFault(value, now);

/** What is wrong with a resident ID, the first thing found (the console says it in words), or undefined. */
export function nationalIdFault(value: string, now = new Date()): 'format' | 'check' | 'area' | 'birth' | undefined {
  if (!/^\d{17}[\dX]$/.test(value)) return 'format';
  if (nationalIdCheckChar(value.slice(0, 17)) !== value[17]) return 'check';
  // A foreigner's permanent residence ID (2023 format): 9, then the issuing province, then a nationality.
  if (!PROVINCE_CODES.has(value[0] === '9' ? value.slice(1, 3) : value.slice(0, 2))) return 'area';
  if (!isBirthDate(value.slice(6, 14), now)) return 'birth';
  return undefined;
}

/**
 * The first two digits of an area code (GB/T 2260): the 31 mainland provinces, Taiwan (71), and the
 * residence permits of Hong Kong, Macao and Taiwan residents (81, 82, 83). A typo there passes the
 * check character one time in eleven.
 */
const PROVINCE_CODES = new Set('11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83'.split(' '));

/** A day that exists (no 30 February), from 1900, and not after today in the province (UTC+8). */
function isBirthDate(yyyymmdd: string, now: Date): boolean {
  const [y, m, d] = [yyyymmdd.slice(0, 4), yyyymmdd.slice(4, 6), yyyymmdd.slice(6, 8)].map(Number) as [number, number, number];
  const at = new Date(Date.UTC(y, m - 1, d));
  const real = at.getUTCFullYear() === y && at.getUTCMonth() === m - 1 && at.getUTCDate() === d;
  return real && y >= 1900 && at.getTime() <= now.getTime() + 8 * 3_600_000;
}

/**
 * A string of at most `max` characters matching `pattern`, refused with one issue and `message`
 * either way (the length bound is what the OpenAPI document states; the pattern says what is meant).
 */
export const patterned = (max: number, pattern: RegExp, message: string) => z.string().max(max, { message, abort: true }).regex(pattern, message);

const nationalIdMessage = "must be an 18-character resident ID: a province's area code, a birth date that exists (from 1900, not after today), a valid ISO 7064 MOD 11-2 check character";
export const nationalId = patterned(32, /^\s*\d{17}[\dXx]\s*$/, nationalIdMessage)
  .transform((s) => s.trim().toUpperCase())
  .refine(isValidNationalId, { message: nationalIdMessage })
  .meta({ description: '18-character resident ID number; validated, never stored or logged in clear', example: '11010519491231002X' });

/** Integer fen (1 yuan = 100 fen). Never a float. */
export const fen = z.number().int().min(0).max(10_000_000_000).meta({ description: 'Amount in integer fen (1 yuan = 100 fen)' });
/** ¥1,000,000: no settlement, split or line amount is larger (and no province's own limit per settlement). */
export const MAX_SETTLEMENT_FEN = 100_000_000;
export const settlementFen = z.number().int().min(0).max(MAX_SETTLEMENT_FEN).meta({ description: 'Amount in integer fen (1 yuan = 100 fen)' });

export const institutionId = patterned(64, /^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/, 'letters, digits, "-" and "_", 2..64 characters');

/** NHSA-style drug code: upper-case letters and digits. */
export const drugCode = patterned(32, /^[A-Z0-9][A-Z0-9-]{2,31}$/, 'upper-case letters, digits and "-", 3..32 characters');

/** Adds an issue at items.<i>.drugCode for every repeated drug code (one line per drug). */
export const uniqueDrugCodes = <T extends { drugCode: string }>(items: T[], ctx: z.RefinementCtx<T[]>) => {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.drugCode)) ctx.addIssue({ code: 'custom', path: [i, 'drugCode'], message: `${item.drugCode} is listed twice` });
    seen.add(item.drugCode);
  });
};

/** ICD-10 code such as I10, E11.9, J45.901 (China's extended codes allow more digits). */
export const icd10 = patterned(8, /^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$/, 'ICD-10 code such as E11.9');

export const serverId = patterned(64, /^[A-Za-z0-9_-]{4,64}$/, 'an id issued by the server');

/**
 * Characters no text people type should carry: control characters (NUL and the like; tab and line
 * breaks only where text may span lines), bidirectional overrides and isolates (they make a name or
 * reason read differently from what it is), and UTF-16 surrogates without their pair (not valid
 * Unicode: JSON tools such as jq refuse a whole list that holds one).
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LINE_BREAKS = /[\t\n\r]/;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function unsafeTextReason(s: string, multiline: boolean): string | undefined {
  if (CONTROL.test(s) || (!multiline && LINE_BREAKS.test(s))) return 'must not contain control characters';
  if (BIDI.test(s)) return 'must not contain bidirectional override or isolate characters';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (an unpaired surrogate)';
  return undefined;
}

/** Text people type: trimmed, 1..max characters, none of the characters above. */
export const freeText = (max: number, o: { multiline?: boolean } = {}) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .superRefine((s, ctx) => {
      const why = unsafeTextReason(s, o.multiline ?? false);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    });

export const personName = freeText(64);

/**
 * Who the patient is, on a referral or prescription as its parties see it: the name and the masked
 * national ID, as a paper 转诊单 or 处方 carries them. A copy taken when the document is created.
 */
export const patient = z.object({ name: z.string().max(64), nationalIdMasked: patterned(32, /^[0-9]{3}\*{11}[0-9]{3}[0-9X]$/, 'a masked national ID') }).meta({ id: 'Patient' });

export const district = freeText(64);

export const phone = z
  .string()
  .trim()
  .max(11, { message: 'mainland mobile number, 11 digits starting with 1', abort: true })
  .regex(/^1\d{10}$/, 'mainland mobile number, 11 digits starting with 1');

export const isoDateTime = z.iso.datetime({ offset: true }).max(40);

export const calendarDate = z.iso.date().max(10);

export const location = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

export const roles = ['operator', 'channel', 'clinic', 'hospital', 'pharmacy'] as const;
export const role = z.enum(roles);
export type Role = z.infer<typeof role>;

export const MAX_PAGE_SIZE = 200;

/** Opaque pagination cursor (base64url of the last key read; functions/shared/db.ts). */
export const nextToken = patterned(2048, /^[A-Za-z0-9_-]+$/, 'a nextToken from the previous page');

/** Query of every list route. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  nextToken: nextToken.optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item).max(MAX_PAGE_SIZE), nextToken: nextToken.optional() });

export function maskPhone(value: string): string {
  return `${value.slice(0, 3)}****${value.slice(-4)}`;
}

export function maskNationalId(value: string): string {
  return `${value.slice(0, 3)}***********${value.slice(-4)}`;
}
