// Webhook sender: takes batches of queued deliveries (SQS) and makes one attempt each, all in
// parallel, so a slow receiver delays no other. An attempt re-reads the subscription (a deleted one
// gets nothing more), checks its URL again (url-guard.ts, after DNS resolution), signs the message
// anew (a fresh webhook-timestamp; the same webhook-id and body) and POSTs it with one deadline.
// A failed attempt hides its message for the next delay of the province's schedule
// (ChangeMessageVisibility) and is reported as a batch item failure; after the last attempt the
// message is released at once, so SQS moves it to the dead-letter queue (its alarm fires).
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { cached } from '#shared/cache';
import { provinceConfig, requireEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { queueUrlEnv } from '../catalog.ts';
import { deliveryMessage, retryDelay, signature, signingSecrets, type AttemptOutcome, type DeliveryMessage } from './policy.ts';
import { postTo } from './post.ts';
import { decryptSecret } from './secret-box.ts';
import { getDelivery, getWebhook, recordAttempt, type StoredWebhook } from './store.ts';
import { checkUrl, resolveChecked, UrlRefused } from './url-guard.ts';

// Built on first use: only a failed attempt changes its message's visibility.
let client: SQSClient | undefined;
const sqs = () => (client ??= new SQSClient({}));
const queueUrl = () => requireEnv(queueUrlEnv('webhookSender'));
/** A container keeps a decrypted secret a few minutes: one KMS call per subscription, not per message. */
const SECRET_CACHE_MS = 5 * 60_000;

const secretOf = cached(SECRET_CACHE_MS, (key: string) => {
  const [webhookId, institutionId, ciphertext] = key.split('|') as [string, string, string];
  return decryptSecret(ciphertext, { webhookId, institutionId });
});

/** One attempt: URL checks, signature, POST; never throws for the receiver's faults. */
async function attempt(webhook: StoredWebhook, m: DeliveryMessage): Promise<AttemptOutcome> {
  const { allowedHosts, timeoutSeconds } = provinceConfig().webhooks;
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  try {
    const target = checkUrl(webhook.url, allowedHosts);
    const address = await resolveChecked(target, { timeoutMs: timeoutSeconds * 1000 });
    // Two signatures for a day after a change of secret (space-separated; a receiver checks each).
    const secrets = await Promise.all(signingSecrets(webhook, new Date()).map((c) => secretOf(`${webhook.webhookId}|${webhook.institutionId}|${c}`)));
    const timestamp = Math.floor(Date.now() / 1000);
    const signatures = secrets.map((secret) => signature(secret, m.deliveryId, timestamp, m.body)).join(' ');
    const headers = { 'webhook-id': m.deliveryId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures };
    return await postTo(target, address, { headers, body: m.body }, Math.max(1, deadline - Date.now()), timeoutSeconds);
  } catch (err) {
    if (err instanceof UrlRefused) return { ok: false, error: `refused: ${err.message}`, durationMs: Date.now() - started };
    throw err;
  }
}

/** True when the message is done with (delivered, or nothing left to deliver to). */
async function deliver(record: SQSRecord): Promise<boolean> {
  const parsed = deliveryMessage.safeParse(JSON.parse(record.body));
  // Not ours to read: leave it to be retried and dead-lettered, where an operator sees it.
  if (!parsed.success) {
    logger.error('malformed webhook delivery message', { messageId: record.messageId });
    return false;
  }
  const m = parsed.data;
  const attemptNo = Number(record.attributes.ApproximateReceiveCount) || 1;
  const webhook = await getWebhook(m.institutionId, m.webhookId);
  if (!webhook) {
    logger.info('subscription deleted; delivery dropped', { deliveryId: m.deliveryId });
    return true;
  }
  if ((await getDelivery(m.webhookId, m.occurredAt, m.deliveryId))?.status === 'delivered') return true;

  const at = new Date();
  const outcome = await attempt(webhook, m);
  const log = { deliveryId: m.deliveryId, webhookId: m.webhookId, attempt: attemptNo, statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs };
  if (outcome.ok) {
    await recordAttempt(m, { ...outcome, at: at.toISOString() }, 'delivered');
    logger.info('webhook delivered', log);
    return true;
  }
  const delay = retryDelay(provinceConfig().webhooks, attemptNo);
  // The last attempt: visible again at once, so SQS moves it to the dead-letter queue on the next receive.
  await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl(), ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay ?? 0 }));
  if (delay === undefined) {
    await recordAttempt(m, { ...outcome, at: at.toISOString() }, 'failed');
    logger.warn('webhook delivery failed after its last attempt; dead-lettered', log);
  } else {
    await recordAttempt(m, { ...outcome, at: at.toISOString() }, 'retrying', new Date(Date.now() + delay * 1000).toISOString());
    logger.info('webhook delivery failed; retried later', { ...log, retryInSeconds: delay });
  }
  return false;
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const done = await Promise.all(
      event.Records.map((r) =>
        deliver(r).catch((err: Error) => {
          // Our fault (the table, KMS): the message comes back after the queue's visibility timeout.
          logger.error('webhook delivery could not be attempted', { messageId: r.messageId, error: err.message });
          return false;
        }),
      ),
    );
    return { batchItemFailures: event.Records.filter((_, i) => !done[i]).map((r) => ({ itemIdentifier: r.messageId })) };
  });
