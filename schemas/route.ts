// Shape of one row of the API route table. The table itself is data (schemas/routes.ts); the CDK
// REST API, the local runtime's router, the handlers' dispatch and the OpenAPI document are all
// built from it.
import * as z from 'zod';
import { unsafeTextReason, type Role } from './common.ts';
import type { ProblemSlug } from './problems.ts';

/** The Lambda functions that serve HTTP routes (kind 'api' in the function catalog). */
type Catalog = typeof import('../functions/catalog.ts').functionCatalog;
export type ApiFunctionName = { [K in keyof Catalog]: Catalog[K]['kind'] extends 'api' ? K : never }[keyof Catalog];

export interface RouteDef {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway resource path, with {name} parameters. */
  readonly path: string;
  readonly fn: ApiFunctionName;
  /** Roles allowed to call; 'public' routes skip the authorizer. */
  readonly auth: readonly Role[] | 'public';
  readonly summary: string;
  readonly tag: string;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The body may be left out entirely (then it is parsed as {}), e.g. a reroute without a target. */
  readonly bodyOptional?: boolean;
  /** Documented body where the handler validates parts itself (e.g. per-item enrolment). */
  readonly docBody?: z.ZodType;
  /**
   * The Idempotency-Key header: money-moving POSTs require one; creating POSTs that clients retry take
   * one optionally (same key and body → the first answer).
   */
  readonly idempotencyKey?: 'required' | 'optional';
  /**
   * A route about one person (API.md "Tokens that act for one person"): a channel caller needs a
   * token acting for that person (`pid`), the person named by this path or query parameter, or any
   * person ('pid': the route acts for the token's own person); anyone else the route admits (an
   * operator) is not limited by it. The HTTP chain checks it before any handler runs.
   */
  readonly person?: { readonly in: 'params' | 'query'; readonly name: string } | 'pid';
  /** A POST that changes nothing (a lookup, a quote): its access-log entries say "read". */
  readonly readOnly?: true;
  /**
   * Optimistic concurrency (API.md v2): 'read' — the answer carries an `ETag` naming the version of
   * what it represents; 'if-match' — that, and the route honours `If-Match` (a version that is no
   * longer current → 412 precondition-failed, nothing written).
   */
  readonly etag?: 'read' | 'if-match';
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
  /** Per-method throttle below the stage's, for expensive routes (requests per second). */
  readonly throttle?: { readonly rate: number; readonly burst: number };
  /** Largest accepted body; default 64 KiB. Larger → 413 payload-too-large. */
  readonly maxBodyBytes?: number;
  readonly problems: readonly ProblemSlug[];
}

export const defineRoute = <const R extends RouteDef>(route: R): R => route;

/** A token's `sub`: the authorizer refuses longer ones, so what is stored from it fits. */
export const principalSubject = z.string().min(1).max(256);

/**
 * What the authorizer accepts as `sub`: also no control or bidirectional characters, since it is shown
 * as the staff member in access logs and histories. Only on the way in: records stored before keep
 * reading with `principalSubject`.
 */
export const tokenSubject = principalSubject.refine((s) => !unsafeTextReason(s, false), 'must not contain control, bidirectional or unpaired surrogate characters');

/** Problems every authenticated route can answer. */
export const authProblems = ['unauthorized', 'forbidden', 'rate-limited'] as const satisfies readonly ProblemSlug[];
