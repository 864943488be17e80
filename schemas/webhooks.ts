// Webhooks (API.md "Webhooks (v2)"): a clinic's, hospital's or pharmacy's own system subscribes a URL
// to events about its own objects and receives them signed (Standard Webhooks); functions/webhooks.
import * as z from 'zod';
import { webhookEventNames } from '../events/audience.ts';
import { isoDateTime, page, pageQuery, patterned, serverId } from './common.ts';
import { institutionTypes } from './institutions.ts';
import { authProblems, defineRoute } from './route.ts';

/** An event of the catalog a subscriber may ask for (events/audience.ts: those about an institution's objects). */
export const webhookEventName = z.enum(webhookEventNames).meta({ id: 'WebhookEventName' });

/**
 * Where deliveries go. https to a public host (checked against private, loopback, link-local and
 * metadata addresses, also after DNS resolution, when subscribing and at every attempt), except
 * hosts the province allows; no user name or password in it.
 */
export const webhookUrl = z.url({ protocol: /^https?$/ }).max(2048).meta({ description: 'https:// URL of a public host (http only for hosts the province allows)', example: 'https://his.example-hospital.cn/hooks/consortium' });

export const webhookInput = z
  .object({
    url: webhookUrl,
    events: z
      .array(webhookEventName)
      .min(1)
      .max(webhookEventNames.length)
      .refine((e) => new Set(e).size === e.length, { message: 'each event once' }),
  })
  .strict()
  .meta({ id: 'WebhookInput' });
export type WebhookInput = z.infer<typeof webhookInput>;

export const webhook = z
  .object({
    webhookId: serverId,
    url: webhookUrl,
    events: z.array(webhookEventName).max(webhookEventNames.length),
    createdAt: isoDateTime,
    /** Set for a day after a change of secret: until then deliveries carry a signature with the secret replaced too. */
    previousSecretExpiresAt: isoDateTime.optional().meta({ description: 'After a change of secret (POST /webhooks/{webhookId}/secret), until when deliveries are also signed with the secret it replaced' }),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof webhook>;

/** The answer to a subscription or a change of its secret, the only ones that show the signing secret. */
export const createdWebhook = webhook
  .extend({
    secret: patterned(100, /^whsec_[A-Za-z0-9+/]{20,88}={0,2}$/, 'whsec_ and base64').meta({ description: 'Signing secret (whsec_ + base64 of 32 bytes), shown only in this answer: keep it in the receiving system' }),
  })
  .meta({ id: 'CreatedWebhook' });

export const deliveryStatuses = ['pending', 'retrying', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const deliveryAttempt = z
  .object({
    at: isoDateTime,
    durationMs: z.number().int().min(0).max(600_000),
    /** The receiver's HTTP status, when it answered. */
    statusCode: z.number().int().min(100).max(599).optional(),
    /** Why it failed without a 2xx: a timeout, a refused address, a redirect, a connection error. */
    error: patterned(300, /^[^\p{Cc}]{1,300}$/u, 'one line of text').optional(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const webhookDelivery = z
  .object({
    /** The `webhook-id` header: the same on every attempt of this delivery. */
    deliveryId: patterned(64, /^msg_[0-9a-f]{32}$/, 'msg_ and 32 hex digits'),
    eventId: serverId,
    type: webhookEventName,
    occurredAt: isoDateTime,
    /** pending: not tried yet; retrying: failed, tried again at nextAttemptAt; delivered: a 2xx; failed: dead-lettered after the last retry. */
    status: z.enum(deliveryStatuses),
    attempts: z.array(deliveryAttempt).max(20),
    nextAttemptAt: isoDateTime.optional(),
    /** What the receiver was sent as `data`: which referral, prescription or settlement it was about. */
    data: z
      .record(patterned(64, /^[a-z][A-Za-z]*$/, 'a field name'), patterned(200, /^[^\p{Cc}]{1,200}$/u, 'an id, status or time'))
      .optional()
      .meta({ description: "The message's `data` as sent: the event id and the ids, statuses and times of the event (referralId, prescriptionId, settlementId, …), never the person's" }),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof webhookDelivery>;

const webhookParams = z.object({ webhookId: serverId });

export const webhookRoutes = [
  defineRoute({
    operationId: 'createWebhook',
    method: 'POST',
    path: '/webhooks',
    fn: 'webhooks',
    auth: institutionTypes,
    tag: 'webhooks',
    summary:
      "Subscribes the caller's institution's own system to events about its objects (only the events that can reach its kind of institution are kept, and listed in the answer; 400 if none can); the answer shows the signing secret, once",
    body: webhookInput,
    responses: { 201: createdWebhook },
    problems: ['validation-failed', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'listWebhooks',
    method: 'GET',
    path: '/webhooks',
    fn: 'webhooks',
    auth: institutionTypes,
    tag: 'webhooks',
    summary: "The caller's institution's webhook subscriptions (without their secrets)",
    query: pageQuery,
    responses: { 200: page(webhook) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'deleteWebhook',
    method: 'DELETE',
    path: '/webhooks/{webhookId}',
    fn: 'webhooks',
    auth: institutionTypes,
    tag: 'webhooks',
    summary: 'Ends a subscription of the caller\'s institution: nothing more is delivered to it, queued retries included',
    params: webhookParams,
    responses: { 204: null },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'rotateWebhookSecret',
    method: 'POST',
    path: '/webhooks/{webhookId}/secret',
    fn: 'webhooks',
    auth: institutionTypes,
    tag: 'webhooks',
    summary:
      "Gives a subscription of the caller's institution a new signing secret, shown once in the answer. For 24 hours each delivery carries two signatures (Standard Webhooks: space-separated), one with each secret, so the receiving system can switch without refusing any; a lost or leaked secret is replaced without losing queued retries",
    params: webhookParams,
    responses: { 200: createdWebhook },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'listWebhookDeliveries',
    method: 'GET',
    path: '/webhooks/{webhookId}/deliveries',
    fn: 'webhooks',
    auth: institutionTypes,
    tag: 'webhooks',
    summary: 'Recent deliveries of one subscription, newest event first, each with its attempts',
    params: webhookParams,
    query: pageQuery,
    responses: { 200: page(webhookDelivery) },
    problems: ['not-found', ...authProblems],
  }),
] as const;
