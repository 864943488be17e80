// The referral state machine and the pure rules around it (no network).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referralStatuses, type Referral, type ReferralStatus } from '../../schemas/referrals.ts';
import {
  allowedActions, assertMove, capacityChange, checkAppointment, expireAndReroute, move, newReferral, partyOf, presentFor, rankTargets, referredToChange, routingDay,
  transitions, viewFor, wasReceiver, type Action, type Actor, type Candidate, type MoveInput, type Mover,
} from '../../functions/referrals/domain.ts';
import { isReferredThere } from '../../functions/referrals/keys.ts';
import { HttpProblem } from '../../functions/shared/errors.ts';

const T0 = new Date('2025-03-05T02:00:00Z');
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const sender: Mover = { actor: 'sender', by: 'clinic-a', user: 'dr-wang', at: T0 };

function submitted(overrides: Partial<Referral> = {}): Referral {
  const { referral } = newReferral(
    { personId: 'p_person01', direction: 'up', department: 'CARD', reason: '胸痛待查', diagnoses: ['I20.9'], urgency: 'routine' },
    { referralId: 'ref_01', fromInstitutionId: 'clinic-a', toInstitutionId: 'hosp-a', routed: false, mover: sender, slaHours: 24 },
  );
  return { ...referral, ...overrides };
}

const inputFor = (action: Action): MoveInput => {
  switch (action) {
    case 'accept': return { action, appointmentAt: at(48).toISOString() };
    case 'reject': return { action, reason: '床位已满' };
    case 'reroute': return { action, toInstitutionId: 'hosp-b', slaDueAt: at(30).toISOString() };
    default: return { action } as MoveInput;
  }
};

const problemOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpProblem) return e.slug;
    throw e;
  }
  return undefined;
};

describe('the transition table', () => {
  // The whole machine, stated independently of the code's table: status → action → who may.
  const expected: Record<ReferralStatus, Partial<Record<Action, Actor[]>>> = {
    submitted: { accept: ['receiver'], reject: ['receiver'], expire: ['platform'], cancel: ['sender'] },
    accepted: { arrive: ['receiver'], cancel: ['sender'] },
    rejected: { reroute: ['sender', 'platform'], cancel: ['sender'] },
    expired: { reroute: ['sender', 'platform'], cancel: ['sender'] },
    arrived: { complete: ['receiver'] },
    completed: {},
    cancelled: {},
  };
  // Where each action ends, likewise written down here.
  const lands: Record<Action, ReferralStatus> = {
    accept: 'accepted', reject: 'rejected', expire: 'expired', reroute: 'submitted', arrive: 'arrived', complete: 'completed', cancel: 'cancelled',
  };
  const actions = Object.keys(lands) as Action[];
  const actors: Actor[] = ['sender', 'receiver', 'platform'];
  /** Who may make an action at all (from some status), derived from the expectation above. */
  const mayEver = (action: Action) => new Set(referralStatuses.flatMap((s) => expected[s][action] ?? []));

  it('the code knows exactly these actions, each landing where stated', () => {
    expect(Object.keys(transitions).sort()).toEqual([...actions].sort());
    for (const action of actions) expect([action, transitions[action].to]).toEqual([action, lands[action]]);
  });

  it('allows exactly the listed moves, refusing the wrong actor with 403 and the wrong status with 409', () => {
    for (const status of referralStatuses) {
      for (const action of actions) {
        for (const actor of actors) {
          const want = !mayEver(action).has(actor) ? 'forbidden' : expected[status][action]?.includes(actor) ? undefined : 'invalid-transition';
          const got = problemOf(() => assertMove(status, action, actor));
          expect([status, action, actor, got]).toEqual([status, action, actor, want]);
        }
      }
    }
  });

  it('completed and cancelled are terminal', () => {
    for (const status of ['completed', 'cancelled'] as const) {
      for (const action of actions) {
        for (const actor of mayEver(action)) expect([action, actor, problemOf(() => assertMove(status, action, actor))]).toEqual([action, actor, 'invalid-transition']);
      }
    }
  });

  it('each move records who did what when, and announces itself with its own event and only ids in the detail', () => {
    const r = submitted();
    const receiver: Mover = { actor: 'receiver', by: 'hosp-a', user: 'dr-li', at: at(1) };
    const accepted = move(r, inputFor('accept'), receiver);
    expect(accepted.next).toMatchObject({ status: 'accepted', appointmentAt: at(48).toISOString(), updatedAt: at(1).toISOString() });
    expect(accepted.next.slaDueAt).toBeUndefined();
    expect(accepted.next.history).toEqual([
      { status: 'submitted', at: T0.toISOString(), by: 'clinic-a', user: 'dr-wang', toInstitutionId: 'hosp-a' },
      { status: 'accepted', at: at(1).toISOString(), by: 'hosp-a', user: 'dr-li', appointmentAt: at(48).toISOString() },
    ]);
    expect(accepted.event.def.detailType).toBe('ReferralAccepted');
    expect(accepted.event.input).toEqual({
      referralId: 'ref_01', personId: 'p_person01', direction: 'up', fromInstitutionId: 'clinic-a', toInstitutionId: 'hosp-a',
      department: 'CARD', status: 'accepted', appointmentAt: at(48).toISOString(),
    });
    // The original is not modified (pure).
    expect(r.status).toBe('submitted');

    const rejected = move(r, { action: 'reject', reason: '床位已满' }, receiver);
    expect(rejected.next).toMatchObject({ status: 'rejected', rejectedBy: ['hosp-a'] });
    expect(rejected.next.history.at(-1)).toMatchObject({ status: 'rejected', reason: '床位已满', by: 'hosp-a' });
    expect(JSON.stringify(rejected.event.input)).not.toContain('床位已满');

    const rerouted = move(rejected.next, { action: 'reroute', toInstitutionId: 'hosp-b', slaDueAt: at(25).toISOString() }, { ...sender, at: at(2) });
    expect(rerouted.next).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-b', slaDueAt: at(25).toISOString(), rejectedBy: ['hosp-a'] });
    expect(rerouted.event.input).toMatchObject({ previousInstitutionId: 'hosp-a', toInstitutionId: 'hosp-b', automatic: false });

    const cancelled = move(accepted.next, { action: 'cancel' }, { ...sender, at: at(3) });
    expect(cancelled.event.input).toMatchObject({ status: 'cancelled', previousStatus: 'accepted' });
  });

  it('every event detail a move produces passes its own catalog schema', () => {
    const base = { id: 'evt_1', occurredAt: T0.toISOString(), province: 'ZJ', version: 1 };
    let r = submitted();
    const steps: Array<[MoveInput, Mover]> = [
      [inputFor('reject'), { actor: 'receiver', by: 'hosp-a', at: at(1) }],
      [inputFor('reroute'), { ...sender, at: at(2) }],
      [inputFor('accept'), { actor: 'receiver', by: 'hosp-b', at: at(3) }],
      [inputFor('arrive'), { actor: 'receiver', by: 'hosp-b', at: at(4) }],
      [inputFor('complete'), { actor: 'receiver', by: 'hosp-b', at: at(5) }],
    ];
    for (const [input, mover] of steps) {
      const { next, event } = move(r, input, mover);
      expect(() => event.def.detail.parse({ ...event.input, ...base })).not.toThrow();
      r = next;
    }
    expect(r.status).toBe('completed');
    expect(r.history.map((h) => h.status)).toEqual(['submitted', 'rejected', 'submitted', 'accepted', 'arrived', 'completed']);
  });

  it('any sequence of attempted moves keeps the referral in a listed status, one history entry per successful move', () => {
    const attempt = fc.record({
      action: fc.constantFrom(...actions),
      actor: fc.constantFrom<Actor>('sender', 'receiver', 'platform'),
    });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 30 }), (attempts) => {
        let r = submitted();
        let moves = 0;
        for (const [i, a] of attempts.entries()) {
          const allowed = !!expected[r.status][a.action]?.includes(a.actor);
          const mover: Mover = { actor: a.actor, by: a.actor === 'receiver' ? r.toInstitutionId : 'clinic-a', at: at(i + 1) };
          const input = a.action === 'reroute' ? { ...inputFor('reroute'), toInstitutionId: `hosp-${i}` } as MoveInput : inputFor(a.action);
          if (!allowed) {
            expect(problemOf(() => move(r, input, mover))).toMatch(/^(forbidden|invalid-transition)$/);
            continue;
          }
          const before = r;
          r = move(r, input, mover).next;
          moves++;
          expect(r.status).toBe(lands[a.action]);
          expect(r.history.slice(0, -1)).toEqual(before.history);
          // Only a submitted referral is on the SLA clock.
          expect(r.slaDueAt === undefined).toBe(r.status !== 'submitted');
        }
        expect(referralStatuses).toContain(r.status);
        expect(r.history).toHaveLength(moves + 1);
      }),
    );
  });
});

describe('allowedActions', () => {
  const actions = Object.keys(transitions) as Action[];
  // Who is asking, relative to the referral: its two parties, an institution it was taken from
  // (rejected there), and a stranger. Roles follow the direction: up, the sender is a clinic.
  const callers = { sender: 'inst-from', receiver: 'inst-to', former: 'inst-before', stranger: 'inst-other' } as const;

  function inStatus(status: ReferralStatus, direction: 'up' | 'down'): Referral {
    return {
      ...submitted({ direction, fromInstitutionId: callers.sender, toInstitutionId: callers.receiver, rejectedBy: [callers.former] }),
      status,
      ...(status === 'submitted' ? {} : { slaDueAt: undefined }),
    };
  }

  it('offers exactly the moves the table would then let through: every status × direction × caller × action', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...referralStatuses),
        fc.constantFrom('up' as const, 'down' as const),
        fc.constantFrom(...(Object.keys(callers) as Array<keyof typeof callers>)),
        fc.constantFrom(...actions),
        (status, direction, who, action) => {
          const r = inStatus(status, direction);
          const inst = callers[who];
          const offered = presentFor({ ...r, version: 3 }, inst).allowedActions as Action[];
          // What the service does with the same caller: only a party gets as far as the table.
          const party = partyOf(r, inst);
          let refused: string | undefined = 'not a party';
          if (party) {
            refused = problemOf(() => {
              const { next } = move(r, inputFor(action), { actor: party, by: inst, at: at(1) });
              expect(next.status).toBe(transitions[action].to);
            });
          }
          expect([status, direction, who, action, offered.includes(action)]).toEqual([status, direction, who, action, refused === undefined]);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('the exhaustive cross-check: for every status and party, offered = what assertMove lets through; never expire', () => {
    for (const status of referralStatuses) {
      for (const party of ['sender', 'receiver'] as const) {
        const passes = actions.filter((a) => problemOf(() => assertMove(status, a, party)) === undefined);
        expect([status, party, allowedActions(status, party)]).toEqual([status, party, passes]);
        expect(allowedActions(status, party)).not.toContain('expire');
      }
      expect(allowedActions(status, undefined)).toEqual([]);
    }
    // Spot checks against API.md's example: the receiving hospital of a submitted referral.
    expect(allowedActions('submitted', 'receiver')).toEqual(['accept', 'reject']);
    expect(allowedActions('submitted', 'sender')).toEqual(['cancel']);
  });

  it('presents the version and the caller\'s own view', () => {
    const r = { ...inStatus('submitted', 'up'), version: 7 };
    expect(presentFor(r, callers.receiver)).toMatchObject({ version: 7, allowedActions: ['accept', 'reject'] });
    expect(presentFor(r, callers.former).allowedActions).toEqual([]);
  });
});

describe('SLA expiry', () => {
  it('expires and re-routes in one step when another institution has capacity', () => {
    const r = submitted();
    const { next, events } = expireAndReroute(r, 'hosp-b', at(25), 24);
    expect(next).toMatchObject({ status: 'submitted', toInstitutionId: 'hosp-b', expiredBy: ['hosp-a'], slaDueAt: at(49).toISOString() });
    expect(next.history.slice(1).map((h) => [h.status, h.by])).toEqual([['expired', 'platform'], ['submitted', 'platform']]);
    expect(events.map((e) => e.def.detailType)).toEqual(['ReferralExpired', 'ReferralRerouted']);
    expect(events[0]!.input).toMatchObject({ expiredAtInstitutionId: 'hosp-a', reroutedTo: 'hosp-b' });
    expect(events[1]!.input).toMatchObject({ automatic: true, previousInstitutionId: 'hosp-a' });
  });

  it('stays expired when nobody else has capacity', () => {
    const { next, events } = expireAndReroute(submitted(), undefined, at(25), 24);
    expect(next.status).toBe('expired');
    expect(next.slaDueAt).toBeUndefined();
    expect(events.map((e) => e.def.detailType)).toEqual(['ReferralExpired']);
  });

  it('refuses to expire what is no longer submitted', () => {
    const accepted = move(submitted(), inputFor('accept'), { actor: 'receiver', by: 'hosp-a', at: at(1) }).next;
    expect(problemOf(() => expireAndReroute(accepted, 'hosp-b', at(25), 24))).toBe('invalid-transition');
  });
});

describe('visibility', () => {
  it('the sender and the receiver are parties; anyone else is not', () => {
    const r = submitted();
    expect(partyOf(r, 'clinic-a')).toBe('sender');
    expect(partyOf(r, 'hosp-a')).toBe('receiver');
    expect(partyOf(r, 'clinic-b')).toBeUndefined();
    expect(partyOf(r, undefined)).toBeUndefined();
  });

  it('an institution the referral was taken from was a receiver; strangers, the sender and the current receiver are not', () => {
    const r = submitted();
    const rejected = move(r, inputFor('reject'), { actor: 'receiver', by: 'hosp-a', at: at(1) }).next;
    const rerouted = move(rejected, inputFor('reroute'), { ...sender, at: at(2) }).next; // now at hosp-b
    expect(wasReceiver(rerouted, 'hosp-a')).toBe(true);
    expect(wasReceiver(rerouted, 'hosp-b')).toBe(false); // the current receiver is a party, not a former one
    expect(wasReceiver(rerouted, 'clinic-a')).toBe(false);
    expect(wasReceiver(rerouted, 'hosp-z')).toBe(false);
    expect(wasReceiver(rerouted, undefined)).toBe(false);
    const swept = expireAndReroute(submitted(), 'hosp-c', at(25), 24).next;
    expect([wasReceiver(swept, 'hosp-a'), partyOf(swept, 'hosp-a')]).toEqual([true, undefined]);
  });

  it("each side sees its own users in the history, never the other side's", () => {
    const r = move(submitted(), inputFor('accept'), { actor: 'receiver', by: 'hosp-a', user: 'dr-li', at: at(1) }).next;
    const users = (view: Referral) => view.history.map((h) => [h.by, h.user]);
    expect(users(viewFor(r, 'clinic-a'))).toEqual([['clinic-a', 'dr-wang'], ['hosp-a', undefined]]);
    expect(users(viewFor(r, 'hosp-a'))).toEqual([['clinic-a', undefined], ['hosp-a', 'dr-li']]);
    for (const h of viewFor(r, 'hosp-a').history) if (h.by !== 'hosp-a') expect(h).not.toHaveProperty('user');
    expect(users(viewFor(r, undefined))).toEqual([['clinic-a', undefined], ['hosp-a', undefined]]);
    expect(r.history[0]!.user).toBe('dr-wang'); // the stored referral is untouched
  });
});

describe('routing', () => {
  const hospital = (id: string, district: string, card: number, extra: Partial<Candidate> = {}): Candidate => ({
    id, type: 'hospital', designated: true, district, departments: [{ code: 'CARD', dailyCapacity: card }], ...extra,
  });
  const hospitals = [
    hospital('hosp-lead', 'east', 2),
    hospital('hosp-big', 'west', 20),
    hospital('hosp-near', 'east', 5),
    hospital('hosp-private', 'east', 50, { designated: false }),
    hospital('hosp-noncard', 'east', 0),
    { id: 'clinic-x', type: 'clinic', designated: true, district: 'east', departments: [{ code: 'CARD', dailyCapacity: 9 }] },
  ];
  const ctx = (used: Record<string, number> = {}, exclude: string[] = []) => ({
    direction: 'up' as const, department: 'CARD', sender: { id: 'clinic-a', district: 'east', leadHospitalId: 'hosp-lead' },
    exclude: new Set(exclude), prefer: ['hosp-lead'], used: new Map(Object.entries(used)),
  });

  it('prefers the lead hospital, then the sender’s district, then the most free slots; only designated hospitals with the department', () => {
    expect(rankTargets(hospitals, ctx())).toEqual(['hosp-lead', 'hosp-near', 'hosp-big']);
  });

  it('skips institutions whose department is full that day, and excluded ones (rejecters)', () => {
    expect(rankTargets(hospitals, ctx({ 'hosp-lead': 2 }))).toEqual(['hosp-near', 'hosp-big']);
    expect(rankTargets(hospitals, ctx({ 'hosp-lead': 2, 'hosp-near': 5 }, ['hosp-big']))).toEqual([]);
  });

  it('routes downward referrals to clinics, preferring the clinic the patient came from, then the hospital’s consortium clinics', () => {
    const clinic = (id: string, lead?: string): Candidate => ({ id, type: 'clinic', designated: true, district: 'west', leadHospitalId: lead, departments: [{ code: 'GP', dailyCapacity: 40 }] });
    const clinics = [clinic('c-other'), clinic('c-member', 'hosp-a'), clinic('c-origin', 'hosp-a'), hospital('hosp-x', 'west', 5)];
    const down = { direction: 'down' as const, department: 'GP', sender: { id: 'hosp-a', district: 'east' }, exclude: new Set<string>(), used: new Map() };
    expect(rankTargets(clinics, { ...down, prefer: ['c-origin'] })).toEqual(['c-origin', 'c-member', 'c-other']);
  });

  it('sends a patient down near home: among equals, a clinic of the patient\'s district before one of the hospital\'s', () => {
    const clinic = (id: string, district: string, lead?: string): Candidate => ({ id, type: 'clinic', designated: true, district, leadHospitalId: lead, departments: [{ code: 'GP', dailyCapacity: 40 }] });
    const clinics = [clinic('c-hospital-side', 'east'), clinic('c-home', 'west'), clinic('m-hospital-side', 'east', 'hosp-a'), clinic('m-home', 'west', 'hosp-a')];
    const down = { direction: 'down' as const, department: 'GP', sender: { id: 'hosp-a', district: 'east' }, exclude: new Set<string>(), used: new Map(), prefer: [] };
    expect(rankTargets(clinics, { ...down, near: 'west' })).toEqual(['m-home', 'm-hospital-side', 'c-home', 'c-hospital-side']);
    // Without a patient's district (an upward referral's ranking), the sender's.
    expect(rankTargets(clinics, down)).toEqual(['m-hospital-side', 'm-home', 'c-hospital-side', 'c-home']);
  });

  it('looks at the preferred day unless it is already past (province time zone)', () => {
    const now = new Date('2025-03-05T17:00:00Z'); // 01:00 on the 6th in Shanghai
    expect(routingDay(undefined, now, 'Asia/Shanghai')).toBe('2025-03-06');
    expect(routingDay('2025-03-05', now, 'Asia/Shanghai')).toBe('2025-03-06');
    expect(routingDay('2025-03-09', now, 'Asia/Shanghai')).toBe('2025-03-09');
  });
});

describe('capacity and "referred to" bookkeeping', () => {
  const receiver: Mover = { actor: 'receiver', by: 'hosp-a', at: at(1) };

  it('takes a slot on the appointment’s calendar day in the province time zone, and gives it back on cancellation', () => {
    const r = submitted();
    const accepted = move(r, { action: 'accept', appointmentAt: '2025-03-06T17:30:00Z' }, receiver).next;
    expect(capacityChange(r, accepted, 'Asia/Shanghai', T0)).toEqual({ op: 'take', day: '2025-03-07' });
    const cancelled = move(accepted, { action: 'cancel' }, { ...sender, at: at(2) }).next;
    expect(capacityChange(accepted, cancelled, 'Asia/Shanghai', T0)).toEqual({ op: 'release', day: '2025-03-07' });
    // Nothing to give back for a day already past, nor for a referral that never took a slot.
    expect(capacityChange(accepted, cancelled, 'Asia/Shanghai', new Date('2025-03-08T00:00:00Z'))).toBeUndefined();
    const cancelledEarly = move(r, { action: 'cancel' }, sender).next;
    expect(capacityChange(r, cancelledEarly, 'Asia/Shanghai', T0)).toBeUndefined();
  });

  it('an upward referral joins the live set when accepted and leaves it only when cancelled after acceptance', () => {
    const r = submitted({ referralId: 'ref_05' });
    const accepted = move(r, inputFor('accept'), receiver).next;
    expect(referredToChange(r, accepted)).toBe('add');
    const arrived = move(accepted, inputFor('arrive'), receiver).next;
    expect(referredToChange(accepted, arrived)).toBeUndefined(); // still live
    expect(referredToChange(arrived, move(arrived, inputFor('complete'), receiver).next)).toBeUndefined(); // still live
    expect(referredToChange(accepted, move(accepted, inputFor('cancel'), { ...sender, at: at(2) }).next)).toBe('remove');
    // Never accepted: nothing to add or remove.
    expect(referredToChange(r, move(r, inputFor('cancel'), sender).next)).toBeUndefined();
    expect(referredToChange(r, move(r, inputFor('reject'), receiver).next)).toBeUndefined();
    // Downward referrals earn nothing at the receiving clinic.
    expect(referredToChange(r, { ...accepted, direction: 'down' })).toBeUndefined();
  });

  it('a person is referred there exactly while the item holds a live referral', () => {
    expect(isReferredThere(undefined)).toBe(false);
    expect(isReferredThere({ personId: 'p_1', institutionId: 'hosp-a' })).toBe(false); // the emptied set is dropped
    expect(isReferredThere({ liveReferralIds: new Set<string>() })).toBe(false);
    expect(isReferredThere({ liveReferralIds: new Set(['ref_01']) })).toBe(true);
    // The old single-referral shape does not count (only the live set does).
    expect(isReferredThere({ referralId: 'ref_01', status: 'accepted' })).toBe(false);
  });

  it('appointments are not in the past nor more than 180 days ahead', () => {
    expect(problemOf(() => checkAppointment(at(-2).toISOString(), T0))).toBe('validation-failed');
    expect(problemOf(() => checkAppointment(at(24 * 181).toISOString(), T0))).toBe('validation-failed');
    expect(problemOf(() => checkAppointment(at(-0.5).toISOString(), T0))).toBeUndefined();
    expect(problemOf(() => checkAppointment(at(24).toISOString(), T0))).toBeUndefined();
  });
});
