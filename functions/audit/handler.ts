// Audit projection: every domain event, once, by calendar day. Event details carry ids and
// statuses only, so the trail holds no personal data.
import { allEvents } from '#events/all';
import type { DetailBase } from '#events/catalog';
import { calendarDay } from '#shared/clock';
import { applyOnce, eventConsumer } from '#shared/consumer';
import { tableName } from '#shared/db';
import { provinceConfig } from '#shared/env';

export const auditKey = (day: string, occurredAt: string, eventId: string) => ({ PK: `AUDIT#${day}`, SK: `${occurredAt}#${eventId}` });

export const handler = eventConsumer(allEvents, async ({ source, detailType, detail: raw }) => {
  const detail = raw as DetailBase; // base fields, validated by the event's own schema in the chain
  const day = calendarDay(new Date(detail.occurredAt), provinceConfig().timeZone);
  await applyOnce('audit', detail.id, [
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...auditKey(day, detail.occurredAt, detail.id), entity: 'audit', source, detailType, detail },
        },
      },
    },
  ]);
});
