// Per-container caching of loaded values (secrets, institution names, the pharmacy list): the
// promise is kept, so concurrent callers share one load, and a failed load is dropped at once so
// the next caller tries again.

/** `load(key)` at most once per `ttlMs` (Infinity: for good) per key. */
export function cached<K, V>(ttlMs: number, load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const entries = new Map<K, { at: number; value: Promise<V> }>();
  return (key) => {
    const hit = entries.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const value = load(key);
    const entry = { at: Date.now(), value };
    value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    entries.set(key, entry);
    return value;
  };
}
