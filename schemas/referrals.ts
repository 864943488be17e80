// The referrals part of API.md: schemas and routes. Fields beyond the contract (preferredDate,
// upwardReferralId, followUpPlan, rejectedBy, …) are extensions the contract allows.
import * as z from 'zod';
import { calendarDate, freeText, icd10, institutionId, isoDateTime, page, pageQuery, patient, serverId } from './common.ts';
import { department } from './institutions.ts';
import { authProblems, defineRoute, principalSubject } from './route.ts';

export const referralStatuses = ['submitted', 'accepted', 'rejected', 'expired', 'arrived', 'completed', 'cancelled'] as const;
export type ReferralStatus = (typeof referralStatuses)[number];
export const referralDirections = ['up', 'down'] as const;
export type ReferralDirection = (typeof referralDirections)[number];
export const urgencies = ['routine', 'urgent', 'emergency'] as const;
export type Urgency = (typeof urgencies)[number];
/**
 * The moves a party may make, one route each (POST /referrals/{id}/<action>). The domain's
 * transition table (functions/referrals/domain.ts) has one row per action, plus the platform's
 * `expire`; which of them a caller may make now is `allowedActions`, computed from that table.
 */
export const referralActions = ['accept', 'reject', 'reroute', 'arrive', 'complete', 'cancel'] as const;
export type ReferralAction = (typeof referralActions)[number];

const departmentCode = department.shape.code;
const clinicalText = (max: number) => freeText(max, { multiline: true });
const reason = clinicalText(1000);
const followUpPlan = clinicalText(4000);
const MAX_REFERRAL_DIAGNOSES = 20;

const referralFields = z
  .object({
    personId: serverId,
    direction: z.enum(referralDirections),
    toInstitutionId: institutionId.optional(),
    department: departmentCode,
    reason,
    diagnoses: z.array(icd10).min(1, 'at least one diagnosis').max(MAX_REFERRAL_DIAGNOSES),
    urgency: z.enum(urgencies),
    /** Day whose capacity routing looks at (default: today in the province time zone). */
    preferredDate: calendarDate.optional(),
    /**
     * Downward only: the completed upward referral this one follows. Optional on purpose: a
     * hospital may refer down a patient who did not come up through a referral (walk-in,
     * emergency, another consortium); without it, routing has no "clinic the patient came from".
     */
    upwardReferralId: serverId.optional(),
    /**
     * Downward only: the follow-up plan for the clinic. Optional, as API.md's body has no such field
     * (a hospital system written against it must be able to refer down); the console asks for one.
     */
    followUpPlan: followUpPlan.optional(),
  })
  .strict();

const upHasNoDownFields = (b: z.output<typeof referralFields>, ctx: z.RefinementCtx) => {
  if (b.direction !== 'up') return;
  for (const field of ['upwardReferralId', 'followUpPlan'] as const) {
    if (b[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only for direction "down"' });
  }
};

export const createReferralBody = referralFields.superRefine(upHasNoDownFields);

/**
 * The referral an advice request's conversion makes. API.md's convert takes no body and its request
 * has no diagnosis field, so this one may have none: the question (its reason), the answer and the
 * link (`adviceId`) say why the patient comes.
 */
export const convertedReferralBody = referralFields.extend({ diagnoses: z.array(icd10).max(MAX_REFERRAL_DIAGNOSES) }).superRefine(upHasNoDownFields);

export type CreateReferralBody = z.output<typeof createReferralBody>;
export const rejectReferralBody = z.object({ reason }).strict();

export const historyEntry = z.object({
  status: z.enum(referralStatuses),
  at: isoDateTime,
  /** Institution that made the move, or "platform" for the SLA sweeper. */
  by: institutionId,
  /**
   * Subject of the caller's token, when a person made the move. Shown only to the institution
   * that made the move (`by`); the other party never sees the other side's users.
   */
  user: principalSubject.optional(),
  reason: reason.optional(),
  /** Where a submission went. */
  toInstitutionId: institutionId.optional(),
  appointmentAt: isoDateTime.optional(),
});
export type HistoryEntry = z.infer<typeof historyEntry>;

export const referral = z
  .object({
    referralId: serverId,
    personId: serverId,
    patient: patient.optional(),
    direction: z.enum(referralDirections),
    status: z.enum(referralStatuses),
    fromInstitutionId: institutionId,
    toInstitutionId: institutionId,
    department: departmentCode,
    reason,
    diagnoses: z.array(icd10).max(MAX_REFERRAL_DIAGNOSES),
    urgency: z.enum(urgencies),
    preferredDate: calendarDate.optional(),
    appointmentAt: isoDateTime.optional(),
    /** While submitted: when it expires untriaged. */
    slaDueAt: isoDateTime.optional(),
    upwardReferralId: serverId.optional(),
    followUpPlan: followUpPlan.optional(),
    downwardReferralIds: z.array(serverId).optional(),
    /** The advice request this referral was made from (POST /advice-requests/{id}/convert). */
    adviceId: serverId.optional(),
    /** Institutions that rejected it: never routed there again. */
    rejectedBy: z.array(institutionId),
    /** Institutions that let it expire: not chosen again by the platform. */
    expiredBy: z.array(institutionId),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    history: z.array(historyEntry),
  });
export type Referral = z.infer<typeof referral>;

/** A referral as the API answers it: what is stored, its version (the ETag) and what the caller may do now. */
export const referralView = referral
  .extend({
    /** Bumped by every move; the ETag is this number in quotes. */
    version: z.number().int().nonnegative().max(1_000_000),
    /** The moves the caller may make now (computed from the transition table and the caller's side). */
    allowedActions: z.array(z.enum(referralActions)).max(referralActions.length),
  })
  .meta({ id: 'Referral' });
export type ReferralView = z.infer<typeof referralView>;

const idParams = z.object({ id: serverId });
const tag = 'referrals';
const parties = ['clinic', 'hospital'] as const;
const moveProblems = ['validation-failed', 'not-found', 'invalid-transition', 'precondition-failed', ...authProblems] as const;

export const referralRoutes = [
  defineRoute({
    operationId: 'createReferral',
    method: 'POST',
    path: '/referrals',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Refer a patient: up (clinic → hospital) or down (hospital → clinic); routed by the platform without toInstitutionId',
    description: 'An optional Idempotency-Key makes a retry after a lost answer safe: the same key and body return the first answer and refer nobody twice.',
    body: createReferralBody,
    idempotencyKey: 'optional',
    responses: { 201: referralView },
    etag: 'read',
    problems: ['validation-failed', 'not-enrolled', 'unroutable', 'invalid-transition', 'idempotency-key-reused', ...authProblems],
  }),
  defineRoute({
    operationId: 'getReferral',
    method: 'GET',
    path: '/referrals/{id}',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'One referral with its history (sender and receiver only); the ETag names its version',
    params: idParams,
    responses: { 200: referralView },
    etag: 'read',
    problems: ['validation-failed', 'not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'listReferrals',
    method: 'GET',
    path: '/referrals',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: "The caller's incoming or outgoing referrals, optionally of one status",
    query: pageQuery.extend({ box: z.enum(['incoming', 'outgoing']), status: z.enum(referralStatuses).optional() }),
    responses: { 200: page(referralView) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'acceptReferral',
    method: 'POST',
    path: '/referrals/{id}/accept',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Receiving institution accepts with an appointment; consumes a slot of that day (409 conflict when the day is full)',
    params: idParams,
    body: z.object({ appointmentAt: isoDateTime }).strict(),
    responses: { 200: referralView },
    etag: 'if-match',
    problems: [...moveProblems, 'conflict'],
  }),
  defineRoute({
    operationId: 'rejectReferral',
    method: 'POST',
    path: '/referrals/{id}/reject',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Receiving institution rejects with a reason',
    params: idParams,
    body: rejectReferralBody,
    responses: { 200: referralView },
    etag: 'if-match',
    problems: moveProblems,
  }),
  defineRoute({
    operationId: 'rerouteReferral',
    method: 'POST',
    path: '/referrals/{id}/reroute',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Sender re-routes a rejected or expired referral to another institution (never one that rejected it)',
    params: idParams,
    body: z.object({ toInstitutionId: institutionId.optional() }).strict(),
    bodyOptional: true,
    responses: { 200: referralView },
    etag: 'if-match',
    problems: [...moveProblems, 'unroutable'],
  }),
  defineRoute({
    operationId: 'arriveReferral',
    method: 'POST',
    path: '/referrals/{id}/arrive',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Receiving institution records the patient’s arrival',
    params: idParams,
    responses: { 200: referralView },
    etag: 'if-match',
    problems: moveProblems,
  }),
  defineRoute({
    operationId: 'completeReferral',
    method: 'POST',
    path: '/referrals/{id}/complete',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Receiving institution completes the referral',
    params: idParams,
    responses: { 200: referralView },
    etag: 'if-match',
    problems: moveProblems,
  }),
  defineRoute({
    operationId: 'cancelReferral',
    method: 'POST',
    path: '/referrals/{id}/cancel',
    fn: 'referrals',
    auth: parties,
    tag,
    summary: 'Sender cancels before arrival; an accepted slot is released',
    params: idParams,
    responses: { 200: referralView },
    etag: 'if-match',
    problems: moveProblems,
  }),
] as const;
