// Pure rules of advice and guidance: the state machine (one transition table), who may move a
// request, and what each move does to it. No AWS, no I/O: the store writes what these functions
// return as one conditional transaction. Routing is the referrals context's (service.routeTarget).
import type { DetailInput, EventDef } from '#events/catalog';
import { AdviceAnswered, AdviceClosed, AdviceConverted, AdviceExpired, AdviceRequested, AdviceRerouted } from '#events/advice';
import type { AdviceAction, AdviceRequest, AdviceRequestBody, AdviceStatus, AdviceView, closedReasons, recommendations } from '#schemas/advice';
import { addHours } from '#shared/clock';
import { allowedIn, assertAllowed } from '#shared/transitions';

/** Who is moving the request, relative to it. The SLA sweeper is the platform. */
export type Actor = 'sender' | 'receiver' | 'platform';
export type Action = AdviceAction | 'reroute';

interface TransitionDef {
  readonly from: readonly AdviceStatus[];
  readonly to: AdviceStatus;
  readonly by: readonly Actor[];
  readonly event: EventDef;
}

/**
 * THE state machine: open → answered → converted or closed. The asking clinic closes a request it
 * no longer needs (withdrawn while open, resolved once answered); the platform closes one nobody
 * answered within the SLA when no other institution can take it, and otherwise asks another
 * (reroute, open → open). The store enforces `from` with a condition on the stored status and
 * version, so of two racing moves exactly one wins.
 */
export const transitions = {
  reply: { from: ['open'], to: 'answered', by: ['receiver'], event: AdviceAnswered },
  convert: { from: ['answered'], to: 'converted', by: ['sender'], event: AdviceConverted },
  close: { from: ['open', 'answered'], to: 'closed', by: ['sender', 'platform'], event: AdviceClosed },
  reroute: { from: ['open'], to: 'open', by: ['platform'], event: AdviceRerouted },
} as const satisfies Record<Action, TransitionDef>;

export const PLATFORM = 'platform';

export type MoveInput =
  | { action: 'reply'; answer: string; recommendation: (typeof recommendations)[number] }
  | { action: 'convert'; referralId: string }
  | { action: 'close' }
  | { action: 'reroute'; toInstitutionId: string; slaDueAt: string };

export interface Mover {
  actor: Actor;
  /** Institution id, or PLATFORM. */
  by: string;
  user?: string;
  at: Date;
}

export interface PendingEvent {
  def: EventDef;
  input: DetailInput<EventDef>;
}

export function assertMove(status: AdviceStatus, action: Action, actor: Actor): void {
  assertAllowed(transitions, 'an advice request', status, action, actor);
}

/** The moves a party may make now: the rows assertMove lets through. */
export function allowedActions(status: AdviceStatus, party: 'sender' | 'receiver' | undefined): AdviceAction[] {
  return allowedIn(transitions, status, party) as AdviceAction[];
}

export function partyOf(a: Pick<AdviceRequest, 'fromInstitutionId' | 'toInstitutionId'>, institutionId: string | undefined): 'sender' | 'receiver' | undefined {
  if (!institutionId) return undefined;
  if (a.toInstitutionId === institutionId) return 'receiver';
  if (a.fromInstitutionId === institutionId) return 'sender';
  return undefined;
}

/** A request as `institutionId` sees it: users only of its own moves, its version and its moves now. */
export function presentFor(a: AdviceRequest & { version: number }, institutionId: string | undefined): AdviceView {
  const { version, ...rest } = a;
  return {
    ...rest,
    history: rest.history.map(({ user, ...h }) => (user !== undefined && h.by === institutionId ? { ...h, user } : h)),
    version,
    allowedActions: allowedActions(a.status, partyOf(a, institutionId)),
  };
}

export const slaDue = (from: Date, slaHours: number) => addHours(from, slaHours).toISOString();

export const isOverdue = (a: Pick<AdviceRequest, 'status' | 'slaDueAt'>, now: Date) =>
  a.status === 'open' && !!a.slaDueAt && new Date(a.slaDueAt).getTime() <= now.getTime();

const detailOf = (a: AdviceRequest) => ({
  adviceId: a.adviceId,
  personId: a.personId,
  fromInstitutionId: a.fromInstitutionId,
  toInstitutionId: a.toInstitutionId,
  department: a.department,
  status: a.status,
});

export function newAdvice(
  body: AdviceRequestBody,
  o: { adviceId: string; fromInstitutionId: string; toInstitutionId: string; routed: boolean; mover: Mover; slaHours: number; patient?: AdviceRequest['patient'] },
): { advice: AdviceRequest; event: PendingEvent } {
  const at = o.mover.at.toISOString();
  const advice: AdviceRequest = {
    adviceId: o.adviceId,
    personId: body.personId,
    ...(o.patient ? { patient: o.patient } : {}),
    status: 'open',
    fromInstitutionId: o.fromInstitutionId,
    toInstitutionId: o.toInstitutionId,
    department: body.department,
    question: body.question,
    ...(body.diagnoses?.length ? { diagnoses: body.diagnoses } : {}),
    slaDueAt: slaDue(o.mover.at, o.slaHours),
    expiredBy: [],
    createdAt: at,
    updatedAt: at,
    history: [{ status: 'open', at, by: o.mover.by, ...(o.mover.user ? { user: o.mover.user } : {}), toInstitutionId: o.toInstitutionId }],
  };
  return { advice, event: { def: AdviceRequested, input: { ...detailOf(advice), routed: o.routed } as DetailInput<EventDef> } };
}

/** Why a close closes: the platform's is "unanswered"; the sender's depends on whether it was answered. */
export function closedReason(status: AdviceStatus, actor: Actor): (typeof closedReasons)[number] {
  if (actor === 'platform') return 'unanswered';
  return status === 'answered' ? 'resolved' : 'withdrawn';
}

const addOnce = (list: readonly string[], id: string) => (list.includes(id) ? [...list] : [...list, id]);

/** Applies one row of the table (403 wrong actor, 409 wrong status) and returns the request after it and its event. */
export function move(a: AdviceRequest, input: MoveInput, mover: Mover): { next: AdviceRequest; event: PendingEvent } {
  const t: TransitionDef = transitions[input.action];
  assertMove(a.status, input.action, mover.actor);
  const at = mover.at.toISOString();
  const { slaDueAt: _sla, ...rest } = a;
  let next: AdviceRequest = { ...rest, status: t.to, updatedAt: at };
  const entry: AdviceRequest['history'][number] = { status: t.to, at, by: mover.by, ...(mover.user ? { user: mover.user } : {}) };
  const extra: Record<string, unknown> = {};
  switch (input.action) {
    case 'reply':
      next = { ...next, answer: input.answer, recommendation: input.recommendation, answeredAt: at };
      extra.recommendation = input.recommendation;
      break;
    case 'convert':
      next.referralId = input.referralId;
      extra.referralId = input.referralId;
      break;
    case 'close':
      next.closedReason = closedReason(a.status, mover.actor);
      if (mover.actor === 'platform') next.expiredBy = addOnce(a.expiredBy, a.toInstitutionId);
      Object.assign(extra, { previousStatus: a.status, reason: next.closedReason });
      break;
    case 'reroute':
      next = { ...next, toInstitutionId: input.toInstitutionId, slaDueAt: input.slaDueAt, expiredBy: addOnce(a.expiredBy, a.toInstitutionId) };
      entry.toInstitutionId = input.toInstitutionId;
      extra.previousInstitutionId = a.toInstitutionId;
      break;
  }
  next.history = [...a.history, entry];
  return { next, event: { def: t.event, input: { ...detailOf(next), ...extra } as DetailInput<EventDef> } };
}

/**
 * Unanswered past the SLA: asked of another institution if routing finds one (never one that let it
 * lapse), else closed as unanswered. AdviceExpired first, naming the institution that let it lapse
 * (the move's own event names only the next one, or the clinic's close), so that its system learns
 * the question has left it.
 */
export function lapse(a: AdviceRequest, to: string | undefined, at: Date, slaHours: number): { next: AdviceRequest; events: PendingEvent[] } {
  const mover: Mover = { actor: 'platform', by: PLATFORM, at };
  const moved = to ? move(a, { action: 'reroute', toInstitutionId: to, slaDueAt: slaDue(at, slaHours) }, mover) : move(a, { action: 'close' }, mover);
  // The hospital that let it lapse, and the status after the move (open again elsewhere, or closed).
  const expired: PendingEvent = { def: AdviceExpired, input: { ...detailOf(a), status: moved.next.status, ...(to ? { reroutedTo: to } : {}) } as DetailInput<EventDef> };
  return { next: moved.next, events: [expired, moved.event] };
}
