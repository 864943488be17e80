// Fixed-window counters in the table: to limit how often something may happen per caller, per
// person or per institution. `take` adds one to the current window's counter of each limit unless
// one is at its maximum: then nothing stays counted and the caller gets 429 rate-limited with a
// Retry-After (the end of the window). Each counter is one conditional UpdateItem, never part of a
// transaction: a busy institution's counter is one hot item that every request touches, and
// transactions on one item cancel each other under concurrency, where single updates queue up.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, utcOffsetSeconds } from './clock.ts';
import { ddb, tableName } from './db.ts';
import { provinceConfig } from './env.ts';
import { HttpProblem } from './errors.ts';

export interface Limit {
  /** What is counted, e.g. `activation-failures#client#<sub>`; never personal data in clear. */
  key: string;
  max: number;
  windowSeconds: number;
  /** What the 429 says, e.g. "too many failed activations by this app". */
  what: string;
  /** Windows start at midnight in this time zone (a day's limit is the province's day), else at UTC's. */
  timeZone?: string;
}

function windowOf(limit: Limit, now: Date): { start: number; end: number } {
  const offset = limit.timeZone ? utcOffsetSeconds(now, limit.timeZone) : 0;
  const start = Math.floor((epochSeconds(now) + offset) / limit.windowSeconds) * limit.windowSeconds - offset;
  return { start, end: start + limit.windowSeconds };
}

export const limitKey = (limit: Limit, now: Date) => ({ PK: `LIMIT#${limit.key}`, SK: String(windowOf(limit, now).start) });

function rateLimited(limit: Limit, now: Date): HttpProblem {
  const retryAfter = Math.max(1, windowOf(limit, now).end - epochSeconds(now));
  const window = limit.windowSeconds >= 3600 ? `${limit.windowSeconds / 3600} hours` : `${limit.windowSeconds / 60} minutes`;
  return new HttpProblem('rate-limited', `${limit.what}: at most ${limit.max} in ${window}; retry in ${retryAfter} s`, undefined, { 'retry-after': String(retryAfter) });
}

async function add(limit: Limit, now: Date, n: 1 | -1): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: limitKey(limit, now),
      UpdateExpression: 'ADD #n :n SET expiresAt = :expires',
      // Counting up stops at the maximum; giving back never goes below zero.
      ConditionExpression: n > 0 ? 'attribute_not_exists(#n) OR #n < :max' : '#n > :zero',
      ExpressionAttributeNames: { '#n': 'count' },
      ExpressionAttributeValues: { ':n': n, ':expires': windowOf(limit, now).end + 3600, ...(n > 0 ? { ':max': limit.max } : { ':zero': 0 }) },
    }),
  );
}

/**
 * Counts one against each limit (429 if any is at its maximum, with nothing left counted). Racing
 * requests cannot pass a limit together: each increment is conditional on the count it makes.
 */
export async function take(limits: readonly Limit[], now: Date): Promise<void> {
  const taken: Limit[] = [];
  try {
    for (const limit of limits) {
      try {
        await add(limit, now, 1);
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw rateLimited(limit, now);
        throw err;
      }
      taken.push(limit);
    }
  } catch (err) {
    await giveBack(taken, now);
    throw err;
  }
}

/** Gives back what `take` counted (the attempt turned out not to count, or failed). */
export async function giveBack(limits: readonly Limit[], now: Date): Promise<void> {
  await Promise.all(
    limits.map((l) =>
      add(l, now, -1).catch((err: unknown) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }),
    ),
  );
}

/**
 * How often one institution may make something that reaches a person (a prescription, a referral:
 * each messages the patient): `perMinute` in all, `perPersonPerDay` for one person in the province's day.
 */
export function senderLimits(what: 'prescriptions' | 'referrals', institutionId: string, personId: string, max: { perMinute: number; perPersonPerDay: number }): Limit[] {
  return [
    { key: `${what}#${institutionId}`, max: max.perMinute, windowSeconds: 60, what: `too many ${what} from this institution` },
    {
      key: `${what}#${institutionId}#${personId}`, max: max.perPersonPerDay, windowSeconds: 86_400, timeZone: provinceConfig().timeZone,
      what: `too many ${what} for this person from this institution today`,
    },
  ];
}
