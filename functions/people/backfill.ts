// For a province where family mutual aid was used before payers' timelines showed a relative's
// settlement their account helped pay: puts those entries for the settlements made before, as the
// settlement's last event would have. Run by an operator (infra/ops/backfill-payer-timelines.ts),
// never on a request path. Idempotent: an entry is put only if nothing newer is there.
import { SettlementCompleted, SettlementReversed } from '#events/vouchers';
import { mutualAidSettlementsPage } from '../vouchers/store.ts';
import { applyChange } from './store.ts';
import { timelineChanges } from './timeline.ts';

/** One page of the scan: the settlements it found and the entries it put (the payer's, or a person's that was missing). */
export async function backfillPayerTimelines(startKey?: Record<string, unknown>): Promise<{ settlements: number; entries: number; next?: Record<string, unknown> }> {
  const page = await mutualAidSettlementsPage(startKey);
  let entries = 0;
  for (const s of page.settlements) {
    const def = s.status === 'reversed' ? SettlementReversed : SettlementCompleted;
    // Its last event as the projection saw it, but with an empty event id: ordered before any real
    // event of the same instant, so an entry that event put is left as it is.
    for (const change of timelineChanges(def, { ...s, id: '', occurredAt: s.reversedAt ?? s.settledAt })) {
      if (await applyChange(change)) entries++;
    }
  }
  return { settlements: page.settlements.length, entries, ...(page.next ? { next: page.next } : {}) };
}
