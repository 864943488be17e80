// The middy chain of every EventBridge consumer: find the event in the catalog, validate its detail
// with the producer's schema, log with the event id as correlation id. `applyOnce` makes an effect
// idempotent: a marker keyed by consumer and event id is written in the same transaction.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Detail, EventDef } from '#events/catalog';
import { epochSeconds } from './clock.ts';
import { tableName, writeTransaction, type TxItem } from './db.ts';
import { logger } from './logger.ts';

export type CatalogEvent<Defs extends readonly EventDef[]> = {
  [K in keyof Defs]: { detailType: Defs[K]['detailType']; source: Defs[K]['source']; detail: Detail<Defs[K]>; time: Date };
}[number];

/** Markers outlive EventBridge's retry window (24 h) and any replay from the archive we would do. */
const MARKER_TTL_SECONDS = 35 * 24 * 3600;

class AlreadyApplied extends Error {}

/**
 * One partition key per marker: a consumer's markers under one key would take every event's writes
 * on a single partition (2 WCU each, in the transaction), the province's busiest key at peak
 * (docs/capacity.md). Nothing reads them but by their whole key.
 */
export const markerKey = (consumer: string, eventId: string) => ({ PK: `CONSUMED#${consumer}#${eventId}`, SK: 'MARKER' });

/** Writes `items` plus a once-only marker; returns false when this event was applied before. */
export async function applyOnce(consumer: string, eventId: string, items: TxItem[], now = new Date()): Promise<boolean> {
  try {
    await writeTransaction([
      {
        write: {
          Put: {
            TableName: tableName(),
            Item: { ...markerKey(consumer, eventId), expiresAt: epochSeconds(now) + MARKER_TTL_SECONDS },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        onConditionFailed: () => new AlreadyApplied(),
      },
      ...items,
    ]);
    return true;
  } catch (err) {
    if (err instanceof AlreadyApplied) {
      logger.info('event already applied; skipped', { eventId });
      return false;
    }
    throw err;
  }
}

export function eventConsumer<const Defs extends readonly EventDef[]>(
  defs: Defs,
  apply: (event: CatalogEvent<Defs>) => Promise<void>,
) {
  const byType = new Map(defs.map((d) => [`${d.source}|${d.detailType}`, d]));
  return middy<EventBridgeEvent<string, unknown>, void>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      // Ids from the raw detail before it is checked, so that even a refused event's failure line can
      // be found by its correlation id.
      const raw = (event.detail ?? {}) as { id?: unknown; correlationId?: unknown };
      const eventId = typeof raw.id === 'string' ? raw.id : event.id;
      logger.setCorrelationId(typeof raw.correlationId === 'string' ? raw.correlationId : eventId);
      logger.appendKeys({ eventId, detailType: event['detail-type'] });
      try {
        const def = byType.get(`${event.source}|${event['detail-type']}`);
        // A rule sent us an event we do not handle: a wiring error, so fail loudly (→ DLQ).
        if (!def) throw new Error(`unexpected event ${event.source} ${event['detail-type']}`);
        const detail = def.detail.parse(event.detail) as { id: string; correlationId?: string };
        await apply({ detailType: def.detailType, source: def.source, detail, time: new Date(event.time) } as CatalogEvent<Defs>);
      } catch (err) {
        // Ids only, never the detail; the runtime's own error line (same function_request_id) has the message.
        logger.error('event consumer failed; Lambda retries it, then dead-letters it', { busEventId: event.id, errorName: (err as Error)?.name });
        throw err;
      }
    });
}
