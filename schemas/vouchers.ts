// The vouchers part of API.md: activation, QR codes, settlement, reversal, reconciliation.
import * as z from 'zod';
import { calendarDate, drugCode, fen, institutionId, isoDateTime, MAX_PAGE_SIZE, nationalId, nextToken, pageQuery, patterned, personName, serverId } from './common.ts';
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

export const settlementItem = z
  .object({
    drugCode,
    quantity: z.number().int().min(1).max(10_000),
    unitPriceFen: z.number().int().min(0).max(10_000_000),
  })
  .strict();

export const MAX_SETTLEMENT_ITEMS = 50;

export const settlementRequest = z
  .object({
    code,
    prescriptionId: serverId.optional(),
    items: z.array(settlementItem).min(1, 'at least one item').max(MAX_SETTLEMENT_ITEMS, `at most ${MAX_SETTLEMENT_ITEMS} items`),
  })
  .strict();

export const settlement = z
  .object({
    settlementId: serverId,
    voucherId: serverId,
    personId: serverId,
    institutionId,
    prescriptionId: serverId.optional(),
    totalFen: fen,
    pooledFundFen: fen,
    personalAccountFen: fen,
    cashFen: fen,
    /** Part of the eligible spend that counted towards the annual deductible. */
    deductibleAppliedFen: fen,
    status: z.enum(settlementStatuses),
    settledAt: isoDateTime,
    reversedAt: isoDateTime.optional(),
    items: z
      .array(settlementItem.extend({ category: z.enum(['A', 'B', 'C']), amountFen: fen, eligibleFen: fen }))
      .max(MAX_SETTLEMENT_ITEMS),
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
