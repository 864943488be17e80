// Pure rules of the referrals context: the state machine (one transition table), who may move a
// referral, routing preferences, and what each move does to the items around the referral.
// No AWS, no I/O: the store turns what these functions return into one conditional transaction.
import type { DetailInput, EventDef } from '#events/catalog';
import {
  ReferralAccepted, ReferralArrived, ReferralCancelled, ReferralCompleted, ReferralExpired, ReferralRejected, ReferralRerouted, ReferralSubmitted,
} from '#events/referrals';
import type { CreateReferralBody, HistoryEntry, Referral, ReferralAction, ReferralDirection, ReferralStatus, ReferralView } from '#schemas/referrals';
import { addHours, calendarDay } from '#shared/clock';
import { problem } from '#shared/errors';
import { allowedIn, assertAllowed } from '#shared/transitions';

/** Who is moving the referral, relative to it. The SLA sweeper is the platform. */
export type Actor = 'sender' | 'receiver' | 'platform';
/** The parties' moves (one route each, schemas/referrals.ts) and the platform's expiry. */
export type Action = ReferralAction | 'expire';

interface TransitionDef {
  readonly from: readonly ReferralStatus[];
  readonly to: ReferralStatus;
  readonly by: readonly Actor[];
  readonly event: EventDef;
}

/**
 * THE state machine. Every move is one row: the statuses it may start from, where it ends, who may
 * make it, and the event that announces it. The store enforces `from` with a condition on the
 * stored status, so of two racing moves exactly one wins.
 */
export const transitions = {
  accept: { from: ['submitted'], to: 'accepted', by: ['receiver'], event: ReferralAccepted },
  reject: { from: ['submitted'], to: 'rejected', by: ['receiver'], event: ReferralRejected },
  expire: { from: ['submitted'], to: 'expired', by: ['platform'], event: ReferralExpired },
  reroute: { from: ['rejected', 'expired'], to: 'submitted', by: ['sender', 'platform'], event: ReferralRerouted },
  arrive: { from: ['accepted'], to: 'arrived', by: ['receiver'], event: ReferralArrived },
  complete: { from: ['arrived'], to: 'completed', by: ['receiver'], event: ReferralCompleted },
  cancel: { from: ['submitted', 'accepted', 'rejected', 'expired'], to: 'cancelled', by: ['sender'], event: ReferralCancelled },
} as const satisfies Record<Action, TransitionDef>;

/** A referral is born submitted, announced by ReferralSubmitted. */
export const INITIAL_STATUS = 'submitted' satisfies ReferralStatus;
export const PLATFORM = 'platform';

export type MoveInput =
  | { action: 'accept'; appointmentAt: string }
  | { action: 'reject'; reason: string }
  | { action: 'expire' }
  | { action: 'reroute'; toInstitutionId: string; slaDueAt: string }
  | { action: 'arrive' }
  | { action: 'complete' }
  | { action: 'cancel' };

export interface Mover {
  actor: Actor;
  /** Institution id, or PLATFORM. */
  by: string;
  user?: string;
  at: Date;
}

export interface PendingEvent<E extends EventDef = EventDef> {
  def: E;
  input: DetailInput<E>;
}

/** The wrong actor is refused (403) before the status is looked at (409 invalid-transition). */
export function assertMove(status: ReferralStatus, action: Action, actor: Actor): void {
  assertAllowed(transitions, 'a referral', status, action, actor);
}

/**
 * The moves a party may make on a referral in `status` (API.md: `allowedActions`): exactly the rows
 * of the table that assertMove lets through (functions/shared/transitions.ts). No party (a
 * stranger, or an institution the referral was taken from): none. The platform's expiry is never
 * a party's.
 */
export function allowedActions(status: ReferralStatus, party: 'sender' | 'receiver' | undefined): ReferralAction[] {
  return allowedIn(transitions, status, party) as ReferralAction[];
}

/** The institutions a referral is visible to, and as what. */
export function partyOf(r: Pick<Referral, 'fromInstitutionId' | 'toInstitutionId'>, institutionId: string | undefined): 'sender' | 'receiver' | undefined {
  if (!institutionId) return undefined;
  if (r.toInstitutionId === institutionId) return 'receiver';
  if (r.fromInstitutionId === institutionId) return 'sender';
  return undefined;
}

/**
 * Whether an institution was a receiver of this referral before it went elsewhere (rejected by it,
 * expired there, or re-routed away from it). Such an institution knows the referral exists, so
 * its late moves are answered 409 invalid-transition (a lost transition), not 404.
 */
export function wasReceiver(r: Pick<Referral, 'toInstitutionId' | 'rejectedBy' | 'expiredBy' | 'history'>, institutionId: string | undefined): boolean {
  if (!institutionId || r.toInstitutionId === institutionId) return false;
  return r.rejectedBy.includes(institutionId) || r.expiredBy.includes(institutionId) || r.history.some((h) => h.toInstitutionId === institutionId);
}

/**
 * A referral as one party sees it: `history[].user` (the token subject of whoever made a move) is
 * shown only to the institution that made that move, never to the other side.
 */
export function viewFor(r: Referral, institutionId: string | undefined): Referral {
  return { ...r, history: r.history.map(({ user, ...h }) => (user !== undefined && h.by === institutionId ? { ...h, user } : h)) };
}

/** A referral as the API answers `institutionId`: its view, version (the ETag) and the moves it may make now. */
export function presentFor(r: Referral & { version: number }, institutionId: string | undefined): ReferralView {
  const { version, ...rest } = r;
  return { ...viewFor(rest, institutionId), version, allowedActions: allowedActions(r.status, partyOf(r, institutionId)) };
}

/** Clinics refer up, hospitals refer down; the receiving side is the other kind. */
export const senderRole: Record<ReferralDirection, 'clinic' | 'hospital'> = { up: 'clinic', down: 'hospital' };
export const receiverType: Record<ReferralDirection, 'clinic' | 'hospital'> = { up: 'hospital', down: 'clinic' };

const refDetail = (r: Referral) => ({
  referralId: r.referralId,
  personId: r.personId,
  direction: r.direction,
  fromInstitutionId: r.fromInstitutionId,
  toInstitutionId: r.toInstitutionId,
  department: r.department,
  status: r.status,
});

export function newReferral(
  body: CreateReferralBody,
  o: { referralId: string; fromInstitutionId: string; toInstitutionId: string; routed: boolean; mover: Mover; slaHours: number; patient?: Referral['patient'] },
): { referral: Referral; event: PendingEvent<typeof ReferralSubmitted> } {
  const at = o.mover.at.toISOString();
  const referral: Referral = {
    referralId: o.referralId,
    personId: body.personId,
    ...(o.patient ? { patient: o.patient } : {}),
    direction: body.direction,
    status: INITIAL_STATUS,
    fromInstitutionId: o.fromInstitutionId,
    toInstitutionId: o.toInstitutionId,
    department: body.department,
    reason: body.reason,
    diagnoses: body.diagnoses,
    urgency: body.urgency,
    ...(body.preferredDate ? { preferredDate: body.preferredDate } : {}),
    slaDueAt: slaDue(o.mover.at, o.slaHours),
    ...(body.upwardReferralId ? { upwardReferralId: body.upwardReferralId } : {}),
    ...(body.followUpPlan ? { followUpPlan: body.followUpPlan } : {}),
    rejectedBy: [],
    expiredBy: [],
    createdAt: at,
    updatedAt: at,
    history: [historyOf(INITIAL_STATUS, o.mover, { toInstitutionId: o.toInstitutionId })],
  };
  const input = {
    ...refDetail(referral),
    urgency: referral.urgency,
    routed: o.routed,
    ...(referral.upwardReferralId ? { upwardReferralId: referral.upwardReferralId } : {}),
  };
  return { referral, event: { def: ReferralSubmitted, input } };
}

/**
 * Applies one row of the table: refuses the wrong actor (403) or a move the current status does
 * not allow (409 invalid-transition), and returns the referral after the move and its event.
 */
export function move(r: Referral, input: MoveInput, mover: Mover): { next: Referral; event: PendingEvent } {
  const t: TransitionDef = transitions[input.action];
  assertMove(r.status, input.action, mover.actor);
  const at = mover.at.toISOString();
  const { slaDueAt: _sla, ...rest } = r;
  let next: Referral = { ...rest, status: t.to, updatedAt: at };
  let extra: Partial<HistoryEntry> = {};
  switch (input.action) {
    case 'accept':
      next.appointmentAt = input.appointmentAt;
      extra = { appointmentAt: input.appointmentAt };
      break;
    case 'reject':
      next.rejectedBy = addOnce(r.rejectedBy, r.toInstitutionId);
      extra = { reason: input.reason };
      break;
    case 'expire':
      next.expiredBy = addOnce(r.expiredBy, r.toInstitutionId);
      break;
    case 'reroute':
      next = { ...next, toInstitutionId: input.toInstitutionId, slaDueAt: input.slaDueAt };
      extra = { toInstitutionId: input.toInstitutionId };
      break;
    case 'arrive':
    case 'complete':
    case 'cancel':
      break;
  }
  next.history = [...r.history, historyOf(t.to, mover, extra)];

  const base = refDetail(next);
  const detail: Record<string, unknown> = { ...base };
  if (input.action === 'accept') detail.appointmentAt = input.appointmentAt;
  if (input.action === 'expire') detail.expiredAtInstitutionId = r.toInstitutionId;
  if (input.action === 'reroute') Object.assign(detail, { previousInstitutionId: r.toInstitutionId, previousStatus: r.status, automatic: mover.actor === 'platform' });
  if (input.action === 'cancel') detail.previousStatus = r.status;
  return { next, event: { def: t.event, input: detail as DetailInput<EventDef> } };
}

/**
 * SLA expiry and the automatic re-route the platform makes in the same breath: two rows of the
 * table applied in order, written as one transaction (so nobody ever sees it expired when another
 * institution was available). `to` undefined: nobody has capacity, it stays expired.
 */
export function expireAndReroute(r: Referral, to: string | undefined, at: Date, slaHours: number) {
  const mover: Mover = { actor: 'platform', by: PLATFORM, at };
  const expired = move(r, { action: 'expire' }, mover);
  if (!to) return { next: expired.next, events: [expired.event] };
  const rerouted = move(expired.next, { action: 'reroute', toInstitutionId: to, slaDueAt: slaDue(at, slaHours) }, mover);
  (expired.event.input as Record<string, unknown>).reroutedTo = to;
  return { next: rerouted.next, events: [expired.event, rerouted.event] };
}

function historyOf(status: ReferralStatus, m: Mover, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return { status, at: m.at.toISOString(), by: m.by, ...(m.user ? { user: m.user } : {}), ...extra };
}

const addOnce = (list: readonly string[], id: string) => (list.includes(id) ? [...list] : [...list, id]);

export const slaDue = (from: Date, slaHours: number) => addHours(from, slaHours).toISOString();

export const isOverdue = (r: Pick<Referral, 'status' | 'slaDueAt'>, now: Date) =>
  r.status === 'submitted' && !!r.slaDueAt && new Date(r.slaDueAt).getTime() <= now.getTime();

/** Appointment times a hospital may give: not in the past (an hour of grace), at most 180 days ahead. */
export function checkAppointment(appointmentAt: string, now: Date): void {
  const t = new Date(appointmentAt).getTime();
  const problemAt = (message: string) =>
    problem('validation-failed', `appointmentAt ${message}`, [{ path: 'body.appointmentAt', message }]);
  if (t < now.getTime() - 3_600_000) throw problemAt('is in the past');
  if (t > now.getTime() + 180 * 24 * 3_600_000) throw problemAt('is more than 180 days ahead');
}

/** Calendar day whose capacity routing checks: the preferred day, never one already past. */
export function routingDay(preferredDate: string | undefined, now: Date, timeZone: string): string {
  const today = calendarDay(now, timeZone);
  return preferredDate && preferredDate > today ? preferredDate : today;
}

// ── routing ──

export interface Candidate {
  id: string;
  type: string;
  designated: boolean;
  district: string;
  leadHospitalId?: string;
  departments?: ReadonlyArray<{ code: string; dailyCapacity: number }>;
}

export interface RoutingContext {
  direction: ReferralDirection;
  department: string;
  sender: Pick<Candidate, 'id' | 'district' | 'leadHospitalId'>;
  /** Never chosen (rejecters, the sender, the current receiver…). */
  exclude: ReadonlySet<string>;
  /** Tried first, in this order (the clinic's lead hospital; the clinic an upward referral came from). */
  prefer: readonly string[];
  /** Slots already used on the routing day, by institution id (absent = 0). */
  used: ReadonlyMap<string, number>;
  /**
   * The district to stay near, all else equal. Default the sender's; a downward referral gives the
   * patient's (they go home: a clinic there can follow them up).
   */
  near?: string;
}

export const dailyCapacity = (c: Pick<Candidate, 'departments'>, department: string) =>
  c.departments?.find((d) => d.code === department)?.dailyCapacity ?? 0;

/** Why an institution cannot receive this referral at all (capacity aside), or undefined if it can. */
export function ineligibility(c: Candidate | undefined, direction: ReferralDirection, department: string): string | undefined {
  if (!c) return 'is not a registered institution';
  if (c.type !== receiverType[direction]) return `is not a ${receiverType[direction]}`;
  if (!c.designated) return 'is not a designated institution';
  if (dailyCapacity(c, department) <= 0) return `has no ${department} department`;
  return undefined;
}

/**
 * Eligible institutions with a free slot on the routing day, best first: explicit preferences,
 * then (downward) the sender's consortium clinics, then the sender's district, then the most
 * free slots, then id (deterministic).
 */
export function rankTargets(candidates: readonly Candidate[], ctx: RoutingContext): string[] {
  const near = ctx.near ?? ctx.sender.district;
  const free = (c: Candidate) => dailyCapacity(c, ctx.department) - (ctx.used.get(c.id) ?? 0);
  const tier = (c: Candidate) => {
    const i = ctx.prefer.indexOf(c.id);
    if (i >= 0) return i;
    if (ctx.direction === 'down' && c.leadHospitalId === ctx.sender.id) return ctx.prefer.length;
    return ctx.prefer.length + 1;
  };
  return candidates
    .filter((c) => !ctx.exclude.has(c.id) && c.id !== ctx.sender.id && !ineligibility(c, ctx.direction, ctx.department) && free(c) > 0)
    .sort(
      (a, b) =>
        tier(a) - tier(b) ||
        Number(b.district === near) - Number(a.district === near) ||
        free(b) - free(a) ||
        a.id.localeCompare(b.id),
    )
    .map((c) => c.id);
}

// ── effects on other items ──

/**
 * What a move does to the person's "referred to" item at the receiving institution (keys.ts): an
 * upward referral joins the item's live set when it is accepted and leaves it when it is cancelled
 * after acceptance. Nothing else changes it (an accepted referral cannot be re-routed, and arrival
 * and completion keep it live).
 */
export function referredToChange(before: Pick<Referral, 'status'>, next: Pick<Referral, 'status' | 'direction'>): 'add' | 'remove' | undefined {
  if (next.direction !== 'up') return undefined;
  if (next.status === 'accepted' && before.status !== 'accepted') return 'add';
  if (next.status === 'cancelled' && before.status === 'accepted') return 'remove';
  return undefined;
}

/** Slot bookkeeping of a move: take one on acceptance, give it back when an accepted referral is cancelled. */
export function capacityChange(before: Referral, next: Referral, timeZone: string, now: Date): { op: 'take' | 'release'; day: string } | undefined {
  if (next.status === 'accepted' && next.appointmentAt) return { op: 'take', day: calendarDay(new Date(next.appointmentAt), timeZone) };
  if (next.status === 'cancelled' && before.status === 'accepted' && before.appointmentAt) {
    const day = calendarDay(new Date(before.appointmentAt), timeZone);
    // A day already past has no slot left to give back.
    return day >= calendarDay(now, timeZone) ? { op: 'release', day } : undefined;
  }
  return undefined;
}
