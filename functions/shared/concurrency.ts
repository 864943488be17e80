// Bounded parallelism without a library: `width` workers, each taking the next item as it frees up.

/** `fn` of every item, at most `width` at a time; the results in the items' order. */
export async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/**
 * `fn` of every item, at most `width` at a time, where items sharing a lane (`lanesOf`: the drugs a
 * prescription needs) run one after another in the items' order: the oldest first for what they
 * compete for, the others alongside. An item takes a place only once those before it in its lanes
 * have finished, so nothing waits holding one. Every item is tried; the first failure is thrown after.
 */
export async function mapInLanes<T, R>(items: readonly T[], width: number, lanesOf: (item: T) => readonly string[], fn: (item: T) => Promise<R>): Promise<R[]> {
  let running = 0;
  const queue: Array<() => void> = [];
  const take = () => (running < width ? (running++, Promise.resolve()) : new Promise<void>((start) => queue.push(start)));
  // The place goes straight to the next in the queue, or is given back.
  const give = () => {
    const next = queue.shift();
    if (next) next();
    else running--;
  };
  const lastIn = new Map<string, Promise<unknown>>();
  const runs = items.map((item) => {
    const lanes = [...new Set(lanesOf(item))];
    const run = Promise.allSettled(lanes.map((l) => lastIn.get(l))).then(take).then(async () => {
      try {
        return await fn(item);
      } finally {
        give();
      }
    });
    for (const l of lanes) lastIn.set(l, run.catch(() => undefined));
    return run;
  });
  const settled = await Promise.allSettled(runs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}
