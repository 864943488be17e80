// How many requests a pharmacy desk's queue makes in a 12-hour day, at a fixed pace and with the
// console's polling policy (console/src/lib/polling.ts, its own code), for docs/capacity.md. A model,
// not a timing: the queue's five observers (the shown status's list every 10 s, the four statuses'
// counts every 30 s, PharmacyDesk.tsx) on TanStack Query's rules (every answer restarts the timers
// of the query's observers), answers taken as instant, and a day of prescriptions: each routed to
// the desk at random (Poisson), accepted 30–300 s later, settled and dispensed 1–10 minutes after
// that; each of the pharmacist's two actions refetches the four lists (the mutations' invalidation).
import { backToPace, poll } from '../console/src/lib/polling.ts';

const DAY_S = 12 * 3600;
const STATUSES = ['routed', 'accepted', 'partially-dispensed', 'dispensed'] as const;
type Status = (typeof STATUSES)[number];
const OBSERVERS: { status: Status; everyMs: number }[] = [{ status: 'routed', everyMs: 10_000 }, ...STATUSES.map((status) => ({ status, everyMs: 30_000 }))];

/** A small seeded generator, so a run's figures are reproducible. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Happening { at: number; action: boolean; changes: Status[] }
function day(meanGapS: number, seed: number): Happening[] {
  const rnd = random(seed);
  const out: Happening[] = [];
  for (let t = -Math.log(1 - rnd()) * meanGapS; t < DAY_S; t += -Math.log(1 - rnd()) * meanGapS) {
    const accepted = t + 30 + rnd() * 270;
    out.push({ at: t, action: false, changes: ['routed'] }, { at: accepted, action: true, changes: ['routed', 'accepted'] }, { at: accepted + 60 + rnd() * 540, action: true, changes: ['accepted', 'dispensed'] });
  }
  return out.filter((h) => h.at < DAY_S).sort((a, b) => a.at - b.at);
}

/** Requests in one 12-hour day of the queue, at a fixed pace or backing off (`poll`). */
function requests(backoff: boolean, happenings: Happening[]): number {
  // What the server holds (a version per list) and each query as TanStack keeps it.
  const version = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const queries = Object.fromEntries(STATUSES.map((s) => [s, { state: { data: { v: 0 } as unknown, dataUpdatedAt: 0 } }])) as Record<Status, { state: { data: unknown; dataUpdatedAt: number } }>;
  // A list never answers 404, so the backing-off interval is always a number here.
  const intervals = OBSERVERS.map((o) => (backoff ? (q: Parameters<ReturnType<typeof poll>>[0]) => poll(o.everyMs)(q) as number : () => o.everyMs));
  const due = OBSERVERS.map((o, i) => intervals[i]!(queries[o.status]) / 1000);
  let count = 0;
  const answer = (s: Status, at: number) => {
    count++;
    const q = queries[s];
    // Structural sharing: an answer equal to the last keeps the same object.
    const data = (q.state.data as { v: number }).v === version[s] ? q.state.data : { v: version[s] };
    q.state = { data, dataUpdatedAt: at * 1000 + count / 1e6 }; // distinct even at the same instant
    OBSERVERS.forEach((o, i) => { if (o.status === s) due[i] = at + intervals[i]!(q) / 1000; });
  };
  let next = 0;
  for (;;) {
    const i = due.indexOf(Math.min(...due));
    const h = happenings[next];
    if (h && h.at <= due[i]!) {
      next++;
      for (const s of h.changes) version[s]++;
      if (h.action) {
        if (backoff) backToPace();
        for (const s of STATUSES) answer(s, h.at);
      }
      continue;
    }
    if (due[i]! >= DAY_S) return count;
    answer(OBSERVERS[i]!.status, due[i]!);
  }
}

export interface DeskPollingRow { load: string; prescriptionsPerDesk: number; fixedPerDay: number; backoffPerDay: number; fixedPerSecond: string; backoffPerSecond: string; ratio: number }

/** 20 simulated days at each load, the same days under both policies. */
export function benchDeskPolling(): DeskPollingRow[] {
  const loads = [
    // docs/capacity.md: 15.0 M prescriptions a month over 20,025 pharmacies, in their 12 open hours.
    { load: 'average (25 prescriptions a desk a day)', meanGapS: DAY_S / 25 },
    // The peak hour: 58 prescriptions a second over 20,025 desks (10× the 24-hour average, 5× the
    // open hours').
    { load: 'peak hour (one every 345 s a desk)', meanGapS: 20_025 / 58 },
  ];
  return loads.map(({ load, meanGapS }) => {
    const days = Array.from({ length: 20 }, (_, seed) => day(meanGapS, seed + 1));
    const mean = (backoff: boolean) => days.reduce((a, d) => a + requests(backoff, d), 0) / days.length;
    const fixed = mean(false);
    const backoff = mean(true);
    const prescriptions = days.reduce((a, d) => a + d.filter((h) => !h.action).length, 0) / days.length;
    return { load, prescriptionsPerDesk: Math.round(prescriptions), fixedPerDay: Math.round(fixed), backoffPerDay: Math.round(backoff), fixedPerSecond: (fixed / DAY_S).toFixed(3), backoffPerSecond: (backoff / DAY_S).toFixed(3), ratio: backoff / fixed };
  });
}
