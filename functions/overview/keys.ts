// Keys of the overview projection. Counters are sharded: each event adds to one of SHARDS items
// (chosen by its id), and a read sums all of them with one BatchGetItem.
//
// Why 8: at a Shandong-size peak (~250 settlements/s province-wide, DESIGN.md §11) one counter item
// would take ~500 transactional WCU/s (2 per write) and, worse, concurrent transactions on one item
// cancel each other (TransactionConflict). Eight items take ~60 WCU/s each, far below a partition's
// 1,000, and with the projector's 5 concurrent invocations two rarely pick the same item; a read
// is still one BatchGetItem of 16 keys (8 day items, 8 status items).
import { shardOf as shardBy } from '#shared/shards';

export const SHARDS = 8;

/** By the event id, so a retried event lands on the same shard (not that it matters: it is applied once). */
export const shardOf = (eventId: string): number => shardBy(eventId, SHARDS);

/** The counters of one calendar day (province time zone): settlements, and referral moves into each status. */
export const dayCounterKey = (day: string, shard: number) => ({ PK: `OVERVIEW#DAY#${day}#${shard}`, SK: 'COUNTERS' });
/** Referrals in each status now. */
export const statusCounterKey = (shard: number) => ({ PK: `OVERVIEW#REFERRALS#${shard}`, SK: 'COUNTERS' });

export const shards = Array.from({ length: SHARDS }, (_, i) => i);
