// The referral use cases, shared by the API handler and the SLA sweeper: read what a decision
// needs, let the domain decide, write the result as one conditional transaction, and start over
// from fresh reads when a concurrent writer got in between (withRaceRetries).
import type { Institution } from '#schemas/institutions';
import type { CreateReferralBody, Referral, ReferralDirection, Urgency } from '#schemas/referrals';
import { TransactionConflict, withRaceRetries, type TxItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import { ifMatchAdmits } from '#shared/etag';
import { newId } from '#shared/ids';
import { giveBack, senderLimits, take, type Limit } from '#shared/limits';
import { logger } from '#shared/logger';
import type { EventContext } from '#shared/outbox';
import type { Principal } from '#shared/principal';
import { consortiumCandidates, departmentCandidates, getInstitution, getPerson } from '../institutions/store.ts';
import {
  assertMove, capacityChange, dailyCapacity, expireAndReroute, ineligibility, isOverdue, move, newReferral, partyOf, rankTargets,
  receiverType, referredToChange, routingDay, senderRole, slaDue, wasReceiver, type Candidate, type MoveInput, type PendingEvent,
} from './domain.ts';
import * as store from './store.ts';

// An emergency has less time than a routine referral before it is re-routed (the province's figures).
const slaHours = (urgency: Urgency) => provinceConfig().referralSlaHours[urgency];
const timeZone = () => provinceConfig().timeZone;

/** The referral if the caller is its sender or receiver; anyone else learns nothing (404). */
export async function visibleReferral(referralId: string, caller: Principal): Promise<store.StoredReferral> {
  const r = await store.getReferral(referralId);
  if (!r || !partyOf(r, caller.inst)) throw problem('not-found', `no referral ${referralId}`);
  return r;
}

/** Who acts: the token's principal with its registered institution (the HTTP chain checked it). */
export type Caller = Principal & { institution: Institution };

// ── routing ──

/**
 * Best institution with a free slot in the department on `day`. It reads where the ranking looks
 * first (rankTargets): the named preferences, for a downward referral the sender's consortium clinics,
 * and the institutions with the department in the district to stay near (the sender's; the patient's
 * for a downward referral), each a key of its own; only when
 * none of them has a free slot, every institution with the department. Never the province's list.
 * Then one BatchGetItem of their capacity counters. Advice requests are routed the same way
 * (functions/advice) but take no slot: `needsSlot: false` ranks by the same preferences with the
 * day's use left out (and skips reading the counters).
 */
export async function routeTarget(o: {
  direction: ReferralDirection; department: string; sender: Institution; exclude: Set<string>; prefer: string[]; day: string; needsSlot?: boolean;
  /** The patient's district, for a downward referral. */
  patientDistrict?: string;
}): Promise<string | undefined> {
  const type = receiverType[o.direction];
  const near = (o.direction === 'down' && o.patientDistrict) || o.sender.district;
  const seen = new Set<string>();
  const best = async (found: Candidate[]) => {
    const candidates = found.filter((c) => !seen.has(c.id) && !o.exclude.has(c.id) && c.id !== o.sender.id && !ineligibility(c, o.direction, o.department));
    for (const c of found) seen.add(c.id);
    if (!candidates.length) return undefined;
    const used = o.needsSlot === false ? new Map<string, number>() : await store.slotsUsed(candidates.map((c) => c.id), o.department, o.day);
    return rankTargets(candidates, { direction: o.direction, department: o.department, sender: o.sender, exclude: o.exclude, prefer: o.prefer, used, near })[0];
  };
  // Everything ranked above an institution of another district outside the consortium is among these,
  // so the best of them is the best of the province whenever one has a free slot.
  const [preferred, consortium, district] = await Promise.all([
    Promise.all(o.prefer.map(getInstitution)),
    o.direction === 'down' ? consortiumCandidates(o.department, o.sender.id) : [],
    departmentCandidates(type, o.department, near),
  ]);
  const first: Candidate[] = [...preferred.filter((c) => c !== undefined), ...consortium, ...district];
  return (await best(first)) ?? best(await departmentCandidates(type, o.department));
}

/**
 * Where the platform sends a referral next (the sender's re-route without a named target, and the
 * SLA sweep): never back to an institution that rejected it, let it lapse or has it now.
 */
async function nextTarget(r: Referral, sender: Institution, now: Date): Promise<{ to: string | undefined; day: string }> {
  const day = routingDay(r.preferredDate, now, timeZone());
  const to = await routeTarget({
    direction: r.direction,
    department: r.department,
    sender,
    exclude: new Set([...r.rejectedBy, ...r.expiredBy, r.toInstitutionId]),
    prefer: r.direction === 'up' && sender.leadHospitalId ? [sender.leadHospitalId] : [],
    day,
    patientDistrict: r.direction === 'down' ? (await getPerson(r.personId))?.district : undefined,
  });
  return { to, day };
}

/** An institution the sender named: must be able to receive this kind of referral at all (advice requests check the same). */
export async function checkNamedTarget(id: string, direction: ReferralDirection, department: string, senderId: string): Promise<void> {
  const why = id === senderId ? 'is the sender' : ineligibility(await getInstitution(id), direction, department);
  if (why) throw problem('unroutable', `${id} ${why}`);
}

// ── creating ──

/** How often one institution may refer, in all and one person (each referral texts the patient). */
function referLimits(senderId: string, personId: string): Limit[] {
  const { perSenderPerMinute, perPersonPerSenderPerDay } = provinceConfig().referring;
  return senderLimits('referrals', senderId, personId, { perMinute: perSenderPerMinute, perPersonPerDay: perPersonPerSenderPerDay });
}

/**
 * What a referral made from another record writes with it (an advice request's conversion): its id
 * on the referral, and the other record's own move, in the same transaction.
 */
export interface ReferralOrigin {
  adviceId: string;
  writes: (referralId: string) => TxItem[];
}

/**
 * `recordAnswer`: the Idempotency-Key's record of the answer (shared/idempotency.ts), written in the
 * referral's own transaction, so a retry of a lost answer finds it and refers nobody twice.
 */
export async function createReferral(
  body: CreateReferralBody, caller: Caller, now: Date, requestId: string, origin?: ReferralOrigin, recordAnswer?: (r: store.StoredReferral) => TxItem,
): Promise<store.StoredReferral> {
  if (caller.role !== senderRole[body.direction]) {
    throw problem('forbidden', `a ${senderRole[body.direction]} creates "${body.direction}" referrals, not a ${caller.role}`);
  }
  const sender = caller.institution;
  const person = await getPerson(body.personId);
  if (!person) throw problem('not-enrolled', `person ${body.personId} is not enrolled`);

  const extras: TxItem[] = [];
  const prefer: string[] = [];
  if (body.direction === 'up' && sender.leadHospitalId) prefer.push(sender.leadHospitalId);
  if (body.upwardReferralId) {
    const upward = await store.getReferral(body.upwardReferralId);
    const field = (path: string, message: string) => problem('validation-failed', message, [{ path, message }]);
    // The same answer whether it does not exist or is someone else's: existence is not revealed.
    if (!upward || upward.direction !== 'up' || upward.toInstitutionId !== sender.id) {
      throw field('body.upwardReferralId', 'no upward referral addressed to you with this id');
    }
    if (upward.personId !== body.personId) throw field('body.personId', 'not the person of the upward referral');
    if (upward.status !== 'completed') {
      throw problem('invalid-transition', `upward referral ${upward.referralId} is ${upward.status}; a downward referral follows a completed one`);
    }
    prefer.push(upward.fromInstitutionId);
  }

  let toInstitutionId = body.toInstitutionId;
  if (toInstitutionId) {
    await checkNamedTarget(toInstitutionId, body.direction, body.department, sender.id);
  } else {
    const day = routingDay(body.preferredDate, now, timeZone());
    toInstitutionId = await routeTarget({ direction: body.direction, department: body.department, sender, exclude: new Set(), prefer, day, patientDistrict: person.district });
    if (!toInstitutionId) throw problem('unroutable', `no designated ${receiverType[body.direction]} has ${body.department} capacity on ${day}`);
  }

  const referralId = newId('ref');
  const { referral, event } = newReferral(body, {
    referralId,
    fromInstitutionId: sender.id,
    toInstitutionId,
    routed: !body.toInstitutionId,
    mover: { actor: 'sender', by: sender.id, user: caller.sub, at: now },
    slaHours: slaHours(body.urgency),
    patient: { name: person.name, nationalIdMasked: person.nationalIdMasked },
  });
  if (body.upwardReferralId) extras.push(store.linkDownward(body.upwardReferralId, referralId, sender.id));
  if (origin) {
    referral.adviceId = origin.adviceId;
    extras.push(...origin.writes(referralId));
  }
  if (recordAnswer) extras.push(recordAnswer({ ...referral, version: 0 }));
  // Counted before the write and given back if it does not happen, so only referrals made count.
  const limits = referLimits(sender.id, body.personId);
  await take(limits, now);
  try {
    await store.insertReferral(referral, event, extras, { now, correlationId: requestId });
  } catch (err) {
    await giveBack(limits, now);
    throw err;
  }
  logger.info('referral submitted', { referralId, toInstitutionId, routed: !body.toInstitutionId });
  return { ...referral, version: 0 };
}

// ── moving ──

/**
 * One move on one referral: read, authorise (404 for strangers; 409 invalid-transition for an
 * institution the referral was taken from, which lost it), check the version the caller acted on
 * (If-Match: 412 when it is no longer current), decide, write conditionally with the capacity
 * counter and the "referred to" item in the same transaction; retried from scratch when the
 * transaction lost a race that does not change the answer's kind.
 */
export async function moveReferral(
  referralId: string, input: MoveInput | { action: 'reroute'; toInstitutionId?: string }, caller: Caller, now: Date, requestId: string, ifMatch?: string,
): Promise<store.StoredReferral> {
  return withRaceRetries(async () => {
    const before = await store.getReferral(referralId);
    const actor = before ? partyOf(before, caller.inst) : undefined;
    if (!before || !actor) {
      // An institution it was taken from (rejected, expired there, re-routed away) lost the race
      // for it: that is a transition no longer allowed, and it already knows the referral exists.
      if (before && wasReceiver(before, caller.inst)) {
        throw problem('invalid-transition', `referral ${referralId} has been sent to another institution; it can no longer be moved by ${caller.inst}`);
      }
      throw problem('not-found', `no referral ${referralId}`);
    }
    const admitted = ifMatchAdmits(ifMatch, before.version);
    if (admitted === false) throw problem('precondition-failed', `referral ${referralId} has changed since the version you acted on (now ${before.version}); reload it`);
    const mover = { actor, by: caller.inst!, user: caller.sub, at: now };
    let planned: MoveInput;
    if (input.action === 'reroute') {
      // Refuse the wrong actor or status before spending reads on routing.
      assertMove(before.status, 'reroute', actor);
      planned = { action: 'reroute', toInstitutionId: await rerouteTarget(before, input.toInstitutionId, caller, now), slaDueAt: slaDue(now, slaHours(before.urgency)) };
    } else {
      planned = input;
    }
    const { next, event } = move(before, planned, mover);
    const extras = await sideEffects(before, next, now);
    // A named version (not "*") must still be current when the write lands, or the answer is 412.
    const pinned = admitted === true && ifMatch!.trim() !== '*';
    await store.writeMove(before, next, [event], extras, { now, correlationId: requestId }, actor, pinned);
    logger.info('referral moved', { referralId, from: before.status, to: next.status });
    return { ...next, version: before.version + 1 };
  });
}

/** The sender's re-route: the institution it names, if it may receive this referral, else the platform's choice. */
async function rerouteTarget(r: Referral, named: string | undefined, caller: Caller, now: Date): Promise<string> {
  if (named) {
    if (r.rejectedBy.includes(named)) throw problem('unroutable', `${named} rejected this referral; choose another institution`);
    if (named === r.toInstitutionId) throw problem('unroutable', `${named} already had this referral; choose another institution`);
    await checkNamedTarget(named, r.direction, r.department, r.fromInstitutionId);
    return named;
  }
  // The caller is the sender: its own registration is what routing starts from.
  const { to, day } = await nextTarget(r, caller.institution, now);
  if (!to) throw problem('unroutable', `no other designated ${receiverType[r.direction]} has ${r.department} capacity on ${day}`);
  return to;
}

/** The other items a move changes: the day's capacity counter and the person's "referred to" item. */
async function sideEffects(before: Referral, next: Referral, now: Date): Promise<TxItem[]> {
  const extras: TxItem[] = [];
  const slot = capacityChange(before, next, timeZone(), now);
  if (slot?.op === 'take') {
    const receiver = await getInstitution(next.toInstitutionId);
    const cap = receiver ? dailyCapacity(receiver, next.department) : 0;
    if (cap <= 0) throw problem('conflict', `${next.toInstitutionId} has no ${next.department} capacity`);
    extras.push(store.takeSlot(next.toInstitutionId, next.department, slot.day, cap));
  } else if (slot?.op === 'release') {
    extras.push(store.releaseSlot(before.toInstitutionId, before.department, slot.day));
  }
  const referred = referredToChange(before, next);
  if (referred) extras.push(store.referredToUpdate(referred, next));
  return extras;
}

// ── SLA ──

export type SweepOutcome = 'rerouted' | 'expired' | 'skipped';

/**
 * Expires one overdue referral and re-routes it if another institution has capacity. Safe to run
 * concurrently with itself and with triage: the write is conditioned on the status, version and
 * receiver read, and a fresh read that finds it no longer overdue (moved by someone else) is a no-op.
 */
export async function expireOverdue(referralId: string, ctx: EventContext): Promise<SweepOutcome> {
  const { now } = ctx;
  try {
    return await withRaceRetries(async () => {
      const before = await store.getReferral(referralId);
      if (!before || !isOverdue(before, now)) return 'skipped';
      const sender = await getInstitution(before.fromInstitutionId);
      // Without the sender's registration there is nothing to route from: it stays expired.
      const to = sender ? (await nextTarget(before, sender, now)).to : undefined;
      const { next, events } = expireAndReroute(before, to, now, slaHours(before.urgency));
      await store.writeMove(before, next, events as PendingEvent[], [], ctx, 'platform');
      return to ? 'rerouted' : 'expired';
    });
  } catch (err) {
    // Triaged or cancelled between our read and write: nothing left to do.
    if (err instanceof HttpProblem && err.slug === 'invalid-transition') return 'skipped';
    if (err instanceof TransactionConflict) return 'skipped'; // still overdue: the next sweep retries it
    throw err;
  }
}
