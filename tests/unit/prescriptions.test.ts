// Pure rules of the prescriptions context: the transition table, stock effects, pharmacy ranking,
// distance, the settlement and referral checks, visibility, and the request schemas.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prescriptionRequest, prescriptionStatuses, stockRequest, type PrescriptionStatus } from '../../schemas/prescriptions.ts';
import { HttpProblem } from '../../functions/shared/errors.ts';
import {
  actAccess, applyTransition, canSee, canTransition, firstStocked, hasEveryItem, haversineKm, newPrescription, openStatuses, rankPharmacies,
  referralProblems, requiresValidity, settlementProblems, stockChanges, transitions, viewFor, dispenseOf, owing, markReady, paidAlready, mayWithdraw, WITHDRAWN_REASON,
  type Action, type Actor, type PharmacyInfo, type PrescriptionRecord, type SettlementView,
} from '../../functions/prescriptions/domain.ts';
import { EXPIRY_SHARDS, expiryBound, expiryKey, expiryShard } from '../../functions/prescriptions/keys.ts';

const T0 = new Date('2025-03-01T02:00:00.000Z');
const actions = Object.keys(transitions) as Action[];
const actors: Actor[] = ['router', 'pharmacy', 'prescriber', 'sweeper'];

function rx(overrides: Partial<PrescriptionRecord> = {}): PrescriptionRecord {
  return {
    ...newPrescription({
      prescriptionId: 'rx_01test',
      prescriberId: 'clinic-lingyin',
      personId: 'p_person1',
      diagnoses: ['I10'],
      items: [{ drugCode: 'XC08CAA001', quantity: 2, dosage: '5 mg qd' }],
      now: T0,
      validityHours: 72,
    }),
    ...overrides,
  };
}

/** The problem slug `fn` throws (undefined if it returns). */
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof HttpProblem ? err.slug : String(err);
  }
  return undefined;
};

// The state machine as the contract states it, written out here rather than derived from the code's
// table: a change to `transitions` must change this list too.
const expectedMoves: ReadonlyArray<readonly [PrescriptionStatus, Action, PrescriptionStatus]> = [
  ['issued', 'route', 'routed'],
  ['issued', 'markUnroutable', 'unroutable'],
  ['issued', 'cancel', 'cancelled'],
  ['issued', 'expire', 'expired'],
  ['routed', 'accept', 'accepted'],
  ['routed', 'reject', 'rejected'],
  ['routed', 'withdraw', 'rejected'],
  ['accepted', 'withdraw', 'rejected'],
  ['routed', 'cancel', 'cancelled'],
  ['routed', 'expire', 'expired'],
  ['accepted', 'dispensePart', 'partially-dispensed'],
  ['accepted', 'dispense', 'dispensed'],
  ['accepted', 'cancel', 'cancelled'],
  ['accepted', 'expire', 'expired'],
  ['partially-dispensed', 'dispensePart', 'partially-dispensed'],
  ['partially-dispensed', 'dispense', 'dispensed'],
  ['partially-dispensed', 'cancel', 'cancelled'],
  ['partially-dispensed', 'expire', 'expired'],
  ['rejected', 'route', 'routed'],
  ['rejected', 'markUnroutable', 'unroutable'],
  ['rejected', 'cancel', 'cancelled'],
  ['rejected', 'expire', 'expired'],
  ['unroutable', 'route', 'routed'],
  ['unroutable', 'cancel', 'cancelled'],
  ['unroutable', 'expire', 'expired'],
];
const expectedActor: Record<Action, Actor> = {
  route: 'router', markUnroutable: 'router', accept: 'pharmacy', reject: 'pharmacy', withdraw: 'router', dispensePart: 'pharmacy', dispense: 'pharmacy', cancel: 'prescriber', expire: 'sweeper',
};

describe('transition table', () => {
  it('has exactly the actions of the contract', () => {
    expect([...actions].sort()).toEqual(Object.keys(expectedActor).sort());
  });

  it('allows exactly the expected (status, action) → status moves, by the expected actor; anything else is 409 or 403', () => {
    for (const status of prescriptionStatuses) {
      for (const action of actions) {
        const expected = expectedMoves.find(([from, a]) => from === status && a === action)?.[2];
        expect(canTransition(action, status), `${action} from ${status}`).toBe(expected !== undefined);
        for (const actor of actors) {
          const record = rx({ status, pharmacyId: 'ph-xihu-1' });
          const move = { at: T0, actor, pharmacyId: 'ph-xihu-2', settlementId: 'st_1234', items: [{ drugCode: 'XC08CAA001', quantity: 1 }] };
          const label = `${actor} ${action} from ${status}`;
          if (actor !== expectedActor[action]) expect(thrown(() => applyTransition(record, action, move)), label).toBe('forbidden');
          else if (expected === undefined) expect(thrown(() => applyTransition(record, action, move)), label).toBe('invalid-transition');
          else expect(applyTransition(record, action, move).status, label).toBe(expected);
        }
      }
    }
  });

  it('accept, dispense and route need the prescription within its validity; the rest do not', () => {
    const expiresAt = Date.parse(rx().expiresAt);
    const atDeadline = new Date(expiresAt);
    const justBefore = new Date(expiresAt - 1);
    const cases = [
      ['routed', 'accept', 'pharmacy'],
      ['accepted', 'dispense', 'pharmacy'],
      ['accepted', 'dispensePart', 'pharmacy'],
      ['issued', 'route', 'router'],
    ] as const;
    for (const [status, action, actor] of cases) {
      const record = rx({ status, pharmacyId: 'ph-xihu-1' });
      const move = { actor, pharmacyId: 'ph-xihu-2', settlementId: 'st_1234', items: [{ drugCode: 'XC08CAA001', quantity: 1 }] };
      expect(applyTransition(record, action, { ...move, at: justBefore }).status).not.toBe(status);
      for (const at of [atDeadline, new Date(expiresAt + 3_600_000)]) {
        expect(() => applyTransition(record, action, { ...move, at }), `${action} at ${at.toISOString()}`).toThrow(/expired at 2025-03-04T02:00:00.000Z/);
        expect(thrown(() => applyTransition(record, action, { ...move, at }))).toBe('invalid-transition');
      }
    }
    const late = new Date(expiresAt + 3_600_000);
    expect(applyTransition(rx({ status: 'routed', pharmacyId: 'ph-xihu-1' }), 'reject', { at: late, actor: 'pharmacy' }).status).toBe('rejected');
    expect(applyTransition(rx({ status: 'accepted', pharmacyId: 'ph-xihu-1' }), 'cancel', { at: late, actor: 'prescriber' }).status).toBe('cancelled');
    expect(applyTransition(rx({ status: 'accepted', pharmacyId: 'ph-xihu-1' }), 'expire', { at: late, actor: 'sweeper' }).status).toBe('expired');
    expect(applyTransition(rx(), 'markUnroutable', { at: late, actor: 'router' }).status).toBe('unroutable');
    // The store makes exactly these target statuses conditional on the validity.
    expect(prescriptionStatuses.filter(requiresValidity).sort()).toEqual(['accepted', 'dispensed', 'partially-dispensed', 'routed']);
  });

  it('a withdrawal (designation withdrawn) releases what was reserved there and never routes it back; not once anything was handed over', () => {
    const ph = 'ph-xihu-1';
    const issued = rx({ items: [{ drugCode: 'XC08CAA001', quantity: 5, dosage: 'x' }] });
    const accepted = applyTransition(applyTransition(issued, 'route', { at: T0, actor: 'router', pharmacyId: ph }), 'accept', { at: T0, actor: 'pharmacy', by: ph });
    const late = new Date(Date.parse(issued.expiresAt) + 1);
    const taken = applyTransition(accepted, 'withdraw', { at: late, actor: 'router', reason: WITHDRAWN_REASON });
    expect(taken).toMatchObject({ status: 'rejected', rejectedBy: [ph] });
    expect(taken.pharmacyId).toBeUndefined();
    expect(taken.history.at(-1)).toMatchObject({ status: 'rejected', reason: WITHDRAWN_REASON });
    expect(taken.history.at(-1)!.by).toBeUndefined();
    expect(stockChanges(accepted, taken)).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 0, reserve: 0, release: 5 }]);
    expect(() => applyTransition(taken, 'route', { at: T0, actor: 'router', pharmacyId: ph })).toThrow(/rejected/);
    expect(mayWithdraw(accepted)).toBe(true);
    const part = applyTransition(accepted, 'dispensePart', { at: T0, actor: 'pharmacy', settlementId: 'st_1', items: [{ drugCode: 'XC08CAA001', quantity: 2 }] });
    expect(mayWithdraw(part)).toBe(false);
    expect(mayWithdraw({ status: 'accepted', dispenses: [{ settlementId: 'st_1', at: T0.toISOString(), items: [] }] })).toBe(false);
    expect(mayWithdraw({ status: 'unroutable' })).toBe(false);
  });

  it('dispensing a prescription not yet accepted says that review comes first', () => {
    expect(() => applyTransition(rx({ status: 'routed', pharmacyId: 'ph-xihu-1' }), 'dispense', { at: T0, actor: 'pharmacy', settlementId: 'st_1' }))
      .toThrow('accept (review) the prescription before dispensing');
  });

  it('dispensed, cancelled and expired are final; rejected only moves on through the router, cancel or expiry', () => {
    for (const s of ['dispensed', 'cancelled', 'expired'] as const) expect(actions.filter((a) => canTransition(a, s))).toEqual([]);
    expect(actions.filter((a) => canTransition(a, 'rejected')).sort()).toEqual(['cancel', 'expire', 'markUnroutable', 'route']);
    expect([...openStatuses].sort()).toEqual(['accepted', 'issued', 'partially-dispensed', 'rejected', 'routed', 'unroutable']);
  });

  it('stock changes follow from the records: reserve on routing, consume what is handed over, release what is owing when it ends', () => {
    const ph = 'ph-xihu-1';
    const at = T0;
    const issued = rx({ items: [{ drugCode: 'XC08CAA001', quantity: 5, dosage: 'x' }] });
    const routed = applyTransition(issued, 'route', { at, actor: 'router', pharmacyId: ph });
    expect(stockChanges(issued, routed)).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 0, reserve: 5, release: 0 }]);
    const accepted = applyTransition(routed, 'accept', { at, actor: 'pharmacy' });
    expect(stockChanges(routed, accepted)).toEqual([]);
    expect(stockChanges(routed, applyTransition(routed, 'reject', { at, actor: 'pharmacy' }))).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 0, reserve: 0, release: 5 }]);
    // 2 of 5 handed over: 2 consumed, 3 still reserved; then cancelled: the 3 released.
    const part = applyTransition(accepted, 'dispensePart', { at, actor: 'pharmacy', settlementId: 'stl_1', items: [{ drugCode: 'XC08CAA001', quantity: 2 }] });
    expect(part.status).toBe('partially-dispensed');
    expect(stockChanges(accepted, part)).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 2, reserve: 0, release: 0 }]);
    expect(stockChanges(part, applyTransition(part, 'cancel', { at, actor: 'prescriber' }))).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 0, reserve: 0, release: 3 }]);
    expect(stockChanges(part, applyTransition(part, 'expire', { at, actor: 'sweeper' }))).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 0, reserve: 0, release: 3 }]);
    // The rest handed over: 3 consumed, nothing left reserved.
    const done = applyTransition(part, 'dispense', { at, actor: 'pharmacy', settlementId: 'stl_2', items: [{ drugCode: 'XC08CAA001', quantity: 3 }] });
    expect(stockChanges(part, done)).toEqual([{ pharmacyId: ph, drugCode: 'XC08CAA001', consume: 3, reserve: 0, release: 0 }]);
    expect(done).toMatchObject({ status: 'dispensed', dispensed: [{ drugCode: 'XC08CAA001', quantity: 5 }], dispenses: [expect.objectContaining({ settlementId: 'stl_1' }), expect.objectContaining({ settlementId: 'stl_2' })] });
    // Nothing held before routing: cancelling or expiring then changes no stock.
    for (const from of [issued, rx({ status: 'unroutable' }), rx({ status: 'rejected' })]) {
      expect(stockChanges(from, applyTransition(from, 'cancel', { at, actor: 'prescriber' }))).toEqual([]);
    }
  });

  it('a dispense hands over what is owing: all by default, part when named, never more (400)', () => {
    const accepted = rx({ status: 'accepted', pharmacyId: 'ph-xihu-1', items: [{ drugCode: 'XC08CAA001', quantity: 4, dosage: 'x' }, { drugCode: 'XC09CAA001', quantity: 1, dosage: 'y' }] });
    expect(dispenseOf(accepted, undefined)).toEqual({ action: 'dispense', items: [{ drugCode: 'XC08CAA001', quantity: 4 }, { drugCode: 'XC09CAA001', quantity: 1 }] });
    expect(dispenseOf(accepted, [{ drugCode: 'XC08CAA001', quantity: 4 }]).action).toBe('dispensePart');
    expect(thrown(() => dispenseOf(accepted, [{ drugCode: 'XC08CAA001', quantity: 5 }]))).toBe('validation-failed');
    expect(thrown(() => dispenseOf(accepted, [{ drugCode: 'XA10BAA001', quantity: 1 }]))).toBe('validation-failed');
    const part = applyTransition(accepted, 'dispensePart', { at: T0, actor: 'pharmacy', settlementId: 'stl_1', items: [{ drugCode: 'XC08CAA001', quantity: 4 }] });
    expect(owing(part)).toEqual([{ drugCode: 'XC09CAA001', quantity: 1 }]);
    expect(dispenseOf(part, undefined)).toEqual({ action: 'dispense', items: [{ drugCode: 'XC09CAA001', quantity: 1 }] });
    expect(thrown(() => dispenseOf(part, [{ drugCode: 'XC08CAA001', quantity: 1 }]))).toBe('validation-failed');
  });

  it('ready: the pharmacy, after its review, while something is owing and within the validity', () => {
    const accepted = rx({ status: 'accepted', pharmacyId: 'ph-xihu-1' });
    expect(markReady(accepted, { at: T0, actor: 'pharmacy' })).toMatchObject({ status: 'accepted', readyAt: T0.toISOString(), rev: accepted.rev + 1 });
    expect(thrown(() => markReady(rx({ status: 'routed', pharmacyId: 'ph-xihu-1' }), { at: T0, actor: 'pharmacy' }))).toBe('invalid-transition');
    expect(thrown(() => markReady(rx({ status: 'dispensed', pharmacyId: 'ph-xihu-1' }), { at: T0, actor: 'pharmacy' }))).toBe('invalid-transition');
    expect(thrown(() => markReady(accepted, { at: T0, actor: 'prescriber' }))).toBe('forbidden');
    expect(thrown(() => markReady(accepted, { at: new Date(Date.parse(accepted.expiresAt) + 1), actor: 'pharmacy' }))).toBe('invalid-transition');
  });

  it('ready once per collection: a repeat with nothing handed over since is the prescription itself; after a dispense, news again', () => {
    const accepted = rx({ status: 'accepted', pharmacyId: 'ph-xihu-1', items: [{ drugCode: 'XC08CAA001', quantity: 3, dosage: 'x' }] });
    const ready = markReady(accepted, { at: T0, actor: 'pharmacy' });
    const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
    // Nothing to write: the same record, its readyAt and revision untouched.
    expect(markReady(ready, { at: later(1), actor: 'pharmacy' })).toBe(ready);
    // The patient took one pack; the rest being ready later is news.
    const part = applyTransition(ready, 'dispensePart', { at: later(2), actor: 'pharmacy', settlementId: 'stl_1', items: [{ drugCode: 'XC08CAA001', quantity: 1 }] });
    const again = markReady(part, { at: later(3), actor: 'pharmacy' });
    expect(again).toMatchObject({ status: 'partially-dispensed', readyAt: later(3).toISOString(), rev: part.rev + 1 });
    expect(markReady(again, { at: later(4), actor: 'pharmacy' })).toBe(again);
    // A dispense at the very instant of readyAt counts as after it: told once more rather than never.
    const sameInstant = applyTransition(ready, 'dispensePart', { at: T0, actor: 'pharmacy', settlementId: 'stl_2', items: [{ drugCode: 'XC08CAA001', quantity: 1 }] });
    expect(markReady(sameInstant, { at: later(1), actor: 'pharmacy' })).not.toBe(sameInstant);
    // The checks still come first: a repeat past the validity is refused, not confirmed.
    expect(thrown(() => markReady(ready, { at: new Date(Date.parse(ready.expiresAt) + 1), actor: 'pharmacy' }))).toBe('invalid-transition');
  });

  it('every move bumps the revision, stamps the time and appends to the history', () => {
    const later = new Date(T0.getTime() + 60_000);
    const routed = applyTransition(rx(), 'route', { at: later, actor: 'router', pharmacyId: 'ph-xihu-3' });
    expect(routed).toMatchObject({ status: 'routed', rev: 1, pharmacyId: 'ph-xihu-3', statusAt: later.toISOString(), updatedAt: later.toISOString() });
    expect(routed.history.map((h) => h.status)).toEqual(['issued', 'routed']);
    const accepted = applyTransition(routed, 'accept', { at: later, actor: 'pharmacy', by: 'ph-xihu-3' });
    expect(accepted).toMatchObject({ rev: 2, history: [{}, {}, { status: 'accepted', by: 'ph-xihu-3' }] });
  });

  it('reject records the pharmacy, hides the prescription from it, and routing back there is refused', () => {
    const routed = applyTransition(rx(), 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-3' });
    const rejected = applyTransition(routed, 'reject', { at: T0, actor: 'pharmacy', by: 'ph-xihu-3', reason: 'out of stock on the shelf' });
    expect(rejected.rejectedBy).toEqual(['ph-xihu-3']);
    expect(rejected.pharmacyId).toBeUndefined();
    expect(rejected.history.at(-1)).toMatchObject({ status: 'rejected', reason: 'out of stock on the shelf' });
    expect(() => applyTransition(rejected, 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-3' })).toThrow(/rejected/);
    expect(applyTransition(rejected, 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-1' }).pharmacyId).toBe('ph-xihu-1');
  });

  it('cancel and expire keep the pharmacy, so it sees that what it held is gone', () => {
    const routed = applyTransition(rx(), 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-3' });
    expect(applyTransition(routed, 'cancel', { at: T0, actor: 'prescriber', by: 'clinic-lingyin' }).pharmacyId).toBe('ph-xihu-3');
    expect(applyTransition(routed, 'expire', { at: T0, actor: 'sweeper' }).pharmacyId).toBe('ph-xihu-3');
  });

  it('a new prescription is issued, valid for the configured hours', () => {
    const r = rx();
    expect(r).toMatchObject({ status: 'issued', rev: 0, rejectedBy: [], issuedAt: T0.toISOString(), expiresAt: '2025-03-04T02:00:00.000Z' });
    expect(newPrescription({ ...r, now: T0, validityHours: 1.5 }).expiresAt).toBe('2025-03-01T03:30:00.000Z');
  });
});

describe('haversine', () => {
  it('matches known distances', () => {
    // Beijing Tiananmen → Shanghai People's Square: about 1,067 km.
    expect(haversineKm({ lat: 39.9087, lng: 116.3975 }, { lat: 31.2304, lng: 121.4737 })).toBeCloseTo(1067, -1);
    // One degree of latitude: about 111.2 km.
    expect(haversineKm({ lat: 30, lng: 120 }, { lat: 31, lng: 120 })).toBeCloseTo(111.2, 0);
    expect(haversineKm({ lat: 30.2, lng: 120.1 }, { lat: 30.2, lng: 120.1 })).toBe(0);
  });

  it('is symmetric and non-negative', () => {
    const point = fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) });
    fc.assert(
      fc.property(point, point, (a, b) => {
        const d = haversineKm(a, b);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeCloseTo(haversineKm(b, a), 6);
        expect(d).toBeLessThanOrEqual(Math.PI * 6371.0088 + 1e-6);
      }),
    );
  });
});

describe('pharmacy ranking', () => {
  const clinic = { lat: 30.242, lng: 120.122 }; // clinic-lingyin
  const pharmacies: PharmacyInfo[] = [
    { id: 'ph-xihu-1', district: '西湖区', designated: true, location: { lat: 30.279, lng: 120.139 } },
    { id: 'ph-xihu-2', district: '西湖区', designated: true, location: { lat: 30.287, lng: 120.115 } },
    { id: 'ph-xihu-3', district: '西湖区', designated: true, location: { lat: 30.245, lng: 120.124 } },
    { id: 'ph-private-1', district: '西湖区', designated: false, location: { lat: 30.2421, lng: 120.1221 } },
    { id: 'ph-sc-2', district: '上城区', designated: true, location: { lat: 30.258, lng: 120.164 } },
    { id: 'ph-nowhere', district: '西湖区', designated: true },
  ];

  it('designated pharmacies of the district by distance from the prescriber, those without a location last', () => {
    expect(rankPharmacies({ pharmacies, district: '西湖区', origin: clinic, rejectedBy: [] })).toEqual(['ph-xihu-3', 'ph-xihu-1', 'ph-xihu-2', 'ph-nowhere']);
  });

  it('the nominated pharmacy first when designated, even in another district; never when not designated', () => {
    const sc2 = pharmacies.find((p) => p.id === 'ph-sc-2');
    expect(rankPharmacies({ nominated: sc2, pharmacies, district: '西湖区', origin: clinic, rejectedBy: [] })[0]).toBe('ph-sc-2');
    const xihu2 = pharmacies.find((p) => p.id === 'ph-xihu-2');
    expect(rankPharmacies({ nominated: xihu2, pharmacies, district: '西湖区', origin: clinic, rejectedBy: [] })).toEqual(['ph-xihu-2', 'ph-xihu-3', 'ph-xihu-1', 'ph-nowhere']);
    const priv = pharmacies.find((p) => p.id === 'ph-private-1');
    expect(rankPharmacies({ nominated: priv, pharmacies, district: '西湖区', origin: clinic, rejectedBy: [] })).not.toContain('ph-private-1');
  });

  it('never a pharmacy that rejected the prescription, nominated or not', () => {
    const xihu3 = pharmacies.find((p) => p.id === 'ph-xihu-3');
    expect(rankPharmacies({ nominated: xihu3, pharmacies, district: '西湖区', origin: clinic, rejectedBy: ['ph-xihu-3', 'ph-xihu-1'] })).toEqual(['ph-xihu-2', 'ph-nowhere']);
  });

  it('property: only eligible pharmacies, each once, nearest first after the nominated one', () => {
    const pharmacy = fc.record({
      id: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `ph-${i}`)),
      district: fc.constantFrom('A', 'B'),
      designated: fc.boolean(),
      location: fc.option(fc.record({ lat: fc.double({ min: 29, max: 31, noNaN: true }), lng: fc.double({ min: 119, max: 121, noNaN: true }) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(pharmacy, { selector: (p) => p.id, maxLength: 12 }),
        fc.subarray(Array.from({ length: 12 }, (_, i) => `ph-${i}`)),
        fc.option(fc.nat(11), { nil: undefined }),
        (list, rejectedBy, nominatedIndex) => {
          const ps = list.map(({ location, ...p }) => (location ? { ...p, location } : p)) as PharmacyInfo[];
          const nominated = nominatedIndex === undefined ? undefined : ps[nominatedIndex % Math.max(1, ps.length)];
          const ranked = rankPharmacies({ nominated, pharmacies: ps, district: 'A', origin: { lat: 30, lng: 120 }, rejectedBy });
          expect(new Set(ranked).size).toBe(ranked.length);
          const byId = new Map(ps.map((p) => [p.id, p]));
          for (const id of ranked) {
            expect(rejectedBy).not.toContain(id);
            expect(byId.get(id)!.designated).toBe(true);
          }
          const rest = ranked[0] === nominated?.id ? ranked.slice(1) : ranked;
          for (const id of rest) expect(byId.get(id)!.district).toBe('A');
          const km = rest.map((id) => { const l = byId.get(id)!.location; return l ? haversineKm({ lat: 30, lng: 120 }, l) : Infinity; });
          for (let i = 1; i < km.length; i++) expect(km[i]!).toBeGreaterThanOrEqual(km[i - 1]!);
          const eligible = ps.filter((p) => p.designated && p.district === 'A' && !rejectedBy.includes(p.id));
          for (const p of eligible) expect(ranked).toContain(p.id);
        },
      ),
    );
  });

  it('the first ranked pharmacy with every item in stock', () => {
    const items = [{ drugCode: 'A', quantity: 2 }, { drugCode: 'B', quantity: 1 }];
    const stock = new Map([
      ['p1', new Map([['A', 5]])],
      ['p2', new Map([['A', 1], ['B', 9]])],
      ['p3', new Map([['A', 2], ['B', 1]])],
      ['p4', new Map([['A', 9], ['B', 9]])],
    ]);
    expect(firstStocked(['p1', 'p2', 'p3', 'p4'], items, stock)).toBe('p3');
    expect(firstStocked(['p4', 'p3'], items, stock)).toBe('p4');
    expect(firstStocked(['p1', 'p2', 'p9'], items, stock)).toBeUndefined();
    expect(hasEveryItem(items, undefined)).toBe(false);
  });
});

describe('a prescription paid twice', () => {
  const rx = { items: [{ drugCode: 'A', quantity: 3 }, { drugCode: 'B', quantity: 1 }] };
  const open = [{ settlementId: 'st_1', items: [{ drugCode: 'A', quantity: 2 }] }];

  it('lets a settlement pay for what no open settlement paid for, and names what it would pay again', () => {
    // The first payment, and packs left after the open ones: not paid twice.
    expect(paidAlready(rx, [], [{ drugCode: 'A', quantity: 5 }])).toEqual([]);
    expect(paidAlready(rx, open, [{ drugCode: 'A', quantity: 1 }, { drugCode: 'B', quantity: 1 }, { drugCode: 'C', quantity: 9 }])).toEqual([]);
    // One pack too many, over two lines of the same drug.
    expect(paidAlready(rx, open, [{ drugCode: 'A', quantity: 1 }, { drugCode: 'A', quantity: 1 }])).toEqual([{ drugCode: 'A', owing: 3, paid: 2, buying: 2, settlementIds: ['st_1'] }]);
    // What was handed over is no longer owing.
    expect(paidAlready({ ...rx, dispensed: [{ drugCode: 'A', quantity: 1 }] }, open, [{ drugCode: 'A', quantity: 1 }])).toEqual([{ drugCode: 'A', owing: 2, paid: 2, buying: 1, settlementIds: ['st_1'] }]);
  });
});

describe('dispense against a settlement', () => {
  const routed = { ...rx(), status: 'accepted' as PrescriptionStatus, pharmacyId: 'ph-xihu-3' };
  const settlement: SettlementView = {
    settlementId: 'st_1', personId: 'p_person1', institutionId: 'ph-xihu-3', status: 'settled', settledAt: '2025-03-01T03:00:00.000Z',
    items: [{ drugCode: 'XC08CAA001', quantity: 2 }],
  };

  it('accepts a settled settlement of the same person at the same pharmacy, made after issue, paying for every item', () => {
    expect(settlementProblems(settlement, routed)).toEqual([]);
    expect(settlementProblems({ ...settlement, prescriptionId: routed.prescriptionId }, routed)).toEqual([]);
    // More than prescribed, other drugs besides, or one drug over several lines: fine.
    expect(settlementProblems({ ...settlement, items: [{ drugCode: 'XA10BAA001', quantity: 1 }, { drugCode: 'XC08CAA001', quantity: 3 }] }, routed)).toEqual([]);
    expect(settlementProblems({ ...settlement, items: [{ drugCode: 'XC08CAA001', quantity: 1 }, { drugCode: 'XC08CAA001', quantity: 1 }] }, routed)).toEqual([]);
  });

  it('names every reason one of its own settlements cannot pay', () => {
    expect(settlementProblems(undefined, routed)).toEqual(['no such settlement']);
    expect(settlementProblems({ ...settlement, status: 'reversed' }, routed)).toEqual(['the settlement is reversed, not settled']);
    expect(settlementProblems({ ...settlement, personId: 'p_other' }, routed)).toEqual(['the settlement is for another person']);
    expect(settlementProblems({ ...settlement, prescriptionId: 'rx_other' }, routed)).toEqual(['the settlement names another prescription']);
    expect(settlementProblems({ ...settlement, settledAt: '2025-02-28T00:00:00.000Z' }, routed)).toEqual(['the settlement predates the prescription']);
    expect(settlementProblems({ ...settlement, status: 'reversed', personId: 'x' }, routed)).toHaveLength(2);
  });

  it('says nothing of another institution\'s settlement but that there is no such settlement', () => {
    for (const other of [{}, { status: 'reversed' }, { personId: 'p_other' }, { status: 'reversed', personId: 'x', prescriptionId: 'rx_other' }]) {
      expect(settlementProblems({ ...settlement, ...other, institutionId: 'ph-xihu-1' }, routed)).toEqual(['no such settlement']);
    }
  });

  it('the settlement must pay for every prescribed drug, at least the prescribed quantity (lines summed)', () => {
    const two = { ...routed, items: [{ drugCode: 'XC08CAA001', quantity: 2, dosage: 'x' }, { drugCode: 'XA10BAA001', quantity: 3, dosage: 'y' }] };
    expect(settlementProblems({ ...settlement, items: [{ drugCode: 'XC08CAA001', quantity: 1 }] }, two)).toEqual([
      'the settlement pays for 1 of XC08CAA001; the prescription needs 2',
      'the settlement does not pay for XA10BAA001 (the prescription needs 3)',
    ]);
    expect(settlementProblems({ ...settlement, items: [{ drugCode: 'XA10BAA001', quantity: 2 }, { drugCode: 'XC08CAA001', quantity: 2 }, { drugCode: 'XA10BAA001', quantity: 1 }] }, two)).toEqual([]);
    expect(settlementProblems({ ...settlement, items: [{ drugCode: 'XA10BAA001', quantity: 1 }, { drugCode: 'XC08CAA001', quantity: 2 }, { drugCode: 'XA10BAA001', quantity: 1 }] }, two)).toEqual([
      'the settlement pays for 2 of XA10BAA001; the prescription needs 3',
    ]);
  });

  it('one settlement may pay for several dispenses of its prescription, never for a pack twice', () => {
    const three = { ...routed, items: [{ drugCode: 'XA10BAA001', quantity: 3, dosage: 'y' }] };
    const all = { ...settlement, items: [{ drugCode: 'XA10BAA001', quantity: 3 }] };
    const one = (quantity: number) => [{ drugCode: 'XA10BAA001', quantity }];
    // Paid for three, one on the shelf: handed over; the other two later, against the same settlement.
    expect(settlementProblems(all, three, one(1))).toEqual([]);
    const afterOne = { ...three, dispenses: [{ settlementId: 'st_1', at: '2025-03-01T04:00:00.000Z', items: one(1) }] };
    expect(settlementProblems(all, afterOne, one(2))).toEqual([]);
    // What it paid for and was handed over already does not pay again.
    expect(settlementProblems(all, afterOne, one(3))).toEqual(['the settlement pays for 2 of XA10BAA001; the prescription needs 3']);
    const afterAll = { ...three, dispenses: [{ settlementId: 'st_1', at: '2025-03-01T04:00:00.000Z', items: one(3) }] };
    expect(settlementProblems(all, afterAll, one(1))).toEqual(['the settlement does not pay for XA10BAA001 (the prescription needs 1)']);
    // Another settlement's dispenses do not count against this one.
    const byAnother = { ...three, dispenses: [{ settlementId: 'st_2', at: '2025-03-01T04:00:00.000Z', items: one(1) }] };
    expect(settlementProblems(all, byAnother, one(2))).toEqual([]);
  });
});

describe('the referral a prescription names', () => {
  const referral = { personId: 'p_person1', fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph' };
  it('must be of the same person, sent or received by the prescriber; otherwise it is as if it did not exist', () => {
    expect(referralProblems(referral, 'p_person1', 'clinic-lingyin')).toEqual([]);
    expect(referralProblems(referral, 'p_person1', 'hosp-zjph')).toEqual([]);
    expect(referralProblems(referral, 'p_other', 'hosp-zjph')).toEqual(['the referral is for another person']);
    expect(referralProblems(referral, 'p_person1', 'clinic-beishan')).toEqual(['no such referral sent or received by this institution']);
    expect(referralProblems(referral, 'p_other', 'clinic-beishan')).toEqual(['no such referral sent or received by this institution']);
    expect(referralProblems(undefined, 'p_person1', 'clinic-lingyin')).toEqual(['no such referral sent or received by this institution']);
  });
});

describe('visibility', () => {
  const r = { prescriberId: 'clinic-lingyin', pharmacyId: 'ph-xihu-3' };
  it('the prescriber and the routed pharmacy only', () => {
    expect(canSee(r, { role: 'clinic', inst: 'clinic-lingyin' })).toBe(true);
    expect(canSee(r, { role: 'pharmacy', inst: 'ph-xihu-3' })).toBe(true);
    expect(canSee(r, { role: 'pharmacy', inst: 'ph-xihu-1' })).toBe(false);
    expect(canSee(r, { role: 'clinic', inst: 'clinic-beishan' })).toBe(false);
    expect(canSee(r, { role: 'hospital', inst: 'hosp-zjph' })).toBe(false);
    expect(canSee(r, { role: 'operator' })).toBe(false);
    expect(canSee({ prescriberId: 'clinic-lingyin' }, { role: 'pharmacy', inst: 'ph-xihu-3' })).toBe(false);
  });
});

describe('what a caller reads', () => {
  // issued → routed (ph-1) → rejected by ph-1 → routed (ph-2) → rejected by ph-2 → routed (ph-3) → accepted by ph-3
  let r = rx();
  for (const ph of ['ph-xihu-1', 'ph-xihu-2']) {
    r = applyTransition(r, 'route', { at: T0, actor: 'router', pharmacyId: ph });
    r = applyTransition(r, 'reject', { at: T0, actor: 'pharmacy', by: ph, reason: `患者姓名 reason of ${ph}` });
  }
  r = applyTransition(r, 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-3' });
  r = applyTransition(r, 'accept', { at: T0, actor: 'pharmacy', by: 'ph-xihu-3' });

  it('the prescriber sees everything', () => {
    expect(viewFor(r, { role: 'clinic', inst: 'clinic-lingyin' })).toEqual(r);
  });

  it('a pharmacy sees neither who rejected it before nor their history entries; its own and the prescriber\'s remain', () => {
    const seen = viewFor(r, { role: 'pharmacy', inst: 'ph-xihu-3' });
    expect(seen).not.toHaveProperty('rejectedBy');
    expect(seen.history).toEqual([
      { status: 'issued', at: T0.toISOString(), by: 'clinic-lingyin' },
      { status: 'routed', at: T0.toISOString() },
      { status: 'accepted', at: T0.toISOString(), by: 'ph-xihu-3' },
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/ph-xihu-[12]/);
    // After the prescriber cancels, the pharmacy sees that too.
    const cancelled = applyTransition(r, 'cancel', { at: T0, actor: 'prescriber', by: 'clinic-lingyin' });
    expect(viewFor(cancelled, { role: 'pharmacy', inst: 'ph-xihu-3' }).history.map((h) => h.status)).toEqual(['issued', 'routed', 'accepted', 'cancelled']);
    // What the second pharmacy reads in the answer to its own reject: its own entries, not the first pharmacy's.
    let second = applyTransition(rx(), 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-1' });
    second = applyTransition(second, 'reject', { at: T0, actor: 'pharmacy', by: 'ph-xihu-1', reason: 'a' });
    second = applyTransition(second, 'route', { at: T0, actor: 'router', pharmacyId: 'ph-xihu-2' });
    second = applyTransition(second, 'reject', { at: T0, actor: 'pharmacy', by: 'ph-xihu-2', reason: 'b' });
    expect(viewFor(second, { role: 'pharmacy', inst: 'ph-xihu-2' }).history).toEqual([
      { status: 'issued', at: T0.toISOString(), by: 'clinic-lingyin' },
      { status: 'routed', at: T0.toISOString() },
      { status: 'rejected', at: T0.toISOString(), by: 'ph-xihu-2', reason: 'b' },
    ]);
  });
});

describe('acting on a prescription', () => {
  it('those who see it may act; a pharmacy that rejected it gets invalid-transition, anyone else not-found', () => {
    const r = { prescriberId: 'clinic-lingyin', pharmacyId: 'ph-xihu-1', rejectedBy: ['ph-xihu-3'] };
    expect(actAccess(r, { role: 'pharmacy', inst: 'ph-xihu-1' })).toBe('allowed');
    expect(actAccess(r, { role: 'clinic', inst: 'clinic-lingyin' })).toBe('allowed');
    expect(actAccess(r, { role: 'pharmacy', inst: 'ph-xihu-3' })).toBe('rejected-by-caller');
    expect(actAccess(r, { role: 'pharmacy', inst: 'ph-xihu-2' })).toBe('hidden');
    expect(actAccess(r, { role: 'clinic', inst: 'ph-xihu-3' })).toBe('hidden');
  });
});

describe('expiry index keys', () => {
  it('shards are stable and in range; the bound includes validity ending exactly now and excludes later', () => {
    for (let i = 0; i < 200; i++) {
      const id = `rx_${i.toString(36)}abc`;
      expect(expiryShard(id)).toBe(expiryShard(id));
      expect(expiryShard(id)).toBeGreaterThanOrEqual(0);
      expect(expiryShard(id)).toBeLessThan(EXPIRY_SHARDS);
    }
    const now = new Date('2025-03-04T02:00:00.000Z');
    const sk = (at: string) => expiryKey('rx_01jabcdefghjkmnpqrstvwxyz0', at).GSI3SK;
    expect(sk('2025-03-04T02:00:00.000Z') <= expiryBound(now)).toBe(true);
    expect(sk('2025-03-04T01:59:59.999Z') <= expiryBound(now)).toBe(true);
    expect(sk('2025-03-04T02:00:00.001Z') <= expiryBound(now)).toBe(false);
  });
});

describe('request schemas', () => {
  const valid = { personId: 'p_person1', diagnoses: ['I10', 'E11.9'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '5 mg qd' }] };

  it('accepts a valid prescription', () => {
    expect(prescriptionRequest.safeParse(valid).success).toBe(true);
  });

  it('refuses bad ICD-10 codes, repeated drugs, too many drugs, zero quantities and unknown fields, with paths', () => {
    const paths = (body: unknown) => {
      const r = prescriptionRequest.safeParse(body);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(paths({ ...valid, diagnoses: ['hypertension'] })).toEqual(['diagnoses.0']);
    expect(paths({ ...valid, diagnoses: [] })).toEqual(['diagnoses']);
    expect(paths({ ...valid, items: [...valid.items, { ...valid.items[0], quantity: 3 }] })).toEqual(['items.1.drugCode']);
    const six = Array.from({ length: 6 }, (_, i) => ({ drugCode: `XTEST000${i}`, quantity: 1, dosage: 'x' }));
    expect(paths({ ...valid, items: six })).toEqual(['items']);
    expect(paths({ ...valid, items: [{ ...valid.items[0], quantity: 0 }] })).toEqual(['items.0.quantity']);
    expect(paths({ ...valid, extra: 1 })).toEqual(['']);
  });

  it('an invalid supplyDays is the one error: nothing is derived from it (packs per day, long prescription)', () => {
    const paths = (body: unknown) => {
      const r = prescriptionRequest.safeParse(body);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const items = [{ ...valid.items[0]!, quantity: 3 }];
    for (const supplyDays of [0, -1, 2.5, 85]) expect(paths({ ...valid, items, supplyDays })).toEqual([expect.stringMatching(/^supplyDays: /)]);
    expect(paths({ ...valid, items: [{ ...valid.items[0]!, quantity: 90 }], supplyDays: 85, longTerm: { assessment: '稳定', patientConsent: true } })).toEqual([expect.stringMatching(/^supplyDays: /)]);
    // A valid one still bounds the packs and says when a prescription is a long one.
    expect(paths({ ...valid, items, supplyDays: 2 })).toEqual(['items.0.quantity: at most 2 packs for 2 days of supply']);
    expect(paths({ ...valid, items, supplyDays: 29 }).map((p) => p.split(':')[0])).toEqual(['longTerm']);
  });

  it('stock: non-negative integer quantities, each drug once', () => {
    expect(stockRequest.safeParse({ items: [{ drugCode: 'XC08CAA001', quantity: 0 }] }).success).toBe(true);
    expect(stockRequest.safeParse({ items: [{ drugCode: 'XC08CAA001', quantity: -1 }] }).success).toBe(false);
    expect(stockRequest.safeParse({ items: [{ drugCode: 'XC08CAA001', quantity: 1.5 }] }).success).toBe(false);
    expect(stockRequest.safeParse({ items: [{ drugCode: 'XC08CAA001', quantity: 1 }, { drugCode: 'XC08CAA001', quantity: 2 }] }).success).toBe(false);
  });
});
