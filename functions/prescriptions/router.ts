// The prescription router: on PrescriptionIssued, on PrescriptionRejected to route again, and on
// PharmacyStockChanged for the unroutable prescriptions waiting on that stock, picks the pharmacy and
// reserves the stock in the same transaction as the status change and its event. Idempotent through
// the prescription itself: only `issued`, `rejected` and `unroutable` move, with a write conditional on
// the status and revision read, so a redelivered event finds nothing to do. On InstitutionChanged
// withdrawing a pharmacy's designation, it takes from that pharmacy what it has not been paid for, to
// be routed again (the same conditional moves make a redelivery a no-op); on one designating a pharmacy,
// it routes the prescriptions waiting in its district for drugs it has.
import { InstitutionChanged } from '#events/institutions';
import { MAX_ALERT_LIST } from '#schemas/alerts';
import { PharmacyStockChanged, PrescriptionIssued, PrescriptionRejected } from '#events/prescriptions';
import { mapInLanes, mapLimited } from '#shared/concurrency';
import { eventConsumer } from '#shared/consumer';
import { withRaceRetries } from '#shared/db';
import { logger } from '#shared/logger';
import { applyTransition, canTransition, firstStocked, holdsStock, isOverdue, mayWithdraw, rankPharmacies, WITHDRAWN_REASON } from './domain.ts';
import { waitingPartition } from './keys.ts';
import { raiseAlertOnce } from '../alerts/store.ts';
import { currentInstitution, getInstitution } from '../institutions/store.ts';
import * as store from './store.ts';

/** Candidates whose stock is read first. */
const FIRST_CANDIDATES = 8;

/**
 * Prescriptions taken from a pharmacy at once when its designation is withdrawn: those of one drug
 * release the same stock item, so more in parallel would mostly collide.
 */
const WITHDRAW_WIDTH = 4;

/** Waiting prescriptions routed at once when stock arrives or a pharmacy is designated (those of one drug in turn). */
const ROUTE_WAITING_WIDTH = 4;

/** Racing routes for the last units lose conditions or collide; each retry reads stock afresh. */
const MAX_ATTEMPTS = 30;

export type RouteOutcome = 'routed' | 'unroutable' | 'skipped';

export async function routePrescription(prescriptionId: string, correlationId?: string): Promise<RouteOutcome> {
  // Pharmacies found no longer designated when a route committed: the next attempt passes them over.
  const withdrawn = new Set<string>();
  return withRaceRetries(() => attemptRoute(prescriptionId, withdrawn, correlationId), MAX_ATTEMPTS - 1);
}

async function attemptRoute(prescriptionId: string, withdrawn: Set<string>, correlationId?: string): Promise<RouteOutcome> {
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
    rejectedBy: [...rx.rejectedBy, ...withdrawn],
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
    try {
      await store.writeTransition(rx, applyTransition(rx, 'route', { at: now, actor: 'router', pharmacyId: chosen }), ctx, [store.designatedGuard(chosen)]);
    } catch (err) {
      if (err instanceof store.NotDesignated) withdrawn.add(err.pharmacyId);
      throw err;
    }
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

/**
 * Routes again the prescriptions waiting on the pharmacy's district or on the pharmacy itself that
 * need one of `drugCodes` (those of a stock change, or, for a pharmacy just designated, whichever of
 * theirs it has available), oldest first among those needing the same drug. Nothing, if the pharmacy
 * is not designated.
 */
async function routeWaiting(pharmacy: { pharmacyId: string; district: string; drugCodes?: readonly string[] }, correlationId?: string): Promise<void> {
  const waiting = await store.waitingOn([waitingPartition.district(pharmacy.district), waitingPartition.pharmacy(pharmacy.pharmacyId)], new Date());
  const wanted = new Set(pharmacy.drugCodes ?? (await availableAt(pharmacy.pharmacyId, waiting)));
  const routable = waiting.filter((w) => w.drugCodes.some((c) => wanted.has(c)));
  if (!routable.length) return;
  // A pharmacy registered within the minute the district's list is cached is not on it yet: read afresh.
  const listed = async () => (await store.districtPharmacies(pharmacy.district)).find((p) => p.id === pharmacy.pharmacyId);
  let known = await listed();
  if (!known) {
    store.districtPharmacies.forget(pharmacy.district);
    known = await listed();
  }
  // Stock at a pharmacy that is not designated routes nothing (prescriptions go to designated ones only).
  if (!known?.designated) {
    // Just designated (the list was read afresh) and still so, yet not on the index: thrown, so the
    // event is tried again. A designation since withdrawn (an old event delivered again) routes nothing.
    if (!pharmacy.drugCodes) {
      const now = await currentInstitution(pharmacy.pharmacyId);
      if (now?.designated && now.district === pharmacy.district) throw new Error(`designated pharmacy ${pharmacy.pharmacyId} not yet designated on its district's index`);
    }
    return;
  }
  // Those needing the same drug one after another, oldest first (the first may take the last packs);
  // the others alongside, so a district's hundreds finish well inside the function's timeout.
  await mapInLanes(routable, ROUTE_WAITING_WIDTH, (w) => w.drugCodes, async ({ prescriptionId }) => {
    const outcome = await routePrescription(prescriptionId, correlationId);
    logger.info('waiting prescription routed again', { prescriptionId, outcome, pharmacyId: pharmacy.pharmacyId });
  });
}

/** Which drugs the waiting prescriptions need that the pharmacy has available. */
async function availableAt(pharmacyId: string, waiting: readonly store.WaitingEntry[]): Promise<string[]> {
  const needed = [...new Set(waiting.flatMap((w) => w.drugCodes))];
  const stock = needed.length ? (await store.availableStock([pharmacyId], needed)).get(pharmacyId) : undefined;
  return needed.filter((c) => (stock?.get(c) ?? 0) > 0);
}

/**
 * Takes from a pharmacy whose designation was withdrawn the prescriptions routed or accepted there that
 * nothing was paid for (no settlement, or only reversed ones) or handed over against, each as if the
 * pharmacy had rejected it: the PrescriptionRejected event routes it again, elsewhere. The rest (paid
 * for, or partly dispensed) stay for the pharmacy to finish, and the operator is alerted to them once
 * per withdrawal (`eventId`, the InstitutionChanged event's).
 */
export async function withdrawFrom(pharmacyId: string, eventId: string, correlationId?: string): Promise<{ withdrawn: number; kept: string[] }> {
  // An old withdrawal delivered again after the pharmacy was designated again takes nothing.
  if ((await currentInstitution(pharmacyId))?.designated) {
    logger.info('designation withdrawn, but designated again since: nothing taken', { pharmacyId });
    return { withdrawn: 0, kept: [] };
  }
  const held = await store.heldAt(pharmacyId);
  // A few at a time: a chain store's hundreds finish well inside the function's timeout.
  const outcomes = await mapLimited(held, WITHDRAW_WIDTH, (prescriptionId) =>
    withRaceRetries(async () => {
      const rx = await store.getPrescription(prescriptionId);
      if (!rx || rx.pharmacyId !== pharmacyId || !holdsStock(rx.status)) return 'moved on';
      if (!mayWithdraw(rx)) return 'kept';
      // Paid for there (a settlement named it, not reversed): the pharmacy was paid to fill it.
      const paid = await store.paidAgainst(rx.prescriptionId);
      if (paid.settled) return 'kept';
      const now = new Date();
      const next = applyTransition(rx, 'withdraw', { at: now, actor: 'router', reason: WITHDRAWN_REASON });
      await store.writeTransition(rx, next, { now, correlationId }, [store.unpaidGuard(rx.prescriptionId, paid.version)]);
      return 'withdrawn';
    }, MAX_ATTEMPTS - 1),
  );
  const withdrawn = outcomes.filter((o) => o === 'withdrawn').length;
  const kept = held.filter((_, i) => outcomes[i] === 'kept');
  logger.info('designation withdrawn: prescriptions taken to be routed again', { pharmacyId, withdrawn, kept: kept.length });
  // What it keeps cannot be settled there with insurance any more: the operator sees it on 预警 (ids and a count, no personal data).
  if (kept.length) {
    await raiseAlertOnce({
      type: 'designation-withdrawn-kept',
      institutionId: pharmacyId,
      details: { keptPrescriptions: kept.length, prescriptionIds: kept.slice(0, MAX_ALERT_LIST), eventId },
      now: new Date(),
      once: `designation-withdrawn-kept#${eventId}`,
    });
  }
  return { withdrawn, kept };
}

export const handler = eventConsumer([PrescriptionIssued, PrescriptionRejected, PharmacyStockChanged, InstitutionChanged], async (event) => {
  if (event.detailType === 'PharmacyStockChanged') return routeWaiting(event.detail, event.detail.correlationId);
  if (event.detailType === 'InstitutionChanged') {
    const d = event.detail;
    if (d.type !== 'pharmacy') return;
    // This container's lists of the districts' pharmacies no longer say what is true.
    for (const district of new Set([d.district, d.previousDistrict])) store.districtPharmacies.forget(district);
    if (d.previouslyDesignated && !d.designated) await withdrawFrom(d.institutionId, d.id, d.correlationId);
    // Newly designated, or designated in another district: what waits there may now be routed to it.
    else if (d.designated && (!d.previouslyDesignated || d.district !== d.previousDistrict)) await routeWaiting({ pharmacyId: d.institutionId, district: d.district }, d.correlationId);
    return;
  }
  await routePrescription(event.detail.prescriptionId, event.detail.correlationId);
});
