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
 * What a dispense against this settlement hands over: the packs it paid for, up to what the
 * prescription still owes. Everything owing → no items (the API's default, a full dispense); less →
 * the items, a partial dispense whose rest stays reserved.
 */
export function dispenseItems(rx: Pick<Prescription, 'items' | 'dispensed'>, s: Pick<Settlement, 'items'>): { items?: Array<{ drugCode: string; quantity: number }> } {
  const owing = owingOf(rx);
  const items = owing.flatMap((o) => {
    const paid = s.items.find((i) => i.drugCode === o.drugCode)?.quantity ?? 0;
    return paid > 0 ? [{ drugCode: o.drugCode, quantity: Math.min(paid, o.quantity) }] : [];
  });
  const all = items.length === owing.length && items.every((i, n) => i.quantity === owing[n]!.quantity);
  return all || !items.length ? {} : { items };
}

/**
 * The settlements that paid for this prescription and were never handed over against (one
 * settlement pays for one dispense): settled, naming it, not among its dispenses, and paying for a
 * drug it still owes. A pharmacist who moved to the next patient before 按此结算发药 dispenses
 * against one of these instead of charging the patient again.
 */
export function undispensedSettlements<S extends Pick<Settlement, 'settlementId' | 'prescriptionId' | 'status' | 'items'>>(
  rx: Pick<Prescription, 'prescriptionId' | 'items' | 'dispensed' | 'dispenses' | 'settlementId'>,
  settlements: readonly S[],
): S[] {
  const used = new Set([...(rx.dispenses ?? []).map((d) => d.settlementId), ...(rx.settlementId ? [rx.settlementId] : [])]);
  const owing = owingOf(rx);
  return settlements.filter((s) => s.prescriptionId === rx.prescriptionId && s.status === 'settled' && !used.has(s.settlementId)
    && s.items.some((i) => owing.some((o) => o.drugCode === i.drugCode)));
}

/**
 * What a prescription still owes beyond what settlements not yet handed over against have paid for:
 * what its counter may still charge. A drug they paid for in full is not charged a second time.
 */
export function owingUnpaid(rx: Pick<Prescription, 'items' | 'dispensed'>, paid: ReadonlyArray<Pick<Settlement, 'items'>>): Array<{ drugCode: string; quantity: number }> {
  return owingOf(rx).flatMap((o) => {
    const covered = paid.reduce((n, s) => n + (s.items.find((i) => i.drugCode === o.drugCode)?.quantity ?? 0), 0);
    return o.quantity > covered ? [{ drugCode: o.drugCode, quantity: o.quantity - covered }] : [];
  });
}
