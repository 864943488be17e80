// Keys of the items the advice context owns, and of its index entries.
import { queueKey } from '#shared/sla-queue';
export const adviceKey = (adviceId: string) => ({ PK: `ADVICE#${adviceId}`, SK: 'PROFILE' });

/**
 * Worklists, as referrals have them: status leads the sort key, so `?status=` is a begins_with on
 * one partition and the whole box is the same partition in order; rewritten on every move.
 */
export const incomingPartition = (institutionId: string) => `ADVICE#IN#${institutionId}`;
export const incomingKey = (toInstitutionId: string, status: string, statusAt: string, adviceId: string) => ({
  GSI1PK: incomingPartition(toInstitutionId),
  GSI1SK: `${status}#${statusAt}#${adviceId}`,
});
export const outgoingPartition = (institutionId: string) => `ADVICE#OUT#${institutionId}`;
export const outgoingKey = (fromInstitutionId: string, status: string, statusAt: string, adviceId: string) => ({
  GSI2PK: outgoingPartition(fromInstitutionId),
  GSI2SK: `${status}#${statusAt}#${adviceId}`,
});

/**
 * SLA queue: a sparse index of open requests by due time (GSI3), read by the advice sweeper with one
 * Query, beside the referrals' own queue (another partition of the same index).
 */
export const SLA_PARTITION = 'ADVICE#SLA';
export const slaQueueKey = (slaDueAt: string, adviceId: string) => queueKey(SLA_PARTITION, slaDueAt, adviceId);
