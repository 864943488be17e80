// Webhook fan-out: for a domain event, the subscriptions of the institutions it is about
// (events/audience.ts) that asked for its type each get one delivery, recorded and queued on the
// sender's SQS queue. Nothing is sent from here, so a slow or failing receiver holds up neither this
// consumer nor any other. Idempotent: a delivery's id and item follow from the event and the
// subscription, so the same event again queues again only deliveries not yet finished (the
// receiver deduplicates by webhook-id).
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DetailBase } from '#events/catalog';
import { audienceOf, webhookData, webhookEvents } from '#events/audience';
import { eventConsumer } from '#shared/consumer';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { queueUrlEnv } from '../catalog.ts';
import { messageBody, messageId, type DeliveryMessage } from './policy.ts';
import { recordDelivery, webhooksOf } from './store.ts';

// Built on first use: most events have no subscription to queue a delivery for.
let client: SQSClient | undefined;
const sqs = () => (client ??= new SQSClient({}));
const queueUrl = () => requireEnv(queueUrlEnv('webhookSender'));
/** SendMessageBatch takes 10 entries at most. */
const BATCH = 10;

export const handler = eventConsumer(webhookEvents, async ({ detailType, detail }) => {
  const d = detail as DetailBase & Record<string, unknown>;
  const subscriptions = (await Promise.all(audienceOf(d).map(webhooksOf))).flat().filter((w) => w.events.includes(detailType));
  if (!subscriptions.length) return;
  const now = new Date();
  const data = webhookData(d);
  const body = messageBody(detailType, d.occurredAt, data);
  const messages: DeliveryMessage[] = [];
  for (const w of subscriptions) {
    const m: DeliveryMessage = { deliveryId: messageId(w.webhookId, d.id), webhookId: w.webhookId, institutionId: w.institutionId, eventId: d.id, type: detailType, occurredAt: d.occurredAt, body };
    const recorded = await recordDelivery({ ...m, data }, now);
    // A retrying one is still on the queue (its own retries); a pending one may never have got there.
    if (recorded.created || recorded.status === 'pending') messages.push(m);
  }
  for (let i = 0; i < messages.length; i += BATCH) {
    const chunk = messages.slice(i, i + BATCH);
    const res = await sqs().send(new SendMessageBatchCommand({ QueueUrl: queueUrl(), Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })) }));
    // A refused entry fails the event: EventBridge retries it, and what is queued already is queued again.
    if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} of ${chunk.length} deliveries: ${res.Failed.map((f) => f.Code).join(', ')}`);
  }
  logger.info('webhook deliveries queued', { eventId: d.id, count: messages.length });
});
