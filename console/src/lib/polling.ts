// How often a screen asks the API again for what it shows. The desks' polling is most of a large
// province's requests, and most answers are the same as the one before (a Shandong pharmacy sees a
// few dozen prescriptions a day; docs/capacity.md, "A month at that volume"). So a query is asked
// again every `every` ms while its answer changes, and each answer that changed nothing doubles the
// wait, up to MAX_BACKOFF times `every`. The first answer that differs brings it back to `every`,
// and so does the next answer after the person at the desk did something (a click, a key, another
// screen, coming back to the window; wired in app/App.tsx): what they wait for then (a
// prescription being routed after they issued it) may take a few seconds to change. A hidden tab
// does not poll at all (TanStack Query's default).

/** The slowest a screen polls, as a multiple of its `every`. */
export const MAX_BACKOFF = 6;

/** What of a TanStack `Query` this reads. */
interface Polled {
  readonly state: { readonly data: unknown; readonly dataUpdatedAt: number; readonly error?: unknown };
}

/** Per query (shared by every screen showing it): the last answer seen and how many in a row changed nothing. */
const answers = new WeakMap<Polled, { at: number; data: unknown; unchanged: number; since: number }>();
/** Counts what the person at the desk did (clicks, keys, screens, focus); an answer after one starts its query's count again. */
let activity = 0;

/** The person at the desk did something: every query goes back to its own pace at its next answer. */
export function backToPace(): void {
  activity++;
}

/**
 * A `refetchInterval` that backs off while nothing changes, and stops at a 404. TanStack Query
 * keeps an answer equal to the last one as the same object (structural sharing), which is how
 * "changed nothing" is seen.
 */
export function poll(every: number) {
  // TanStack Query calls this on every change of the query's state (a fetch starting, ending), so it
  // counts an answer once, by when it arrived.
  return (query: Polled): number | false => {
    // Not there for this desk (moved on, cancelled, another's): asking again every few seconds changes nothing.
    if ((query.state.error as { status?: number } | undefined)?.status === 404) return false;
    const { data, dataUpdatedAt } = query.state;
    let seen = answers.get(query);
    if (!seen) answers.set(query, (seen = { at: dataUpdatedAt, data, unchanged: 0, since: activity }));
    else if (dataUpdatedAt !== seen.at) {
      seen.unchanged = data === seen.data && seen.since === activity ? seen.unchanged + 1 : 0;
      seen.at = dataUpdatedAt;
      seen.data = data;
      seen.since = activity;
    }
    return every * Math.min(2 ** seen.unchanged, MAX_BACKOFF);
  };
}
