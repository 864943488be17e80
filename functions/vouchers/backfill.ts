// For a province whose settlements named prescriptions before prescriptions kept the list of them
// (the guard against paying twice for the same packs): puts each settlement still settled into its
// prescription's list. Run by an operator (infra/ops/backfill-settlements.ts), never on a request
// path. Idempotent: one already on the list is left.
import { recordOnPrescription, settlementsPage } from './store.ts';

export interface ListProgress {
  /** Settlements read so far. */
  settlements: number;
  /** Put on their prescription's list so far. */
  recorded: number;
}

/** Scans the whole table, a page at a time; `onPage` hears the totals after each. */
export async function backfillPrescriptionSettlements(onPage?: (sofar: ListProgress) => void): Promise<ListProgress> {
  const done: ListProgress = { settlements: 0, recorded: 0 };
  let next: Record<string, unknown> | undefined;
  do {
    const page = await settlementsPage(next);
    for (const s of page.settlements) if (await recordOnPrescription(s)) done.recorded++;
    done.settlements += page.settlements.length;
    next = page.next;
    onPage?.(done);
  } while (next);
  return done;
}
