// Write sharding: items that would otherwise share one partition key (a day's audit rows, the
// overview counters) are spread over a fixed number of keys, chosen by a stable hash of an id, so
// the same id always lands on the same shard and readers know every shard there is.

/** FNV-1a of `id`, modulo `shards`. */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}
