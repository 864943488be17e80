// The settlement split: worked examples, then properties over random purchases and positions.
import fc from 'fast-check';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { splitPurchase, type Line, type SplitPolicy } from '../../functions/vouchers/split.ts';
import { fundRatio } from '../../functions/vouchers/domain.ts';
import { requestHash } from '../../functions/shared/idempotency.ts';
import { loadProvince } from '../../infra/provinces/load.ts';
import { MAX_LINE_QUANTITY, MAX_SETTLEMENT_FEN, MAX_SETTLEMENT_LINES, MAX_UNIT_PRICE_FEN, settlement, settlementRequest } from '../../schemas/vouchers.ts';

const policy: SplitPolicy = { categoryBSelfPayPercent: 10, annualDeductibleFen: 80_000, annualCapFen: 30_000_000, ratio: 0.7 };
const rich = { personalAccountFen: 1_000_000, annualPooledUsedFen: 0, deductibleMetFen: 80_000 };
const line = (category: Line['category'], quantity: number, unitPriceFen: number): Line => ({ drugCode: `X${category}`, quantity, unitPriceFen, category });

describe('split: worked examples', () => {
  it('category A above a met deductible: fund 70%, account the rest', () => {
    const s = splitPurchase([line('A', 2, 5_000)], policy, rich);
    expect(s).toMatchObject({ totalFen: 10_000, eligibleFen: 10_000, pooledFundFen: 7_000, personalAccountFen: 3_000, cashFen: 0 });
  });

  it('category B: self-pay share first (rounded up), fund on the rest, account pays the share too', () => {
    const s = splitPurchase([line('B', 1, 1_005)], policy, rich);
    // share = ceil(100.5) = 101; eligible = 904; fund = floor(904 × 0.7) = 632; account = 1005 − 632
    expect(s).toMatchObject({ selfPayFen: 101, eligibleFen: 904, pooledFundFen: 632, personalAccountFen: 373, cashFen: 0 });
  });

  it('category C is cash only', () => {
    expect(splitPurchase([line('C', 3, 1_000)], policy, rich)).toMatchObject({ pooledFundFen: 0, personalAccountFen: 0, cashFen: 3_000 });
  });

  it('the deductible absorbs eligible spend before the fund pays', () => {
    const s = splitPurchase([line('A', 1, 100_000)], policy, { ...rich, deductibleMetFen: 50_000 });
    // 30 000 fills the deductible; fund = 70% of 70 000
    expect(s).toMatchObject({ deductibleAppliedFen: 30_000, pooledFundFen: 49_000, personalAccountFen: 51_000, cashFen: 0 });
  });

  it('the annual cap limits the fund', () => {
    const s = splitPurchase([line('A', 1, 100_000)], policy, { ...rich, annualPooledUsedFen: 30_000_000 - 1_000 });
    expect(s.pooledFundFen).toBe(1_000);
  });

  it('an empty account leaves the rest in cash', () => {
    const s = splitPurchase([line('A', 1, 10_000), line('C', 1, 500)], policy, { ...rich, personalAccountFen: 1_000 });
    expect(s).toMatchObject({ pooledFundFen: 7_000, personalAccountFen: 1_000, cashFen: 2_500 });
  });

  it('ratios are applied in basis points: 0.29 of 100 fen is 29, not 28', () => {
    expect(splitPurchase([line('A', 1, 100)], { ...policy, ratio: 0.29 }, rich).pooledFundFen).toBe(29);
  });
});

describe('fund ratio', () => {
  const zj = loadProvince('ZJ').policy;
  it('pharmacies one rate; hospitals by level, higher for referred people; clinics primary', () => {
    expect(fundRatio(zj, { type: 'pharmacy' }, false)).toBe(zj.ratio.pharmacy);
    expect(fundRatio(zj, { type: 'hospital', level: 'tertiary' }, false)).toBe(zj.ratio.tertiary);
    expect(fundRatio(zj, { type: 'hospital', level: 'tertiary' }, true)).toBe(zj.referredRatio.tertiary);
    expect(zj.referredRatio.tertiary).toBeGreaterThan(zj.ratio.tertiary);
    expect(fundRatio(zj, { type: 'clinic' }, false)).toBe(zj.ratio.primary);
  });
});

describe('split: properties', () => {
  const lines = fc.array(
    fc.record({
      drugCode: fc.constant('D'),
      quantity: fc.integer({ min: 1, max: 10_000 }),
      unitPriceFen: fc.integer({ min: 0, max: 10_000_000 }),
      category: fc.constantFrom('A' as const, 'B' as const, 'C' as const),
    }),
    { minLength: 1, maxLength: 50 },
  );
  const policies = fc.record({
    categoryBSelfPayPercent: fc.integer({ min: 0, max: 100 }),
    annualDeductibleFen: fc.integer({ min: 0, max: 10_000_000 }),
    annualCapFen: fc.integer({ min: 0, max: 100_000_000 }),
    ratio: fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 10_000),
  });
  const positions = fc.record({
    personalAccountFen: fc.integer({ min: 0, max: 100_000_000 }),
    annualPooledUsedFen: fc.integer({ min: 0, max: 100_000_000 }),
    deductibleMetFen: fc.integer({ min: 0, max: 10_000_000 }),
  });

  it('parts are non-negative integers that sum exactly to the total', () => {
    fc.assert(
      fc.property(lines, policies, positions, (l, p, pos) => {
        const s = splitPurchase(l, p, pos);
        for (const part of [s.pooledFundFen, s.personalAccountFen, s.cashFen]) {
          expect(Number.isSafeInteger(part)).toBe(true);
          expect(part).toBeGreaterThanOrEqual(0);
        }
        expect(s.pooledFundFen + s.personalAccountFen + s.cashFen).toBe(s.totalFen);
        expect(s.totalFen).toBe(l.reduce((t, x) => t + x.quantity * x.unitPriceFen, 0));
      }),
      { numRuns: 2000 },
    );
  });

  it('the fund respects ratio, deductible and cap; the account never overdraws; C is never paid by fund or account', () => {
    fc.assert(
      fc.property(lines, policies, positions, (l, p, pos) => {
        const s = splitPurchase(l, p, pos);
        const deductibleLeft = Math.max(0, p.annualDeductibleFen - pos.deductibleMetFen);
        expect(s.deductibleAppliedFen).toBe(Math.min(s.eligibleFen, deductibleLeft));
        expect(s.pooledFundFen).toBeLessThanOrEqual(Math.max(0, p.annualCapFen - pos.annualPooledUsedFen));
        expect(s.pooledFundFen).toBeLessThanOrEqual(((s.eligibleFen - s.deductibleAppliedFen) * Math.round(p.ratio * 10_000)) / 10_000);
        expect(s.personalAccountFen).toBeLessThanOrEqual(pos.personalAccountFen);
        expect(s.cashFen).toBeGreaterThanOrEqual(s.notEligibleFen);
        expect(s.pooledFundFen + s.personalAccountFen).toBeLessThanOrEqual(s.totalFen - s.notEligibleFen);
      }),
      { numRuns: 2000 },
    );
  });

  it('a referred (higher) ratio never makes the fund pay less', () => {
    fc.assert(
      fc.property(lines, policies, positions, fc.integer({ min: 0, max: 10_000 }), (l, p, pos, extraBp) => {
        const higher = Math.min(1, p.ratio + extraBp / 10_000);
        expect(splitPurchase(l, { ...p, ratio: higher }, pos).pooledFundFen).toBeGreaterThanOrEqual(splitPurchase(l, p, pos).pooledFundFen);
      }),
    );
  });
});

describe('request hash (Idempotency-Key comparison)', () => {
  it('ignores key order, not values', () => {
    expect(requestHash({ a: 1, b: [{ x: 1, y: 2 }] })).toBe(requestHash({ b: [{ y: 2, x: 1 }], a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
    expect(requestHash({ items: [1, 2] })).not.toBe(requestHash({ items: [2, 1] }));
  });
});

describe('reversal window', () => {
  it('is the settlement\'s calendar day in Asia/Shanghai, not in UTC', async () => {
    const { reversibleOn } = await import('../../functions/vouchers/domain.ts');
    const tz = 'Asia/Shanghai';
    // 23:30 UTC is 07:30 the next morning in Shanghai.
    expect(reversibleOn('2026-03-01T23:30:00Z', new Date('2026-03-02T10:00:00Z'), tz)).toBe(true);
    expect(reversibleOn('2026-03-01T15:30:00Z', new Date('2026-03-01T16:30:00Z'), tz)).toBe(false); // 23:30 → 00:30
    expect(reversibleOn('2026-03-01T01:00:00Z', new Date('2026-03-01T15:59:59Z'), tz)).toBe(true);
  });
});

describe('split: untraced packs and family mutual aid', () => {
  it('packs without a trace code are cash only: neither fund nor account pays for them, whatever the category', () => {
    const s = splitPurchase([{ ...line('A', 3, 1_000), insurablePacks: 1 }, { ...line('B', 2, 1_000), insurablePacks: 0 }], policy, rich);
    // A: 1 of 3 packs insurable (1 000 eligible); B: none insurable.
    expect(s).toMatchObject({ totalFen: 5_000, eligibleFen: 1_000, notEligibleFen: 4_000, pooledFundFen: 700, personalAccountFen: 300, cashFen: 4_000 });
    expect(s.lines.map((l) => l.untracedPacks)).toEqual([2, 2]);
  });

  it('the payer\'s account pays what the beneficiary\'s own could not of the A/B share, up to its balance', () => {
    const poor = { ...rich, personalAccountFen: 1_000, mutualAidBalanceFen: 1_500 };
    // 10 000 A: fund 7 000; account-payable 3 000: own 1 000, the payer 1 500, cash 500.
    expect(splitPurchase([line('A', 1, 10_000)], policy, poor)).toMatchObject({ pooledFundFen: 7_000, personalAccountFen: 1_000, mutualAidFen: 1_500, cashFen: 500 });
    // Never for category C, never beyond what the account could pay.
    expect(splitPurchase([line('C', 1, 10_000)], policy, poor)).toMatchObject({ mutualAidFen: 0, cashFen: 10_000 });
    expect(splitPurchase([line('A', 1, 10_000)], policy, { ...rich, mutualAidBalanceFen: 99_999 }).mutualAidFen).toBe(0);
  });

  it('properties: four parts sum to the total; neither account pays more than it holds; untraced packs and C only in cash', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ drugCode: fc.constant('D'), quantity: fc.integer({ min: 1, max: 100 }), unitPriceFen: fc.integer({ min: 0, max: 1_000_000 }), category: fc.constantFrom('A' as const, 'B' as const, 'C' as const), untraced: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 20 }),
        fc.record({ categoryBSelfPayPercent: fc.integer({ min: 0, max: 100 }), annualDeductibleFen: fc.integer({ min: 0, max: 1_000_000 }), annualCapFen: fc.integer({ min: 0, max: 100_000_000 }), ratio: fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 10_000) }),
        fc.record({ personalAccountFen: fc.integer({ min: 0, max: 10_000_000 }), annualPooledUsedFen: fc.integer({ min: 0, max: 100_000_000 }), deductibleMetFen: fc.integer({ min: 0, max: 1_000_000 }), mutualAidBalanceFen: fc.integer({ min: 0, max: 10_000_000 }) }),
        (raw, p, pos) => {
          const lines = raw.map(({ untraced, ...l }) => ({ ...l, insurablePacks: Math.max(0, l.quantity - untraced) }));
          const s = splitPurchase(lines, p, pos);
          expect(s.pooledFundFen + s.personalAccountFen + s.mutualAidFen + s.cashFen).toBe(s.totalFen);
          for (const part of [s.pooledFundFen, s.personalAccountFen, s.mutualAidFen, s.cashFen]) expect(part).toBeGreaterThanOrEqual(0);
          expect(s.personalAccountFen).toBeLessThanOrEqual(pos.personalAccountFen);
          expect(s.mutualAidFen).toBeLessThanOrEqual(pos.mutualAidBalanceFen);
          const cashOnly = lines.reduce((t, l) => t + (l.category === 'C' ? l.quantity : l.quantity - l.insurablePacks) * l.unitPriceFen, 0);
          expect(s.cashFen).toBeGreaterThanOrEqual(cashOnly);
          expect(s.notEligibleFen).toBe(cashOnly);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('bounds: whatever the request schema accepts can be stored and read back', () => {
  // Purchases drawn up to and beyond the bounds: the request schema decides which are accepted.
  const request = fc
    .uniqueArray(
      fc.record({
        drugCode: fc.stringMatching(/^X[A-Z0-9]{8}$/),
        quantity: fc.oneof({ arbitrary: fc.integer({ min: 1, max: MAX_LINE_QUANTITY }), weight: 8 }, { arbitrary: fc.integer({ min: MAX_LINE_QUANTITY, max: MAX_LINE_QUANTITY * 2 }), weight: 1 }),
        unitPriceFen: fc.oneof(
          { arbitrary: fc.integer({ min: 0, max: 200_000 }), weight: 8 },
          { arbitrary: fc.integer({ min: 0, max: MAX_UNIT_PRICE_FEN * 2 }), weight: 1 },
          { arbitrary: fc.constant(MAX_UNIT_PRICE_FEN), weight: 1 },
        ),
      }),
      { minLength: 1, maxLength: MAX_SETTLEMENT_LINES, selector: (l) => l.drugCode },
    )
    .map((items) => ({ code: 'aaaa.bbbb.cccc', items }));
  const anyPolicy = fc.record({
    categoryBSelfPayPercent: fc.integer({ min: 0, max: 100 }),
    annualDeductibleFen: fc.integer({ min: 0, max: 10_000_000_000 }),
    annualCapFen: fc.integer({ min: 0, max: 10_000_000_000 }),
    ratio: fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 10_000),
  });
  const anyPosition = fc.record({
    personalAccountFen: fc.integer({ min: 0, max: 10_000_000_000 }),
    annualPooledUsedFen: fc.integer({ min: 0, max: 10_000_000_000 }),
    deductibleMetFen: fc.integer({ min: 0, max: 10_000_000_000 }),
  });
  const stored = z.object(settlement.shape);

  it('an accepted request totals at most MAX_SETTLEMENT_FEN and its settlement parses with the stored schema', () => {
    let accepted = 0;
    fc.assert(
      fc.property(request, anyPolicy, anyPosition, fc.constantFrom<Line['category']>('A', 'B', 'C'), (body, policy_, position, category) => {
        const parsed = settlementRequest.safeParse(body);
        if (!parsed.success) {
          // Refused for a reason the bounds name, never silently.
          expect(parsed.error.issues.length).toBeGreaterThan(0);
          return;
        }
        accepted++;
        const s = splitPurchase(parsed.data.items.map((i) => ({ ...i, category })), policy_, position);
        expect(s.totalFen).toBeLessThanOrEqual(MAX_SETTLEMENT_FEN);
        const record = {
          settlementId: 'stl_0000000000000000000000000', voucherId: 'vch_0000', personId: 'p_0000', institutionId: 'ph-xihu-1',
          totalFen: s.totalFen, pooledFundFen: s.pooledFundFen, personalAccountFen: s.personalAccountFen, cashFen: s.cashFen,
          deductibleAppliedFen: s.deductibleAppliedFen, status: 'settled', settledAt: '2026-12-02T06:30:00.000Z',
          items: s.lines.map(({ drugCode, quantity, unitPriceFen, category: c, amountFen, eligibleFen }) => ({ drugCode, quantity, unitPriceFen, category: c, amountFen, eligibleFen })),
        };
        const readBack = stored.safeParse(record);
        expect(readBack.success, JSON.stringify(readBack.error?.issues)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100); // the generator reaches past the bounds and within them
  });

  it('the probe\'s purchase (1,001 packs at ¥100,000) and a repeated drug line are refused by the schema', () => {
    const probe = settlementRequest.safeParse({ code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'XC08CAA001', quantity: 1001, unitPriceFen: 10_000_000 }] });
    expect(probe.success).toBe(false);
    const twice = settlementRequest.safeParse({ code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1 }, { drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 1 }] });
    expect(twice.error?.issues.map((i) => i.path.join('.'))).toEqual(['items.1.drugCode']);
  });
});
