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

  it('documents the enrolment body with its per-person schema', () => {
    const body = doc.paths['/enrollments'].post.requestBody.content['application/json'].schema;
    expect(body.properties.people.items.required).toEqual(expect.arrayContaining(['nationalId', 'name', 'district', 'personalAccountFen']));
  });
});
