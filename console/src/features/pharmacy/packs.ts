// The counter's pure rules about packs: the trace codes a scan adds to a line, the codes a
// trace-code-used refusal names, what a prescription still owes, and what a dispense against a
// settlement hands over. No DOM and no API here, so the unit tests check them directly.
import type { Prescription } from '#schemas/prescriptions';
import type { Settlement } from '#schemas/vouchers';

/** A trace code as printed on a pack: 20 digits starting with 8. */
const TRACE_CODE = /^8\d{19}$/;

/**
 * A scan (one code, or several pasted at once) added to a line's codes: one per pack, none twice on
 * the counter. Returns the line's codes, what was not taken (to leave in the field) and why.
 */
export function scanTraceCodes(text: string, line: { codes: readonly string[]; packs: number }, elsewhere: ReadonlySet<string>): { codes: string[]; left: string; problem?: string } {
  const codes = [...line.codes];
  const left: string[] = [];
  let problem: string | undefined;
  for (const c of text.split(/[\s,，;；]+/).filter(Boolean)) {
    if (!TRACE_CODE.test(c)) problem = `追溯码无效：${c}（应为 20 位数字，以 8 开头）`;
    else if (codes.includes(c) || elsewhere.has(c)) problem = `追溯码 ${c} 已扫过：每盒一码`;
    else if (codes.length >= line.packs) problem = `已扫 ${codes.length} 盒，与数量相同：每盒一码`;
    else {
      codes.push(c);
      continue;
    }
    left.push(c);
  }
  return { codes, left: left.join(' '), ...(problem ? { problem } : {}) };
}

/** The codes a 409 trace-code-used names (errors at body.items.<i>.traceCodes.<j>), with their line. */
export function soldCodes(errors: ReadonlyArray<{ path: string }>, items: ReadonlyArray<{ traceCodes?: readonly string[] }>): Array<{ line: number; code: string }> {
  return errors.flatMap((e) => {
    const m = /^body\.items\.(\d+)\.traceCodes\.(\d+)$/.exec(e.path);
    const code = m ? items[Number(m[1])]?.traceCodes?.[Number(m[2])] : undefined;
    return code ? [{ line: Number(m![1]), code }] : [];
  });
}

/** Packs still owing on a prescription: prescribed less handed over (partial dispenses add up). */
export function owingOf(rx: Pick<Prescription, 'items' | 'dispensed'>): Array<{ drugCode: string; quantity: number }> {
  return rx.items.flatMap((i) => {
    const left = i.quantity - (rx.dispensed ?? []).filter((d) => d.drugCode === i.drugCode).reduce((n, d) => n + d.quantity, 0);
    return left > 0 ? [{ drugCode: i.drugCode, quantity: left }] : [];
  });
}

/**
 * What the settlement paid for that no dispense against it has handed over yet, by drug. One
 * settlement may pay for several dispenses of the prescription it named (3 paid, 1 on the shelf
 * today), never for a pack twice. A prescription from before dispenses were listed names only its
 * settlement: that one is spent.
 */
export function unspentOf(rx: Pick<Prescription, 'dispenses' | 'settlementId'>, s: Pick<Settlement, 'settlementId' | 'items'>): Array<{ drugCode: string; quantity: number }> {
  if (!rx.dispenses?.length && rx.settlementId !== undefined && rx.settlementId === s.settlementId) return [];
  // Paid for, less what each dispense against it handed over (as the API counts it).
  const left = new Map<string, number>();
  const add = (drugCode: string, n: number) => left.set(drugCode, (left.get(drugCode) ?? 0) + n);
  for (const i of s.items) add(i.drugCode, i.quantity);
  for (const d of rx.dispenses ?? []) if (d.settlementId === s.settlementId) for (const i of d.items) add(i.drugCode, -i.quantity);
  return [...left].flatMap(([drugCode, quantity]) => (quantity > 0 ? [{ drugCode, quantity }] : []));
}

/** The owing packs a dispense against this settlement hands over: what it has left to pay for, up to what is owing. */
export function payableBy(rx: Pick<Prescription, 'items' | 'dispensed' | 'dispenses' | 'settlementId'>, s: Pick<Settlement, 'settlementId' | 'items'>): Array<{ drugCode: string; quantity: number }> {
  const left = unspentOf(rx, s);
  return owingOf(rx).flatMap((o) => {
    const paid = left.find((i) => i.drugCode === o.drugCode)?.quantity ?? 0;
    return paid > 0 ? [{ drugCode: o.drugCode, quantity: Math.min(paid, o.quantity) }] : [];
  });
}

/**
 * What a dispense against this settlement hands over (payableBy). Everything owing → no items (the
 * API's default, a full dispense); less → the items, a partial dispense whose rest stays reserved.
 */
export function dispenseItems(rx: Pick<Prescription, 'items' | 'dispensed' | 'dispenses' | 'settlementId'>, s: Pick<Settlement, 'settlementId' | 'items'>): { items?: Array<{ drugCode: string; quantity: number }> } {
  const owing = owingOf(rx);
  const items = payableBy(rx, s);
  const all = items.length === owing.length && items.every((i, n) => i.quantity === owing[n]!.quantity);
  return all || !items.length ? {} : { items };
}

/**
 * The settlements that paid for this prescription and have packs it still owes left to hand over
 * against them: settled, naming it. A pharmacist who moved to the next patient before 按此结算发药,
 * or handed over part of what was paid for, dispenses against one of these instead of charging the
 * patient again.
 */
export function undispensedSettlements<S extends Pick<Settlement, 'settlementId' | 'prescriptionId' | 'status' | 'items'>>(
  rx: Pick<Prescription, 'prescriptionId' | 'items' | 'dispensed' | 'dispenses' | 'settlementId'>,
  settlements: readonly S[],
): S[] {
  return settlements.filter((s) => s.prescriptionId === rx.prescriptionId && s.status === 'settled' && payableBy(rx, s).length > 0);
}

/**
 * What a prescription still owes beyond what settlements not yet handed over against have paid for:
 * what its counter may still charge. A drug they paid for in full is not charged a second time.
 */
export function owingUnpaid(rx: Pick<Prescription, 'items' | 'dispensed' | 'dispenses' | 'settlementId'>, paid: ReadonlyArray<Pick<Settlement, 'settlementId' | 'items'>>): Array<{ drugCode: string; quantity: number }> {
  return owingOf(rx).flatMap((o) => {
    const covered = paid.reduce((n, s) => n + (unspentOf(rx, s).find((i) => i.drugCode === o.drugCode)?.quantity ?? 0), 0);
    return o.quantity > covered ? [{ drugCode: o.drugCode, quantity: o.quantity - covered }] : [];
  });
}
