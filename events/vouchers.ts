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
  cashFen: z.number().int(),
};

export const SettlementCompleted = defineEvent({ source: sources.vouchers, detailType: 'SettlementCompleted', version: 1, detail: settlementDetail });
export const SettlementReversed = defineEvent({ source: sources.vouchers, detailType: 'SettlementReversed', version: 1, detail: settlementDetail });
