// Keys of the access log: one partition per person, newest last in sort order (read backwards).
// Item: { entity: 'accessLog', personId, at, actor, action, resource, operation, requestId, expiresAt }.
export const accessPartition = (personId: string) => `ACCESS#${personId}`;

/**
 * One entry: the request's time, its id and the resource's place in the line make the key, so a
 * line delivered twice (log subscriptions deliver at least once) writes the same items again.
 */
export const accessEntryKey = (personId: string, at: string, requestId: string, index: number) => ({
  PK: accessPartition(personId),
  SK: `${at}#${requestId}#${String(index).padStart(3, '0')}`,
});
