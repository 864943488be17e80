// What the operator's file imports (参保登记, 个人账户划入) share. A run lives here, at module level,
// not in its screen: the operator may look at another screen while batches go out (the screen would
// otherwise show a blank page on return while the run went on unseen), and coming back shows its
// progress and result. Closing the tab or reloading meanwhile is asked first (beforeunload).
import { useEffect, useState } from 'preact/hooks';
import { currentSession } from '../../lib/auth.ts';
import type { RowError } from './csv.ts';

/** A run's state: whose it is (another login in this tab starts without it) and whether batches are going out. */
type Kept<S> = S & { owner?: string; running: boolean };

const ownerNow = () => {
  const s = currentSession();
  return s && `${s.sub}|${s.institutionId ?? ''}|${s.role}`;
};

/** One screen's run state, kept above the screen: `use` in the screen, `update` from the run. */
export function keptRun<S extends object>(blank: S) {
  let state: Kept<S> = { ...blank, running: false };
  const listeners = new Set<() => void>();
  const update = (next: Partial<Kept<S>>) => {
    state = { ...state, ...next };
    for (const fn of listeners) fn();
  };
  function use(): Kept<S> {
    const [, rerender] = useState(0);
    if (!state.running && state.owner !== ownerNow()) state = { ...blank, running: false, owner: ownerNow() };
    const seen = state;
    useEffect(() => {
      const fn = () => rerender((n) => n + 1);
      listeners.add(fn);
      // Changed between this render and now (a batch answered): shown at once, not at the next one.
      if (state !== seen) fn();
      return () => void listeners.delete(fn);
    }, []);
    return state;
  }
  return { use, update };
}

// Leaving the page cuts a run between batches: the browser asks first while any run is going (an
// enrolment and a credit may run at once; the first to end must not take the other's guard away).
let runsGoing = 0;
const warnLeaving = (e: BeforeUnloadEvent) => {
  e.preventDefault();
  e.returnValue = '';
};

/** Runs `send` with the browser asking before the tab is closed or reloaded meanwhile. */
export async function guardLeaving<T>(send: () => Promise<T>): Promise<T> {
  if (runsGoing++ === 0) addEventListener('beforeunload', warnLeaving);
  try {
    return await send();
  } finally {
    if (--runsGoing === 0) removeEventListener('beforeunload', warnLeaving);
  }
}

/** Rows with at least one error (a row may have several). */
export const rowsIn = (errors: RowError[]) => new Set(errors.map((e) => e.row)).size;

export function RowErrors({ errors, caption }: { errors: RowError[]; caption: string }) {
  if (!errors.length) return null;
  return (
    <table>
      <caption>{caption}</caption>
      <thead><tr><th scope="col" class="num">行号</th><th scope="col">字段</th><th scope="col">原因</th></tr></thead>
      <tbody>{errors.map((e, i) => <tr key={i}><td class="num">{e.row}</td><td>{e.field}</td><td>{e.message}</td></tr>)}</tbody>
    </table>
  );
}
