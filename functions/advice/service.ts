// The advice use cases, shared by the API handler and the SLA sweeper: read, let the domain decide,
// write conditionally, start over from fresh reads when a concurrent writer got in between.
// Routing and the referral a conversion makes are the referrals context's own use cases.
import type { AdviceRequestBody } from '#schemas/advice';
import { adviceConvertBody } from '#schemas/advice';
import { convertedReferralBody } from '#schemas/referrals';
import type * as z from 'zod';
import { calendarDay } from '#shared/clock';
import { TransactionConflict, withRaceRetries } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { HttpProblem, issuesToErrors, problem } from '#shared/errors';
import { ifMatchAdmits } from '#shared/etag';
import { newId } from '#shared/ids';
import { logger } from '#shared/logger';
import type { EventContext } from '#shared/outbox';
import type { Principal } from '#shared/principal';
import { getInstitution, getPerson } from '../institutions/store.ts';
import { checkNamedTarget, createReferral, routeTarget, type Caller } from '../referrals/service.ts';
import type { StoredReferral } from '../referrals/store.ts';
import { isOverdue, lapse, move, newAdvice, partyOf, type MoveInput } from './domain.ts';
import * as store from './store.ts';

// Advice requests wait as long as a routine referral waits for triage: a request has no urgency.
const slaHours = () => provinceConfig().referralSlaHours.routine;

/** The request if the caller asked it or was asked; anyone else learns nothing (404). */
export async function visibleAdvice(adviceId: string, caller: Principal): Promise<store.StoredAdvice> {
  const a = await store.getAdvice(adviceId);
  if (!a || !partyOf(a, caller.inst)) throw problem('not-found', `no advice request ${adviceId}`);
  return a;
}

/** Routing as for an upward referral (the clinic's lead hospital first), but an answer takes no slot. */
const routeAdvice = (o: { department: string; sender: Caller['institution']; exclude: Set<string>; now: Date }) =>
  routeTarget({
    direction: 'up',
    department: o.department,
    sender: o.sender,
    exclude: o.exclude,
    prefer: o.sender.leadHospitalId ? [o.sender.leadHospitalId] : [],
    day: calendarDay(o.now, provinceConfig().timeZone),
    needsSlot: false,
  });

export async function createAdvice(body: AdviceRequestBody, caller: Caller, now: Date, requestId: string): Promise<store.StoredAdvice> {
  const person = await getPerson(body.personId);
  if (!person) throw problem('not-enrolled', `person ${body.personId} is not enrolled`);
  const sender = caller.institution;
  let to = body.toInstitutionId;
  if (to) await checkNamedTarget(to, 'up', body.department, sender.id);
  else {
    to = await routeAdvice({ department: body.department, sender, exclude: new Set(), now });
    if (!to) throw problem('unroutable', `no designated hospital has a ${body.department} department`);
  }
  const { advice, event } = newAdvice(body, {
    adviceId: newId('adv'),
    fromInstitutionId: sender.id,
    toInstitutionId: to,
    routed: !body.toInstitutionId,
    mover: { actor: 'sender', by: sender.id, user: caller.sub, at: now },
    slaHours: slaHours(),
    patient: { name: person.name, nationalIdMasked: person.nationalIdMasked },
  });
  await store.insertAdvice(advice, event, { now, correlationId: requestId });
  logger.info('advice requested', { adviceId: advice.adviceId, toInstitutionId: to, routed: !body.toInstitutionId });
  return { ...advice, version: 0 };
}

/** The party the caller is, the version check (If-Match → 412), then the move. Strangers: 404. */
async function readForMove(adviceId: string, caller: Caller, ifMatch: string | undefined) {
  const before = await store.getAdvice(adviceId);
  const actor = before ? partyOf(before, caller.inst) : undefined;
  if (!before || !actor) throw problem('not-found', `no advice request ${adviceId}`);
  const admitted = ifMatchAdmits(ifMatch, before.version);
  if (admitted === false) throw problem('precondition-failed', `advice request ${adviceId} has changed since the version you acted on (now ${before.version}); reload it`);
  return { before, actor, pinned: admitted === true && ifMatch!.trim() !== '*' };
}

export async function moveAdvice(
  adviceId: string, input: Extract<MoveInput, { action: 'reply' | 'close' }>, caller: Caller, now: Date, requestId: string, ifMatch?: string,
): Promise<store.StoredAdvice> {
  return withRaceRetries(async () => {
    const { before, actor, pinned } = await readForMove(adviceId, caller, ifMatch);
    const { next, event } = move(before, input, { actor, by: caller.inst!, user: caller.sub, at: now });
    await store.writeMove(before, next, [event], { now, correlationId: requestId }, pinned);
    logger.info('advice moved', { adviceId, from: before.status, to: next.status });
    return { ...next, version: before.version + 1 };
  });
}

/**
 * The asking clinic turns an answered request into a referral to the same institution and
 * department: the referral (with `adviceId`) and the request's move to `converted` (with
 * `referralId`) are one transaction, so neither exists without the other.
 */
export async function convertAdvice(
  adviceId: string, body: z.output<typeof adviceConvertBody>, caller: Caller, now: Date, requestId: string, ifMatch?: string,
): Promise<StoredReferral> {
  const { before, actor, pinned } = await readForMove(adviceId, caller, ifMatch);
  // Refuse the wrong side or status before building a referral (the same check the move makes).
  move(before, { action: 'convert', referralId: 'ref_check' }, { actor, by: caller.inst!, at: now });
  const parsed = convertedReferralBody.safeParse({
    personId: before.personId,
    direction: 'up',
    toInstitutionId: before.toInstitutionId,
    department: before.department,
    reason: body.reason ?? before.question,
    diagnoses: body.diagnoses ?? before.diagnoses ?? [],
    urgency: body.urgency,
  });
  if (!parsed.success) {
    // The request's own text can still be unfit for a referral (a question over its length): the caller gives it here.
    throw problem('validation-failed', 'the referral needs what the request does not hold', issuesToErrors(parsed.error.issues, 'body'));
  }
  return createReferral(parsed.data, caller, now, requestId, {
    adviceId,
    writes: (referralId) => {
      const { next, event } = move(before, { action: 'convert', referralId }, { actor, by: caller.inst!, user: caller.sub, at: now });
      return store.moveItems(before, next, [event], { now, correlationId: requestId }, pinned);
    },
  });
}

export type SweepOutcome = 'rerouted' | 'closed' | 'skipped';

/** Re-routes (or closes) one overdue request; a fresh read that finds it answered or moved is a no-op. */
export async function expireOverdue(adviceId: string, ctx: EventContext): Promise<SweepOutcome> {
  const { now } = ctx;
  try {
    return await withRaceRetries(async () => {
      const before = await store.getAdvice(adviceId);
      if (!before || !isOverdue(before, now)) return 'skipped';
      const sender = await getInstitution(before.fromInstitutionId);
      const to = sender ? await routeAdvice({ department: before.department, sender, exclude: new Set([...before.expiredBy, before.toInstitutionId]), now }) : undefined;
      const { next, events } = lapse(before, to, now, slaHours());
      await store.writeMove(before, next, events, ctx);
      return to ? 'rerouted' : 'closed';
    });
  } catch (err) {
    // Answered or closed between our read and write: nothing left to do.
    if (err instanceof HttpProblem && err.slug === 'invalid-transition') return 'skipped';
    if (err instanceof TransactionConflict) return 'skipped';
    throw err;
  }
}
