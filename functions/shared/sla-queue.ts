// SLA queues and their sweeps, shared by the contexts that have one (referrals, advice requests): a
// sparse GSI3 partition of what is still waiting, sorted by due time, read with one Query; and a
// sweep that moves what is overdue, one item at a time, without letting one that always fails hold
// up the rest. A failure is logged (by id only), counted, and the item is put back on the queue
// behind what is due before its next try (10 min, 20, 40, … at most about 16 hours later); the run
// goes on to the end and then fails, so the invocation shows an error and the error alarm fires.
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName, type TableKey } from './db.ts';
import { logger } from './logger.ts';

export interface QueueEntry {
  id: string;
  /** Its position on the queue as read (GSI3SK). */
  queueKey: string;
  /** Sweeps that failed on it since it was last moved. */
  failures: number;
}

/** GSI3 attributes of an item waiting on `partition` until `dueAt`. */
export const queueKey = (partition: string, dueAt: string, id: string) => ({ GSI3PK: partition, GSI3SK: `${dueAt}#${id}` });

/**
 * Items on the queue up to `now`, in queue order: overdue ones, by due time, and ones a failed sweep
 * put back for a later try. The index is eventually consistent: re-read before acting.
 */
export async function overdueOn(partition: string, idAttribute: string, now: Date, limit: number, startKey?: Record<string, unknown>) {
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK < :bound',
      // "~" sorts after every id character: everything due at or before now.
      ExpressionAttributeValues: { ':pk': partition, ':bound': `${now.toISOString()}#~` },
      ProjectionExpression: '#id, GSI3SK, #failures',
      ExpressionAttributeNames: { '#id': idAttribute, '#failures': 'slaSweepFailures' },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  const entries: QueueEntry[] = (res.Items ?? []).map((i) => ({ id: String(i[idAttribute]), queueKey: String(i.GSI3SK), failures: Number(i.slaSweepFailures ?? 0) }));
  return { entries, next: res.LastEvaluatedKey };
}

/**
 * Puts an item the sweep failed on back on its queue at `retryAt`, only if it is still where the
 * sweep found it; its next move rewrites the queue key from its due time (or takes it off the
 * queue) and drops the failure count.
 */
export async function deferOn(key: TableKey, partition: string, entry: QueueEntry, retryAt: Date): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: 'SET GSI3SK = :later, #failures = :failures',
        ConditionExpression: 'GSI3SK = :seen',
        ExpressionAttributeNames: { '#failures': 'slaSweepFailures' },
        ExpressionAttributeValues: { ':later': queueKey(partition, retryAt.toISOString(), entry.id).GSI3SK, ':failures': entry.failures + 1, ':seen': entry.queueKey },
      }),
    );
  } catch (err) {
    // Moved (or put back) by someone else meanwhile: its new position stands.
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
  }
}

const PAGE = 100;
/** Parallel moves: each is a few reads and one transaction. */
const CONCURRENCY = 4;
/** Bounded work per run; whatever is left is still on the queue for the next tick. */
const MAX_PER_RUN = 2_000;
const RETRY_BASE_MINUTES = 10;
const RETRY_MAX_DOUBLINGS = 6;

const retryAt = (now: Date, failuresBefore: number) =>
  new Date(now.getTime() + RETRY_BASE_MINUTES * 60_000 * 2 ** Math.min(failuresBefore, RETRY_MAX_DOUBLINGS));

/**
 * One run over a queue: `attempt` moves one overdue item (or says why not) and returns its outcome.
 * `noun` names the items in logs (`SLA sweep failed on a referral`, with `referralId`) and in the error.
 */
export async function sweepQueue<O extends string>(o: {
  now: Date;
  noun: { readonly one: string; readonly many: string };
  partition: string;
  idAttribute: string;
  keyOf: (id: string) => TableKey;
  attempt: (id: string) => Promise<O>;
}): Promise<Record<O | 'failed', number> & { seen: number }> {
  const counts: Record<string, number> = { failed: 0 };
  const one = async (entry: QueueEntry): Promise<string> => {
    try {
      return await o.attempt(entry.id);
    } catch (err) {
      const e = err as Error;
      // The id and what went wrong, never the item's content (a ZodError lists paths, not values).
      logger.error(`SLA sweep failed on ${o.noun.one}`, {
        [o.idAttribute]: entry.id, failuresBefore: entry.failures, errorName: e?.name, errorMessage: String(e?.message).slice(0, 500),
      });
      try {
        await deferOn(o.keyOf(entry.id), o.partition, entry, retryAt(o.now, entry.failures));
      } catch (deferErr) {
        logger.error(`could not put ${o.noun.one} back on the SLA queue`, { [o.idAttribute]: entry.id, errorName: (deferErr as Error)?.name });
      }
      return 'failed';
    }
  };

  let startKey: Record<string, unknown> | undefined;
  let seen = 0;
  do {
    const page = await overdueOn(o.partition, o.idAttribute, o.now, PAGE, startKey);
    for (let i = 0; i < page.entries.length; i += CONCURRENCY) {
      const outcomes = await Promise.all(page.entries.slice(i, i + CONCURRENCY).map(one));
      for (const out of outcomes) counts[out] = (counts[out] ?? 0) + 1;
    }
    seen += page.entries.length;
    startKey = page.next;
  } while (startKey && seen < MAX_PER_RUN);

  const result = { ...counts, seen } as Record<O | 'failed', number> & { seen: number };
  if (counts.failed) {
    const rest = Object.entries(counts).filter(([k]) => k !== 'failed').map(([k, n]) => `${k} ${n}`).join(', ');
    throw new Error(`SLA sweep: ${counts.failed} of ${seen} ${o.noun.many} failed and were put back on the queue (${rest})`);
  }
  return result;
}
