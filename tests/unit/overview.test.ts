// The overview projection's counters: every referral move takes one referral out of one status and
// into another (so sums stay exact in any order); settlements add and reversals subtract.
import { describe, expect, it } from 'vitest';
import { SettlementCompleted, SettlementReversed } from '../../events/vouchers.ts';
import { ReferralSubmitted } from '../../events/referrals.ts';
import { transitions } from '../../functions/referrals/domain.ts';
import { deltasOf, referralEvents } from '../../functions/overview/counters.ts';
import { SHARDS, shardOf } from '../../functions/overview/keys.ts';

describe('overview counters', () => {
  it('covers the submission and every row of the referral transition table', () => {
    expect(new Set(referralEvents.map((e) => e.detailType))).toEqual(new Set([ReferralSubmitted.detailType, ...Object.values(transitions).map((t) => t.event.detailType)]));
  });

  it.each(Object.entries(transitions).flatMap(([action, t]) => t.from.map((from) => [action, from, t] as const)))('%s from %s moves one referral between statuses', (_action, from, t) => {
    const { status, day } = deltasOf(t.event, { status: t.to, previousStatus: from });
    expect(status).toEqual({ [from]: -1, [t.to]: 1 });
    expect(day).toEqual({ [`entered_${t.to}`]: 1 });
  });

  it('a submission adds one submitted referral', () => {
    expect(deltasOf(ReferralSubmitted, { status: 'submitted' }).status).toEqual({ submitted: 1 });
  });

  it('a reversal takes its settlement out of the totals exactly', () => {
    const d = { totalFen: 12_345, pooledFundFen: 8_000, personalAccountFen: 2_500, mutualAidFen: 500, cashFen: 1_345 };
    const done = deltasOf(SettlementCompleted, d).day;
    const undone = deltasOf(SettlementReversed, d).day;
    for (const k of ['count', 'totalFen', 'pooledFundFen', 'personalAccountFen', 'mutualAidFen', 'cashFen']) expect(done[k]! + undone[k]!).toBe(0);
    expect(undone).toMatchObject({ reversedCount: 1, reversedFen: 12_345 });
  });

  it('spreads event ids over every shard', () => {
    const seen = new Set(Array.from({ length: 400 }, (_, i) => shardOf(`evt_${i.toString(36)}`)));
    expect(seen.size).toBe(SHARDS);
  });
});
