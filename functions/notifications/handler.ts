// Notifier: every patient-facing event (templates.ts) becomes one SMS record in the notifications
// outbox, with the phone number masked. Idempotent: the record and the once-only marker of the
// event are one transaction. Sending is downstream of the outbox (see notificationStreamFilter).
import type { DetailBase } from '#events/catalog';
import type { Institution } from '#schemas/institutions';
import { epochSeconds } from '#shared/clock';
import { applyOnce, eventConsumer } from '#shared/consumer';
import { tableName } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { logger } from '#shared/logger';
import { getInstitution, getPerson } from '../institutions/store.ts';
import { notificationKey } from './keys.ts';
import { notificationTemplates, notifiedEvents, type Names } from './templates.ts';

const CONSUMER = 'notifier';
/** Records stay for the patient's message history and delivery investigations. */
const NOTIFICATION_TTL_SECONDS = 90 * 24 * 3600;
/** Institution names change rarely; a container keeps them a few minutes. */
const NAME_CACHE_MS = 5 * 60_000;

const templates = new Map(notificationTemplates.map((t) => [`${t.event.source}|${t.event.detailType}`, t]));
const institutions = new Map<string, { at: number; value: Promise<Institution | undefined> }>();

function institution(id: string): Promise<Institution | undefined> {
  const hit = institutions.get(id);
  if (hit && Date.now() - hit.at < NAME_CACHE_MS) return hit.value;
  const value = getInstitution(id);
  value.catch(() => institutions.delete(id));
  institutions.set(id, { at: Date.now(), value });
  return value;
}

/** Names for every institution the detail mentions (fields named …InstitutionId), read up front. */
async function namesFor(detail: Record<string, unknown>): Promise<Names> {
  const ids = Object.entries(detail).flatMap(([k, v]) => (k.endsWith('InstitutionId') && typeof v === 'string' ? [v] : []));
  const found = new Map((await Promise.all(ids.map(institution))).flatMap((i) => (i ? [[i.id, i] as const] : [])));
  const timeZone = provinceConfig().timeZone;
  return {
    institution: (id) => found.get(id)?.name ?? id,
    department: (id, code) => found.get(id)?.departments?.find((d) => d.code === code)?.name ?? code,
    time: (iso) => {
      const parts = Object.fromEntries(
        new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
          .formatToParts(new Date(iso))
          .map((p) => [p.type, p.value]),
      );
      return `${parts.year}年${parts.month}月${parts.day}日 ${parts.hour}:${parts.minute}`;
    },
  };
}

export const handler = eventConsumer(notifiedEvents, async ({ source, detailType, detail }) => {
  const template = templates.get(`${source}|${detailType}`)!;
  const d = detail as DetailBase & Record<string, unknown>;
  const personId = template.personId(d as never);
  const [person, names] = await Promise.all([getPerson(personId), namesFor(d)]);
  if (!person?.phoneMasked) {
    logger.info('no mobile number on file; nothing to send', { personId });
    return;
  }
  const text = template.text(d as never, names);
  if (!text) return;
  const now = new Date();
  const recorded = await applyOnce(CONSUMER, d.id, [
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: {
            ...notificationKey(personId, d.occurredAt, d.id),
            entity: 'notification',
            notificationId: `ntf_${d.id}`,
            personId,
            channel: 'sms',
            phoneMasked: person.phoneMasked,
            text,
            source,
            detailType,
            eventId: d.id,
            status: 'pending',
            createdAt: now.toISOString(),
            expiresAt: epochSeconds(now) + NOTIFICATION_TTL_SECONDS,
          },
        },
      },
    },
  ], now);
  if (recorded) logger.info('notification recorded', { personId, eventId: d.id });
});
