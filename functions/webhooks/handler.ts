// Webhook subscriptions (clinic, hospital, pharmacy): each belongs to the caller's institution, and
// every lookup is under that institution's key, so another institution's id is "not found".
// Nothing here delivers: the fan-out consumer and the sender do, off the request path.
import { webhookEventNamesFor } from '#events/audience';
import type { InstitutionType } from '#schemas/institutions';
import { webhookRoutes } from '#schemas/webhooks';
import { addHours } from '#shared/clock';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { apiHandler } from '#shared/http';
import { newId } from '#shared/ids';
import { logger } from '#shared/logger';
import { newSigningSecret, PREVIOUS_SECRET_HOURS } from './policy.ts';
import { encryptSecret } from './secret-box.ts';
import * as store from './store.ts';
import { checkUrl, resolveChecked, UrlRefused } from './url-guard.ts';

/** The URL may be called: scheme, credentials, and every address of its host (400 otherwise). */
async function checkReceiver(url: string): Promise<void> {
  const settings = provinceConfig().webhooks;
  try {
    await resolveChecked(checkUrl(url, settings.allowedHosts), { timeoutMs: settings.timeoutSeconds * 1000 });
  } catch (err) {
    if (!(err instanceof UrlRefused)) throw err;
    throw problem('validation-failed', `url: ${err.message}`, [{ path: 'body.url', message: err.message }]);
  }
}

/**
 * The requested events that can reach the institution's kind: a system subscribing to every event
 * keeps those that can, and the answer lists them. None at all is a mistake (400, naming each): a
 * pharmacy's system waiting for referrals would wait for ever.
 */
function reachableOf<E extends string>(events: readonly E[], type: InstitutionType): E[] {
  const reachable = webhookEventNamesFor(type);
  const kept = events.filter((name) => reachable.includes(name));
  if (kept.length) return kept;
  throw problem(
    'validation-failed',
    `a ${type} is never a party to ${events.join(', ')}`,
    events.map((_, i) => ({ path: `body.events.${i}`, message: `never sent to a ${type}` })),
  );
}

export const handler = apiHandler(webhookRoutes, {
  async createWebhook({ body, institution, now }) {
    const institutionId = institution!.id;
    const events = reachableOf(body.events, institution!.type);
    await checkReceiver(body.url);
    const webhookId = newId('wh');
    const secret = newSigningSecret();
    const stored: store.StoredWebhook = {
      webhookId,
      institutionId,
      url: body.url,
      events,
      createdAt: now.toISOString(),
      secretCiphertext: await encryptSecret(secret, { webhookId, institutionId }),
    };
    await store.insertWebhook(stored);
    // Ids only: the URL may carry a token of the receiver's, and the secret is never logged.
    logger.info('webhook subscribed', { webhookId, events: events.length });
    return { status: 201, body: { ...store.toWebhook(stored, now), secret } };
  },

  async rotateWebhookSecret({ institution, params, now }) {
    const institutionId = institution!.id;
    const { webhookId } = params;
    const secret = newSigningSecret();
    const until = addHours(now, PREVIOUS_SECRET_HOURS).toISOString();
    const updated = await store.replaceSecret(institutionId, webhookId, await encryptSecret(secret, { webhookId, institutionId }), until);
    if (!updated) throw problem('not-found', `no webhook ${webhookId}`);
    logger.info('webhook secret replaced', { webhookId });
    return { status: 200, body: { ...store.toWebhook(updated, now), secret } };
  },

  async listWebhooks({ institution, query, now }) {
    const page = await store.listWebhooks(institution!.id, query);
    return { status: 200, body: { items: page.items.map((w) => store.toWebhook(w, now)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
  },

  async deleteWebhook({ institution, params }) {
    if (!(await store.deleteWebhook(institution!.id, params.webhookId))) throw problem('not-found', `no webhook ${params.webhookId}`);
    logger.info('webhook deleted', { webhookId: params.webhookId });
    return { status: 204 };
  },

  async listWebhookDeliveries({ institution, params, query }) {
    if (!(await store.getWebhook(institution!.id, params.webhookId))) throw problem('not-found', `no webhook ${params.webhookId}`);
    const page = await store.listDeliveries(params.webhookId, query);
    return { status: 200, body: { items: page.items.map(store.toDelivery), ...(page.nextToken ? { nextToken: page.nextToken } : {}) } };
  },
});
