// Property-based fuzzing of every route that takes a body or a path parameter: whatever arrives,
// the answer is a 4xx problem+json (never a 5xx), and nothing is written.
import fc from 'fast-check';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../schemas/routes.ts';
import type { RouteDef } from '../../schemas/route.ts';
import { countItems } from '../support/table.ts';
import { startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
const callers = new Map<string, Caller>();
beforeAll(async () => {
  rt = await startTestRuntime();
  for (const [role, inst] of [['operator'], ['channel'], ['clinic', 'clinic-lingyin'], ['hospital', 'hosp-zjph'], ['pharmacy', 'ph-xihu-1']] as const) {
    callers.set(role, await rt.as(role, inst));
  }
  // Routes a channel calls for one person need a token acting for one (else every call is a 403 before the body is read).
  callers.set('person', await rt.asPerson('p_fuzz0000000000000000000000'));
});
const callerFor = (route: RouteDef) => callers.get(route.auth === 'public' ? 'operator' : route.person && route.auth[0] === 'channel' ? 'person' : route.auth[0]!)!;
afterAll(() => rt?.stop());

const itemCount = async () => {
  await rt.settle();
  return countItems(rt);
};

const nasty = fc.constantFrom('..%2F..', '%', ' ', "'", '"', '<script>', '\u0000', '😀', 'a'.repeat(300), 'OUTBOX#x', 'INST#hosp-zjph', '-1', '0', 'null', '{}');
// Real ids too, so bodies reach the checks behind the path: a real pharmacy, hospital, drug.
const real = fc.constantFrom('ph-xihu-1', 'hosp-zjph', 'clinic-lingyin', 'XC08CAA001');
// A segment of only dots never reaches the API: the client resolves it ('/drugs/..' is '/').
const pathValue = fc
  .oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), nasty, real)
  .filter((v) => !/^\.{1,2}$/.test(v));

/** Bodies: any JSON, objects with the schema's own field names holding anything, no body, broken JSON. */
function bodies(route: RouteDef) {
  const schema = route.docBody ?? route.body;
  const fields = schema ? Object.keys((z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: object }).properties ?? {}) : [];
  const shaped = fields.length ? fc.dictionary(fc.constantFrom(...fields), fc.jsonValue(), { maxKeys: fields.length }) : fc.jsonValue();
  return fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), shaped.map((v) => JSON.stringify(v)), fc.constant(undefined), fc.constantFrom('{', '{"a":', 'null', '[]', '""'));
}

// Batches answer 200 and reject bad rows by index (README, enrolment and 划入): how many rows they applied.
const byIndex: Record<string, (result: Record<string, number>) => number> = {
  enrol: (r) => r.enrolled! + r.updated!,
  creditPersonalAccounts: (r) => r.credited! + r.alreadyCredited!,
};

const fuzzed = routes.filter((r) => r.auth !== 'public' && (r.body || r.params));

describe('fuzz', () => {
  let before = 0;
  beforeAll(async () => {
    before = await itemCount();
  });

  it.each(fuzzed.map((r) => [`${r.method} ${r.path}`, r] as const))('%s answers 4xx problem+json, never 5xx', async (_name, route) => {
    const caller = callerFor(route);
    await fc.assert(
      fc.asyncProperty(fc.array(pathValue, { minLength: 3, maxLength: 3 }), route.method === 'GET' ? fc.constant(undefined) : bodies(route), async (params, body) => {
        let i = 0;
        const path = route.path.replace(/\{\w+\}/g, () => encodeURIComponent(params[i++]!));
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(route.idempotencyKey ? { 'idempotency-key': `fuzz-key-${params[0]!.length}-x` } : {}) };
        const res = await fetch(rt.url + path, { method: route.method, headers: { authorization: `Bearer ${caller.token}`, ...headers }, body });
        const text = await res.text();
        expect(res.status, `${route.method} ${path} → ${res.status} ${text}`).toBeLessThan(500);
        // A read of a real id the caller may see is a 200; everything else is refused.
        if (route.method === 'GET' && res.status === 200) return;
        const applied = byIndex[route.operationId];
        if (applied && res.status === 200) {
          // By contract a batch answers 200 with the bad rows rejected by index; none may apply.
          expect(applied(JSON.parse(text)), `${route.method} ${path} ${body} → ${text}`).toBe(0);
          return;
        }
        expect(res.status, `${route.method} ${path} ${body} → ${res.status} ${text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${route.method} ${path} ${body} → ${res.status} ${text}`).toBeLessThan(500);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = JSON.parse(text);
        expect(problem).toMatchObject({ type: expect.stringMatching(/\/[a-z-]+$/), title: expect.any(String), status: res.status });
      }),
      { numRuns: 25 },
    );
  });

  // Query strings: every list and the overview, with the schema's own parameter names holding anything.
  const queried = routes.filter((r) => r.auth !== 'public' && r.method === 'GET' && r.query && !r.params);
  it.each(queried.map((r) => [`${r.method} ${r.path}`, r] as const))('%s?… answers 200 or a 4xx problem+json, never 5xx', async (_name, route) => {
    const caller = callers.get(route.auth === 'public' ? 'operator' : route.auth[0]!)!;
    const names = Object.keys(route.query!.shape);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), pathValue, { maxKeys: names.length }), async (query) => {
        const res = await fetch(`${rt.url}${route.path}?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${caller.token}` } });
        const text = await res.text();
        if (res.status === 200) return;
        expect(res.status, `${route.path}?${new URLSearchParams(query)} → ${res.status} ${text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${route.path}?${new URLSearchParams(query)} → ${res.status} ${text}`).toBeLessThan(500);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }),
      { numRuns: 25 },
    );
  });

  it('wrote nothing', async () => {
    expect(await itemCount()).toBe(before);
  });
});
