// The prescription router: on PrescriptionIssued, and on PrescriptionRejected to route again, picks
// the pharmacy and reserves the stock in the same transaction as the status change and its event.
// Idempotent through the prescription itself: only `issued` and `rejected` move, with a write
// conditional on the status and revision read, so a redelivered event finds nothing to do.
import { PrescriptionIssued, PrescriptionRejected } from '#events/prescriptions';
import { eventConsumer } from '#shared/consumer';
import { cached } from '#shared/cache';
import { withRaceRetries } from '#shared/db';
import { logger } from '#shared/logger';
import { applyTransition, canTransition, firstStocked, isOverdue, rankPharmacies, type PharmacyInfo } from './domain.ts';
import { getInstitution } from '../institutions/store.ts';
import * as store from './store.ts';

/**
 * Pharmacies change rarely (an operator registers them) and every route needs the list: keep it a
 * minute per container instead of reading the whole list per prescription. The nominated pharmacy is
 * always read fresh.
 */
const PHARMACY_LIST_TTL_MS = 60_000;
const pharmacyList = cached(PHARMACY_LIST_TTL_MS, (_all: 'pharmacies') => store.listPharmacies());
const pharmacies = (): Promise<PharmacyInfo[]> => pharmacyList('pharmacies');

/** Racing routes for the last units lose conditions or collide; each retry reads stock afresh. */
const MAX_ATTEMPTS = 30;

export type RouteOutcome = 'routed' | 'unroutable' | 'skipped';

export async function routePrescription(prescriptionId: string, correlationId?: string): Promise<RouteOutcome> {
  return withRaceRetries(() => attemptRoute(prescriptionId, correlationId), MAX_ATTEMPTS - 1);
}

async function attemptRoute(prescriptionId: string, correlationId?: string): Promise<RouteOutcome> {
  const rx = await store.getPrescription(prescriptionId);
  if (!rx || !canTransition('route', rx.status)) {
    logger.info('nothing to route', { prescriptionId, status: rx?.status });
    return 'skipped';
  }
  const now = new Date();
  if (isOverdue(rx, now)) {
    logger.info('past its validity: left to the expiry sweeper', { prescriptionId });
    return 'skipped';
  }
  const [district, prescriber, all, nominated] = await Promise.all([
    store.getPersonDistrict(rx.personId),
    getInstitution(rx.prescriberId),
    pharmacies(),
    rx.nominatedPharmacyId ? getInstitution(rx.nominatedPharmacyId) : Promise.resolve(undefined),
  ]);
  const ranked = rankPharmacies({
    nominated: nominated?.type === 'pharmacy' ? nominated : undefined,
    pharmacies: all,
    district,
    origin: prescriber?.location,
    rejectedBy: rx.rejectedBy,
  });

  // Stock of the best candidates first, one BatchGetItem (≤ 100 keys) at a time.
  const codes = rx.items.map((i) => i.drugCode);
  const perBatch = Math.max(1, Math.floor(100 / codes.length));
  let chosen: string | undefined;
  for (let i = 0; i < ranked.length && !chosen; i += perBatch) {
    const batch = ranked.slice(i, i + perBatch);
    chosen = firstStocked(batch, rx.items, await store.availableStock(batch, codes));
  }

  const ctx = { now, correlationId };
  if (chosen) {
    await store.writeTransition(rx, applyTransition(rx, 'route', { at: now, actor: 'router', pharmacyId: chosen }), ctx);
    logger.info('routed', { prescriptionId, pharmacyId: chosen, candidates: ranked.length });
    return 'routed';
  }
  await store.writeTransition(rx, applyTransition(rx, 'markUnroutable', { at: now, actor: 'router' }), ctx);
  logger.info('unroutable', { prescriptionId, candidates: ranked.length });
  return 'unroutable';
}

export const handler = eventConsumer([PrescriptionIssued, PrescriptionRejected], async ({ detail }) => {
  await routePrescription(detail.prescriptionId, detail.correlationId);
});
