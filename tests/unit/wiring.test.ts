// The wiring tables agree with each other: every route, subscription and schedule names a function
// of the catalog, of the right kind, whose entry file exists.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionCatalog, type FunctionDef } from '../../functions/catalog.ts';
import { logSubscriptions, schedules, subscriptions } from '../../events/subscriptions.ts';
import { pageQuery } from '../../schemas/common.ts';
import { routes } from '../../schemas/routes.ts';

const catalog = functionCatalog as Record<string, FunctionDef>;
const root = join(import.meta.dirname, '../..');

describe('wiring tables', () => {
  it('every catalog entry exists on disk', () => {
    for (const [name, def] of Object.entries(catalog)) expect(existsSync(join(root, def.entry)), name).toBe(true);
  });

  it('every route is served by an api function; method+path pairs and operation ids are unique', () => {
    for (const r of routes) expect(catalog[r.fn]?.kind, r.operationId).toBe('api');
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
    expect(new Set(routes.map((r) => r.operationId)).size).toBe(routes.length);
  });

  it('every subscription targets a consumer and every schedule a scheduled function; rule names are unique', () => {
    for (const s of subscriptions) expect(catalog[s.target]?.kind, s.rule).toBe('consumer');
    for (const s of schedules) expect(catalog[s.target]?.kind, s.name).toBe('scheduled');
    for (const s of logSubscriptions) expect(catalog[s.target]?.kind, s.name).toBe('logs');
    // And every function fed by logs has a subscription (else nothing would ever invoke it).
    for (const [name, def] of Object.entries(catalog)) if (def.kind === 'logs') expect(logSubscriptions.some((s) => s.target === name), name).toBe(true);
    expect(new Set(subscriptions.map((s) => s.rule)).size).toBe(subscriptions.length);
  });

  it('every queue consumer has its queue settings, and functions send only to queue consumers', () => {
    for (const [name, def] of Object.entries(catalog)) {
      expect(def.kind === 'queue', name).toBe(def.queue !== undefined);
      for (const to of def.sendsTo ?? []) expect(catalog[to]?.kind, `${name} → ${to}`).toBe('queue');
    }
    expect(Object.values(catalog).some((d) => d.kind === 'queue')).toBe(true);
  });

  it('every money-moving POST requires an Idempotency-Key', () => {
    for (const r of routes.filter((x) => x.path === '/settlements' && x.method === 'POST')) expect(r.idempotencyKey).toBe('required');
  });

  it('every list takes the shared limit and nextToken (API.md "Lists") and answers a page', () => {
    // A list: a GET of a collection (not of one object named by its path) answering `items`.
    const lists = routes.filter((r) => {
      const ok = r.responses[200];
      return r.method === 'GET' && !r.path.endsWith('}') && ok instanceof z.ZodObject && ok.shape.items instanceof z.ZodArray;
    });
    expect(lists.map((r) => r.operationId)).toContain('listFamilyBindings');
    for (const r of lists) {
      const query = (r.query?.shape ?? {}) as Record<string, unknown>;
      const page = (r.responses[200] as z.ZodObject).shape;
      expect([r.operationId, query.limit === pageQuery.shape.limit, query.nextToken === pageQuery.shape.nextToken, 'nextToken' in page]).toEqual([r.operationId, true, true, true]);
    }
  });
});
