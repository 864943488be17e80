// Events of the referrals context. Details carry ids, codes, statuses and times only: never names,
// phones, national IDs or free text (a rejection reason may name the patient, so it stays in the
// referral's history and out of the events).
import * as z from 'zod';
import { referralDirections, referralStatuses, urgencies } from '../schemas/referrals.ts';
import { defineEvent, sources } from './catalog.ts';

// Only event definitions are exported: events/all.ts takes every export of this module as one.

/** What every referral event says about the referral after the change. */
const referral = {
  referralId: z.string(),
  personId: z.string(),
  direction: z.enum(referralDirections),
  fromInstitutionId: z.string(),
  toInstitutionId: z.string(),
  department: z.string(),
  status: z.enum(referralStatuses),
};

export const ReferralSubmitted = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralSubmitted',
  version: 1,
  detail: {
    ...referral,
    urgency: z.enum(urgencies),
    /** True when the platform chose the institution. */
    routed: z.boolean(),
    upwardReferralId: z.string().optional(),
  },
});

export const ReferralAccepted = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralAccepted',
  version: 1,
  detail: { ...referral, appointmentAt: z.iso.datetime() },
});

export const ReferralRejected = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralRejected',
  version: 1,
  detail: referral,
});

export const ReferralExpired = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralExpired',
  version: 1,
  detail: {
    ...referral,
    /**
     * The institution that let the SLA lapse. Expiry does not change the receiver, so this equals
     * toInstitutionId here; where the referral went next, if the same sweep re-routed it, is
     * reroutedTo (and the ReferralRerouted that follows).
     */
    expiredAtInstitutionId: z.string(),
    /** Set when the same sweep re-routed it (a ReferralRerouted follows). */
    reroutedTo: z.string().optional(),
  },
});

export const ReferralRerouted = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralRerouted',
  version: 1,
  // previousStatus: rejected or expired (the table's `from` allows both), so counters of referrals
  // by status (functions/overview) can move one referral from one status to the other in any order.
  detail: { ...referral, previousInstitutionId: z.string(), previousStatus: z.enum(referralStatuses), automatic: z.boolean() },
});

export const ReferralArrived = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralArrived',
  version: 1,
  detail: referral,
});

export const ReferralCompleted = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralCompleted',
  version: 1,
  detail: referral,
});

export const ReferralCancelled = defineEvent({
  source: sources.referrals,
  detailType: 'ReferralCancelled',
  version: 1,
  detail: { ...referral, previousStatus: z.enum(referralStatuses) },
});
