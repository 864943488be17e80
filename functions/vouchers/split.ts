// How a purchase is split between the pooled fund, the personal account, a relative's personal
// account (family mutual aid) and cash. Pure integer arithmetic in fen; every rounding is written
// down here and tested (tests/unit/split.test.ts).
//
//   line amount      = quantity × unitPriceFen
//   insurable packs  = the packs the insurance may pay for: all of them, or, where the province
//                      requires drug trace codes, the packs scanned with one (the others: cash only)
//   insurable amount = insurable packs × unitPriceFen
//   category A       : the insurable amount is eligible
//   category B       : self-pay share = ceil(insurable amount × selfPay% / 100), the rest eligible
//                      (rounding up keeps the fund from paying a fraction of a fen it should not)
//   category C       : not eligible
//   deductible       : eligible spend first fills what is left of the annual deductible
//   pooled fund      = floor(eligible above deductible × ratio), then capped by what is left of
//                      the annual cap (ratio in basis points, so 0.29 × 100 is 29, not 28.999…)
//   account-payable  = eligible + B's self-pay shares − pooled fund  (insurable A/B spend left)
//   personal account = min(own balance, account-payable)
//   mutual aid       = min(the payer's balance, account-payable − personal account)  (family binding)
//   cash             = total − pooled fund − personal account − mutual aid
//                      (category C, untraced packs and whatever is left)
//
// Consequences: the four parts always sum to the total, none is negative, the fund never exceeds
// the ratio of eligible spend above the deductible nor the cap, neither account goes below zero,
// and untraced packs and category C are paid by neither the fund nor any account.

export type Category = 'A' | 'B' | 'C';

export interface Line {
  drugCode: string;
  quantity: number;
  unitPriceFen: number;
  category: Category;
  /** Packs the insurance may pay for (default: all); the rest are cash only (untraced packs). */
  insurablePacks?: number;
}

export interface SplitPolicy {
  categoryBSelfPayPercent: number;
  annualDeductibleFen: number;
  annualCapFen: number;
  /** Pooled-fund ratio for this purchase (by institution level and referral), 0..1. */
  ratio: number;
}

/** The person's position this calendar year, before the purchase. */
export interface Position {
  personalAccountFen: number;
  annualPooledUsedFen: number;
  deductibleMetFen: number;
  /** The balance of the relative who pays for this person (family mutual aid), if any. */
  mutualAidBalanceFen?: number;
}

export interface Split<L extends Line = Line> {
  totalFen: number;
  eligibleFen: number;
  /** Category B self-pay shares, summed. */
  selfPayFen: number;
  notEligibleFen: number;
  /** Part of the eligible spend that went to the deductible. */
  deductibleAppliedFen: number;
  pooledFundFen: number;
  personalAccountFen: number;
  mutualAidFen: number;
  cashFen: number;
  lines: Array<L & { amountFen: number; eligibleFen: number; untracedPacks: number }>;
}

export const toBasisPoints = (ratio: number) => Math.round(ratio * 10_000);

export function splitPurchase<L extends Line>(lines: L[], policy: SplitPolicy, position: Position): Split<L> {
  let total = 0;
  let eligible = 0;
  let selfPay = 0;
  let notEligible = 0;
  const priced = lines.map((line) => {
    const amount = line.quantity * line.unitPriceFen;
    const insurablePacks = Math.min(line.quantity, Math.max(0, line.insurablePacks ?? line.quantity));
    const insurable = insurablePacks * line.unitPriceFen;
    let lineEligible = 0;
    if (line.category === 'A') lineEligible = insurable;
    else if (line.category === 'B') {
      const share = Math.ceil((insurable * policy.categoryBSelfPayPercent) / 100);
      selfPay += share;
      lineEligible = insurable - share;
    }
    notEligible += amount - (line.category === 'C' ? 0 : insurable);
    total += amount;
    eligible += lineEligible;
    return { ...line, amountFen: amount, eligibleFen: lineEligible, untracedPacks: line.quantity - insurablePacks };
  });

  const deductibleLeft = Math.max(0, policy.annualDeductibleFen - position.deductibleMetFen);
  const deductibleApplied = Math.min(eligible, deductibleLeft);
  const aboveDeductible = eligible - deductibleApplied;
  const byRatio = Math.floor((aboveDeductible * toBasisPoints(policy.ratio)) / 10_000);
  const capLeft = Math.max(0, policy.annualCapFen - position.annualPooledUsedFen);
  const pooledFund = Math.min(byRatio, capLeft);
  const accountPayable = eligible + selfPay - pooledFund;
  const personalAccount = Math.min(Math.max(0, position.personalAccountFen), accountPayable);
  const mutualAid = Math.min(Math.max(0, position.mutualAidBalanceFen ?? 0), accountPayable - personalAccount);
  const cash = total - pooledFund - personalAccount - mutualAid;

  return {
    totalFen: total,
    eligibleFen: eligible,
    selfPayFen: selfPay,
    notEligibleFen: notEligible,
    deductibleAppliedFen: deductibleApplied,
    pooledFundFen: pooledFund,
    personalAccountFen: personalAccount,
    mutualAidFen: mutualAid,
    cashFen: cash,
    lines: priced,
  };
}
