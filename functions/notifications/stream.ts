// Notifications as they arrive on the table stream (the records `notificationStreamFilter` selects).
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { NOTIFICATION_PREFIX } from './keys.ts';

const common = {
  notificationId: z.string(),
  text: z.string(),
  source: z.string(),
  detailType: z.string(),
  eventId: z.string(),
  createdAt: z.string(),
};
export const notificationItem = z.discriminatedUnion('channel', [
  z.object({ ...common, channel: z.literal('sms'), personId: z.string(), phoneMasked: z.string() }),
  z.object({ ...common, channel: z.literal('institution'), institutionId: z.string() }),
]);
export type Notification = z.infer<typeof notificationItem>;

export function notificationsIn(event: DynamoDBStreamEvent): Notification[] {
  return event.Records.flatMap((r) => {
    const image = r.dynamodb?.NewImage;
    if (r.eventName !== 'INSERT' || !image) return [];
    const item = unmarshall(image as Record<string, AttributeValue>);
    if (!String(item.PK).startsWith(NOTIFICATION_PREFIX)) return [];
    const parsed = notificationItem.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}
