// Keys of the person's timeline: a projection (projector.ts), one item per record, under the
// person, sorted by when the record was made. The time comes from the record's id (ids are ULIDs,
// functions/shared/ids.ts), so every event about a record finds the same item, in any order.
import { idTime } from '#shared/ids';

export const timelinePartition = (personId: string) => `TIMELINE#${personId}`;

export const timelineKey = (personId: string, recordId: string) => ({
  PK: timelinePartition(personId),
  SK: `${new Date(idTime(recordId)).toISOString()}#${recordId}`,
});
