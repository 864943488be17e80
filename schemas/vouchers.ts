// The vouchers part of API.md: activation, QR codes, settlement, reversal, reconciliation.
import * as z from 'zod';
import { calendarDate, drugCode, fen, institutionId, isoDateTime, MAX_PAGE_SIZE, MAX_SETTLEMENT_FEN, nationalId, nextToken, pageQuery, patterned, personName, serverId, settlementFen, uniqueDrugCodes } from './common.ts';
import { authProblems, defineRoute, type RouteDef } from './route.ts';

export const voucherStatuses = ['active', 'suspended'] as const;
export const settlementStatuses = ['settled', 'reversed'] as const;

const channel = patterned(32, /^[a-z][a-z0-9-]{1,31}$/, 'lower-case channel name such as wechat, alipay, province-app');

/** A voucher code as the QR code carries it: a compact JWS. */
const code = patterned(4096, /^[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}$/, 'a voucher code (compact JWS)');

export const activationRequest = z
  .object({
    nationalId,
    name: personName,
    channel,
  })
  .strict();

export const voucher = z
  .object({
    voucherId: serverId,
    personId: serverId,
    status: z.enum(voucherStatuses),
    channel,
    activatedAt: isoDateTime,
    updatedAt: isoDateTime.optional(),
  })
  .meta({ id: 'Voucher' });
export type Voucher = z.infer<typeof voucher>;

export const voucherCode = z.object({
  code: code.meta({ description: 'QR payload: a compact JWS, single use' }),
  expiresAt: isoDateTime,
});

// One set of bounds for what a settlement may hold, used by the request schema and by the schema
// stored settlements are read with, so whatever is accepted can always be read back. A province's
// own per-settlement limit (policy.maxSettlementFen) is at most MAX_SETTLEMENT_FEN.
export const MAX_SETTLEMENT_LINES = 50;
/** Packs of one drug in one purchase. */
export const MAX_LINE_QUANTITY = 100;
/** ¥100,000 a pack. */
export const MAX_UNIT_PRICE_FEN = 10_000_000;
// In common.ts, so that the province config (schemas/province.ts, parsed by every function at start)
// bounds its limit without building this module's schemas.
export { MAX_SETTLEMENT_FEN, settlementFen };

export const settlementItem = z
  .object({
    drugCode,
    quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
    unitPriceFen: z.number().int().min(0).max(MAX_UNIT_PRICE_FEN),
  })
  .strict();

export const lineAmountFen = (items: ReadonlyArray<{ quantity: number; unitPriceFen: number }>) => items.reduce((t, i) => t + i.quantity * i.unitPriceFen, 0);

export const settlementRequest = z
  .object({
    code,
    prescriptionId: serverId.optional(),
    items: z
      .array(settlementItem)
      .min(1, 'at least one item')
      .max(MAX_SETTLEMENT_LINES, `at most ${MAX_SETTLEMENT_LINES} items`)
      .superRefine(uniqueDrugCodes)
      .refine((items) => lineAmountFen(items) <= MAX_SETTLEMENT_FEN, `a settlement totals at most ${MAX_SETTLEMENT_FEN} fen`),
  })
  .strict();

export const settlement = z
  .object({
    settlementId: serverId,
    voucherId: serverId,
    personId: serverId,
    institutionId,
    prescriptionId: serverId.optional(),
    totalFen: settlementFen,
    pooledFundFen: settlementFen,
    personalAccountFen: settlementFen,
    cashFen: settlementFen,
    /** Part of the eligible spend that counted towards the annual deductible. */
    deductibleAppliedFen: settlementFen,
    status: z.enum(settlementStatuses),
    settledAt: isoDateTime,
    reversedAt: isoDateTime.optional(),
    items: z
      .array(settlementItem.extend({ category: z.enum(['A', 'B', 'C']), amountFen: settlementFen, eligibleFen: settlementFen }))
      .max(MAX_SETTLEMENT_LINES),
  })
  .meta({ id: 'Settlement' });
export type Settlement = z.infer<typeof settlement>;

export const totals = z.object({ count: z.number().int().min(0), totalFen: fen, pooledFundFen: fen, personalAccountFen: fen, cashFen: fen });

export const reconciliation = z.object({
  date: calendarDate,
  items: z.array(settlement).max(MAX_PAGE_SIZE),
  nextToken: nextToken.optional(),
  /** Over every settlement of the day that is not reversed (all pages). */
  totals,
});

const tag = 'vouchers';
const voucherIdParam = z.object({ voucherId: serverId });
const settlementIdParam = z.object({ settlementId: serverId });

export const voucherRoutes = [
  defineRoute({
    operationId: 'activateVoucher',
    method: 'POST',
    path: '/vouchers',
    fn: 'vouchers',
    auth: ['channel'],
    tag,
    summary: 'Activate the e-voucher of an enrolled person (again: 200 with the same voucher)',
    body: activationRequest,
    responses: { 201: voucher, 200: voucher },
    problems: ['validation-failed', 'not-enrolled', ...authProblems],
  }),
  defineRoute({
    operationId: 'getVoucher',
    method: 'GET',
    path: '/vouchers/{voucherId}',
    fn: 'vouchers',
    auth: ['channel', 'operator'],
    tag,
    summary: 'One voucher',
    params: voucherIdParam,
    responses: { 200: voucher },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'suspendVoucher',
    method: 'POST',
    path: '/vouchers/{voucherId}/suspend',
    fn: 'vouchers',
    auth: ['channel', 'operator'],
    tag,
    summary: 'Suspend an active voucher (no codes, no settlements)',
    params: voucherIdParam,
    responses: { 200: voucher },
    problems: ['not-found', 'invalid-transition', ...authProblems],
  }),
  defineRoute({
    operationId: 'resumeVoucher',
    method: 'POST',
    path: '/vouchers/{voucherId}/resume',
    fn: 'vouchers',
    auth: ['channel', 'operator'],
    tag,
    summary: 'Resume a suspended voucher',
    params: voucherIdParam,
    responses: { 200: voucher },
    problems: ['not-found', 'invalid-transition', ...authProblems],
  }),
  defineRoute({
    operationId: 'issueVoucherCode',
    method: 'POST',
    path: '/vouchers/{voucherId}/codes',
    fn: 'vouchers',
    auth: ['channel'],
    tag,
    summary: 'Issue a short-lived single-use QR code for an active voucher',
    params: voucherIdParam,
    responses: { 201: voucherCode },
    problems: ['not-found', 'voucher-not-active', ...authProblems],
  }),
  defineRoute({
    operationId: 'settle',
    method: 'POST',
    path: '/settlements',
    fn: 'vouchers',
    auth: ['pharmacy', 'hospital'],
    tag,
    summary: 'Settle a purchase with a voucher code: pooled fund, personal account and cash',
    body: settlementRequest,
    idempotencyKey: 'required',
    responses: { 201: settlement },
    problems: ['validation-failed', 'code-already-used', 'code-expired', 'voucher-not-active', 'idempotency-key-reused', 'conflict', 'service-unavailable', ...authProblems],
  }),
  defineRoute({
    operationId: 'getSettlement',
    method: 'GET',
    path: '/settlements/{settlementId}',
    fn: 'vouchers',
    auth: ['pharmacy', 'hospital', 'operator'],
    tag,
    summary: 'One settlement (the settling institution and operators only)',
    params: settlementIdParam,
    responses: { 200: settlement },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'reverseSettlement',
    method: 'POST',
    path: '/settlements/{settlementId}/reversal',
    fn: 'vouchers',
    auth: ['pharmacy', 'hospital'],
    tag,
    summary: 'Reverse a settlement on its own day (Asia/Shanghai); balances restored exactly',
    params: settlementIdParam,
    responses: { 200: settlement },
    problems: ['not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'listSettlements',
    method: 'GET',
    path: '/settlements',
    fn: 'vouchers',
    auth: ['pharmacy', 'hospital'],
    tag,
    summary: "The caller's settlements of one day, with totals over those not reversed",
    query: pageQuery.extend({ date: calendarDate }),
    responses: { 200: reconciliation },
    problems: ['validation-failed', ...authProblems],
  }),
] as const satisfies readonly RouteDef[];
