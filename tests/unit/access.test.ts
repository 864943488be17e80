// The access log's producer side (functions/shared/access.ts): which answers touch whose records,
// and that no route whose answer names a person escapes it.
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { accessLine, ACCESS_MESSAGE, logAccess, recordPlaces, touchedBy } from '../../functions/shared/access.ts';
import { routes } from '../../schemas/routes.ts';
import type { RouteDef } from '../../schemas/route.ts';
import type { Principal } from '../../functions/shared/principal.ts';

/** Property names anywhere in a JSON schema. */
function propertyNames(node: unknown, into = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return into;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'properties' && v && typeof v === 'object') for (const name of Object.keys(v)) into.add(name);
    propertyNames(v, into);
  }
  return into;
}

const byId = (id: string) => routes.find((r) => r.operationId === id)!;

describe('which answers hold whose records', () => {
  it('every route whose answer names a person is covered: its records are known, or it names the person in its path', () => {
    const uncovered: string[] = [];
    for (const r of routes) {
      const names = new Set<string>();
      for (const [status, schema] of Object.entries(r.responses)) {
        if (Number(status) < 300 && schema) propertyNames(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }), names);
      }
      const personal = [...names].some((n) => n === 'personId' || n === 'personIds' || /PersonId$/.test(n));
      if (!personal) continue;
      const plan = recordPlaces(r);
      const named = typeof r.person === 'object' && r.person.in === 'params';
      if (!plan.places.length && !plan.personIds && !named) uncovered.push(r.operationId);
    }
    expect(uncovered, 'routes whose answers name a person but whose records the access log does not recognise').toEqual([]);
  });

  it('finds a single record, the items of a list, and an enrolment batch', () => {
    const referral = { referralId: 'ref_1', personId: 'p_a' };
    expect(touchedBy(recordPlaces(byId('getReferral')), referral, undefined, '/referrals/ref_1')).toEqual(new Map([['p_a', new Set(['/referrals/ref_1'])]]));
    const list = { items: [referral, { referralId: 'ref_2', personId: 'p_b' }, { referralId: 'ref_3', personId: 'p_a' }] };
    expect(touchedBy(recordPlaces(byId('listReferrals')), list, undefined, '/referrals')).toEqual(
      new Map([['p_a', new Set(['/referrals/ref_1', '/referrals/ref_3'])], ['p_b', new Set(['/referrals/ref_2'])]]),
    );
    const settlements = { date: '2026-01-01', items: [{ settlementId: 'stl_1', personId: 'p_c' }], totals: {} };
    expect([...touchedBy(recordPlaces(byId('listSettlements')), settlements, undefined, '/settlements').keys()]).toEqual(['p_c']);
    expect(touchedBy(recordPlaces(byId('enrol')), { personIds: ['p_d', null] }, undefined, '/enrollments')).toEqual(new Map([['p_d', new Set(['/enrollments/p_d'])]]));
    // A person's own route: the person it names, at the path asked.
    expect(touchedBy(recordPlaces(byId('getTimeline')), { items: [] }, 'p_e', '/people/p_e/timeline')).toEqual(new Map([['p_e', new Set(['/people/p_e/timeline'])]]));
    // Nobody's records: nothing.
    expect(touchedBy(recordPlaces(byId('getInstitution')), { id: 'hosp-zjph' }, undefined, '/institutions/hosp-zjph').size).toBe(0);
  });
});

describe('the line', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const capture = (fn: () => void): Array<Record<string, any>> => {
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }) as typeof process.stdout.write;
    try {
      fn();
    } finally {
      process.stdout.write = write;
    }
    return lines.map((l) => JSON.parse(l));
  };
  const hospital: Principal = { sub: 'nurse-a', role: 'hospital', inst: 'hosp-zjph', prov: 'ZJ' };
  const now = new Date('2026-05-01T02:03:04.000Z');

  it('one line per person touched, at INFO whatever the function\'s log level, with ids only', () => {
    const level = process.env.POWERTOOLS_LOG_LEVEL;
    expect(level).toBe('ERROR'); // vitest.config.ts: the functions' own logs are quiet in tests
    const route = byId('listReferrals');
    const body = { items: [{ referralId: 'ref_1', personId: 'p_a', patient: { name: '王伟', nationalIdMasked: '330***********1234' } }, { referralId: 'ref_2', personId: 'p_b' }] };
    const lines = capture(() => logAccess({ route, plan: recordPlaces(route), caller: hospital, body, named: undefined, requestPath: '/referrals', requestId: 'req-1', now }));
    expect(lines.map((l) => [l.level, l.message, l.access.personId])).toEqual([['INFO', ACCESS_MESSAGE, 'p_a'], ['INFO', ACCESS_MESSAGE, 'p_b']]);
    expect(lines[0]!.access).toEqual({
      personId: 'p_a', at: now.toISOString(), requestId: 'req-1', operation: 'listReferrals', action: 'read',
      actor: { role: 'hospital', institutionId: 'hosp-zjph', user: 'nurse-a' }, resources: ['/referrals/ref_1'],
    });
    for (const l of lines) expect(accessLine.safeParse(l.access).success).toBe(true);
    // Never the patient's name or ID, though the answer held them.
    expect(JSON.stringify(lines)).not.toMatch(/王伟|330\*/);
  });

  it('a write is a write, a lookup by POST a read; the person\'s own token logs nothing', () => {
    const accept = byId('acceptReferral');
    const [w] = capture(() => logAccess({ route: accept, plan: recordPlaces(accept), caller: hospital, body: { referralId: 'ref_1', personId: 'p_a' }, named: undefined, requestPath: '/referrals/ref_1/accept', requestId: 'r', now }));
    expect(w!.access.action).toBe('write');
    const lookup = byId('lookupPerson');
    const [r] = capture(() => logAccess({ route: lookup, plan: recordPlaces(lookup), caller: { ...hospital, role: 'clinic', inst: 'clinic-lingyin' }, body: { personId: 'p_a' }, named: undefined, requestPath: '/people/lookup', requestId: 'r', now }));
    expect([r!.access.action, r!.access.resources]).toEqual(['read', ['/enrollments/p_a']]);
    const self: Principal = { sub: 'app', role: 'channel', prov: 'ZJ', pid: 'p_a' };
    const timeline = byId('getTimeline');
    expect(capture(() => logAccess({ route: timeline, plan: recordPlaces(timeline), caller: self, body: { items: [] }, named: 'p_a', requestPath: '/people/p_a/timeline', requestId: 'r', now }))).toEqual([]);
  });
});

describe('the route table field it relies on', () => {
  it('only POSTs that change nothing are read-only', () => {
    expect(routes.filter((r: RouteDef) => r.readOnly).map((r) => `${r.method} ${r.operationId}`)).toEqual(['POST lookupPerson', 'POST quoteSettlement']);
  });
});
