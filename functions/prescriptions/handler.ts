// Prescription routes: issue, read, worklists, the pharmacy's review and dispense, the prescriber's
// cancel, and pharmacy stock. Routing itself is asynchronous (router.ts).
import { prescriptionRoutes } from '#schemas/prescriptions';
import { TransactionConflict, withRaceRetries, type TxItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import { apiHandler } from '#shared/http';
import { IdempotencyRecordExists, idempotencyRecord, recordedAnswer, replay, requestHash } from '#shared/idempotency';
import { newId } from '#shared/ids';
import { giveBack, senderLimits, take, type Limit } from '#shared/limits';
import type { Principal } from '#shared/principal';
import {
  actAccess, actorOf, applyTransition, canSee, dispenseOf, markReady, newPrescription, referralProblems, settlementProblems, type Action, type Move, type PrescriptionRecord,
} from './domain.ts';
import * as store from './store.ts';

/** Reads the prescription as `caller` may see it: someone else's is 404 (its existence is not revealed). */
async function visible(id: string, caller: Principal): Promise<PrescriptionRecord> {
  const rx = await store.getPrescription(id);
  if (!rx || !canSee(rx, caller)) throw problem('not-found', `no prescription ${id}`);
  return rx;
}

/**
 * A lost race re-reads and decides afresh. The loser of a race between two moves finds the winner's
 * status on its first re-read (a failed condition means the winner has committed), so it answers 409
 * invalid-transition; only a run of in-flight collisions (TransactionConflict) uses more retries, and
 * 409 conflict is left for when all of them do.
 */
const ACT_RETRIES = 10;

/**
 * One move by an institution: read, check access and the transition table (actor, status,
 * validity), write conditionally.
 */
async function act(
  id: string,
  caller: Principal,
  action: Action | ((rx: PrescriptionRecord) => { action: Action; move: Partial<Move> }),
  move: Omit<Move, 'by' | 'actor'>,
  ctx: { now: Date; requestId: string },
  extra: (rx: PrescriptionRecord, move: Omit<Move, 'by' | 'actor'>) => Promise<TxItem[]> = async () => [],
) {
  const actor = actorOf(caller);
  if (!actor) throw problem('forbidden', `a ${caller.role} does not act on prescriptions`);
  return withRaceRetries(async () => {
    const rx = await store.getPrescription(id);
    const access = rx ? actAccess(rx, caller) : 'hidden';
    if (!rx || access === 'hidden') throw problem('not-found', `no prescription ${id}`);
    if (access === 'rejected-by-caller') throw problem('invalid-transition', `this pharmacy rejected prescription ${id}; it is routed elsewhere`);
    // Some moves depend on what was read (a dispense completes the prescription or not).
    const planned = typeof action === 'function' ? action(rx) : { action, move: {} };
    const fullMove = { ...move, ...planned.move };
    const next = applyTransition(rx, planned.action, { ...fullMove, actor, by: caller.inst });
    await store.writeTransition(rx, next, { now: ctx.now, correlationId: ctx.requestId }, await extra(rx, fullMove));
    return { status: 200, body: store.toApi(next, caller) };
  }, ACT_RETRIES);
}

/** Idempotency records of issued prescriptions (functions/shared/idempotency.ts). */
const ISSUE_OPERATION = 'issue-prescription';
/** Many identical retries racing: each collision costs a retry before the winner's record is read. */
const ISSUE_RETRIES = 10;

/**
 * A limit reached while requests with the same Idempotency-Key are in flight: each twin holds a count
 * until it finds the winner's record, so this is retried as a race (the retry replays the winner) and
 * answered 429 only if the limit still holds.
 */
class LimitedWhileTwinsInFlight extends TransactionConflict {
  constructor(readonly limited: HttpProblem) {
    super(limited.message);
  }
}

/**
 * How often one institution may prescribe, in all and for one person (each prescription reserves
 * stock and messages the patient).
 */
function issueLimits(prescriberId: string, personId: string): Limit[] {
  const { perPrescriberPerMinute, perPersonPerPrescriberPerDay } = provinceConfig().prescribing;
  return senderLimits('prescriptions', prescriberId, personId, { perMinute: perPrescriberPerMinute, perPersonPerDay: perPersonPerPrescriberPerDay });
}

/** Field errors for items whose drug is not in the catalog. */
const catalogErrors = (items: ReadonlyArray<{ drugCode: string }>, known: ReadonlySet<string>) =>
  items.flatMap((item, i) => (known.has(item.drugCode) ? [] : [{ path: `body.items.${i}.drugCode`, message: `${item.drugCode} is not in the drug catalog` }]));

/** Institution routes always carry `inst` (the principal schema refuses institution roles without it). */
const institutionOf = (p: Principal) => p.inst!;

export const handler = apiHandler(prescriptionRoutes, {
  async issuePrescription({ body, principal, now, requestId, idempotencyKey }) {
    const prescriberId = institutionOf(principal);
    const idempotency = idempotencyKey ? { institutionId: prescriberId, operation: ISSUE_OPERATION, key: idempotencyKey, hash: requestHash(body) } : undefined;
    // Retried only when racing requests with the same key collide: the retry finds the winner's record.
    return withRaceRetries(async () => {
      const { nominated, enrolled, patient, knownDrugs, notLongTerm, referral, openTherapies, idempotency: answered } = await store.loadIssueInputs({
        nominatedPharmacyId: body.nominatedPharmacyId,
        personId: body.personId,
        drugCodes: body.items.map((i) => i.drugCode),
        referralId: body.referralId,
        idempotency,
      });
      if (answered) return replay(answered, idempotency!.hash);
      const errors = catalogErrors(body.items, knownDrugs);
      // A long prescription holds only drugs the catalog allows on one (not, e.g., antibiotics).
      if (body.longTerm) {
        body.items.forEach((item, i) => {
          if (notLongTerm.has(item.drugCode)) errors.push({ path: `body.items.${i}.drugCode`, message: `${item.drugCode} may not be on a long prescription` });
        });
      }
      if (body.nominatedPharmacyId && nominated?.type !== 'pharmacy') errors.push({ path: 'body.nominatedPharmacyId', message: 'not a registered pharmacy' });
      // A referral named must be this person's, and one this institution sent or received.
      if (body.referralId) {
        for (const message of referralProblems(referral, body.personId, prescriberId)) errors.push({ path: 'body.referralId', message });
      }
      if (errors.length) throw problem('validation-failed', 'invalid body', errors);
      if (!enrolled) throw problem('not-enrolled', `person ${body.personId} is not enrolled`);
      // Checked here to refuse before anything is counted; the write's condition holds it under races.
      if (openTherapies.length) {
        // A twin with the same key may have committed between the reads of one BatchGetItem (not a
        // snapshot): its prescription is the open one, and its record, read now, is the answer.
        const twin = idempotency && (await recordedAnswer(idempotency));
        if (twin) return replay(twin, idempotency!.hash);
        throw store.duplicateTherapy(openTherapies);
      }

      const rx = newPrescription({
        ...body,
        patient,
        prescriptionId: newId('rx'),
        prescriberId,
        now,
        validityHours: body.longTerm ? provinceConfig().longPrescriptionValidityHours : provinceConfig().prescriptionValidityHours,
      });
      const answer = { status: 201, body: store.toApi(rx, principal), location: `/prescriptions/${rx.prescriptionId}` };
      // Counted before the write and given back if it does not happen, so only issued ones count.
      const limits = issueLimits(prescriberId, body.personId);
      await take(limits, now).catch((err: unknown) => {
        throw idempotency && err instanceof HttpProblem && err.slug === 'rate-limited' ? new LimitedWhileTwinsInFlight(err) : err;
      });
      try {
        await store.putIssued(rx, { now, correlationId: requestId }, idempotency && idempotencyRecord(idempotency, answer, now));
      } catch (err) {
        await giveBack(limits, now);
        // A concurrent request with the same key won: answer as it did.
        if (err instanceof IdempotencyRecordExists && err.record) return replay(err.record, idempotency!.hash);
        throw err;
      }
      return { status: answer.status, body: answer.body, headers: { location: answer.location } };
    }, ISSUE_RETRIES).catch((err: unknown) => {
      throw err instanceof LimitedWhileTwinsInFlight ? err.limited : err;
    });
  },

  async getPrescription({ params, principal }) {
    return { status: 200, body: store.toApi(await visible(params.id, principal), principal) };
  },

  async listPrescriptions({ query, principal }) {
    return { status: 200, body: await store.listWorklist({ role: principal.role, inst: institutionOf(principal) }, query.status, query.limit, query.nextToken) };
  },

  async acceptPrescription({ params, principal, now, requestId }) {
    return act(params.id, principal, 'accept', { at: now }, { now, requestId });
  },

  async rejectPrescription({ params, body, principal, now, requestId }) {
    return act(params.id, principal, 'reject', { at: now, reason: body.reason }, { now, requestId });
  },

  async dispensePrescription({ params, body, principal, now, requestId }) {
    const plan = (rx: PrescriptionRecord) => {
      // Before dispensing, review (accept): said clearly rather than as a quantity problem.
      if (rx.status === 'routed') return { action: 'dispense' as const, move: {} };
      const { action, items } = dispenseOf(rx, body.items);
      return { action, move: { items } };
    };
    return act(params.id, principal, plan, { at: now, settlementId: body.settlementId }, { now, requestId }, async (rx, move) => {
      // Only an accepted (or partly dispensed) prescription within its validity gets this far
      // (applyTransition checked); now the settlement: settled, this person's, made here after
      // issue, paying for what this dispense hands over.
      const problems = settlementProblems(await store.getSettlement(body.settlementId), rx, move.items);
      if (problems.length) {
        throw problem('validation-failed', `settlement ${body.settlementId} cannot pay for this prescription`, problems.map((message) => ({ path: 'body.settlementId', message })));
      }
      return store.dispenseGuards(rx, body.settlementId, now);
    });
  },

  async readyPrescription({ params, principal, now, requestId }) {
    const actor = actorOf(principal);
    if (!actor) throw problem('forbidden', `a ${principal.role} does not act on prescriptions`);
    return withRaceRetries(async () => {
      const rx = await visible(params.id, principal);
      const next = markReady(rx, { at: now, actor });
      // Already told, nothing handed over since: the same answer, nothing written, no second SMS or webhook.
      if (next !== rx) await store.writeReady(rx, next, { now, correlationId: requestId });
      return { status: 200, body: store.toApi(next, principal) };
    }, ACT_RETRIES);
  },

  async cancelPrescription({ params, principal, now, requestId }) {
    return act(params.id, principal, 'cancel', { at: now }, { now, requestId });
  },

  async putStock({ params, body, principal, institution, now, requestId }) {
    if (principal.inst !== params.id) throw problem('forbidden', 'a pharmacy sets only its own stock');
    const known = await store.knownDrugs(body.items.map((i) => i.drugCode));
    const errors = catalogErrors(body.items, known);
    if (errors.length) throw problem('validation-failed', 'invalid body', errors);
    // A reservation landing at the same moment cancels the transaction: just set it again.
    const items = await withRaceRetries(() => store.setStock(institution!, body.items, { now, correlationId: requestId }));
    return { status: 200, body: { pharmacyId: params.id, items } };
  },

  async getStock({ params, query, principal }) {
    if (principal.inst !== params.id) throw problem('forbidden', 'a pharmacy sees only its own stock');
    return { status: 200, body: await store.listStock(params.id, query.limit, query.nextToken) };
  },
});
