// Pure rules of the prescriptions context: the state machine, pharmacy choice, distance, the checks
// a dispense makes on a settlement, and who may see what. No AWS, no I/O.
import type { Prescription, PrescriptionItem, PrescriptionStatus } from '#schemas/prescriptions';
import { addHours } from '#shared/clock';
import { problem } from '#shared/errors';

/** A prescription as stored: the API shape plus the optimistic-lock revision and the time of its last move. */
export interface PrescriptionRecord extends Prescription {
  /** Incremented by every transition; each write is conditional on the status and rev it read. */
  rev: number;
  /** When it entered its current status (sort key of the worklists). */
  statusAt: string;
}

export type Action = 'route' | 'markUnroutable' | 'accept' | 'reject' | 'dispense' | 'cancel' | 'expire';
export type Actor = 'router' | 'pharmacy' | 'prescriber' | 'sweeper';

/** Statuses that have not reached an end: they can still be cancelled or expire. */
export const openStatuses = ['issued', 'routed', 'accepted', 'rejected', 'unroutable'] as const satisfies readonly PrescriptionStatus[];

/**
 * The state machine, the one place that says which move is allowed from which status and by whom.
 * `rejected` is transient: the router moves it on (to another pharmacy or `unroutable`). Stock
 * effects follow from the statuses (see `stockEffect`).
 */
export const transitions = {
  route: { from: ['issued', 'rejected'], to: 'routed', actor: 'router' },
  markUnroutable: { from: ['issued', 'rejected'], to: 'unroutable', actor: 'router' },
  accept: { from: ['routed'], to: 'accepted', actor: 'pharmacy' },
  reject: { from: ['routed'], to: 'rejected', actor: 'pharmacy' },
  dispense: { from: ['accepted'], to: 'dispensed', actor: 'pharmacy' },
  cancel: { from: openStatuses, to: 'cancelled', actor: 'prescriber' },
  expire: { from: openStatuses, to: 'expired', actor: 'sweeper' },
} as const satisfies Record<Action, { from: readonly PrescriptionStatus[]; to: PrescriptionStatus; actor: Actor }>;

export function canTransition(action: Action, from: PrescriptionStatus): boolean {
  return (transitions[action].from as readonly PrescriptionStatus[]).includes(from);
}

/** Statuses in which the prescription's items are reserved at its pharmacy. */
export const holdsStock = (s: PrescriptionStatus) => s === 'routed' || s === 'accepted';

export type StockEffect = 'reserve' | 'release' | 'consume' | 'none';

/** What a move from `from` to `to` does to the stock at the pharmacy: derived, so it cannot drift from the table. */
export function stockEffect(from: PrescriptionStatus, to: PrescriptionStatus): StockEffect {
  if (!holdsStock(from) && holdsStock(to)) return 'reserve';
  if (holdsStock(from) && !holdsStock(to)) return to === 'dispensed' ? 'consume' : 'release';
  return 'none';
}

export interface Move {
  at: Date;
  /** Institution making the move (pharmacy or prescriber); absent for the router and the sweeper. */
  by?: string;
  reason?: string;
  /** route: where to. */
  pharmacyId?: string;
  /** dispense: the settlement paid with. */
  settlementId?: string;
}

/** The prescription after `action`, or 409 invalid-transition. */
export function applyTransition(rx: PrescriptionRecord, action: Action, move: Move): PrescriptionRecord {
  if (!canTransition(action, rx.status)) {
    throw problem('invalid-transition', `cannot ${action} a prescription that is ${rx.status}`);
  }
  const to = transitions[action].to;
  const at = move.at.toISOString();
  const next: PrescriptionRecord = {
    ...rx,
    status: to,
    rev: rx.rev + 1,
    statusAt: at,
    updatedAt: at,
    history: [...rx.history, { status: to, at, ...(move.by ? { by: move.by } : {}), ...(move.reason ? { reason: move.reason } : {}) }],
  };
  switch (action) {
    case 'route':
      if (!move.pharmacyId) throw new Error('route needs a pharmacyId');
      if (rx.rejectedBy.includes(move.pharmacyId)) throw new Error(`${move.pharmacyId} rejected ${rx.prescriptionId} before`);
      next.pharmacyId = move.pharmacyId;
      break;
    case 'reject':
      // The rejecting pharmacy no longer sees it; it is never routed there again.
      next.rejectedBy = [...rx.rejectedBy, rx.pharmacyId!];
      delete next.pharmacyId;
      break;
    case 'dispense':
      if (!move.settlementId) throw new Error('dispense needs a settlementId');
      next.settlementId = move.settlementId;
      break;
    default:
      // cancel and expire keep pharmacyId: the pharmacy sees that what it held is gone.
      break;
  }
  return next;
}

export function newPrescription(input: {
  prescriptionId: string;
  prescriberId: string;
  personId: string;
  diagnoses: string[];
  items: PrescriptionItem[];
  nominatedPharmacyId?: string;
  referralId?: string;
  now: Date;
  validityHours: number;
}): PrescriptionRecord {
  const at = input.now.toISOString();
  return {
    prescriptionId: input.prescriptionId,
    status: 'issued',
    personId: input.personId,
    prescriberId: input.prescriberId,
    diagnoses: input.diagnoses,
    items: input.items,
    ...(input.nominatedPharmacyId ? { nominatedPharmacyId: input.nominatedPharmacyId } : {}),
    ...(input.referralId ? { referralId: input.referralId } : {}),
    rejectedBy: [],
    issuedAt: at,
    expiresAt: addHours(input.now, input.validityHours).toISOString(),
    updatedAt: at,
    statusAt: at,
    rev: 0,
    history: [{ status: 'issued', at, by: input.prescriberId }],
  };
}

export const isOverdue = (rx: Pick<PrescriptionRecord, 'expiresAt'>, now: Date) => Date.parse(rx.expiresAt) <= now.getTime();

// ── access ──

export interface Caller {
  role: 'operator' | 'channel' | 'clinic' | 'hospital' | 'pharmacy';
  inst?: string;
}

/** Only the prescriber and the pharmacy it is routed to see a prescription (others get 404, not 403). */
export function canSee(rx: Pick<PrescriptionRecord, 'prescriberId' | 'pharmacyId'>, caller: Caller): boolean {
  if (!caller.inst) return false;
  if (caller.role === 'pharmacy') return rx.pharmacyId === caller.inst;
  if (caller.role === 'clinic' || caller.role === 'hospital') return rx.prescriberId === caller.inst;
  return false;
}

/**
 * Whether `caller` may act on the prescription: those who see it may (the transition table decides
 * the rest); a pharmacy that rejected it learns its move is no longer possible (409) rather than a
 * 404, since it knows the prescription. That is how it loses a race between its own accept and reject.
 */
export function actAccess(rx: Pick<PrescriptionRecord, 'prescriberId' | 'pharmacyId' | 'rejectedBy'>, caller: Caller): 'allowed' | 'hidden' | 'rejected-by-caller' {
  if (canSee(rx, caller)) return 'allowed';
  if (caller.role === 'pharmacy' && caller.inst && rx.rejectedBy.includes(caller.inst)) return 'rejected-by-caller';
  return 'hidden';
}

// ── routing ──

export interface LatLng {
  lat: number;
  lng: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in km. */
export function haversineKm(a: LatLng, b: LatLng): number {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface PharmacyInfo {
  id: string;
  district: string;
  designated: boolean;
  location?: LatLng;
}

/**
 * Pharmacies to try, best first: the nominated one if designated (wherever it is), then the
 * designated pharmacies of the person's district by distance from the prescriber (those without a
 * location last, ties by id). Never one that rejected the prescription.
 */
export function rankPharmacies(input: {
  nominated?: PharmacyInfo;
  pharmacies: readonly PharmacyInfo[];
  district?: string;
  origin?: LatLng;
  rejectedBy: readonly string[];
}): string[] {
  const excluded = new Set(input.rejectedBy);
  const ranked: string[] = [];
  if (input.nominated?.designated && !excluded.has(input.nominated.id)) ranked.push(input.nominated.id);
  const distance = (p: PharmacyInfo) => (input.origin && p.location ? haversineKm(input.origin, p.location) : Number.POSITIVE_INFINITY);
  const nearby = input.pharmacies
    .filter((p) => p.designated && p.district === input.district && !excluded.has(p.id) && p.id !== input.nominated?.id)
    .map((p) => ({ id: p.id, km: distance(p) }))
    .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const p of nearby) ranked.push(p.id);
  return ranked;
}

/** Available units by drug code at one pharmacy (absent = not stocked). */
export type StockAvailable = ReadonlyMap<string, number>;

export function hasEveryItem(items: ReadonlyArray<Pick<PrescriptionItem, 'drugCode' | 'quantity'>>, available: StockAvailable | undefined): boolean {
  return !!available && items.every((i) => (available.get(i.drugCode) ?? 0) >= i.quantity);
}

/** The first ranked pharmacy with every item in stock, or undefined. */
export function firstStocked(
  ranked: readonly string[],
  items: ReadonlyArray<Pick<PrescriptionItem, 'drugCode' | 'quantity'>>,
  stock: ReadonlyMap<string, StockAvailable>,
): string | undefined {
  return ranked.find((id) => hasEveryItem(items, stock.get(id)));
}

// ── dispensing ──

/** The fields of a settlement item (functions/vouchers/keys.ts) a dispense depends on. */
export interface SettlementView {
  settlementId: string;
  personId: string;
  institutionId: string;
  status: string;
  prescriptionId?: string;
  settledAt: string;
}

/** Why `settlement` cannot pay for dispensing `rx` at its pharmacy; empty when it can. */
export function settlementProblems(settlement: SettlementView | undefined, rx: Pick<PrescriptionRecord, 'prescriptionId' | 'personId' | 'pharmacyId' | 'issuedAt'>): string[] {
  if (!settlement) return ['no such settlement'];
  const problems: string[] = [];
  if (settlement.status !== 'settled') problems.push(`the settlement is ${settlement.status}, not settled`);
  if (settlement.personId !== rx.personId) problems.push('the settlement is for another person');
  if (settlement.institutionId !== rx.pharmacyId) problems.push('the settlement was made at another institution');
  if (settlement.prescriptionId && settlement.prescriptionId !== rx.prescriptionId) problems.push('the settlement names another prescription');
  if (Date.parse(settlement.settledAt) < Date.parse(rx.issuedAt)) problems.push('the settlement predates the prescription');
  return problems;
}
