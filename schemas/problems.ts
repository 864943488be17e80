// RFC 9457 problem types of API.md. The slugs and statuses are part of the public contract.
import * as z from 'zod';

export const problemBase = 'https://consortium.example/problems/';

export const problemCatalog = {
  'validation-failed': { status: 400, title: 'Request is not valid' },
  unauthorized: { status: 401, title: 'Missing or invalid credentials' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflicts with the current state' },
  'invalid-transition': { status: 409, title: 'Not allowed from the current status' },
  'code-already-used': { status: 409, title: 'Voucher code already used' },
  'code-expired': { status: 410, title: 'Voucher code expired' },
  'trace-code-used': { status: 409, title: 'Drug trace code already sold' },
  'precondition-failed': { status: 412, title: 'Changed since the version the request names' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'not-enrolled': { status: 422, title: 'Person is not enrolled' },
  'voucher-not-active': { status: 422, title: 'Voucher is not active' },
  'insufficient-funds': { status: 422, title: 'Insufficient funds' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused with a different request' },
  unroutable: { status: 422, title: 'No eligible institution' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal error' },
  'bad-gateway': { status: 502, title: 'Upstream function failed' },
  'service-unavailable': { status: 503, title: 'Temporarily unavailable, retry later' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof problemCatalog;

/**
 * Bounds of a problem body. problemBody and clipErrors hold every body to them, so an invalid
 * request with thousands of fields or a huge key cannot make an error body of the same size.
 */
const bounds = { detail: 2000, errors: 100, path: 200, message: 500 } as const;

export const fieldErrors = z.array(z.object({ path: z.string().max(bounds.path), message: z.string().max(bounds.message) })).max(bounds.errors);

export const problemSchema = z
  .object({
    type: z.url().max(200),
    title: z.enum(Object.values(problemCatalog).map((p) => p.title)),
    status: z.number().int().min(400).max(599),
    detail: z.string().max(bounds.detail).optional(),
    /** API Gateway's request id, on problems the gateway itself answers. */
    instance: z.uuid().max(36).optional(),
    errors: fieldErrors.optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
export type Problem = z.infer<typeof problemSchema>;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The first 100 field errors, each path and message cut to its bound. */
export function clipErrors(errors: NonNullable<Problem['errors']>): NonNullable<Problem['errors']> {
  return errors.slice(0, bounds.errors).map((e) => ({ path: clip(e.path, bounds.path), message: clip(e.message, bounds.message) }));
}

export function problemBody(slug: ProblemSlug, detail?: string, errors?: Problem['errors']): Problem {
  const { status, title } = problemCatalog[slug];
  return { type: problemBase + slug, title, status, ...(detail ? { detail: clip(detail, bounds.detail) } : {}), ...(errors ? { errors: clipErrors(errors) } : {}) };
}

/**
 * Responses API Gateway produces itself (before any function runs). The CDK stack configures them
 * as gateway responses and the local runtime returns the same bodies.
 */
export const gatewayResponses = {
  UNAUTHORIZED: 'unauthorized',
  ACCESS_DENIED: 'forbidden',
  EXPIRED_TOKEN: 'unauthorized',
  INVALID_SIGNATURE: 'unauthorized',
  MISSING_AUTHENTICATION_TOKEN: 'not-found',
  RESOURCE_NOT_FOUND: 'not-found',
  THROTTLED: 'rate-limited',
  QUOTA_EXCEEDED: 'rate-limited',
  REQUEST_TOO_LARGE: 'payload-too-large',
  BAD_REQUEST_BODY: 'validation-failed',
  BAD_REQUEST_PARAMETERS: 'validation-failed',
  DEFAULT_5XX: 'bad-gateway',
} as const satisfies Record<string, ProblemSlug>;
