// Audit projection: every domain event, once, by calendar day. Event details carry ids and
// statuses only, so the trail holds no personal data.
//
// Every event of the province passes here, so the writes are kept small and spread (keys.ts): a row
// is written alone, on the condition that it is not there yet; its key holds the event id, so the
// row is its own once-only marker (1 WCU a row, where a marker and a row in one transaction took 4,
// on two keys that every event of the day shared; docs/capacity.md).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { allEvents } from '#events/all';
import type { DetailBase } from '#events/catalog';
import { calendarDay } from '#shared/clock';
import { eventConsumer } from '#shared/consumer';
import { ddb, tableName } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { logger } from '#shared/logger';
import { auditKey } from './keys.ts';

export const handler = eventConsumer(allEvents, async ({ source, detailType, detail: raw }) => {
  const detail = raw as DetailBase; // base fields, validated by the event's own schema in the chain
  const day = calendarDay(new Date(detail.occurredAt), provinceConfig().timeZone);
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...auditKey(day, detail.occurredAt, detail.id), entity: 'audit', source, detailType, detail },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    logger.info('event already applied; skipped', { eventId: detail.id });
  }
});
