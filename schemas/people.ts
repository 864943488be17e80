// The person's rights over their records (API.md v2, PIPL Art. 45): their timeline, who read or
// changed their records (the access log), and a copy of everything held about them (the export).
import * as z from 'zod';
import { adviceRequest, adviceStatuses } from './advice.ts';
import { familyBinding } from './family.ts';
import { institutionId, isoDateTime, page, pageQuery, patterned, role, serverId, settlementFen } from './common.ts';
import { enrolment } from './institutions.ts';
import { prescription, prescriptionStatuses } from './prescriptions.ts';
import { referral, referralStatuses } from './referrals.ts';
import { authProblems, defineRoute, principalSubject } from './route.ts';
import { settlement, settlementStatuses, voucher } from './vouchers.ts';

export const timelineKinds = ['referral', 'prescription', 'settlement', 'advice'] as const;
export type TimelineKind = (typeof timelineKinds)[number];
const anyStatus = z.enum([...new Set<string>([...referralStatuses, ...prescriptionStatuses, ...settlementStatuses, ...adviceStatuses])] as [string, ...string[]]);

export const timelineEntry = z
  .object({
    kind: z.enum(timelineKinds),
    id: serverId,
    /** Its status now. */
    status: anyStatus,
    /** When it was made (the time in its id; entries are newest first by this). */
    at: isoDateTime,
    /** Where it happened: the hospital referred to, the prescriber, the settling pharmacy or hospital, the institution asked. */
    institutionId,
    /** Its last change. */
    updatedAt: isoDateTime,
    /** On a payer's timeline, a relative's settlement their personal account helped pay (family mutual aid): the relative. */
    beneficiaryPersonId: serverId.optional(),
    /** A settlement's total (on a payer's entry, what their personal account paid), in fen: a complaint of a double charge is read off it. */
    amountFen: settlementFen.optional(),
  })
  .meta({ id: 'TimelineEntry' });
export type TimelineEntry = z.infer<typeof timelineEntry>;

export const accessEntry = z
  .object({
    at: isoDateTime,
    /** Who: the role, the institution (clinic, hospital, pharmacy) and the user (the token's subject). */
    actor: z.object({ role, institutionId: institutionId.optional(), user: principalSubject }),
    action: z.enum(['read', 'write']),
    /** The record read or changed, as its API path (/referrals/ref_…), or the person's own path for /people/… routes. */
    resource: patterned(300, /^\/[A-Za-z0-9_\/-]+$/, 'an API path'),
    /** The API operation (getReferral, acceptReferral, …). */
    operation: patterned(64, /^[A-Za-z]+$/, 'an operationId of the API'),
    /** The request, to follow it through the platform's logs. */
    requestId: patterned(128, /^[A-Za-z0-9_.:-]+$/, 'a request id'),
  })
  .meta({ id: 'AccessEntry' });
export type AccessEntry = z.infer<typeof accessEntry>;

/** Bounds of an export's lists: a lifetime of records is far below them; they keep the document bounded. */
const MAX_RECORDS = 10_000;
const MAX_ACCESS_ENTRIES = 100_000;

export const notificationRecord = z.object({
  notificationId: patterned(128, /^ntf_[A-Za-z0-9_]+$/, 'a notification id'),
  channel: z.literal('sms'),
  phoneMasked: patterned(11, /^1\d{2}\*{4}\d{4}$/, 'a masked mobile number'),
  text: z.string().max(500),
  /** The event that sent it (ReferralAccepted, …). */
  detailType: patterned(64, /^[A-Z][A-Za-z]+$/, 'an event name'),
  createdAt: isoDateTime,
});

/**
 * A relative's settlement the person's personal account helped pay (family mutual aid, 家庭共济):
 * what their account paid, where and when. The purchase itself (its drugs) is the relative's record.
 */
export const mutualAidPayment = z
  .object({
    settlementId: serverId,
    /** The relative whose purchase it was. */
    beneficiaryPersonId: serverId,
    institutionId,
    /** Paid from this person's personal account. */
    mutualAidFen: settlementFen,
    status: z.enum(settlementStatuses),
    settledAt: isoDateTime,
    reversedAt: isoDateTime.optional(),
  })
  .meta({ id: 'MutualAidPayment' });

export const personalExport = z
  .object({
    personId: serverId,
    exportedAt: isoDateTime,
    enrolment,
    vouchers: z.array(voucher).max(10),
    settlements: z.array(settlement).max(MAX_RECORDS),
    /** Relatives' settlements the person's personal account helped pay (family mutual aid). */
    mutualAidPaid: z.array(mutualAidPayment).max(MAX_RECORDS),
    referrals: z.array(referral.meta({ id: 'ReferralRecord', description: 'A referral as stored, without the parties\' staff user ids' })).max(MAX_RECORDS),
    prescriptions: z.array(prescription).max(MAX_RECORDS),
    adviceRequests: z.array(adviceRequest.meta({ id: 'AdviceRecord', description: 'An advice request as stored, without the parties\' staff user ids' })).max(MAX_RECORDS),
    /** Family mutual aid bindings the person pays for or is paid for by (家庭共济). */
    familyBindings: z.array(familyBinding).max(MAX_RECORDS),
    /** The text messages sent to the person (masked number). */
    notifications: z.array(notificationRecord).max(MAX_RECORDS),
    accessLog: z.array(accessEntry).max(MAX_ACCESS_ENTRIES),
  })
  .meta({ id: 'PersonalExport' });
export type PersonalExport = z.infer<typeof personalExport>;

const params = z.object({ personId: serverId });
const tag = 'people';
/** The person (a channel app's token acting for them, pid) and, for complaint handling, the operator. */
const personOrOperator = ['operator', 'channel'] as const;
const person = { in: 'params', name: 'personId' } as const;

export const peopleRoutes = [
  defineRoute({
    operationId: 'getTimeline',
    method: 'GET',
    path: '/people/{personId}/timeline',
    fn: 'people',
    auth: personOrOperator,
    person,
    tag,
    summary: "The person's referrals, prescriptions, settlements and advice requests, newest first",
    params,
    query: pageQuery,
    responses: { 200: page(timelineEntry) },
    problems: ['validation-failed', 'not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'getAccessLog',
    method: 'GET',
    path: '/people/{personId}/access-log',
    fn: 'people',
    auth: personOrOperator,
    person,
    tag,
    summary: "Who else read or changed the person's records, newest first (an entry appears within seconds of the request)",
    params,
    query: pageQuery,
    responses: { 200: page(accessEntry) },
    problems: ['validation-failed', 'not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'exportPersonalData',
    method: 'GET',
    path: '/people/{personId}/export',
    fn: 'people',
    auth: ['channel'],
    person,
    tag,
    summary: 'Everything held about the person, as JSON (PIPL Art. 45): enrolment (masked), vouchers, settlements, referrals, prescriptions, advice requests, messages, access log',
    params,
    responses: { 200: personalExport },
    problems: ['validation-failed', 'not-found', ...authProblems],
  }),
] as const;
