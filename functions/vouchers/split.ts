// How a purchase is split between the pooled fund, the personal account and cash. Pure integer
// arithmetic in fen; every rounding is written down here and tested (tests/unit/split.test.ts).
//
//   line amount      = quantity × unitPriceFen
//   category A       : fully eligible
//   category B       : self-pay share = ceil(amount × selfPay% / 100), the rest eligible
//                      (rounding up keeps the fund from paying a fraction of a fen it should not)
//   category C       : not eligible
//   deductible       : eligible spend first fills what is left of the annual deductible
//   pooled fund      = floor(eligible above deductible × ratio), then capped by what is left of
//                      the annual cap (ratio in basis points, so 0.29 × 100 is 29, not 28.999…)
//   personal account = min(balance, A+B spend − pooled fund)   (B's self-pay share included)
//   cash             = total − pooled fund − personal account   (category C and what is left)
//
// Consequences: the three parts always sum to the total, none is negative, the fund never exceeds
// the ratio of eligible spend above the deductible nor the cap, the account never goes below zero.

export type Category = 'A' | 'B' | 'C';

export interface Line {
  drugCode: string;
  quantity: number;
  unitPriceFen: number;
  category: Category;
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
}

export interface Split {
  totalFen: number;
  eligibleFen: number;
  /** Category B self-pay shares, summed. */
  selfPayFen: number;
  notEligibleFen: number;
  /** Part of the eligible spend that went to the deductible. */
  deductibleAppliedFen: number;
  pooledFundFen: number;
  personalAccountFen: number;
  cashFen: number;
  lines: Array<Line & { amountFen: number; eligibleFen: number }>;
}

export const toBasisPoints = (ratio: number) => Math.round(ratio * 10_000);

export function splitPurchase(lines: Line[], policy: SplitPolicy, position: Position): Split {
  let total = 0;
  let eligible = 0;
  let selfPay = 0;
  let notEligible = 0;
  const priced = lines.map((line) => {
    const amount = line.quantity * line.unitPriceFen;
    let lineEligible = 0;
    if (line.category === 'A') lineEligible = amount;
    else if (line.category === 'B') {
      const share = Math.ceil((amount * policy.categoryBSelfPayPercent) / 100);
      selfPay += share;
      lineEligible = amount - share;
    } else notEligible += amount;
    total += amount;
    eligible += lineEligible;
    return { ...line, amountFen: amount, eligibleFen: lineEligible };
  });

  const deductibleLeft = Math.max(0, policy.annualDeductibleFen - position.deductibleMetFen);
  const deductibleApplied = Math.min(eligible, deductibleLeft);
  const aboveDeductible = eligible - deductibleApplied;
  const byRatio = Math.floor((aboveDeductible * toBasisPoints(policy.ratio)) / 10_000);
  const capLeft = Math.max(0, policy.annualCapFen - position.annualPooledUsedFen);
  const pooledFund = Math.min(byRatio, capLeft);
  const personalAccount = Math.min(Math.max(0, position.personalAccountFen), eligible + selfPay - pooledFund);
  const cash = total - pooledFund - personalAccount;

  return {
    totalFen: total,
    eligibleFen: eligible,
    selfPayFen: selfPay,
    notEligibleFen: notEligible,
    deductibleAppliedFen: deductibleApplied,
    pooledFundFen: pooledFund,
    personalAccountFen: personalAccount,
    cashFen: cash,
    lines: priced,
  };
}
