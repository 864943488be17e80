// The access log as an operator reads it for a complaint: a desk that polls (a triage worklist every
// 10 s) reads the same record again and again, each read a logged entry; a dozen identical rows hid
// the one that mattered. Runs of the same person reading the same record, one after the other, are
// one row with a count and the first and last time; each entry is still there.
import type { AccessEntry } from '#schemas/people';

/** One or more entries, newest first: its first is the newest, its last the oldest. */
export type AccessRun = AccessEntry[];

/** Reads only: each change to a record is its own row, however alike. */
const sameRead = (a: AccessEntry, b: AccessEntry) =>
  a.action === 'read' && b.action === 'read' && a.actor.role === b.actor.role && a.actor.institutionId === b.actor.institutionId && a.actor.user === b.actor.user &&
  a.resource === b.resource && a.operation === b.operation;

/** Consecutive entries (newest first, as the API lists them) that repeat one read, grouped in order. */
export function accessRuns(entries: readonly AccessEntry[]): AccessRun[] {
  const runs: AccessRun[] = [];
  for (const e of entries) {
    const last = runs.at(-1);
    if (last && sameRead(last[0]!, e)) last.push(e);
    else runs.push([e]);
  }
  return runs;
}
