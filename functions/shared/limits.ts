// Fixed-window counters in the table: to limit how often something may happen per caller, per
// person or per institution. `limitCounter` is one write of a transaction: it adds one to the
// current window's counter unless the counter is at its limit, in which case the whole transaction
// fails with 429 rate-limited and a Retry-After (the end of the window). Racing requests cannot pass
// the limit together: the condition and the increment are one write.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from './clock.ts';
import { ddb, tableName, writeTransaction, type TxItem } from './db.ts';
import { HttpProblem } from './errors.ts';

export interface Limit {
  /** What is counted, e.g. `activation-failures#client#<sub>`; never personal data in clear. */
  key: string;
  max: number;
  windowSeconds: number;
  /** What the 429 says, e.g. "too many failed activations by this app". */
  what: string;
}

function windowOf(limit: Limit, now: Date): { start: number; end: number } {
  const start = Math.floor(epochSeconds(now) / limit.windowSeconds) * limit.windowSeconds;
  return { start, end: start + limit.windowSeconds };
}

export const limitKey = (limit: Limit, now: Date) => ({ PK: `LIMIT#${limit.key}`, SK: String(windowOf(limit, now).start) });

/** One write of a transaction: counts one more in the current window, or fails it with 429. */
export function limitCounter(limit: Limit, now: Date): TxItem {
  const { end } = windowOf(limit, now);
  return {
    write: {
      Update: {
        TableName: tableName(),
        Key: limitKey(limit, now),
        UpdateExpression: 'ADD #n :one SET expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :max',
        ExpressionAttributeNames: { '#n': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':max': limit.max, ':expires': end + 3600 },
      },
    },
    onConditionFailed: () => {
      const retryAfter = Math.max(1, end - epochSeconds(now));
      return new HttpProblem('rate-limited', `${limit.what}: at most ${limit.max} in ${limit.windowSeconds / 60} minutes; retry in ${retryAfter} s`, undefined, {
        'retry-after': String(retryAfter),
      });
    },
  };
}

/** Counts one against each limit, all or nothing (429 if any is reached). */
export async function take(limits: readonly Limit[], now: Date): Promise<void> {
  await writeTransaction(limits.map((l) => limitCounter(l, now)));
}

/** Gives back what `take` counted (e.g. the attempt turned out not to count). */
export async function giveBack(limits: readonly Limit[], now: Date): Promise<void> {
  await Promise.all(
    limits.map((l) =>
      ddb.send(new UpdateCommand({ TableName: tableName(), Key: limitKey(l, now), UpdateExpression: 'ADD #n :minus', ExpressionAttributeNames: { '#n': 'count' }, ExpressionAttributeValues: { ':minus': -1 } })),
    ),
  );
}
