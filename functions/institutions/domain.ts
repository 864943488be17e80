// Pure rules of the operator context: no AWS, no I/O.
import { maskNationalId, maskPhone } from '#schemas/common';
import { accountCredit, enrolmentPerson, type AccountCredit, type Institution } from '#schemas/institutions';
import { calendarYear } from '#shared/clock';
import { issuesToErrors } from '#shared/errors';
import type * as z from 'zod';

export type InstitutionLevel = 'primary' | 'secondary' | 'tertiary';

/** Clinics are primary care and hospitals secondary unless the operator says otherwise. */
export function effectiveLevel(i: Pick<Institution, 'type' | 'level'>): InstitutionLevel | undefined {
  if (i.level) return i.level;
  if (i.type === 'clinic') return 'primary';
  if (i.type === 'hospital') return 'secondary';
  return undefined;
}

export type EnrolmentPerson = z.output<typeof enrolmentPerson>;
export type Rejection = { index: number; errors: Array<{ path: string; message: string }> };

/**
 * Splits a batch (people to enrol, credits to make) into valid entries with their index, and
 * rejections by index: an invalid entry, or a person named a second time. Never throws.
 */
function checkBatch<T extends { nationalId: string }>(entries: unknown[], schema: z.ZodType<T>): { valid: Array<{ index: number; entry: T }>; rejected: Rejection[] } {
  const valid: Array<{ index: number; entry: T }> = [];
  const rejected: Rejection[] = [];
  const seen = new Map<string, number>();
  entries.forEach((raw, index) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return void rejected.push({ index, errors: issuesToErrors(parsed.error.issues) });
    const first = seen.get(parsed.data.nationalId);
    if (first !== undefined) return void rejected.push({ index, errors: [{ path: 'nationalId', message: `same person as index ${first} in this request` }] });
    seen.set(parsed.data.nationalId, index);
    valid.push({ index, entry: parsed.data });
  });
  return { valid, rejected };
}

export const checkEnrolmentBatch = (people: unknown[]) => checkBatch<EnrolmentPerson>(people, enrolmentPerson);
export const checkCreditBatch = (credits: unknown[]) => checkBatch<AccountCredit>(credits, accountCredit);

export function displayForms(p: EnrolmentPerson) {
  return {
    nationalIdMasked: maskNationalId(p.nationalId),
    ...(p.phone ? { phoneMasked: maskPhone(p.phone) } : {}),
  };
}

/** Pooled-fund usage counts per calendar year: a stored figure from an earlier year reads as 0. */
export function pooledUsedThisYear(item: { annualPooledUsedFen?: number; pooledYear?: number }, now: Date, timeZone: string): number {
  return item.pooledYear === calendarYear(now, timeZone) ? (item.annualPooledUsedFen ?? 0) : 0;
}
