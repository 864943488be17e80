// Keys of the items the referrals context owns.

/**
 * "Referred there": present while the person's latest upward referral to that institution is
 * accepted, arrived or completed; written in the same transaction as those transitions (and
 * deleted when such a referral is cancelled). The vouchers context reads it to apply the referred
 * pooled-fund ratio at that hospital. Item: { personId, institutionId, referralId, status, at }.
 */
export const referredToKey = (personId: string, institutionId: string) => ({ PK: `PERSON#${personId}`, SK: `REFERRED#${institutionId}` });
