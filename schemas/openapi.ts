// OpenAPI 3.1 document generated from the route table and its zod schemas (zod's own JSON Schema
// output, draft 2020-12, which is OpenAPI 3.1's dialect). `npm run lint:openapi` holds it to
// Redocly's recommended rules and Spectral's OpenAPI and OWASP API Security rulesets.
import * as z from 'zod';
import { problemCatalog, problemSchema, type ProblemSlug } from './problems.ts';
import type { RouteDef } from './route.ts';

type Json = Record<string, unknown>;

/**
 * Problems any route can answer whatever it does: the stage and method throttles (API Gateway
 * answers 429 before any function runs) and an unexpected error, which every function masks as
 * 500 internal-error (functions/shared/http.ts).
 */
const everyRouteProblems: readonly ProblemSlug[] = ['rate-limited', 'internal-error'];

const INT32 = 2 ** 31;

/** zod writes integers as {type: integer, minimum, maximum}; the format says which size fits. */
function withIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(withIntegerFormats);
  if (!node || typeof node !== 'object') return;
  const s = node as Json;
  if (s.type === 'integer' && s.format === undefined) {
    const fits32 = typeof s.minimum === 'number' && typeof s.maximum === 'number' && s.minimum >= -INT32 && s.maximum < INT32;
    s.format = fits32 ? 'int32' : 'int64';
  }
  for (const v of Object.values(s)) withIntegerFormats(v);
}

function description(r: RouteDef): string {
  const who = r.auth === 'public' ? 'Public: no token needed.' : `Roles: ${r.auth.join(', ')}.`;
  return `${r.summary}. ${who}`;
}

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
        schema: { type: 'string', minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
      });
    }
    if (r.etag === 'if-match') {
      parameters.push({
        name: 'If-Match',
        in: 'header',
        required: false,
        description: 'The ETag of the representation the client acts on; if it is no longer current → 412 precondition-failed and nothing is written. Without it, the move is made on whatever is current.',
        schema: { type: 'string', maxLength: 256, pattern: '^(\\*|(W/)?"[^"]*"(\\s*,\\s*(W/)?"[^"]*")*)$' },
      });
    }
    const responses: Json = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      const headers = r.etag ? { headers: { ETag: { description: 'Version of the object this answer represents (send it back as If-Match)', schema: { type: 'string', maxLength: 32, pattern: '^"[0-9]+"$' } } } } : {};
      responses[status] = schema
        ? { description: 'Success', ...headers, content: { 'application/json': { schema: convert(schema, 'output') } } }
        : { description: 'Success, no body', ...headers };
    }
    // Input that is parsed (path, query, body) can be refused with 400 validation-failed.
    const parsesInput = !!(r.params || r.query || r.body || r.docBody || r.idempotencyKey);
    const problems = new Set<ProblemSlug>([...(parsesInput ? (['validation-failed'] as const) : []), ...r.problems, ...everyRouteProblems]);
    for (const slug of problems) {
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
      description: description(r),
      tags: [r.tag],
      ...(r.auth === 'public' ? { security: [] } : { 'x-roles': r.auth }),
      ...(r.person ? { 'x-person': r.person === 'pid' ? 'a channel caller acts for the person of its token (pid)' : `a channel caller's token acts for the person in ${r.person.in}.${r.person.name} (pid)` } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(body ? { requestBody: { required: !r.bodyOptional, content: { 'application/json': { schema: convert(body, 'input') } } } } : {}),
      responses,
    };
  }
  // problemSchema carries the id "Problem": converting it registers the component the responses refer to.
  convert(problemSchema, 'output');

  const document: Json = {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Medical consortium platform',
      version: info.version ?? '1.0.0',
      description:
        'One province stack of the medical consortium platform: institutions and enrolments, insurance e-vouchers and their settlement at the counter, two-way referrals, and e-prescriptions routed to pharmacies. Money is integer fen; times are ISO-8601 UTC; errors are RFC 9457 problem+json.',
      contact: { name: 'Platform operations of the province' },
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [
      {
        url: '.',
        description: 'The API stage that serves this document: production in a province stack, local under npm start',
        'x-internal': false,
      },
    ],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name, description: tagDescriptions[name] })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A JWS (compact JWT) from the province identity provider, verified as RFC8725 advises: algorithms pinned to ES256 and RS256 (never none or HMAC), the key chosen by kid from the provider's JWKS (a kid is required when it holds several keys), issuer, audience and exp checked, iat no older than the province's tokenMaxAgeHours and not in the future.",
        },
      },
    },
    security: [{ bearer: [] }],
  };
  withIntegerFormats(document);
  return document;
}

const tagDescriptions: Record<string, string | undefined> = {
  platform: 'Health check and this document',
  operator: 'Institutions (clinics, hospitals, pharmacies) and enrolments of insured people',
  catalog: 'The drug catalog',
  vouchers: 'Insurance e-vouchers: activation, QR codes, settlement, reversal, reconciliation',
  referrals: 'Two-way referrals between clinics and hospitals',
  prescriptions: 'E-prescriptions routed to pharmacies: review, dispensing, stock',
  webhooks: "Signed webhooks (Standard Webhooks) to clinics', hospitals' and pharmacies' own systems: subscriptions and their recent deliveries",
  'family mutual aid': "Bindings that let a relative's personal account pay for an insured person",
  advice: 'Advice and guidance: a clinic asks a hospital department about a patient before referring them',
  people: "A person's rights over their records: timeline, access log, export (PIPL Art. 45)",
};

function relink(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}
