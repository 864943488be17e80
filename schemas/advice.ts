// Advice and guidance (API.md v2): a clinic asks a hospital department a question about a patient
// before (or instead of) referring them. Schemas and routes. Fields beyond the contract
// (diagnoses, closedReason, expiredBy, history, version, allowedActions …) are extensions it allows.
import * as z from 'zod';
import { freeText, icd10, institutionId, isoDateTime, page, pageQuery, patient, serverId } from './common.ts';
import { department } from './institutions.ts';
import { referralView, urgencies } from './referrals.ts';
import { authProblems, defineRoute, principalSubject } from './route.ts';

/** open → answered → converted or closed (an open request may be closed too: withdrawn, or unanswered past the SLA). */
export const adviceStatuses = ['open', 'answered', 'converted', 'closed'] as const;
export type AdviceStatus = (typeof adviceStatuses)[number];
export const recommendations = ['manage-locally', 'refer'] as const;
/** The moves a party may make, one route each; the platform's re-route and close are not among them. */
export const adviceActions = ['reply', 'convert', 'close'] as const;
export type AdviceAction = (typeof adviceActions)[number];
/** Why a request was closed: the sender withdrew it unanswered, the sender is done with the answer, nobody answered in time. */
export const closedReasons = ['withdrawn', 'resolved', 'unanswered'] as const;

const departmentCode = department.shape.code;
const clinicalText = (max: number) => freeText(max, { multiline: true });
const MAX_DIAGNOSES = 20;

export const adviceRequestBody = z
  .object({
    personId: serverId,
    toInstitutionId: institutionId.optional(),
    department: departmentCode,
    question: clinicalText(2000),
    /** What the clinic thinks so far (ICD-10): carried over to the referral if the request is converted. */
    diagnoses: z.array(icd10).max(MAX_DIAGNOSES).optional(),
  })
  .strict();
export type AdviceRequestBody = z.output<typeof adviceRequestBody>;

export const adviceReplyBody = z.object({ answer: clinicalText(4000), recommendation: z.enum(recommendations) }).strict();

/** The referral a conversion makes: to the same institution and department; what the request does not hold, given here. */
export const adviceConvertBody = z
  .object({
    /** Default: the request's question. */
    reason: clinicalText(1000).optional(),
    /** Default: the request's diagnoses (a request with none converts to a referral with none). */
    diagnoses: z.array(icd10).min(1).max(MAX_DIAGNOSES).optional(),
    urgency: z.enum(urgencies).default('routine'),
  })
  .strict();

export const adviceCloseBody = z.object({}).strict();

export const adviceHistoryEntry = z.object({
  status: z.enum(adviceStatuses),
  at: isoDateTime,
  /** Institution that made the move, or "platform". */
  by: institutionId,
  /** Shown only to the institution that made the move. */
  user: principalSubject.optional(),
  toInstitutionId: institutionId.optional(),
});

export const adviceRequest = z.object({
  adviceId: serverId,
  personId: serverId,
  patient: patient.optional(),
  status: z.enum(adviceStatuses),
  fromInstitutionId: institutionId,
  toInstitutionId: institutionId,
  department: departmentCode,
  question: clinicalText(2000),
  diagnoses: z.array(icd10).max(MAX_DIAGNOSES).optional(),
  answer: clinicalText(4000).optional(),
  recommendation: z.enum(recommendations).optional(),
  answeredAt: isoDateTime.optional(),
  /** The referral it was converted to. */
  referralId: serverId.optional(),
  closedReason: z.enum(closedReasons).optional(),
  /** While open: when the platform re-routes it (or closes it) unanswered. */
  slaDueAt: isoDateTime.optional(),
  /** Institutions that let it lapse unanswered: not asked again. */
  expiredBy: z.array(institutionId),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  history: z.array(adviceHistoryEntry),
});
export type AdviceRequest = z.infer<typeof adviceRequest>;

export const adviceView = adviceRequest
  .extend({
    version: z.number().int().nonnegative().max(1_000_000),
    allowedActions: z.array(z.enum(adviceActions)).max(adviceActions.length),
  })
  .meta({ id: 'AdviceRequest' });
export type AdviceView = z.infer<typeof adviceView>;

const idParams = z.object({ id: serverId });
const tag = 'advice';
const parties = ['clinic', 'hospital'] as const;
const moveProblems = ['validation-failed', 'not-found', 'invalid-transition', 'precondition-failed', ...authProblems] as const;

export const adviceRoutes = [
  defineRoute({
    operationId: 'requestAdvice',
    method: 'POST',
    path: '/advice-requests',
    fn: 'advice',
    auth: ['clinic'],
    tag,
    summary: 'A clinic asks a hospital department about a patient; routed by the platform (as a referral is) without toInstitutionId',
    body: adviceRequestBody,
    responses: { 201: adviceView },
    etag: 'read',
    problems: ['validation-failed', 'not-enrolled', 'unroutable', ...authProblems],
  }),
  defineRoute({
    operationId: 'listAdviceRequests',
    method: 'GET',
    path: '/advice-requests',
    fn: 'advice',
    auth: parties,
    tag,
    summary: "The caller's incoming or outgoing advice requests, optionally of one status",
    query: pageQuery.extend({ box: z.enum(['incoming', 'outgoing']), status: z.enum(adviceStatuses).optional() }),
    responses: { 200: page(adviceView) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'getAdviceRequest',
    method: 'GET',
    path: '/advice-requests/{id}',
    fn: 'advice',
    auth: parties,
    tag,
    summary: 'One advice request with its history (the asking clinic and the institution asked only)',
    params: idParams,
    responses: { 200: adviceView },
    etag: 'read',
    problems: ['validation-failed', 'not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'replyAdviceRequest',
    method: 'POST',
    path: '/advice-requests/{id}/reply',
    fn: 'advice',
    auth: parties,
    tag,
    summary: 'The institution asked answers, recommending to manage locally or to refer',
    params: idParams,
    body: adviceReplyBody,
    responses: { 200: adviceView },
    etag: 'if-match',
    problems: moveProblems,
  }),
  defineRoute({
    operationId: 'convertAdviceRequest',
    method: 'POST',
    path: '/advice-requests/{id}/convert',
    fn: 'advice',
    auth: parties,
    tag,
    summary: 'The asking clinic turns an answered request into a referral to the same institution and department (linked both ways)',
    params: idParams,
    body: adviceConvertBody,
    bodyOptional: true,
    // The referral it makes: the one answer with a body of another kind (its ETag is the referral's;
    // If-Match names the version of the request the clinic acted on).
    responses: { 201: referralView },
    etag: 'if-match',
    problems: [...moveProblems, 'unroutable', 'not-enrolled'],
  }),
  defineRoute({
    operationId: 'closeAdviceRequest',
    method: 'POST',
    path: '/advice-requests/{id}/close',
    fn: 'advice',
    auth: parties,
    tag,
    summary: 'The asking clinic closes a request: withdrawn while open, or resolved once answered',
    params: idParams,
    body: adviceCloseBody,
    bodyOptional: true,
    responses: { 200: adviceView },
    etag: 'if-match',
    problems: moveProblems,
  }),
] as const;
