// The rules of webhook delivery, pure (no AWS, no network): signing secrets and signatures
// (Standard Webhooks), the message id and body, and the retry schedule.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { WebhookSettings } from '#schemas/province';

/** An institution's subscriptions: enough for a HIS, a POS and a test system, not a fan-out amplifier. */
export const MAX_WEBHOOKS_PER_INSTITUTION = 10;

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks' format). */
export const newSigningSecret = () => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

/** How long deliveries are also signed with the secret a change replaced: a day for the receiver to switch. */
export const PREVIOUS_SECRET_HOURS = 24;

type Secrets = { secretCiphertext: string; previousSecretCiphertext?: string; previousSecretExpiresAt?: string };

/** Whether the secret a change replaced still signs at `now` (its day not over). */
export const previousStillSigns = (w: Secrets, now: Date) => !!w.previousSecretCiphertext && !!w.previousSecretExpiresAt && Date.parse(w.previousSecretExpiresAt) > now.getTime();

/** The secrets (their ciphertexts) a delivery at `now` is signed with: the current, and the one it replaced for a day. */
export const signingSecrets = (w: Secrets, now: Date): string[] => [w.secretCiphertext, ...(previousStillSigns(w, now) ? [w.previousSecretCiphertext!] : [])];

/**
 * `webhook-signature` of one attempt: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with
 * the secret's decoded bytes. The timestamp is the attempt's (receivers refuse old ones), so every
 * retry is signed anew; id and body stay the same.
 */
export function signature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * `webhook-id`: one per event and subscription, the same on every retry and if the event itself is
 * delivered twice (EventBridge is at least once), so a receiver deduplicates by it.
 */
export const messageId = (webhookId: string, eventId: string) =>
  `msg_${createHash('sha256').update(`${webhookId}|${eventId}`).digest('hex').slice(0, 32)}`;

/** The message: `{type, timestamp, data}` (Standard Webhooks), type being the catalog's event name. */
export const messageBody = (type: string, occurredAt: string, data: Record<string, string>) => JSON.stringify({ type, timestamp: occurredAt, data });

/** Seconds to wait after failed attempt `attempt` (1-based), or undefined when it was the last. */
export const retryDelay = (s: WebhookSettings, attempt: number): number | undefined => s.retryDelaysSeconds[attempt - 1];

/** What became of one attempt, as the owner's delivery list shows it. */
export interface AttemptOutcome {
  ok: boolean;
  statusCode?: number;
  /** Why it failed without a 2xx: timeout, refused address, redirect, connection error. */
  error?: string;
  durationMs: number;
}

/**
 * One queued delivery (an SQS message body): everything the sender needs but the subscription's
 * URL and secret, which it reads at each attempt (a deleted subscription gets nothing more).
 */
export const deliveryMessage = z.object({
  deliveryId: z.string().regex(/^msg_[0-9a-f]{32}$/),
  webhookId: z.string().min(1),
  institutionId: z.string().min(1),
  eventId: z.string().min(1),
  type: z.string().min(1),
  occurredAt: z.iso.datetime(),
  /** The message body, the same bytes on every attempt. */
  body: z.string().min(2),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;
