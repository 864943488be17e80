// Events of the vouchers context. Amounts in fen; ids only, no personal data.
import * as z from 'zod';
import { defineEvent, sources } from './catalog.ts';

const voucherDetail = { voucherId: z.string(), personId: z.string(), channel: z.string() };

export const VoucherActivated = defineEvent({ source: sources.vouchers, detailType: 'VoucherActivated', version: 1, detail: voucherDetail });
export const VoucherSuspended = defineEvent({ source: sources.vouchers, detailType: 'VoucherSuspended', version: 1, detail: voucherDetail });
export const VoucherResumed = defineEvent({ source: sources.vouchers, detailType: 'VoucherResumed', version: 1, detail: voucherDetail });

const settlementDetail = {
  settlementId: z.string(),
  voucherId: z.string(),
  personId: z.string(),
  institutionId: z.string(),
  prescriptionId: z.string().optional(),
  totalFen: z.number().int(),
  pooledFundFen: z.number().int(),
  personalAccountFen: z.number().int(),
  /** Paid from a relative's personal account (family mutual aid), and whose. */
  mutualAidFen: z.number().int().default(0),
  mutualAidPayerId: z.string().optional(),
  cashFen: z.number().int(),
};

export const SettlementCompleted = defineEvent({ source: sources.vouchers, detailType: 'SettlementCompleted', version: 1, detail: settlementDetail });
export const SettlementReversed = defineEvent({ source: sources.vouchers, detailType: 'SettlementReversed', version: 1, detail: settlementDetail });

// ── family mutual aid (家庭共济) ──
const bindingDetail = { bindingId: z.string(), payerPersonId: z.string(), beneficiaryPersonId: z.string(), relation: z.string() };
export const FamilyBindingCreated = defineEvent({ source: sources.vouchers, detailType: 'FamilyBindingCreated', version: 1, detail: bindingDetail });
export const FamilyBindingRevoked = defineEvent({ source: sources.vouchers, detailType: 'FamilyBindingRevoked', version: 1, detail: bindingDetail });

/** A trace code already sold was offered again (the attempt is refused; an operator alert follows). */
export const TraceCodeReuseAttempted = defineEvent({
  source: sources.vouchers,
  detailType: 'TraceCodeReuseAttempted',
  version: 1,
  detail: { institutionId: z.string(), codes: z.array(z.string()).min(1) },
});
