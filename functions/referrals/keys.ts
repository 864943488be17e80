// Keys of the items the referrals context owns.
import { queueKey } from '#shared/sla-queue';

/**
 * "Referred there": the person's item for one institution, read by the vouchers context
 * (functions/vouchers/settle.ts) to apply the province's referred pooled-fund ratio at that
 * institution. Item: { entity: 'referredTo', personId, institutionId, liveReferralIds?: string set }.
 *
 * `liveReferralIds` holds the ids of the person's upward referrals to that institution that were
 * accepted and not cancelled (arrived and completed ones stay: cancelling is only before arrival).
 * An id is ADDed in the transaction that accepts the referral and DELETEd in the transaction that
 * cancels an accepted one; both are commutative set updates, so racing moves of different
 * referrals cannot lose each other's ids, and nothing has to be read first. DynamoDB removes a set
 * attribute that becomes empty, so after the last live referral is cancelled the item remains
 * without `liveReferralIds`.
 *
 * The rule, in this one place: a person counts as referred to an institution exactly when that
 * item's `liveReferralIds` is non-empty (`isReferredThere`).
 */
export const referredToKey = (personId: string, institutionId: string) => ({ PK: `PERSON#${personId}`, SK: `REFERRED#${institutionId}` });
export const LIVE_REFERRAL_IDS = 'liveReferralIds';

/** Whether a "referred to" item (as the document client returns it, or absent) says "referred there". */
export function isReferredThere(item: Record<string, unknown> | undefined): boolean {
  const ids = item?.[LIVE_REFERRAL_IDS];
  // The document client reads a string set as a Set.
  return ids instanceof Set && ids.size > 0;
}

export const referralKey = (referralId: string) => ({ PK: `REFERRAL#${referralId}`, SK: 'PROFILE' });

/**
 * Worklists. Status leads the sort key, so `?status=` is a begins_with on one partition and the
 * full box is the same partition read in order; both are rewritten on every transition.
 */
export const incomingKey = (toInstitutionId: string, status: string, statusAt: string, referralId: string) => ({
  GSI1PK: incomingPartition(toInstitutionId),
  GSI1SK: `${status}#${statusAt}#${referralId}`,
});
export const incomingPartition = (institutionId: string) => `REFERRALS#IN#${institutionId}`;
export const outgoingKey = (fromInstitutionId: string, status: string, statusAt: string, referralId: string) => ({
  GSI2PK: outgoingPartition(fromInstitutionId),
  GSI2SK: `${status}#${statusAt}#${referralId}`,
});
export const outgoingPartition = (institutionId: string) => `REFERRALS#OUT#${institutionId}`;

/**
 * SLA queue: a sparse index holding only submitted referrals, sorted by due time, so the sweeper
 * finds what is overdue with one Query (functions/shared/sla-queue.ts). The attributes are removed
 * when a referral leaves "submitted". A referral the sweep failed on is put back under the time of
 * its next try until its next move rewrites the key from `slaDueAt`. One partition is ample for a
 * province's referral rate (well under 1,000 writes/s).
 */
export const SLA_PARTITION = 'REFERRALS#SLA';
export const slaQueueKey = (slaDueAt: string, referralId: string) => queueKey(SLA_PARTITION, slaDueAt, referralId);

/** Slots used in one department of one institution on one calendar day (province time zone). */
export const capacityKey = (institutionId: string, department: string, day: string) => ({
  PK: `REFCAP#${institutionId}#${department}`,
  SK: `DAY#${day}`,
});
