// The vouchers part of API.md: activation, QR codes, settlement, reversal, reconciliation.
import * as z from 'zod';
import { calendarDate, drugCode, fen, institutionId, isoDateTime, MAX_PAGE_SIZE, MAX_SETTLEMENT_FEN, nationalId, nextToken, pageQuery, patient, patterned, personName, serverId, settlementFen, uniqueDrugCodes } from './common.ts';
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

/** A drug trace code (药品追溯码): one per pack, 20 digits starting with 8. */
export const traceCode = patterned(20, /^8\d{19}$/, '20 digits starting with 8');

/**
 * The most trace codes one settlement takes: each is a write of the settlement's one transaction,
 * which DynamoDB caps at 100 writes, and the settlement's own writes need the rest.
 */
export const MAX_TRACE_CODES_PER_SETTLEMENT = 90;

const settlementItemBase = z
  .object({
    drugCode,
    quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
    unitPriceFen: z.number().int().min(0).max(MAX_UNIT_PRICE_FEN),
    traceCodes: z.array(traceCode).max(MAX_LINE_QUANTITY).optional().meta({
      description: 'The trace codes scanned from the packs, at most one per pack. Where the province requires them, packs without one are paid in cash only',
    }),
  })
  .strict();
export const settlementItem = settlementItemBase.refine((i) => (i.traceCodes?.length ?? 0) <= i.quantity, {
  message: 'at most one trace code per pack (no more codes than the quantity)',
  path: ['traceCodes'],
});

/** Codes repeated inside one request: an issue at items.<i>.traceCodes.<j> for every repetition. */
const uniqueTraceCodes = (items: Array<{ traceCodes?: string[] }>, ctx: z.RefinementCtx<Array<{ traceCodes?: string[] }>>) => {
  const seen = new Set<string>();
  let count = 0;
  items.forEach((item, i) =>
    (item.traceCodes ?? []).forEach((c, j) => {
      count++;
      if (seen.has(c)) ctx.addIssue({ code: 'custom', path: [i, 'traceCodes', j], message: `trace code ${c} is listed twice` });
      seen.add(c);
    }),
  );
  if (count > MAX_TRACE_CODES_PER_SETTLEMENT) {
    ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_TRACE_CODES_PER_SETTLEMENT} packs with trace codes in one settlement (one transaction); settle the rest separately` });
  }
};

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
      .superRefine(uniqueTraceCodes)
      .refine((items) => lineAmountFen(items) <= MAX_SETTLEMENT_FEN, `a settlement totals at most ${MAX_SETTLEMENT_FEN} fen`),
  })
  .strict();

/** A settled line: what it cost, what the insurance could pay for, and the packs sold without a trace code. */
export const settledItem = settlementItemBase.extend({
  category: z.enum(['A', 'B', 'C']),
  amountFen: settlementFen,
  eligibleFen: settlementFen,
  /** Packs without a trace code where the province requires them: paid in cash only. */
  untracedPacks: z.number().int().min(0).max(MAX_LINE_QUANTITY).default(0),
});

/** What the settlement of a purchase would be (pre-settlement): its parts, no id. */
export const settlementQuote = z
  .object({
    voucherId: serverId,
    personId: serverId,
    /** Whose code it is, as the counter's screen and receipt name them (姓名, masked ID): the pharmacist checks it against the patient. */
    patient: patient.optional(),
    institutionId,
    totalFen: settlementFen,
    pooledFundFen: settlementFen,
    personalAccountFen: settlementFen,
    /** Paid from the personal account of the relative bound to pay for this person (家庭共济). */
    mutualAidFen: settlementFen,
    mutualAidPayerId: serverId.optional(),
    cashFen: settlementFen,
    deductibleAppliedFen: settlementFen,
    items: z.array(settledItem).max(MAX_SETTLEMENT_LINES),
  })
  .meta({ id: 'SettlementQuote' });
export type SettlementQuote = z.infer<typeof settlementQuote>;

export const traceCodeSale = z
  .object({
    code: traceCode,
    status: z.enum(['sold', 'returned']),
    drugCode,
    settlementId: serverId,
    institutionId,
    soldAt: isoDateTime,
  })
  .meta({ id: 'TraceCodeSale' });
export type TraceCodeSale = z.infer<typeof traceCodeSale>;

export const settlement = z
  .object({
    settlementId: serverId,
    voucherId: serverId,
    personId: serverId,
    /** Copied when settled, as a referral or prescription copies it (older settlements have none). */
    patient: patient.optional(),
    institutionId,
    prescriptionId: serverId.optional(),
    totalFen: settlementFen,
    pooledFundFen: settlementFen,
    personalAccountFen: settlementFen,
    /** Paid from the payer's personal account (family mutual aid); 0 without a binding. */
    mutualAidFen: settlementFen.default(0),
    mutualAidPayerId: serverId.optional(),
    cashFen: settlementFen,
    /** Part of the eligible spend that counted towards the annual deductible. */
    deductibleAppliedFen: settlementFen,
    status: z.enum(settlementStatuses),
    settledAt: isoDateTime,
    reversedAt: isoDateTime.optional(),
    /** When a dispense first handed over drugs against it (settlements from before 2026-12 lack it): from then on it is never reversed. */
    handedOverAt: isoDateTime.optional(),
    items: z.array(settledItem).max(MAX_SETTLEMENT_LINES),
  })
  .meta({ id: 'Settlement' });
export type Settlement = z.infer<typeof settlement>;

export const totals = z.object({ count: z.number().int().min(0), totalFen: fen, pooledFundFen: fen, personalAccountFen: fen, mutualAidFen: fen, cashFen: fen });

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
    summary:
      'Settle a purchase with a voucher code: pooled fund, personal account, a relative\'s account (family mutual aid) and cash. ' +
      `Each pack may carry its drug trace code (at most ${MAX_TRACE_CODES_PER_SETTLEMENT} codes in one settlement: one transaction); ` +
      'where the province requires them, packs without one are paid in cash only; a code already sold is 409 trace-code-used. ' +
      'Naming a prescription, packs that settlements made for it paid for and that were not handed over are not paid again: 409 conflict naming them',
    body: settlementRequest,
    idempotencyKey: 'required',
    responses: { 201: settlement },
    problems: ['validation-failed', 'code-already-used', 'code-expired', 'voucher-not-active', 'trace-code-used', 'idempotency-key-reused', 'conflict', 'service-unavailable', ...authProblems],
  }),
  defineRoute({
    operationId: 'quoteSettlement',
    method: 'POST',
    path: '/settlements/quote',
    fn: 'vouchers',
    auth: ['pharmacy', 'hospital'],
    tag,
    summary:
      'Pre-settlement (NHSA 2101): what settling this body now would give, computed exactly as the settlement is. ' +
      'Checks the code (signature, expiry, not used) without using it, and writes nothing',
    body: settlementRequest,
    readOnly: true,
    responses: { 200: settlementQuote },
    problems: ['validation-failed', 'code-already-used', 'code-expired', 'voucher-not-active', 'trace-code-used', 'conflict', 'service-unavailable', ...authProblems],
  }),
  defineRoute({
    operationId: 'getTraceCode',
    method: 'GET',
    path: '/trace-codes/{code}',
    fn: 'vouchers',
    auth: ['operator', 'pharmacy', 'hospital'],
    tag,
    summary: 'The sale of one drug trace code (operators; the institution that sold it)',
    params: z.object({ code: traceCode }),
    responses: { 200: traceCodeSale },
    problems: ['validation-failed', 'not-found', ...authProblems],
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
