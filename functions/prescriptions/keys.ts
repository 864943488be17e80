// Keys of the items the prescriptions context owns, and of its index entries.
//
// Stock item (PK/SK = stockKey): pharmacyId, drugCode, available, reserved, dispensed?, updatedAt?.
// available + reserved is what is on the shelf; reserved is held for prescriptions routed there.
export const stockKey = (pharmacyId: string, drugCode: string) => ({ PK: `PHARMACY#${pharmacyId}`, SK: `STOCK#${drugCode}` });
export const stockPartition = (pharmacyId: string) => ({ PK: `PHARMACY#${pharmacyId}`, skPrefix: 'STOCK#' });

export const prescriptionKey = (prescriptionId: string) => ({ PK: `RX#${prescriptionId}`, SK: 'PROFILE' });

// Worklists. The sort key starts with the status, so one partition per institution serves both
// "by status" (begins_with) and "all"; within a status, oldest move first (a queue).
/** GSI1: what a clinic or hospital issued. */
export const prescriberPartition = (prescriberId: string) => `RX#BY#${prescriberId}`;
export const prescriberListKey = (prescriberId: string, status: string, statusAt: string, prescriptionId: string) => ({
  GSI1PK: prescriberPartition(prescriberId),
  GSI1SK: `${status}#${statusAt}#${prescriptionId}`,
});
/** GSI2: what is routed to a pharmacy. */
export const pharmacyPartition = (pharmacyId: string) => `RX#AT#${pharmacyId}`;
export const pharmacyListKey = (pharmacyId: string, status: string, statusAt: string, prescriptionId: string) => ({
  GSI2PK: pharmacyPartition(pharmacyId),
  GSI2SK: `${status}#${statusAt}#${prescriptionId}`,
});

// GSI3, sparse: only prescriptions that can still expire carry these attributes, sorted by the end
// of their validity, so the sweeper queries "valid until <= now" instead of scanning. A few fixed
// shards keep one hot partition from taking every open prescription's index writes.
export const EXPIRY_SHARDS = 4;
export const expiryPartition = (shard: number) => `RX#OPEN#${shard}`;
export function expiryShard(prescriptionId: string): number {
  let h = 0;
  for (const c of prescriptionId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % EXPIRY_SHARDS;
}
export const expiryKey = (prescriptionId: string, validUntil: string) => ({
  GSI3PK: expiryPartition(expiryShard(prescriptionId)),
  GSI3SK: `${validUntil}#${prescriptionId}`,
});
/** Upper bound of the sort keys of prescriptions whose validity ended at or before `at` (ids never contain "~"). */
export const expiryBound = (at: Date) => `${at.toISOString()}#~`;

/**
 * Duplicate therapy: one open prescription of a drug per person (whoever prescribed it). Put with
 * the prescription, conditionally, and removed when it ends (dispensed, cancelled, expired). Item:
 * { prescriptionId, drugCode }.
 */
export const openTherapyKey = (personId: string, drugCode: string) => ({ PK: `PERSON#${personId}`, SK: `OPEN-RX#${drugCode}` });

// Waiting lists: an unroutable prescription within its validity waits on the lists of where new
// stock would make it routable: its person's district (any designated pharmacy there) and its
// nominated pharmacy. A stock change at a pharmacy reads its district's list and its own, partitions
// as small as what is unroutable there now. Entries are written and removed with the transitions
// into and out of `unroutable` (store.ts).
export const waitingPartition = {
  district: (district: string) => `RX#WAITING#DISTRICT#${district}`,
  pharmacy: (pharmacyId: string) => `RX#WAITING#PHARMACY#${pharmacyId}`,
};
export const waitingKey = (partition: string, prescriptionId: string) => ({ PK: partition, SK: prescriptionId });

/**
 * Units of a drug a prescriber holds reserved in a district (routed and accepted prescriptions there),
 * kept by the stock watch (hoarding.ts) from the routing and release events. Item: { units }.
 */
export const heldKey = (district: string, drugCode: string, prescriberId: string) => ({ PK: `HELD#${district}#${drugCode}`, SK: prescriberId });

// The marker "this settlement paid for a dispense" is the settlement's business (a reversal checks
// it): its key is `settlementDispenseKey` in functions/vouchers/keys.ts.
