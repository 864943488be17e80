// Keys of the items the webhooks context owns. An institution's subscriptions are one partition
// (listing them is one Query; its count item caps them); each subscription's deliveries are
// another, sorted by the event's time so "recent deliveries" is one Query, newest first.
export const WEBHOOK_SK_PREFIX = 'WEBHOOK#';
export const DELIVERY_SK_PREFIX = 'DELIVERY#';

export const webhooksPartition = (institutionId: string) => `WEBHOOKS#${institutionId}`;
export const webhookKey = (institutionId: string, webhookId: string) => ({ PK: webhooksPartition(institutionId), SK: `${WEBHOOK_SK_PREFIX}${webhookId}` });
/** How many subscriptions the institution has: a transaction moves it with every create and delete. */
export const webhookCountKey = (institutionId: string) => ({ PK: webhooksPartition(institutionId), SK: 'COUNT' });

export const deliveriesPartition = (webhookId: string) => `WEBHOOK#${webhookId}#DELIVERIES`;
/** One delivery (one event to one subscription); the same event always makes the same key. */
export const deliveryKey = (webhookId: string, occurredAt: string, deliveryId: string) => ({
  PK: deliveriesPartition(webhookId),
  SK: `${DELIVERY_SK_PREFIX}${occurredAt}#${deliveryId}`,
});
