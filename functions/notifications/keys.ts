// Keys of the notifications outbox. One item per notification, under whoever it is for, so their
// messages are one Query and an inserted item is one message to send.
export const NOTIFICATION_PREFIX = 'NOTIFICATION#';

export const notificationKey = (personId: string, occurredAt: string, eventId: string) => ({
  PK: `${NOTIFICATION_PREFIX}${personId}`,
  SK: `SMS#${occurredAt}#${eventId}`,
});

/** An institution's inbox (its HIS fetches or is pushed these). */
export const institutionNotificationKey = (institutionId: string, occurredAt: string, eventId: string) => ({
  PK: `${NOTIFICATION_PREFIX}INST#${institutionId}`,
  SK: `MSG#${occurredAt}#${eventId}`,
});

/**
 * Stream filter selecting newly inserted notifications (Lambda event-source filter syntax). The
 * local runtime prints what it selects; in AWS the same filter on an event source mapping of the
 * table stream is the hook for an SMS provider's sender function (which would look the real
 * number up on the person item: notifications hold only the masked one) and for pushing
 * institution messages to their HIS.
 */
export const notificationStreamFilter = {
  eventName: ['INSERT'],
  dynamodb: { Keys: { PK: { S: [{ prefix: NOTIFICATION_PREFIX }] } } },
} as const;
