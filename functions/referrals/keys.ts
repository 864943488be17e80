// Keys of the items the referrals context owns.

/**
 * "Referred there": present while the person's latest upward referral to that institution is
 * accepted, arrived or completed; written in the same transaction as those transitions (and
 * deleted when such a referral is cancelled). The vouchers context reads it to apply the referred
 * pooled-fund ratio at that hospital. Item: { personId, institutionId, referralId, status, at }.
 */
export const referredToKey = (personId: string, institutionId: string) => ({ PK: `PERSON#${personId}`, SK: `REFERRED#${institutionId}` });

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
 * finds what is overdue with one Query. The attributes are removed when a referral leaves
 * "submitted". One partition is ample for a province's referral rate (well under 1,000 writes/s).
 */
export const SLA_PARTITION = 'REFERRALS#SLA';
export const slaQueueKey = (slaDueAt: string, referralId: string) => ({ GSI3PK: SLA_PARTITION, GSI3SK: `${slaDueAt}#${referralId}` });

/** Slots used in one department of one institution on one calendar day (province time zone). */
export const capacityKey = (institutionId: string, department: string, day: string) => ({
  PK: `REFCAP#${institutionId}#${department}`,
  SK: `DAY#${day}`,
});
