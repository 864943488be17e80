// Transactional outbox: an event is an item written in the same TransactWriteItems as the state
// change it announces. The relay (functions/outbox/relay.ts) publishes it from the table stream.
import type * as z from 'zod';
import type { DetailInput, EventDef } from '#events/catalog';
import { epochSeconds } from './clock.ts';
import type { TxItem } from './db.ts';
import { provinceConfig, tableName } from './env.ts';
import { newId } from './ids.ts';
import { OUTBOX_PREFIX } from './table.ts';

export { OUTBOX_PREFIX };

/** Outbox items stay a week (stream records live 24 h; the rest is for investigation). */
const OUTBOX_TTL_SECONDS = 7 * 24 * 3600;

export interface OutboxItem {
  PK: string;
  SK: 'EVENT';
  source: string;
  detailType: string;
  detail: string;
  expiresAt: number;
}

export interface EventContext {
  now: Date;
  correlationId?: string;
}

export function outboxEvent<E extends EventDef>(def: E, input: DetailInput<E>, ctx: EventContext): TxItem & { detail: z.output<E['detail']> } {
  const id = newId('evt');
  // Parse here so a producer can never publish a detail its consumers would refuse.
  const detail = def.detail.parse({
    ...input,
    id,
    occurredAt: ctx.now.toISOString(),
    province: provinceConfig().code,
    version: def.version,
    ...(ctx.correlationId ? { correlationId: ctx.correlationId } : {}),
  }) as z.output<E['detail']>;
  const item: OutboxItem = {
    PK: OUTBOX_PREFIX + id,
    SK: 'EVENT',
    source: def.source,
    detailType: def.detailType,
    detail: JSON.stringify(detail),
    expiresAt: epochSeconds(ctx.now) + OUTBOX_TTL_SECONDS,
  };
  return {
    detail,
    write: { Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
  };
}
