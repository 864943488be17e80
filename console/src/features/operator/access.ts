// The access log as an operator reads it for a complaint: a desk that polls (a triage worklist every
// 10 s) reads the same records again and again, each read a logged entry; a dozen identical rows hid
// the one that mattered. A stretch of one person's reads, not broken by anyone else's entry or by a
// change, is one row per record read, with a count and the first and last time: a polled list that
// holds two of the person's records (read A, B, A, B…) is two rows, not forty. Each entry is still there.
import type { AccessEntry } from '#schemas/people';

/** One or more entries, newest first: its first is the newest, its last the oldest. */
export type AccessRun = AccessEntry[];

const sameReader = (a: AccessEntry, b: AccessEntry) =>
  a.action === 'read' && b.action === 'read' && a.actor.role === b.actor.role && a.actor.institutionId === b.actor.institutionId && a.actor.user === b.actor.user;
const sameRecord = (a: AccessEntry, b: AccessEntry) => a.resource === b.resource && a.operation === b.operation;

/**
 * Entries (newest first, as the API lists them) as rows: within each stretch of one person's reads,
 * one run per record and operation, in the order of their newest entry. Changes are never folded.
 */
export function accessRuns(entries: readonly AccessEntry[]): AccessRun[] {
  const runs: AccessRun[] = [];
  let stretch: AccessRun[] = [];
  for (const e of entries) {
    if (!stretch.length || !sameReader(stretch[0]![0]!, e)) stretch = [];
    const run = stretch.find((r) => sameRecord(r[0]!, e));
    if (run) run.push(e);
    else {
      const fresh = [e];
      if (e.action === 'read') stretch.push(fresh);
      runs.push(fresh);
    }
  }
  return runs;
}
