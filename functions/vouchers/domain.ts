// Pure rules of the vouchers context: state machines, the pooled-fund ratio, who may end a family binding.
import type { FamilyBinding } from '#schemas/family';
import type { ReimbursementPolicy } from '#schemas/province';
import { calendarDay } from '#shared/clock';
import { effectiveLevel } from '../institutions/domain.ts';

/** Voucher and settlement state machines: action → statuses it may leave from → status it reaches. */
export const voucherTransitions = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
} as const;

export const settlementTransitions = {
  reverse: { from: ['settled'], to: 'reversed' },
} as const;

/** A settlement may be reversed only on the calendar day (province time) it was made. */
export function reversibleOn(settledAt: string, now: Date, timeZone: string): boolean {
  return calendarDay(new Date(settledAt), timeZone) === calendarDay(now, timeZone);
}

export interface Payee {
  type: 'clinic' | 'hospital' | 'pharmacy';
  level?: 'primary' | 'secondary' | 'tertiary';
}

/**
 * Pooled-fund ratio: pharmacies one rate; clinics and hospitals by level, higher for people
 * referred there (what "referred" means is the referrals context's rule: isReferredThere in
 * functions/referrals/keys.ts).
 */
export function fundRatio(policy: ReimbursementPolicy, payee: Payee, referred: boolean): number {
  if (payee.type === 'pharmacy') return policy.ratio.pharmacy;
  const level = effectiveLevel(payee) ?? 'secondary';
  return referred ? policy.referredRatio[level] : policy.ratio[level];
}

/**
 * Who may revoke a family binding (API.md: pid = payer): its payer, through their app, and
 * operators. The beneficiary sees the binding in their own list, so it is no secret to them: 403,
 * not theirs to end. To anyone else it does not exist (404).
 */
export function revokeAccess(b: Pick<FamilyBinding, 'payerPersonId' | 'beneficiaryPersonId'>, who: { role: string; pid?: string }): 'allowed' | 'forbidden' | 'hidden' {
  if (who.role === 'operator' || (who.pid !== undefined && who.pid === b.payerPersonId)) return 'allowed';
  if (who.pid !== undefined && who.pid === b.beneficiaryPersonId) return 'forbidden';
  return 'hidden';
}

/** Middle dots written between the parts of a minority or foreign name (阿卜杜拉·艾山), by one input method or another. */
const MIDDLE_DOTS = /[·•‧∙⋅・.]/g;

/**
 * Whether a name typed into a channel app is the enrolled one: the same after Unicode compatibility
 * normalisation (a composed é and e + accent, full-width letters), without whitespace (apps pad
 * differently), and with any middle dot the same dot.
 */
export function sameName(enrolled: string, typed: string): boolean {
  const comparable = (name: string) => name.normalize('NFKC').replace(/\s+/g, '').replace(MIDDLE_DOTS, '·');
  return comparable(enrolled) === comparable(typed);
}
