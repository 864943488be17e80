// GET /overview (operator): sums the projection's shards with one BatchGetItem.
import { overviewRoutes } from '#schemas/overview';
import { referralStatuses } from '#schemas/referrals';
import { calendarDay } from '#shared/clock';
import { batchGet, keyOf } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { apiHandler } from '#shared/http';
import { dayCounterKey, shards, statusCounterKey } from './keys.ts';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);

export const handler = apiHandler(overviewRoutes, {
  async getOverview({ query, now }) {
    const date = query.date ?? calendarDay(now, provinceConfig().timeZone);
    const dayKeys = shards.map((s) => dayCounterKey(date, s));
    const statusKeys = shards.map(statusCounterKey);
    const found = await batchGet([...dayKeys, ...statusKeys], { consistent: false });
    const sum = (keys: Array<{ PK: string; SK: string }>, attr: string) => keys.reduce((n, k) => n + num(found.get(keyOf(k))?.[attr]), 0);
    const byStatus = Object.fromEntries(referralStatuses.map((s) => [s, sum(statusKeys, s)]));
    const enteredOnDate = Object.fromEntries(referralStatuses.map((s) => [s, sum(dayKeys, `entered_${s}`)]));
    const settlements = Object.fromEntries(
      ['count', 'totalFen', 'pooledFundFen', 'personalAccountFen', 'mutualAidFen', 'cashFen', 'reversedCount', 'reversedFen'].map((a) => [a, sum(dayKeys, a)]),
    );
    return { status: 200, body: { date, settlements, referrals: { byStatus, enteredOnDate }, asOf: now.toISOString() } };
  },
});
