// Which institutions an event is about, and what of it an institution's own system may be told
// (webhooks, API.md "Webhooks (v2)"). Derived from the catalog by field name, so a new event of a
// context (a prescription made ready, an advice request answered) reaches subscribers with no
// change here, as long as its detail names its institutions with the fields below.
import type { EventDef } from './catalog.ts';
import { sources } from './catalog.ts';
import { allEvents } from './all.ts';
import type { InstitutionType } from '../schemas/institutions.ts';

/**
 * Detail fields naming an institution whose own object the event is about: a referral or an advice
 * request from or to it, a prescription it issued or that is routed to it, its settlements and its
 * stock. Fields that name an institution the object has left (previousInstitutionId, reroutedTo,
 * rejectedBy) or has not reached (nominatedPharmacyId) are not among them: that institution may no
 * longer read it.
 */
export const audienceFields = ['fromInstitutionId', 'toInstitutionId', 'prescriberId', 'pharmacyId', 'institutionId'] as const;

/**
 * The kinds of institution each field can name: who refers and is referred to, who prescribes, who
 * dispenses, who settles (the routes' roles; tests/unit/webhooks.test.ts holds them together).
 */
export const audienceRoles: Record<(typeof audienceFields)[number], readonly InstitutionType[]> = {
  fromInstitutionId: ['clinic', 'hospital'],
  toInstitutionId: ['clinic', 'hospital'],
  prescriberId: ['clinic', 'hospital'],
  pharmacyId: ['pharmacy'],
  institutionId: ['pharmacy', 'hospital'],
};

/**
 * Contexts whose events are about an institution's objects (institution registrations are the
 * operator's): a hospital's HIS learns of a clinic's question (会诊咨询) as of a referral.
 */
const objectSources: readonly string[] = [sources.referrals, sources.advice, sources.prescriptions, sources.vouchers];

const namesAnInstitution = (e: EventDef) => audienceFields.some((f) => f in e.detail.shape);

/** The events a clinic, hospital or pharmacy may subscribe to, in catalog order. */
export const webhookEvents: readonly EventDef[] = allEvents.filter((e) => objectSources.includes(e.source) && namesAnInstitution(e));
export const webhookEventNames = webhookEvents.map((e) => e.detailType) as [string, ...string[]];

/**
 * The events that can ever reach an institution of this kind (a field of theirs can name it): what
 * its desk offers. A pharmacy is never a referral's party; a clinic neither settles nor stocks.
 */
export const webhookEventNamesFor = (role: InstitutionType): string[] =>
  webhookEvents.filter((e) => audienceFields.some((f) => f in e.detail.shape && audienceRoles[f].includes(role))).map((e) => e.detailType);

/** The institutions an event is about (each once). */
export function audienceOf(detail: Record<string, unknown>): string[] {
  const ids = audienceFields.flatMap((f) => (typeof detail[f] === 'string' ? [detail[f] as string] : []));
  return [...new Set(ids)];
}

/** Base fields every detail carries; `id` is passed on as `eventId`, the rest stay inside. */
const baseFields = new Set(['id', 'occurredAt', 'province', 'version', 'correlationId']);
/**
 * Ids that identify a person (pseudonymous, still personal data): the patient's, their voucher's, the
 * relative who paid part of a settlement. The receiver reads the object instead, where access is
 * checked. tests/unit/webhooks.test.ts holds every id field of a webhook event to this list or to
 * the ids of objects and institutions, so a new one must be put on one side.
 */
export const personFields = new Set(['personId', 'voucherId', 'mutualAidPayerId']);

/**
 * The `data` of a webhook message: the event id and the ids, statuses and times of the event
 * (referralId, toInstitutionId, status, appointmentAt, …). Never the person's ids, amounts, drug
 * codes or anything else: the receiving system reads the object through the API, with its own
 * token, where access is checked and logged.
 */
export function webhookData(detail: Record<string, unknown>): Record<string, string> {
  const data: Record<string, string> = { eventId: String(detail.id) };
  for (const [k, v] of Object.entries(detail)) {
    if (baseFields.has(k) || personFields.has(k) || typeof v !== 'string') continue;
    if (k.endsWith('Id') || k.endsWith('At') || k === 'status' || k === 'previousStatus') data[k] = v;
  }
  return data;
}
