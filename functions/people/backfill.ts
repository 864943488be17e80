// For a province where family mutual aid was used before payers' timelines showed a relative's
// settlement their account helped pay: puts those entries for the settlements made before, as the
// settlement's last event would have. Run by an operator (infra/ops/backfill-payer-timelines.ts),
// never on a request path. Idempotent: an entry is put only if nothing newer is there.
import { SettlementCompleted, SettlementReversed } from '#events/vouchers';
import { settlementsPage } from '../vouchers/store.ts';
import { applyChange, fillAmount } from './store.ts';
import { timelineChanges } from './timeline.ts';

export interface BackfillProgress {
  /** Settlements under family mutual aid found so far. */
  settlements: number;
  /** Entries put so far (the payer's, or a person's that was missing). */
  entries: number;
}

/** Scans the whole table, a page at a time; `onPage` hears the totals after each. */
export async function backfillPayerTimelines(onPage?: (sofar: BackfillProgress) => void): Promise<BackfillProgress> {
  const done: BackfillProgress = { settlements: 0, entries: 0 };
  let next: Record<string, unknown> | undefined;
  do {
    const page = await settlementsPage(next, { mutualAidOnly: true });
    for (const s of page.settlements) {
      const def = s.status === 'reversed' ? SettlementReversed : SettlementCompleted;
      // Its last event as the projection saw it, but with an empty event id: ordered before any real
      // event of the same instant, so an entry that event put is left as it is.
      for (const change of timelineChanges(def, { ...s, id: '', occurredAt: s.reversedAt ?? s.settledAt })) {
        if (await applyChange(change)) done.entries++;
      }
    }
    done.settlements += page.settlements.length;
    next = page.next;
    onPage?.(done);
  } while (next);
  return done;
}

/**
 * For timelines projected before entries carried a settlement's amount: gives each settlement's
 * entries (the person's, and a paying relative's) the amount they lack. Scans the whole table, a page
 * at a time; idempotent (an amount there is left as it is).
 */
export async function backfillSettlementAmounts(onPage?: (sofar: BackfillProgress) => void): Promise<BackfillProgress> {
  const done: BackfillProgress = { settlements: 0, entries: 0 };
  let next: Record<string, unknown> | undefined;
  do {
    const page = await settlementsPage(next);
    for (const s of page.settlements) {
      for (const change of timelineChanges(SettlementCompleted, { ...s, id: '', occurredAt: s.settledAt })) {
        if (await fillAmount(change)) done.entries++;
      }
    }
    done.settlements += page.settlements.length;
    next = page.next;
    onPage?.(done);
  } while (next);
  return done;
}
