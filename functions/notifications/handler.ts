// Notifier: every templated event (templates.ts) becomes its messages in the notifications outbox:
// SMS records for patients (phone masked), inbox messages for institutions. Idempotent: the
// records and the once-only marker of the event are one transaction. Sending is downstream of the
// outbox (see notificationStreamFilter).
import type { DetailBase } from '#events/catalog';
import type { Institution } from '#schemas/institutions';
import { chineseDateTime, epochSeconds } from '#shared/clock';
import { cached } from '#shared/cache';
import { applyOnce, eventConsumer } from '#shared/consumer';
import { tableName } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { logger } from '#shared/logger';
import { getInstitution, getPerson } from '../institutions/store.ts';
import type { TxItem } from '#shared/db';
import { institutionNotificationKey, notificationKey } from './keys.ts';
import { notificationTemplates, notifiedEvents, type Names, type NotificationTemplate } from './templates.ts';

const CONSUMER = 'notifier';
/** Records stay for the patient's message history and delivery investigations. */
const NOTIFICATION_TTL_SECONDS = 90 * 24 * 3600;
/** Institution names change rarely; a container keeps them a few minutes. */
const NAME_CACHE_MS = 5 * 60_000;

const templates = new Map<string, NotificationTemplate[]>();
for (const t of notificationTemplates) {
  const key = `${t.event.source}|${t.event.detailType}`;
  templates.set(key, [...(templates.get(key) ?? []), t]);
}
const institution: (id: string) => Promise<Institution | undefined> = cached(NAME_CACHE_MS, getInstitution);

/** Fields of event details that name institutions. */
const institutionField = (k: string) => k.endsWith('InstitutionId') || k === 'prescriberId' || k === 'pharmacyId';

/** Names for every institution the detail mentions, read up front. */
async function namesFor(detail: Record<string, unknown>): Promise<Names> {
  const ids = Object.entries(detail).flatMap(([k, v]) => (institutionField(k) && typeof v === 'string' ? [v] : []));
  const found = new Map((await Promise.all(ids.map(institution))).flatMap((i) => (i ? [[i.id, i] as const] : [])));
  const timeZone = provinceConfig().timeZone;
  return {
    institution: (id) => found.get(id)?.name ?? id,
    department: (id, code) => found.get(id)?.departments?.find((d) => d.code === code)?.name ?? code,
    time: (iso) => chineseDateTime(new Date(iso), timeZone),
  };
}

export const handler = eventConsumer(notifiedEvents, async ({ source, detailType, detail }) => {
  const d = detail as DetailBase & Record<string, unknown>;
  const names = await namesFor(d);
  const now = new Date();
  const base = {
    entity: 'notification',
    source,
    detailType,
    eventId: d.id,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt: epochSeconds(now) + NOTIFICATION_TTL_SECONDS,
  };
  const records: TxItem[] = [];
  for (const [i, template] of templates.get(`${source}|${detailType}`)!.entries()) {
    const text = template.text(d as never, names);
    if (!text) continue;
    const to = template.to(d as never);
    const notificationId = `ntf_${d.id}${i ? `_${i}` : ''}`;
    if ('institutionId' in to) {
      const Item = { ...institutionNotificationKey(to.institutionId, d.occurredAt, d.id), ...base, notificationId, channel: 'institution', institutionId: to.institutionId, text };
      records.push({ write: { Put: { TableName: tableName(), Item } } });
      continue;
    }
    const person = await getPerson(to.personId);
    if (!person?.phoneMasked) {
      logger.info('no mobile number on file; no SMS', { personId: to.personId });
      continue;
    }
    const Item = { ...notificationKey(to.personId, d.occurredAt, d.id), ...base, notificationId, channel: 'sms', personId: to.personId, phoneMasked: person.phoneMasked, text };
    records.push({ write: { Put: { TableName: tableName(), Item } } });
  }
  if (!records.length) return;
  if (await applyOnce(CONSUMER, d.id, records, now)) logger.info('notifications recorded', { eventId: d.id, count: records.length });
});
