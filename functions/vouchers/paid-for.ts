// A prescription's list of the settlements that named it (keys.ts, prescriptionSettlementsKey), read
// by the settlement that names it again and by the router that withdraws it from a pharmacy. Kept
// apart from store.ts so that the router's bundle takes this read and not the settlement's graph.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { batchGet, ddb, keyOf, tableName, type StoredItem } from '#shared/db';
import { prescriptionSettlementsKey, settlementKey } from './keys.ts';

const quantities = z.array(z.object({ drugCode: z.string(), quantity: z.number() }));
const paidFor = z.object({ settlementId: z.string(), items: quantities });
export const prescriptionSettlements = z.object({ settlements: z.array(paidFor), version: z.number() });

export type PaidFor = z.infer<typeof paidFor>;
/** A prescription's list of the settlements that named it (those still settled), and its version. */
export interface PaidForList { settled: PaidFor[]; version: number }

/**
 * Which of the settlements that named a prescription are still settled (not reversed): a second read,
 * only when some did (a prescription is paid for once or a few times, so the list stays short).
 * A reversed one paid for nothing: its money went back. What they paid for and what was handed over
 * against them the prescription itself says.
 */
export async function stillSettled(item: StoredItem | undefined): Promise<PaidForList> {
  if (!item) return { settled: [], version: 0 };
  const { settlements, version } = prescriptionSettlements.parse(item);
  const found = settlements.length ? await batchGet(settlements.map((s) => settlementKey(s.settlementId)), { projection: ['status'] }) : new Map<string, StoredItem>();
  return { settled: settlements.filter((s) => found.get(keyOf(settlementKey(s.settlementId)))?.status === 'settled'), version };
}

/** The prescription's list as stored (consistent read), reversed settlements included. */
export async function settlementsNaming(prescriptionId: string): Promise<StoredItem | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: prescriptionSettlementsKey(prescriptionId), ConsistentRead: true }));
  return Item;
}
