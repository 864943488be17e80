// Events of the advice context. Details carry ids, codes and statuses only: the question and the
// answer (free text about the patient) stay on the request.
import * as z from 'zod';
import { adviceStatuses, closedReasons, recommendations } from '../schemas/advice.ts';
import { defineEvent, sources } from './catalog.ts';

// Only event definitions are exported: events/all.ts takes every export of this module as one.

/** What every advice event says about the request after the change. */
const advice = {
  adviceId: z.string(),
  personId: z.string(),
  fromInstitutionId: z.string(),
  toInstitutionId: z.string(),
  department: z.string(),
  status: z.enum(adviceStatuses),
};

export const AdviceRequested = defineEvent({
  source: sources.advice,
  detailType: 'AdviceRequested',
  version: 1,
  /** routed: the platform chose the institution. */
  detail: { ...advice, routed: z.boolean() },
});

export const AdviceAnswered = defineEvent({
  source: sources.advice,
  detailType: 'AdviceAnswered',
  version: 1,
  detail: { ...advice, recommendation: z.enum(recommendations) },
});

/**
 * Unanswered within the SLA at toInstitutionId, the hospital that let it lapse. The move made in the
 * same transaction follows: AdviceRerouted to reroutedTo (status open; the hospital may no longer read
 * it, and this is its last event of it), or, with nobody left to ask, AdviceClosed as unanswered
 * (status closed).
 */
export const AdviceExpired = defineEvent({
  source: sources.advice,
  detailType: 'AdviceExpired',
  version: 1,
  detail: { ...advice, reroutedTo: z.string().optional() },
});

/** Unanswered within the SLA: the platform asked another institution (never one that let it lapse). */
export const AdviceRerouted = defineEvent({
  source: sources.advice,
  detailType: 'AdviceRerouted',
  version: 1,
  detail: { ...advice, previousInstitutionId: z.string() },
});

/** The asking clinic made a referral of it (the ReferralSubmitted of referralId is in the same transaction). */
export const AdviceConverted = defineEvent({
  source: sources.advice,
  detailType: 'AdviceConverted',
  version: 1,
  detail: { ...advice, referralId: z.string() },
});

export const AdviceClosed = defineEvent({
  source: sources.advice,
  detailType: 'AdviceClosed',
  version: 1,
  detail: { ...advice, previousStatus: z.enum(adviceStatuses), reason: z.enum(closedReasons) },
});
