// What one domain event does to the overview counters: pure, no I/O. Every effect is an addition,
// so events may arrive in any order (EventBridge does not keep one) and still sum to the truth.
import { SettlementCompleted, SettlementReversed } from '#events/vouchers';
import { ReferralCancelled, ReferralRerouted, ReferralSubmitted } from '#events/referrals';
import type { Detail, EventDef } from '#events/catalog';
import type { ReferralStatus } from '#schemas/referrals';
import { transitions } from '../referrals/domain.ts';

export const settlementEvents = [SettlementCompleted, SettlementReversed] as const;
/** Every referral event: the submission and one per row of the transition table. */
export const referralEvents = [ReferralSubmitted, ...new Set(Object.values(transitions).map((t) => t.event))] as const;

export interface Deltas {
  /** Attribute → amount, on the day's item. */
  day: Record<string, number>;
  /** Attribute → amount, on the referrals-by-status item. */
  status: Record<string, number>;
}

const settlementDeltas = (d: Detail<typeof SettlementCompleted>, sign: 1 | -1): Record<string, number> => ({
  count: sign,
  totalFen: sign * d.totalFen,
  pooledFundFen: sign * d.pooledFundFen,
  personalAccountFen: sign * d.personalAccountFen,
  mutualAidFen: sign * d.mutualAidFen,
  cashFen: sign * d.cashFen,
  ...(sign < 0 ? { reversedCount: 1, reversedFen: d.totalFen } : {}),
});

/**
 * The status a referral left, from the one transition table: a row with one `from` status says it;
 * the rows that allow several (reroute, cancel) carry `previousStatus` in their event.
 */
function previousStatus(detailType: string, detail: Record<string, unknown>): ReferralStatus | undefined {
  if (detailType === ReferralSubmitted.detailType) return undefined;
  if (detailType === ReferralRerouted.detailType || detailType === ReferralCancelled.detailType) return detail.previousStatus as ReferralStatus;
  const row = Object.values(transitions).find((t) => t.event.detailType === detailType);
  if (!row || row.from.length !== 1) throw new Error(`no single previous status for ${detailType}`);
  return row.from[0];
}

export function deltasOf(def: EventDef, detail: Record<string, unknown>): Deltas {
  if (def.detailType === SettlementCompleted.detailType) return { day: settlementDeltas(detail as Detail<typeof SettlementCompleted>, 1), status: {} };
  if (def.detailType === SettlementReversed.detailType) return { day: settlementDeltas(detail as Detail<typeof SettlementReversed>, -1), status: {} };
  const to = detail.status as ReferralStatus;
  const from = previousStatus(def.detailType, detail);
  return { day: { [`entered_${to}`]: 1 }, status: { [to]: 1, ...(from ? { [from]: -1 } : {}) } };
}
