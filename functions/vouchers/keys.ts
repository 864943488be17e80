// Keys of the items the vouchers context owns. Other contexts read settlements through
// `settlementKey` (the prescriptions context checks a dispense against one) and mark a settlement
// as having paid for a dispense through `settlementDispenseKey`.
//
// Settlement item (PK/SK = settlementKey): settlementId, voucherId, personId, institutionId,
// prescriptionId?, status ('settled' | 'reversed'), totalFen, pooledFundFen, personalAccountFen,
// cashFen, items, settledAt, reversedAt?, handedOverAt? (set by the first dispense against it).
export const voucherKey = (voucherId: string) => ({ PK: `VOUCHER#${voucherId}`, SK: 'PROFILE' });
/** One voucher per person: the person → voucher pointer, written with the voucher. */
export const personVoucherKey = (personId: string) => ({ PK: `PERSON#${personId}`, SK: 'VOUCHER' });
export const settlementKey = (settlementId: string) => ({ PK: `SETTLEMENT#${settlementId}`, SK: 'PROFILE' });
/**
 * "This settlement paid for a dispensed prescription": put (conditionally: one settlement pays for
 * one dispense) by the prescriptions context in its dispense transaction; a reversal requires it
 * absent, so a settlement that paid for handed-over drugs is never reversed. Item: { settlementId,
 * prescriptionId }.
 */
export const settlementDispenseKey = (settlementId: string) => ({ PK: `RX-SETTLEMENT#${settlementId}`, SK: 'DISPENSED' });
/**
 * The settlements that named a prescription (in its partition): { prescriptionId, settlements:
 * [{ settlementId, items: [{ drugCode, quantity }] }], version }. Written by a settlement naming it,
 * under the version it read, keeping those not reversed; a dispense of the prescription (the
 * prescriptions context) moves its version. So two settlements never pay for the same packs of a
 * prescription, however many counters race and whatever is dispensed meanwhile.
 */
export const prescriptionSettlementsKey = (prescriptionId: string) => ({ PK: `RX#${prescriptionId}`, SK: 'SETTLEMENTS' });
/** Single use of a QR code: a conditional put of its jti in the settlement transaction. */
export const codeUseKey = (jti: string) => ({ PK: `CODE#${jti}`, SK: 'USED' });
/** Idempotency records of settlements: functions/shared/idempotency.ts, under this operation name. */
export const SETTLE_OPERATION = 'settle';

/**
 * A drug trace code's one sale in the province: put in the settlement's transaction, conditional on
 * the code never sold or returned, so one code is sold once however many counters race for it; a
 * reversal marks it returned. Item: { code, status ('sold' | 'returned'), drugCode, settlementId,
 * institutionId, soldAt }.
 */
export const traceCodeKey = (code: string) => ({ PK: `TRACE#${code}`, SK: 'SALE' });

// Family mutual aid (家庭共济): a binding of a payer and a beneficiary, a copy under each person's
// partition (their lists), and the beneficiary's one payer pointer that a settlement reads.
export const bindingKey = (bindingId: string) => ({ PK: `BINDING#${bindingId}`, SK: 'PROFILE' });
export const personBindingKey = (personId: string, bindingId: string) => ({ PK: `PERSON#${personId}`, SK: `BINDING#${bindingId}` });
export const personBindingsPrefix = (personId: string) => ({ PK: `PERSON#${personId}`, skPrefix: 'BINDING#' });
/** At most one active payer per person: { bindingId, payerPersonId }, put conditionally. */
export const mutualAidPayerKey = (beneficiaryPersonId: string) => ({ PK: `PERSON#${beneficiaryPersonId}`, SK: 'MUTUAL-AID-PAYER' });
