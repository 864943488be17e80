import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../schemas/openapi.ts';
import { routes } from '../../schemas/routes.ts';
import { problemCatalog } from '../../schemas/problems.ts';

describe('OpenAPI document', () => {
  const doc = openApiDocument(routes) as any;

  it('is OpenAPI 3.1 with every route of the table', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const r of routes) expect(doc.paths[r.path]?.[r.method.toLowerCase()]?.operationId).toBe(r.operationId);
  });

  it('has no dangling or self-referencing $ref', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const path = ref.slice('"$ref":"#/'.length, -1).split('/');
      let node = doc;
      for (const part of path) node = node?.[part];
      expect(node, ref).toBeDefined();
      expect(node.$ref, `${ref} points at another reference`).toBeUndefined();
    }
  });

  it('documents problems with their contract statuses and public routes without security', () => {
    const post = doc.paths['/institutions'].post;
    expect(post.responses['409'].content['application/problem+json']).toBeDefined();
    expect(post.responses['201'].content['application/json'].schema).toBeDefined();
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(problemCatalog['code-expired'].status).toBe(410);
  });

  it('documents If-Match on every route that honours it and an ETag on what it answers, the conversion of advice included', () => {
    const ifMatch = (operationId: string) => {
      const r = routes.find((x) => x.operationId === operationId)!;
      const op = doc.paths[r.path][r.method.toLowerCase()];
      return { param: op.parameters?.some((p: { name: string; in: string }) => p.in === 'header' && p.name === 'If-Match') ?? false, etag: Object.keys(op.responses).filter((s) => s.startsWith('2')).every((s) => op.responses[s].headers?.ETag) };
    };
    // The handlers that read If-Match (functions/referrals, functions/advice): each is declared so.
    for (const id of ['acceptReferral', 'rejectReferral', 'rerouteReferral', 'arriveReferral', 'completeReferral', 'cancelReferral', 'replyAdviceRequest', 'closeAdviceRequest', 'convertAdviceRequest']) {
      expect([id, ifMatch(id)]).toEqual([id, { param: true, etag: true }]);
    }
    expect(ifMatch('getAdviceRequest')).toEqual({ param: false, etag: true });
  });

  it('documents the enrolment body with its per-person schema', () => {
    const body = doc.paths['/enrollments'].post.requestBody.content['application/json'].schema;
    expect(body.properties.people.items.required).toEqual(expect.arrayContaining(['nationalId', 'name', 'district', 'personalAccountFen']));
  });
});

/** Every schema node of the document with the property name it sits under (items under their array's). */
function* schemas(node: unknown, name = ''): Generator<{ name: string; schema: Record<string, any>; at: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) yield* schemas(n, name);
    return;
  }
  const o = node as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (typeof o.type === 'string') yield { name, schema: o, at: JSON.stringify(o).slice(0, 80) };
  for (const [k, v] of Object.entries(o)) {
    if (k === 'properties') for (const [p, s] of Object.entries(v as object)) yield* schemas(s, p);
    else if (k === 'items' || k === 'anyOf' || k === 'oneOf' || k === 'allOf') yield* schemas(v, name);
    else if (k === 'parameters') for (const p of v as Array<{ name: string; schema: unknown }>) yield* schemas(p.schema, p.name);
    else if (typeof v === 'object') yield* schemas(v, k === 'schema' ? name : k);
  }
}

/** Free text: no pattern can describe it (Spectral's string-restricted is off for it in .spectral.yaml). */
const freeText = new Set(['name', 'district', 'unit', 'dosage', 'reason', 'followUpPlan', 'user', 'detail', 'message', 'path', 'beneficiaryName', 'assessment', 'question', 'answer', 'text']);
/** Lists the platform appends to as an object moves (the array-limit overrides in .spectral.yaml). */
const serverGrown = new Set(['history', 'rejectedBy', 'expiredBy', 'downwardReferralIds']);

describe('OpenAPI document bounds (what the OWASP API Security rules ask)', () => {
  const doc = openApiDocument(routes) as any;
  const all = [...schemas(doc.paths), ...schemas(doc.components.schemas)];

  it('every string has a maximum length, and a format, pattern or enum unless it is free text', () => {
    const strings = all.filter((s) => s.schema.type === 'string');
    expect(strings.length).toBeGreaterThan(100);
    const bounded = (s: Record<string, unknown>) => s.maxLength !== undefined || s.enum !== undefined || s.const !== undefined;
    const restricted = (s: Record<string, unknown>) => s.format !== undefined || s.pattern !== undefined || s.enum !== undefined || s.const !== undefined;
    expect(strings.filter((s) => !bounded(s.schema)).map((s) => `${s.name}: ${s.at}`)).toEqual([]);
    expect([...new Set(strings.filter((s) => !restricted(s.schema)).map((s) => s.name))].filter((n) => !freeText.has(n))).toEqual([]);
  });

  it('every integer has a format that fits its bounds', () => {
    const integers = all.filter((s) => s.schema.type === 'integer');
    expect(integers.length).toBeGreaterThan(20);
    for (const { name, schema } of integers) {
      const fits32 = schema.minimum >= -(2 ** 31) && schema.maximum < 2 ** 31;
      expect([name, schema.format]).toEqual([name, fits32 ? 'int32' : 'int64']);
    }
  });

  it('every array has maxItems, but the lists the platform itself appends to', () => {
    const arrays = all.filter((s) => s.schema.type === 'array');
    expect(arrays.filter((s) => s.schema.maxItems === undefined && !serverGrown.has(s.name)).map((s) => s.name)).toEqual([]);
  });

  it('every operation declares 429 and 500, and 400 where it parses input, as problem+json', () => {
    for (const r of routes) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      const statuses = ['429', '500', ...(r.params || r.query || r.body ? ['400'] : [])];
      for (const status of statuses) expect([r.operationId, status, op.responses[status]?.content?.['application/problem+json']]).toEqual([r.operationId, status, expect.anything()]);
      expect(op.description).toContain(r.auth === 'public' ? 'Public' : `Roles: ${r.auth.join(', ')}`);
    }
  });

  it('says how bearer tokens are verified (RFC 8725), and where the API is', () => {
    expect(doc.components.securitySchemes.bearer.description).toMatch(/RFC8725[\s\S]*ES256 and RS256[\s\S]*kid[\s\S]*tokenMaxAgeHours/);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '.', 'x-internal': false })]);
    for (const tag of new Set(routes.map((r) => r.tag))) expect(doc.tags.find((t: { name: string }) => t.name === tag)?.description).toBeTruthy();
  });
});
