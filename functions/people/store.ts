// DynamoDB access of the person's timeline: the projection's conditional upsert and newest-first pages.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { timelineEntry, type TimelineEntry } from '#schemas/people';
import { ddb, newestFirstPage, tableName, updateExpression } from '#shared/db';
import { idTime } from '#shared/ids';
import { timelineKey, timelinePartition } from './keys.ts';
import type { TimelineChange } from './timeline.ts';

/**
 * Puts the record's entry as of this change, unless a later change is already there: events arrive
 * in any order and more than once, and the entry ends as the latest move left it. Returns false
 * when the change was older than (or the same as) what the entry holds.
 */
export async function applyChange(c: TimelineChange): Promise<boolean> {
  const update = updateExpression({
    set: {
      entity: 'timeline', personId: c.personId, kind: c.kind, id: c.id, status: c.status, institutionId: c.institutionId,
      at: new Date(idTime(c.id)).toISOString(), updatedAt: c.updatedAt, lastChange: c.order, beneficiaryPersonId: c.beneficiaryPersonId, amountFen: c.amountFen,
    },
  });
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: timelineKey(c.personId, c.id),
        ...update,
        ConditionExpression: 'attribute_not_exists(#order) OR #order < :order',
        ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#order': 'lastChange' },
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':order': c.order },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Gives an existing entry its settlement amount if it has none (a backfill); whether it did. */
export async function fillAmount(c: TimelineChange): Promise<boolean> {
  if (c.amountFen === undefined) return false;
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: timelineKey(c.personId, c.id),
        UpdateExpression: 'SET amountFen = :a',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(amountFen)',
        ExpressionAttributeValues: { ':a': c.amountFen },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** A page of the person's timeline, newest first. */
export function timelinePage(personId: string, limit: number, nextToken?: string): Promise<{ items: TimelineEntry[]; nextToken?: string }> {
  return newestFirstPage(timelinePartition(personId), { limit, nextToken }, (i) => timelineEntry.parse(i));
}
