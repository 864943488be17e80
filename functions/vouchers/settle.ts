// POST /settlements: the use case. Reads everything in one batch, answers a repeated
// Idempotency-Key from its record, verifies the code, prices and splits the purchase, and writes
// it all in one transaction guarded by the balances' version; on a lost race it re-reads and
// recomputes, a bounded number of times.
import { decodeJwt } from 'jose';
import type { Institution } from '#schemas/institutions';
import { lineAmountFen, type Settlement } from '#schemas/vouchers';
import { calendarDay, calendarYear } from '#shared/clock';
import { withRaceRetries } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import type { Response } from '#shared/http';
import { IdempotencyRecordExists, replay, requestHash } from '#shared/idempotency';
import { newId } from '#shared/ids';
import type { Principal } from '#shared/principal';
import { verifyCode } from './codes.ts';
import { settlementMayName } from '../prescriptions/domain.ts';
import { isReferredThere } from '../referrals/keys.ts';
import { fundRatio, type Payee } from './domain.ts';
import { splitPurchase, type Category } from './split.ts';
import { SETTLE_OPERATION } from './keys.ts';
import * as store from './store.ts';

export interface SettleRequest {
  body: { code: string; prescriptionId?: string; items: Array<{ drugCode: string; quantity: number; unitPriceFen: number }> };
  principal: Principal;
  /** The caller's registered institution (the HTTP chain checked it is of the caller's role). */
  institution: Institution | undefined;
  idempotencyKey: string;
  requestId: string;
  now: Date;
}

/** Racing settlements of one person serialise on the balances' version; each loser recomputes. */
const RACE_RETRIES = 12;

export async function settle(req: SettleRequest): Promise<Response> {
  const { body, principal, now } = req;
  const institutionId = principal.inst!;
  // A counter's purchase, not a year's care: above the province's limit it is refused before anything is read.
  const { maxSettlementFen } = provinceConfig().policy;
  const purchase = lineAmountFen(body.items);
  if (purchase > maxSettlementFen) {
    throw problem('validation-failed', `the purchase totals ${purchase} fen, above this province's limit of ${maxSettlementFen} fen for one settlement`, [
      { path: 'body.items', message: `total above ${maxSettlementFen} fen` },
    ]);
  }
  const hash = requestHash(body);
  const unverified = peekCode(body.code);

  return withRaceRetries(async () => {
    const inputs = await store.loadSettlementInputs({
      institutionId,
      idempotencyKey: req.idempotencyKey,
      voucherId: unverified.voucherId,
      personId: unverified.personId,
      jti: unverified.jti,
      drugCodes: body.items.map((i) => i.drugCode),
      prescriptionId: body.prescriptionId,
    });
    // A retry of an answered request gets the same answer, even once its code has expired.
    if (inputs.idempotency) return replay(inputs.idempotency, hash);

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
    const unknown = body.items.flatMap((item, i) => (inputs.drugs.has(item.drugCode) ? [] : [{ path: `body.items.${i}.drugCode`, message: `unknown drug ${item.drugCode}` }]));
    if (unknown.length) throw problem('validation-failed', 'items name drugs that are not in the catalog', unknown);

    const { timeZone, policy } = provinceConfig();
    const year = calendarYear(now, timeZone);
    const person = inputs.person;
    const sameYear = person.pooledYear === year;
    const position = {
      personalAccountFen: Number(person.personalAccountFen ?? 0),
      annualPooledUsedFen: sameYear ? Number(person.annualPooledUsedFen ?? 0) : 0,
      deductibleMetFen: sameYear ? Number(person.deductibleMetFen ?? 0) : 0,
    };
    // The person's "referred to" item at this institution (the referrals context owns the rule).
    const referred = isReferredThere(inputs.referral);
    const split = splitPurchase(
      body.items.map((i) => ({ ...i, category: inputs.drugs.get(i.drugCode)!.category as Category })),
      { ...policy, ratio: fundRatio(policy, payee, referred) },
      position,
    );

    const settlement: Settlement = {
      settlementId: newId('stl'),
      voucherId: claims.voucherId,
      personId: claims.personId,
      institutionId,
      ...(body.prescriptionId ? { prescriptionId: body.prescriptionId } : {}),
      totalFen: split.totalFen,
      pooledFundFen: split.pooledFundFen,
      personalAccountFen: split.personalAccountFen,
      cashFen: split.cashFen,
      deductibleAppliedFen: split.deductibleAppliedFen,
      status: 'settled',
      settledAt: now.toISOString(),
      items: split.lines.map(({ drugCode, quantity, unitPriceFen, category, amountFen, eligibleFen }) => ({ drugCode, quantity, unitPriceFen, category, amountFen, eligibleFen })),
    };
    try {
      await store.writeSettlement(
        {
          settlement,
          day: calendarDay(now, timeZone),
          jti: claims.jti,
          codeExpiresAt: claims.expiresAt,
          person: {
            personId: claims.personId,
            version: Number(person.balanceVersion ?? 0),
            personalAccountFen: position.personalAccountFen - split.personalAccountFen,
            annualPooledUsedFen: position.annualPooledUsedFen + split.pooledFundFen,
            deductibleMetFen: position.deductibleMetFen + split.deductibleAppliedFen,
            pooledYear: year,
          },
          idempotency: { institutionId, operation: SETTLE_OPERATION, key: req.idempotencyKey, hash },
        },
        { now, correlationId: req.requestId },
      );
    } catch (err) {
      // A concurrent request with the same key won: answer as it did.
      if (err instanceof IdempotencyRecordExists && err.record) return replay(err.record, hash);
      throw err;
    }
    return { status: 201, body: settlement, headers: { location: `/settlements/${settlement.settlementId}` } };
  }, RACE_RETRIES);
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
