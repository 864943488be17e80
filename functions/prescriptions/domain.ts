// Pure rules of the prescriptions context: the state machine, pharmacy choice, distance, the checks
// a dispense makes on a settlement, the referral a prescription may name, and who may see and read
// what. No AWS, no I/O.
import { DEFAULT_SUPPLY_DAYS, openPrescriptionStatuses, type Prescription, type PrescriptionItem, type PrescriptionStatus } from '#schemas/prescriptions';
import { addHours } from '#shared/clock';
import { problem } from '#shared/errors';

/**
 * A prescription as stored: the API shape (with `rejectedBy`, which the API shows to the prescriber
 * only) plus the optimistic-lock revision and the time of its last move.
 */
export interface PrescriptionRecord extends Omit<Prescription, 'rejectedBy'> {
  /** Pharmacies that rejected it; it is never routed to them again. */
  rejectedBy: string[];
  /** Incremented by every transition; each write is conditional on the status and rev it read. */
  rev: number;
  /** When it entered its current status (sort key of the worklists). */
  statusAt: string;
  /**
   * While unroutable: the waiting lists (keys.ts `waitingPartition`) it is on, where a stock change
   * would make it routable (the person's district, the nominated pharmacy). The store writes and
   * removes the entries as it enters and leaves `unroutable`.
   */
  waitingIn?: string[];
}

export type Action = 'route' | 'markUnroutable' | 'accept' | 'reject' | 'withdraw' | 'dispensePart' | 'dispense' | 'cancel' | 'expire';
export type Actor = 'router' | 'pharmacy' | 'prescriber' | 'sweeper';

/** Statuses that have not reached an end: they can still be cancelled or expire. */
export const openStatuses = openPrescriptionStatuses;
export const isOpen = (s: PrescriptionStatus) => (openStatuses as readonly PrescriptionStatus[]).includes(s);

/**
 * The state machine, the one place that says which move is allowed from which status, by whom, and
 * whether it needs the prescription to be within its validity. `rejected` is transient: the router
 * moves it on (to another pharmacy or `unroutable`). Stock effects follow from the statuses (see
 * `stockEffect`). `applyTransition` enforces every column; the store repeats the status (and, for
 * `withinValidity` moves, the validity) in the write's condition, so racing moves cannot both win.
 */
export const transitions = {
  // From unroutable too: a stock change at a pharmacy that could fill it routes it again (router.ts).
  route: { from: ['issued', 'rejected', 'unroutable'], to: 'routed', actor: 'router', withinValidity: true },
  markUnroutable: { from: ['issued', 'rejected'], to: 'unroutable', actor: 'router', withinValidity: false },
  accept: { from: ['routed'], to: 'accepted', actor: 'pharmacy', withinValidity: true },
  reject: { from: ['routed'], to: 'rejected', actor: 'pharmacy', withinValidity: false },
  // The platform takes it from a pharmacy whose designation was withdrawn, as if that pharmacy had
  // rejected it, so it is routed again: only while nothing has been paid for or handed over there
  // (see `mayWithdraw`).
  withdraw: { from: ['routed', 'accepted'], to: 'rejected', actor: 'router', withinValidity: false },
  // Review is mandatory: the pharmacist accepts (reviews) a prescription before dispensing it. A
  // dispense of fewer packs than are owing leaves it partially dispensed, the rest reserved; the one
  // that hands over the last packs completes it.
  dispensePart: { from: ['accepted', 'partially-dispensed'], to: 'partially-dispensed', actor: 'pharmacy', withinValidity: true },
  dispense: { from: ['accepted', 'partially-dispensed'], to: 'dispensed', actor: 'pharmacy', withinValidity: true },
  cancel: { from: openStatuses, to: 'cancelled', actor: 'prescriber', withinValidity: false },
  expire: { from: openStatuses, to: 'expired', actor: 'sweeper', withinValidity: false },
} as const satisfies Record<Action, { from: readonly PrescriptionStatus[]; to: PrescriptionStatus; actor: Actor; withinValidity: boolean }>;

export function canTransition(action: Action, from: PrescriptionStatus): boolean {
  return (transitions[action].from as readonly PrescriptionStatus[]).includes(from);
}

/** Whether a move into `to` must happen before the prescription's validity ends (its write is conditional on it). */
export function requiresValidity(to: PrescriptionStatus): boolean {
  return Object.values(transitions).some((t) => t.to === to && t.withinValidity);
}

/** The actor an institution acts as: a pharmacy fills, a clinic or hospital prescribes. */
export const actorOf = (caller: Pick<Caller, 'role'>): Actor | undefined =>
  caller.role === 'pharmacy' ? 'pharmacy' : caller.role === 'clinic' || caller.role === 'hospital' ? 'prescriber' : undefined;

/** Statuses in which the prescription's items (those still owing) are reserved at its pharmacy. */
export const holdsStock = (s: PrescriptionStatus) => s === 'routed' || s === 'accepted' || s === 'partially-dispensed';

type Quantities = ReadonlyArray<{ drugCode: string; quantity: number }>;
const quantityOf = (q: Quantities | undefined, drugCode: string) => (q ?? []).filter((x) => x.drugCode === drugCode).reduce((t, x) => t + x.quantity, 0);

/** Packs of each drug handed over so far (over every dispense). */
export const dispensedOf = (rx: { dispensed?: Quantities }, drugCode: string) => quantityOf(rx.dispensed, drugCode);

/** Packs of each drug still owing: prescribed less handed over. */
export function owing(rx: Pick<PrescriptionRecord, 'items' | 'dispensed'>): Array<{ drugCode: string; quantity: number }> {
  return rx.items.map(({ drugCode, quantity }) => ({ drugCode, quantity: quantity - dispensedOf(rx, drugCode) })).filter((i) => i.quantity > 0);
}

/** Packs reserved at the pharmacy: what is owing, while the status holds stock. */
export const reservedOf = (rx: Pick<PrescriptionRecord, 'items' | 'dispensed' | 'status'>, drugCode: string) =>
  holdsStock(rx.status) ? quantityOf(owing(rx), drugCode) : 0;

/** One pharmacy stock item's change in a move: packs consumed (handed over), reserved, released. */
export interface StockChange {
  pharmacyId: string;
  drugCode: string;
  consume: number;
  reserve: number;
  release: number;
}

/**
 * What a move from `prev` to `next` does to the pharmacies' stock, derived from the two records (so
 * it cannot drift from the transition table): handed-over packs leave the reservation for good, and
 * the reservation then follows what is owing while the status holds stock.
 */
export function stockChanges(prev: PrescriptionRecord, next: PrescriptionRecord): StockChange[] {
  const changes: StockChange[] = [];
  for (const { drugCode } of next.items) {
    const consume = dispensedOf(next, drugCode) - dispensedOf(prev, drugCode);
    const before = reservedOf(prev, drugCode) - consume;
    const after = reservedOf(next, drugCode);
    const pharmacyId = (after > before ? next.pharmacyId : prev.pharmacyId) ?? next.pharmacyId;
    if (!pharmacyId || (consume === 0 && after === before)) continue;
    changes.push({ pharmacyId, drugCode, consume, reserve: Math.max(0, after - before), release: Math.max(0, before - after) });
  }
  return changes;
}

/**
 * Which dispense `items` make (the prescription's owing packs when none are named): checked against
 * what is owing (400 for a drug not owing or more packs than owing), then 'dispense' when it hands
 * over the last packs, else 'dispensePart'.
 */
export function dispenseOf(rx: PrescriptionRecord, items: Quantities | undefined): { action: 'dispense' | 'dispensePart'; items: Array<{ drugCode: string; quantity: number }> } {
  const left = owing(rx);
  const handed = items ?? left;
  const errors = handed.flatMap((i, n) => {
    const due = quantityOf(left, i.drugCode);
    return due >= i.quantity ? [] : [{ path: `body.items.${n}.quantity`, message: due ? `${due} of ${i.drugCode} owing` : `${i.drugCode} is not owing on this prescription` }];
  });
  if (errors.length) throw problem('validation-failed', 'the dispense hands over more than is owing', errors);
  const completes = left.every((o) => quantityOf(handed, o.drugCode) === o.quantity);
  return { action: completes ? 'dispense' : 'dispensePart', items: handed.map(({ drugCode, quantity }) => ({ drugCode, quantity })) };
}

/**
 * Whether a settlement of `personId` at `institutionId` may name this prescription (the vouchers
 * context asks): it is that person's, routed to that pharmacy, and still being filled there.
 */
export function settlementMayName(rx: { personId: string; pharmacyId?: string; status: PrescriptionStatus } | undefined, personId: string, institutionId: string): boolean {
  return !!rx && rx.personId === personId && rx.pharmacyId === institutionId && holdsStock(rx.status);
}

/**
 * Whether the platform may take the prescription from its pharmacy (designation withdrawn): not
 * once packs were handed over there or a settlement named it (the store checks the second in the
 * move's transaction). Those stay, so the pharmacy can finish what it was paid for.
 */
export const mayWithdraw = (rx: Pick<PrescriptionRecord, 'status' | 'dispenses'>) => canTransition('withdraw', rx.status) && !(rx.dispenses ?? []).length;

/** The history's reason for a withdrawal (clinic and pharmacy staff read it). */
export const WITHDRAWN_REASON = '该药店已不再是医保定点药店，平台改派';

export type StockEffect = 'reserve' | 'release' | 'consume' | 'none';

/** What a move from `from` to `to` does to the stock at the pharmacy: derived, so it cannot drift from the table. */
export function stockEffect(from: PrescriptionStatus, to: PrescriptionStatus): StockEffect {
  if (!holdsStock(from) && holdsStock(to)) return 'reserve';
  if (holdsStock(from) && !holdsStock(to)) return to === 'dispensed' ? 'consume' : 'release';
  return 'none';
}

export interface Move {
  at: Date;
  /** Who makes the move; must be the action's actor in the transition table (else 403). */
  actor: Actor;
  /** Institution making the move (pharmacy or prescriber); absent for the router and the sweeper. */
  by?: string;
  reason?: string;
  /** route: where to. */
  pharmacyId?: string;
  /** dispense: the settlement paid with, and the packs handed over. */
  settlementId?: string;
  items?: Array<{ drugCode: string; quantity: number }>;
}

/**
 * The prescription after `action`, or: 403 forbidden (not the action's actor), 409 invalid-transition
 * (not allowed from the current status, or past the validity for a move that needs it).
 */
export function applyTransition(rx: PrescriptionRecord, action: Action, move: Move): PrescriptionRecord {
  const rule = transitions[action];
  if (move.actor !== rule.actor) throw problem('forbidden', `only the ${rule.actor} may ${action} a prescription`);
  if (!canTransition(action, rx.status)) {
    if (action === 'dispense' && rx.status === 'routed') {
      throw problem('invalid-transition', 'accept (review) the prescription before dispensing: a pharmacist reviews every prescription before it is dispensed');
    }
    throw problem('invalid-transition', `cannot ${action} a prescription that is ${rx.status}`);
  }
  if (rule.withinValidity && isOverdue(rx, move.at)) throw expiredProblem(action, rx.expiresAt);
  const to = rule.to;
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
    case 'withdraw':
      // The rejecting pharmacy no longer sees it; it is never routed there again.
      next.rejectedBy = [...rx.rejectedBy, rx.pharmacyId!];
      delete next.pharmacyId;
      break;
    case 'dispense':
    case 'dispensePart': {
      if (!move.settlementId || !move.items) throw new Error('a dispense needs a settlementId and its items');
      const dispensed = rx.items.map(({ drugCode }) => ({ drugCode, quantity: dispensedOf(rx, drugCode) + quantityOf(move.items, drugCode) }));
      next.dispensed = dispensed.filter((d) => d.quantity > 0);
      next.dispenses = [...(rx.dispenses ?? []), { settlementId: move.settlementId, at, items: move.items }];
      next.settlementId = move.settlementId;
      break;
    }
    default:
      // cancel and expire keep pharmacyId: the pharmacy sees that what it held is gone.
      break;
  }
  return next;
}

/**
 * The pharmacy tells the patient the drugs are ready to collect: after its review (accepted, or
 * partly dispensed with packs still owing) and within the validity. Not a move between statuses: it
 * sets readyAt, written conditionally on the status and revision read like any move.
 *
 * Once per collection: while the patient has been told and nothing was handed over since (a POS
 * retry, a double click, racing requests), it returns `rx` itself, which the caller answers without
 * writing or telling anyone again, with the original readyAt. A dispense after readyAt means the
 * patient came and took what was there: telling them later that the rest is ready is news, so the
 * next call sets readyAt anew and notifies once more.
 */
export function markReady(rx: PrescriptionRecord, move: { at: Date; actor: Actor }): PrescriptionRecord {
  if (move.actor !== 'pharmacy') throw problem('forbidden', 'only the pharmacy tells the patient to collect');
  if (rx.status !== 'accepted' && rx.status !== 'partially-dispensed') {
    throw problem('invalid-transition', rx.status === 'routed' ? 'accept (review) the prescription before telling the patient to collect' : `a prescription that is ${rx.status} is not ready to collect`);
  }
  // Past its validity nothing can be collected, so even a repeat is refused rather than confirmed.
  if (isOverdue(rx, move.at)) throw problem('invalid-transition', `the prescription expired at ${rx.expiresAt}`);
  if (toldToCollect(rx)) return rx;
  const at = move.at.toISOString();
  return { ...rx, readyAt: at, rev: rx.rev + 1, updatedAt: at };
}

/**
 * Whether the patient has been told to collect and has not collected since: readyAt is later than
 * every dispense (one at the same instant counts as after, so the patient is rather told once more
 * than not at all).
 */
export function toldToCollect(rx: Pick<PrescriptionRecord, 'readyAt' | 'dispenses'>): boolean {
  if (!rx.readyAt) return false;
  const readyAt = Date.parse(rx.readyAt);
  return (rx.dispenses ?? []).every((d) => Date.parse(d.at) < readyAt);
}

export function newPrescription(input: {
  prescriptionId: string;
  prescriberId: string;
  personId: string;
  patient?: Prescription['patient'];
  diagnoses: string[];
  items: PrescriptionItem[];
  nominatedPharmacyId?: string;
  referralId?: string;
  supplyDays?: number;
  longTerm?: Prescription['longTerm'];
  now: Date;
  validityHours: number;
}): PrescriptionRecord {
  const at = input.now.toISOString();
  return {
    prescriptionId: input.prescriptionId,
    status: 'issued',
    personId: input.personId,
    ...(input.patient ? { patient: input.patient } : {}),
    prescriberId: input.prescriberId,
    diagnoses: input.diagnoses,
    items: input.items,
    ...(input.nominatedPharmacyId ? { nominatedPharmacyId: input.nominatedPharmacyId } : {}),
    ...(input.referralId ? { referralId: input.referralId } : {}),
    supplyDays: input.supplyDays ?? DEFAULT_SUPPLY_DAYS,
    ...(input.longTerm ? { longTerm: input.longTerm } : {}),
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

/** 409 for a move that needs validity on a prescription whose validity has ended (the sweeper may not have run yet). */
export const expiredProblem = (action: Action, expiresAt: string) =>
  problem('invalid-transition', `cannot ${action} the prescription: it expired at ${expiresAt} (not dispensed within its validity)`);

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

/** A prescription as `caller` may read it (what the API returns, before the store strips its bookkeeping). */
export type PrescriptionView<T extends Pick<PrescriptionRecord, 'rejectedBy' | 'history' | 'prescriberId'>> = Omit<T, 'rejectedBy'> & { rejectedBy?: string[] };

/**
 * What `caller` may read of a prescription it can see. The prescriber sees everything. A pharmacy
 * learns nothing of other pharmacies: no `rejectedBy`, and of the history only the prescriber's
 * entries, its own, and the platform's from its routing on (earlier routings went elsewhere).
 */
export function viewFor<T extends Pick<PrescriptionRecord, 'rejectedBy' | 'history' | 'prescriberId'>>(rx: T, caller: Caller): PrescriptionView<T> {
  if (caller.role !== 'pharmacy') return rx;
  const { rejectedBy: _others, ...rest } = rx;
  const routedHere = rx.history.findLastIndex((h) => h.status === 'routed');
  const history = rx.history.filter((h, i) => (h.by ? h.by === caller.inst || h.by === rx.prescriberId : i >= routedHere));
  return { ...rest, history };
}

// ── the referral a prescription follows ──

/** The fields of a referral item (functions/referrals) that prescribing with it depends on. */
export interface ReferralView {
  personId: string;
  fromInstitutionId: string;
  toInstitutionId: string;
}

/**
 * Why a prescription of `personId` by `prescriberId` cannot name `referral`; empty when it can. A
 * referral the prescriber is no party to is reported as missing (its existence is not revealed).
 */
export function referralProblems(referral: ReferralView | undefined, personId: string, prescriberId: string): string[] {
  if (!referral || (referral.fromInstitutionId !== prescriberId && referral.toInstitutionId !== prescriberId)) {
    return ['no such referral sent or received by this institution'];
  }
  return referral.personId === personId ? [] : ['the referral is for another person'];
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
  /** What it paid for (a drug may span several lines). */
  items: ReadonlyArray<{ drugCode: string; quantity: number }>;
}

/** Units by drug code, summing repeated lines. */
function unitsByDrug(items: ReadonlyArray<{ drugCode: string; quantity: number }>): Map<string, number> {
  const units = new Map<string, number>();
  for (const { drugCode, quantity } of items) units.set(drugCode, (units.get(drugCode) ?? 0) + quantity);
  return units;
}

/** Why `settlement` cannot pay for dispensing `rx` at its pharmacy; empty when it can. */
export function settlementProblems(
  settlement: SettlementView | undefined,
  rx: Pick<PrescriptionRecord, 'prescriptionId' | 'personId' | 'pharmacyId' | 'issuedAt' | 'items' | 'dispenses'>,
  /** What the dispense hands over (default: every prescribed item). */
  handedOver: ReadonlyArray<{ drugCode: string; quantity: number }> = rx.items,
): string[] {
  // Another institution's settlement is not this pharmacy's business: one answer, whatever it is.
  if (!settlement || settlement.institutionId !== rx.pharmacyId) return ['no such settlement'];
  const problems: string[] = [];
  if (settlement.status !== 'settled') problems.push(`the settlement is ${settlement.status}, not settled`);
  if (settlement.personId !== rx.personId) problems.push('the settlement is for another person');
  if (settlement.prescriptionId && settlement.prescriptionId !== rx.prescriptionId) problems.push('the settlement names another prescription');
  if (Date.parse(settlement.settledAt) < Date.parse(rx.issuedAt)) problems.push('the settlement predates the prescription');
  // It must have paid for every item dispensed, at least the prescribed quantity of each drug, less
  // what earlier dispenses against it handed over: one settlement may pay for several dispenses of
  // the prescription it named (3 paid, 1 on the shelf today, 2 when they come), never for a pack twice.
  const paid = unitsByDrug(settlement.items);
  for (const d of rx.dispenses ?? []) {
    if (d.settlementId !== settlement.settlementId) continue;
    for (const { drugCode, quantity } of d.items) paid.set(drugCode, (paid.get(drugCode) ?? 0) - quantity);
  }
  for (const [drugCode, needed] of unitsByDrug(handedOver)) {
    const units = Math.max(0, paid.get(drugCode) ?? 0);
    if (units < needed) {
      problems.push(units ? `the settlement pays for ${units} of ${drugCode}; the prescription needs ${needed}` : `the settlement does not pay for ${drugCode} (the prescription needs ${needed})`);
    }
  }
  return problems;
}

/**
 * What a new settlement naming `rx` would pay for again: per drug of the prescription that it buys,
 * the packs that settlements made for it (`settled`: not reversed) paid for and that were not handed
 * over against them, if with the new ones they come to more than is still owing. Empty when nothing
 * is paid twice. A first settlement is not checked here (a pharmacy may sell more than one
 * prescription's packs in one purchase).
 */
export function paidAlready(
  rx: { items: Quantities; dispensed?: Quantities; dispenses?: ReadonlyArray<{ settlementId: string; items: Quantities }> },
  settled: ReadonlyArray<{ settlementId: string; items: Quantities }>,
  buying: Quantities,
): Array<{ drugCode: string; owing: number; paid: number; buying: number; settlementIds: string[] }> {
  // What each settlement paid for and was not handed over against it (a dispense may hand over fewer).
  const unspent = (s: (typeof settled)[number], drugCode: string) =>
    quantityOf(s.items, drugCode) - (rx.dispenses ?? []).filter((d) => d.settlementId === s.settlementId).reduce((n, d) => n + quantityOf(d.items, drugCode), 0);
  return rx.items.flatMap(({ drugCode, quantity }) => {
    const paying = settled.filter((s) => unspent(s, drugCode) > 0);
    const paid = paying.reduce((n, s) => n + unspent(s, drugCode), 0);
    const owingNow = quantity - dispensedOf(rx, drugCode);
    const units = quantityOf(buying, drugCode);
    return units > 0 && paid > 0 && paid + units > owingNow
      ? [{ drugCode, owing: owingNow, paid, buying: units, settlementIds: paying.map((s) => s.settlementId) }]
      : [];
  });
}
