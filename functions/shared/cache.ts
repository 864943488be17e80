// Per-container caching of loaded values (secrets, institution names, the pharmacy list): the
// promise is kept, so concurrent callers share one load, and a failed load is dropped at once so
// the next caller tries again.

export interface Cached<K, V> {
  (key: K): Promise<V>;
  /** Drops the key's value: the next caller loads it afresh (this container learnt it changed). */
  forget(key: K): void;
}

/** `load(key)` at most once per `ttlMs` (Infinity: for good) per key. */
export function cached<K, V>(ttlMs: number, load: (key: K) => Promise<V>): Cached<K, V> {
  const entries = new Map<K, { at: number; value: Promise<V> }>();
  const get = (key: K) => {
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
  return Object.assign(get, { forget: (key: K) => void entries.delete(key) });
}
