// What the person's access log adds to a request (goal: a logged GET ≤ 1.2× an unlogged one).
// The same GET, GET /people/{id}/timeline, the same answer, once by the person's own token (not
// logged: a person's own reads are not someone else's access) and once by an operator (one access
// line), interleaved one after the other so both see the same machine; and what logging costs the
// chain for a list answer of 50 people (50 lines), measured in process with the local log tap in place.
import { recordPlaces, logAccess } from '../functions/shared/access.ts';
import { demoNationalId } from '../infra/local/demo-province.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { routes } from '../schemas/routes.ts';
import { api, mean, median, percentile } from './lib.ts';

export interface AccessLogRow {
  what: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

export async function benchAccessLog(rt: Runtime): Promise<{ rows: AccessLogRow[]; ratio: { p50: number; mean: number }; listLogUs: number }> {
  const operator = await rt.token('operator');
  const clinic = await rt.token('clinic', 'clinic-lingyin');
  const people = Array.from({ length: 50 }, (_, i) => ({ nationalId: demoNationalId('330106', '19860404', 700 + i), name: `访问${i}`, district: '西湖区', personalAccountFen: 0 }));
  const personIds: string[] = (await api(rt, operator, 'POST', '/enrollments', { people })).body.personIds;
  const personId = personIds[0]!;
  // A timeline of a few entries to read: referrals of the person.
  for (let i = 0; i < 5; i++) {
    await api(rt, clinic, 'POST', '/referrals', { personId, direction: 'up', department: 'CARD', reason: '随访', diagnoses: ['I10'], urgency: 'routine' });
  }
  await rt.settle();
  const self = await rt.token('channel', undefined, { person: personId });
  const path = `/people/${personId}/timeline`;
  const timed = async (token: string) => {
    const t = performance.now();
    const res = await api(rt, token, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 50; i++) {
    await timed(self);
    await timed(operator);
  }
  const N = 500;
  const unlogged: number[] = [];
  const logged: number[] = [];
  for (let i = 0; i < N; i++) {
    // Alternate which goes first, so neither always follows the other.
    if (i % 2) {
      unlogged.push(await timed(self));
      logged.push(await timed(operator));
    } else {
      logged.push(await timed(operator));
      unlogged.push(await timed(self));
    }
  }
  await rt.settle();
  const row = (what: string, xs: number[]): AccessLogRow => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { what, requests: xs.length, p50Ms: median(xs), p95Ms: percentile(sorted, 95), meanMs: mean(xs) };
  };
  const rows = [row('GET timeline by the person (not logged)', unlogged), row('GET timeline by an operator (1 access line)', logged)];

  // A hospital's list of 50 referrals of 50 people: 50 lines, the chain's cost alone.
  const listRoute = routes.find((r) => r.operationId === 'listReferrals')!;
  const plan = recordPlaces(listRoute);
  const body = { items: personIds.map((p, i) => ({ referralId: `ref_bench${i}`, personId: p })) };
  const caller = { sub: 'bench-nurse', role: 'hospital' as const, inst: 'hosp-zjph', prov: rt.province.code };
  const M = 200;
  const t = performance.now();
  for (let i = 0; i < M; i++) logAccess({ route: listRoute, plan, caller, body, named: undefined, requestPath: '/referrals', requestId: `bench-${i}`, now: new Date() });
  const listLogUs = ((performance.now() - t) / M) * 1000;
  await rt.settle();

  return { rows, ratio: { p50: rows[1]!.p50Ms / rows[0]!.p50Ms, mean: rows[1]!.meanMs / rows[0]!.meanMs }, listLogUs };
}
