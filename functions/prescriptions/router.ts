// The prescription router: on PrescriptionIssued, on PrescriptionRejected to route again, and on
// PharmacyStockChanged for the unroutable prescriptions waiting on that stock, picks the pharmacy and
// reserves the stock in the same transaction as the status change and its event. Idempotent through
// the prescription itself: only `issued`, `rejected` and `unroutable` move, with a write conditional on
// the status and revision read, so a redelivered event finds nothing to do.
import { PharmacyStockChanged, PrescriptionIssued, PrescriptionRejected } from '#events/prescriptions';
import { eventConsumer } from '#shared/consumer';
import { withRaceRetries } from '#shared/db';
import { logger } from '#shared/logger';
import { applyTransition, canTransition, firstStocked, isOverdue, rankPharmacies } from './domain.ts';
import { waitingPartition } from './keys.ts';
import { getInstitution } from '../institutions/store.ts';
import * as store from './store.ts';

/** Candidates whose stock is read first. */
const FIRST_CANDIDATES = 8;

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
  // The candidates are the person's district's pharmacies (cached a minute); the nominated pharmacy is always read fresh.
  const [district, prescriber, nominated] = await Promise.all([
    store.getPersonDistrict(rx.personId),
    getInstitution(rx.prescriberId),
    rx.nominatedPharmacyId ? getInstitution(rx.nominatedPharmacyId) : Promise.resolve(undefined),
  ]);
  const all = district ? await store.districtPharmacies(district) : [];
  const ranked = rankPharmacies({
    nominated: nominated?.type === 'pharmacy' ? nominated : undefined,
    pharmacies: all,
    district,
    origin: prescriber?.location,
    rejectedBy: rx.rejectedBy,
  });

  // Stock of the best candidates first: the nearest few (the best is usually stocked), then a whole
  // BatchGetItem (≤ 100 keys) at a time. A city district has hundreds of pharmacies.
  const codes = rx.items.map((i) => i.drugCode);
  const perBatch = Math.max(1, Math.floor(100 / codes.length));
  let chosen: string | undefined;
  for (let i = 0, size = Math.min(FIRST_CANDIDATES, perBatch); i < ranked.length && !chosen; i += size, size = perBatch) {
    const batch = ranked.slice(i, i + size);
    chosen = firstStocked(batch, rx.items, await store.availableStock(batch, codes));
  }

  const ctx = { now, correlationId };
  if (chosen) {
    await store.writeTransition(rx, applyTransition(rx, 'route', { at: now, actor: 'router', pharmacyId: chosen }), ctx);
    logger.info('routed', { prescriptionId, pharmacyId: chosen, candidates: ranked.length, previousStatus: rx.status });
    return 'routed';
  }
  // Still nothing in stock for one already waiting: it stays on its waiting lists, nobody is told again.
  if (rx.status === 'unroutable') return 'skipped';
  const next = applyTransition(rx, 'markUnroutable', { at: now, actor: 'router' });
  // Where new stock would help: any designated pharmacy of the person's district, and the nominee.
  next.waitingIn = [
    ...(district ? [waitingPartition.district(district)] : []),
    ...(nominated?.type === 'pharmacy' && nominated.designated ? [waitingPartition.pharmacy(nominated.id)] : []),
  ];
  await store.writeTransition(rx, next, ctx);
  logger.info('unroutable', { prescriptionId, candidates: ranked.length });
  return 'unroutable';
}

/** Routes again, oldest first, the prescriptions waiting on the pharmacy's district or on the pharmacy itself for these drugs. */
async function routeWaiting(change: { pharmacyId: string; district: string; drugCodes: string[] }, correlationId?: string): Promise<void> {
  const ids = await store.waitingFor([waitingPartition.district(change.district), waitingPartition.pharmacy(change.pharmacyId)], change.drugCodes, new Date());
  for (const id of ids) {
    const outcome = await routePrescription(id, correlationId);
    logger.info('waiting prescription routed again', { prescriptionId: id, outcome, pharmacyId: change.pharmacyId });
  }
}

export const handler = eventConsumer([PrescriptionIssued, PrescriptionRejected, PharmacyStockChanged], async (event) => {
  if (event.detailType === 'PharmacyStockChanged') return routeWaiting(event.detail, event.detail.correlationId);
  await routePrescription(event.detail.prescriptionId, event.detail.correlationId);
});
