// POST /settlements and its pre-settlement POST /settlements/quote: one use case, one computation.
// Both read everything in one batch, check the code (signature, expiry, not used), the voucher, the
// person, the named prescription, the drugs and the trace codes, and split the purchase (split.ts)
// with the person's balances and, under family mutual aid, the payer's. The quote stops there and
// writes nothing; the settlement writes it all in one transaction guarded by the balances' versions
// (the person's and the payer's), every trace code's one sale, the code's one use and, naming a
// prescription, the list of the settlements that did (so its packs are not paid twice); on a lost
// race it re-reads and recomputes, a bounded number of times.
import { decodeJwt } from 'jose';
import type { Institution } from '#schemas/institutions';
import { lineAmountFen, type Settlement, type SettlementQuote } from '#schemas/vouchers';
import { calendarDay, calendarYear } from '#shared/clock';
import { batchGet, keyOf, withRaceRetries, writeTransaction, type StoredItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import type { Response } from '#shared/http';
import { IdempotencyRecordExists, recordedAnswer, replay, requestHash } from '#shared/idempotency';
import { newId } from '#shared/ids';
import { logger } from '#shared/logger';
import { outboxEvent } from '#shared/outbox';
import type { Principal } from '#shared/principal';
import { TraceCodeReuseAttempted } from '#events/vouchers';
import { raiseAlert } from '../alerts/store.ts';
import { paidAlready, settlementMayName } from '../prescriptions/domain.ts';
import { isReferredThere } from '../referrals/keys.ts';
import { verifyCode, type CodeClaims } from './codes.ts';
import { fundRatio, type Payee } from './domain.ts';
import { SETTLE_OPERATION, traceCodeKey } from './keys.ts';
import { splitPurchase, type Category } from './split.ts';
import * as store from './store.ts';

interface SettlementBody {
  code: string;
  prescriptionId?: string;
  items: Array<{ drugCode: string; quantity: number; unitPriceFen: number; traceCodes?: string[] }>;
}

export interface SettleRequest {
  body: SettlementBody;
  principal: Principal;
  /** The caller's registered institution (the HTTP chain checked it is of the caller's role). */
  institution: Institution | undefined;
  /** Required to settle; a quote takes none. */
  idempotencyKey?: string;
  requestId: string;
  now: Date;
}

/** Racing settlements of one person serialise on the balances' version; each loser recomputes. */
const RACE_RETRIES = 12;

/** What a settlement would be, from what was read: the settlement and the writes of its balances. */
interface Priced {
  settlement: Settlement;
  claims: CodeClaims;
  person: store.BalancesWrite;
  payer?: NonNullable<store.SettlementWrite['payer']>;
}

/** Refused before anything is read: a counter's purchase, not a year's care. */
function checkLimit(body: SettlementBody): void {
  const { maxSettlementFen } = provinceConfig().policy;
  const purchase = lineAmountFen(body.items);
  if (purchase > maxSettlementFen) {
    throw problem('validation-failed', `the purchase totals ${purchase} fen, above this province's limit of ${maxSettlementFen} fen for one settlement`, [
      { path: 'body.items', message: `total above ${maxSettlementFen} fen` },
    ]);
  }
}

const traceCodesOf = (body: SettlementBody) => body.items.flatMap((i) => i.traceCodes ?? []);

/** 409 trace-code-used naming each code of the request that is sold already. */
function traceCodeUsed(body: SettlementBody, sales: readonly store.SoldTraceCode[]): HttpProblem {
  const sold = new Set(sales.map((s) => s.code));
  const errors = body.items.flatMap((item, i) =>
    (item.traceCodes ?? []).flatMap((code, j) => (sold.has(code) ? [{ path: `body.items.${i}.traceCodes.${j}`, message: `${code} is already sold` }] : [])),
  );
  return problem('trace-code-used', `${errors.length} trace code(s) of this purchase were sold before: one code, one sale; scan the packs again`, errors);
}

/** 409 conflict naming, on each line of a drug paid twice, the settlements that paid for it. */
function paidTwice(body: SettlementBody, twice: ReturnType<typeof paidAlready>): HttpProblem {
  const errors = body.items.flatMap((item, i) => {
    const t = twice.find((x) => x.drugCode === item.drugCode);
    return t ? [{ path: `body.items.${i}.quantity`, message: `${t.paid} of the ${t.owing} packs of ${t.drugCode} owing are paid by ${t.settlementIds.join(', ')}, not yet dispensed` }] : [];
  });
  const ids = [...new Set(twice.flatMap((t) => t.settlementIds))].join(', ');
  return problem(
    'conflict',
    `settlement ${ids} already paid for these packs of prescription ${body.prescriptionId}, not yet dispensed: dispense against it, or reverse it before charging again`,
    errors,
  );
}

/** The checks and the split both a quote and a settlement make. */
async function price(req: SettleRequest, inputs: store.SettlementInputs): Promise<Priced> {
  const { body, now } = req;
  const institutionId = req.principal.inst!;
  const claims = await verifyCode(body.code, now);
  const payee = payeeOf(req.institution);
  if (!inputs.voucher || inputs.voucher.status !== 'active') throw problem('voucher-not-active', 'the voucher is suspended');
  if (inputs.codeUsed) throw problem('code-already-used', 'this voucher code has already been used; ask the patient to show a new one');
  if (!inputs.person) throw problem('not-enrolled', 'the voucher holder is no longer enrolled');

  // A prescription named must be one this pharmacy is filling for this person; one answer otherwise.
  if (body.prescriptionId && !settlementMayName(inputs.prescription, claims.personId, institutionId)) {
    throw problem('validation-failed', 'prescriptionId names no prescription of this person that is routed here', [
      { path: 'body.prescriptionId', message: 'no prescription of this person routed to this pharmacy' },
    ]);
  }
  // Packs that settlements made for it paid for and that were not handed over are not paid twice.
  if (body.prescriptionId && inputs.prescription && inputs.paidFor) {
    const twice = paidAlready(inputs.prescription, inputs.paidFor.settled, body.items);
    if (twice.length) throw paidTwice(body, twice);
  }
  const unknown = body.items.flatMap((item, i) => (inputs.drugs.has(item.drugCode) ? [] : [{ path: `body.items.${i}.drugCode`, message: `unknown drug ${item.drugCode}` }]));
  if (unknown.length) throw problem('validation-failed', 'items name drugs that are not in the catalog', unknown);
  if (inputs.soldTraceCodes.length) throw traceCodeUsed(body, inputs.soldTraceCodes);

  const { timeZone, policy } = provinceConfig();
  const year = calendarYear(now, timeZone);
  const thisYear = (item: StoredItem) => item.pooledYear === year;
  const person = inputs.person;
  const payer = inputs.mutualAid?.payer;
  const position = {
    personalAccountFen: Number(person.personalAccountFen ?? 0),
    annualPooledUsedFen: thisYear(person) ? Number(person.annualPooledUsedFen ?? 0) : 0,
    deductibleMetFen: thisYear(person) ? Number(person.deductibleMetFen ?? 0) : 0,
    ...(payer ? { mutualAidBalanceFen: Number(payer.personalAccountFen ?? 0) } : {}),
  };
  // The person's "referred to" item at this institution (the referrals context owns the rule).
  const referred = isReferredThere(inputs.referral);
  const split = splitPurchase(
    body.items.map((i) => ({
      ...i,
      category: inputs.drugs.get(i.drugCode)!.category as Category,
      // Where the province requires trace codes, only scanned packs are insurable.
      insurablePacks: policy.traceCodesRequired ? (i.traceCodes?.length ?? 0) : i.quantity,
    })),
    { ...policy, ratio: fundRatio(policy, payee, referred) },
    position,
  );

  const aid = split.mutualAidFen > 0 && inputs.mutualAid && payer ? inputs.mutualAid : undefined;
  const settlement: Settlement = {
    settlementId: newId('stl'),
    voucherId: claims.voucherId,
    personId: claims.personId,
    patient: { name: String(person.name), nationalIdMasked: String(person.nationalIdMasked) },
    institutionId,
    ...(body.prescriptionId ? { prescriptionId: body.prescriptionId } : {}),
    totalFen: split.totalFen,
    pooledFundFen: split.pooledFundFen,
    personalAccountFen: split.personalAccountFen,
    mutualAidFen: split.mutualAidFen,
    ...(aid ? { mutualAidPayerId: aid.payerPersonId } : {}),
    cashFen: split.cashFen,
    deductibleAppliedFen: split.deductibleAppliedFen,
    status: 'settled',
    settledAt: now.toISOString(),
    items: split.lines.map(({ drugCode, quantity, unitPriceFen, traceCodes, category, amountFen, eligibleFen, untracedPacks }) => ({
      drugCode, quantity, unitPriceFen, ...(traceCodes?.length ? { traceCodes } : {}), category, amountFen, eligibleFen, untracedPacks,
    })),
  };
  return {
    settlement,
    claims,
    person: {
      personId: claims.personId,
      version: Number(person.balanceVersion ?? 0),
      personalAccountFen: position.personalAccountFen - split.personalAccountFen,
      annualPooledUsedFen: position.annualPooledUsedFen + split.pooledFundFen,
      deductibleMetFen: position.deductibleMetFen + split.deductibleAppliedFen,
      pooledYear: year,
    },
    ...(aid && payer
      ? { payer: { bindingId: aid.bindingId, personId: aid.payerPersonId, version: Number(payer.balanceVersion ?? 0), personalAccountFen: Number(payer.personalAccountFen ?? 0) - split.mutualAidFen } }
      : {}),
  };
}

const load = (req: SettleRequest, withIdempotency: boolean) => {
  const unverified = peekCode(req.body.code);
  return store.loadSettlementInputs({
    institutionId: req.principal.inst!,
    ...(withIdempotency ? { idempotencyKey: req.idempotencyKey } : {}),
    voucherId: unverified.voucherId,
    personId: unverified.personId,
    jti: unverified.jti,
    drugCodes: req.body.items.map((i) => i.drugCode),
    prescriptionId: req.body.prescriptionId,
    traceCodes: traceCodesOf(req.body),
  });
};

/** POST /settlements/quote: what settling this body now would give; writes nothing, uses no code. */
export async function quote(req: SettleRequest): Promise<Response> {
  checkLimit(req.body);
  const { settlement: s } = await price(req, await load(req, false));
  const body: SettlementQuote = {
    voucherId: s.voucherId, personId: s.personId, ...(s.patient ? { patient: s.patient } : {}), institutionId: s.institutionId,
    totalFen: s.totalFen, pooledFundFen: s.pooledFundFen, personalAccountFen: s.personalAccountFen, mutualAidFen: s.mutualAidFen,
    ...(s.mutualAidPayerId ? { mutualAidPayerId: s.mutualAidPayerId } : {}),
    cashFen: s.cashFen, deductibleAppliedFen: s.deductibleAppliedFen, items: s.items,
  };
  return { status: 200, body };
}

/** Refusals a committed twin of the request (same Idempotency-Key) would cause. */
const REFUSED_FOR_A_TWIN = new Set(['code-already-used', 'trace-code-used', 'conflict']);

/** POST /settlements. */
export async function settle(req: SettleRequest): Promise<Response> {
  checkLimit(req.body);
  const { now } = req;
  const institutionId = req.principal.inst!;
  const hash = requestHash(req.body);

  return withRaceRetries(async () => {
    const inputs = await load(req, true);
    // A retry of an answered request gets the same answer, even once its code has expired.
    if (inputs.idempotency) return replay(inputs.idempotency, hash);
    let priced: Priced;
    try {
      priced = await price(req, inputs);
    } catch (err) {
      // A twin with the same key (a POS retry) may have committed between the reads of one
      // BatchGetItem: its code used, its trace codes sold, its prescription paid. Its answer is
      // this request's, and no reuse alert is raised against the pharmacy for its own sale.
      if (err instanceof HttpProblem && REFUSED_FOR_A_TWIN.has(err.slug)) {
        const twin = await recordedAnswer({ institutionId, operation: SETTLE_OPERATION, key: req.idempotencyKey! });
        if (twin) return replay(twin, hash);
      }
      if (err instanceof HttpProblem && err.slug === 'trace-code-used') await alertTraceCodeReuse(institutionId, inputs.soldTraceCodes, req);
      throw err;
    }
    const { settlement, claims } = priced;
    try {
      await store.writeSettlement(
        {
          settlement,
          day: calendarDay(now, provinceConfig().timeZone),
          jti: claims.jti,
          codeExpiresAt: claims.expiresAt,
          person: priced.person,
          ...(priced.payer ? { payer: priced.payer } : {}),
          idempotency: { institutionId, operation: SETTLE_OPERATION, key: req.idempotencyKey!, hash },
          ...(inputs.paidFor ? { paidFor: inputs.paidFor } : {}),
        },
        { now, correlationId: req.requestId },
      );
    } catch (err) {
      // A concurrent request with the same key won: answer as it did.
      if (err instanceof IdempotencyRecordExists && err.record) return replay(err.record, hash);
      // A counter racing this one sold a code of this purchase: name every code sold by now.
      if (err instanceof store.TraceCodeSold) {
        const sold = await soldNow(traceCodesOf(req.body));
        await alertTraceCodeReuse(institutionId, sold, req);
        throw traceCodeUsed(req.body, sold);
      }
      throw err;
    }
    return { status: 201, body: settlement, headers: { location: `/settlements/${settlement.settlementId}` } };
  }, RACE_RETRIES);
}

async function soldNow(codes: string[]): Promise<store.SoldTraceCode[]> {
  const found = await batchGet(codes.map(traceCodeKey), { projection: ['code', 'status', 'institutionId', 'settlementId'] });
  return codes.flatMap((c) => store.soldAs(c, found.get(keyOf(traceCodeKey(c)))));
}

/**
 * The attempt to sell a code again becomes an operator alert (and an event), whatever else happens.
 * The alert names where each code was sold and in which settlement (`soldAt`, `soldIn`, in the order
 * of `codes`), so the operator can ask both pharmacies.
 */
async function alertTraceCodeReuse(institutionId: string, sold: store.SoldTraceCode[], req: SettleRequest): Promise<void> {
  if (!sold.length) return;
  const codes = sold.map((s) => s.code);
  try {
    await writeTransaction([
      ...raiseAlert({ type: 'trace-code-reused', institutionId, details: { codes, soldAt: sold.map((s) => s.institutionId), soldIn: sold.map((s) => s.settlementId), requestId: req.requestId }, now: req.now }),
      outboxEvent(TraceCodeReuseAttempted, { institutionId, codes }, { now: req.now, correlationId: req.requestId }),
    ]);
  } catch (err) {
    // The refusal stands either way; the alert's failure is logged (ids only) for the operator on call.
    logger.error('could not record a trace-code reuse alert', { institutionId, error: err as Error });
  }
}

/** The ids a code claims, unverified: only used as lookup keys before the signature is checked. */
function peekCode(code: string): { voucherId: string; personId: string; jti: string } {
  try {
    const c = decodeJwt(code);
    if (typeof c.sub === 'string' && typeof c.pid === 'string' && typeof c.jti === 'string') return { voucherId: c.sub, personId: c.pid, jti: c.jti };
  } catch {
    // fall through
  }
  throw problem('validation-failed', 'the code is not a voucher code (scan it again)', [{ path: 'body.code', message: 'not a voucher code' }]);
}

/** Only a designated institution settles vouchers (the chain checked it is registered, of the caller's role). */
function payeeOf(institution: Institution | undefined): Payee {
  if (!institution?.designated) throw new HttpProblem('forbidden', `institution ${institution?.id} is not designated for insurance settlement`);
  return { type: institution.type, level: institution.level };
}
