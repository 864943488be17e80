// OpenAPI 3.1 document generated from the route table and its zod schemas (zod's own JSON Schema
// output, draft 2020-12, which is OpenAPI 3.1's dialect).
import * as z from 'zod';
import { problemCatalog, problemSchema } from './problems.ts';
import type { RouteDef } from './route.ts';

type Json = Record<string, unknown>;

export function openApiDocument(routes: readonly RouteDef[], info: { title?: string; version?: string } = {}): Json {
  const components: Record<string, Json> = {};
  const convert = (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const { $schema: _, $defs, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, Json>)) components[id] = relink(def);
    return relink(rest);
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      const props = schema ? ((convert(schema, 'input').properties ?? {}) as Record<string, Json>) : {};
      const required = new Set(schema ? ((convert(schema, 'input').required ?? []) as string[]) : []);
      for (const [name, s] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: s });
      }
    }
    if (r.idempotencyKey) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: r.idempotencyKey === 'required',
        description: 'Same key and body returns the original response; same key, different body → 422 idempotency-key-reused',
        schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
      });
    }
    const responses: Json = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      responses[status] = schema
        ? { description: 'Success', content: { 'application/json': { schema: convert(schema, 'output') } } }
        : { description: 'Success, no body' };
    }
    for (const slug of new Set(r.problems)) {
      const { status, title } = problemCatalog[slug];
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing ? `${existing.description}; ${slug}` : `${title} (${slug})`,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const body = r.docBody ?? r.body;
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth === 'public' ? { security: [] } : { 'x-roles': r.auth }),
      ...(parameters.length ? { parameters } : {}),
      ...(body ? { requestBody: { required: !r.bodyOptional, content: { 'application/json': { schema: convert(body, 'input') } } } } : {}),
      responses,
    };
  }
  // problemSchema carries the id "Problem": converting it registers the component the responses refer to.
  convert(problemSchema, 'output');

  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'Medical consortium platform', version: info.version ?? '1.0.0' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
  };
}

function relink(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}
