// The API client, derived from the route table: `call('settle', { body, idempotencyKey })` takes its
// method, path, input and output types from the route's definition in schemas/. No API type is
// written here by hand.
import type * as z from 'zod';
import { typedRoutes } from '#schemas/routes';
import { problemBase, type Problem } from '#schemas/problems';

type Route = (typeof typedRoutes)[number];
export type OperationId = Route['operationId'];
export type RouteOf<K extends OperationId> = Extract<Route, { operationId: K }>;

type Part<R, K extends string> = R extends { readonly [P in K]: infer S extends z.ZodType } ? z.input<S> : undefined;
type Field<Name extends string, V> = [V] extends [undefined] ? { [P in Name]?: undefined } : undefined extends V ? { [P in Name]?: V } : { [P in Name]: V };

/** What one operation takes: path params, query and body as their schemas' inputs, and the Idempotency-Key where required. */
export type Input<K extends OperationId> = Field<'params', Part<RouteOf<K>, 'params'>> &
  Field<'query', Part<RouteOf<K>, 'query'>> &
  Field<'body', Part<RouteOf<K>, 'body'>> &
  (RouteOf<K> extends { readonly idempotencyKey: 'required' }
    ? { idempotencyKey: string }
    : RouteOf<K> extends { readonly idempotencyKey: 'optional' }
      ? { idempotencyKey?: string }
      : { idempotencyKey?: undefined }) &
  // The ETag of the representation the user is acting on: a change since → 412 precondition-failed.
  (RouteOf<K> extends { readonly etag: 'if-match' } ? { ifMatch?: string } : { ifMatch?: undefined });

type Responses<K extends OperationId> = RouteOf<K>['responses'];
/** What one operation answers on success (the union of its 2xx bodies). */
export type Output<K extends OperationId> = {
  [S in keyof Responses<K>]: S extends 200 | 201 ? (Responses<K>[S] extends z.ZodType ? z.output<Responses<K>[S]> : undefined) : never;
}[keyof Responses<K>];

/** A problem+json answer (or a failure to reach the API, as status 0). */
/** A problem+json answer, or the client's own for a request that never got one (status 0). */
export type ApiProblem = Omit<Problem, 'title'> & { title: string };

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: ApiProblem) {
    super(problem.detail ?? problem.title);
  }
  get slug(): string {
    return this.problem.type.split('/').pop() ?? '';
  }
}

export interface Transport {
  baseUrl: string;
  /** The current access token, or undefined when signed out. */
  token(): string | undefined;
  /** Called on a 401: the session is over (expired or revoked). */
  onUnauthorized(): void;
}

let transport: Transport | undefined;
export const configureApi = (t: Transport) => {
  transport = t;
};

const byId = new Map<string, Route>(typedRoutes.map((r) => [r.operationId, r]));

export function pathOf<K extends OperationId>(operationId: K, params?: Record<string, string>): string {
  const route = byId.get(operationId)!;
  return route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params?.[name] ?? ''));
}

export async function call<K extends OperationId>(operationId: K, input: Input<K> = {} as Input<K>): Promise<Output<K>> {
  if (!transport) throw new Error('configureApi first');
  const route = byId.get(operationId)!;
  const { params, query, body, idempotencyKey, ifMatch } = input as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; idempotencyKey?: string; ifMatch?: string };
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = `${transport.baseUrl}${pathOf(operationId, params)}${qs.size ? `?${qs}` : ''}`;
  const token = transport.token();
  let res: Response;
  try {
    res = await fetch(url, {
      method: route.method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        ...(ifMatch ? { 'if-match': ifMatch } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { type: 'network', title: '无法连接到服务器', status: 0, detail: '网络异常，请检查网络后重试' });
  }
  // An answer cut off, or one from something in front of the API (a proxy's HTML page, API
  // Gateway's `{"message"}`), is an ApiError with its status, never a SyntaxError.
  let parsed: unknown;
  let readable = true;
  try {
    const text = await res.text();
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    readable = false;
  }
  if (res.ok && readable) return parsed as Output<K>;
  if (res.status === 401) transport.onUnauthorized();
  const isProblem = !!parsed && typeof parsed === 'object' && typeof (parsed as { type?: unknown }).type === 'string';
  throw new ApiError(res.status, isProblem ? (parsed as ApiProblem) : unreadableProblem(res.status));
}

/** The problem of an answer that is not the API's problem+json, from its status alone. */
function unreadableProblem(status: number): ApiProblem {
  const slug = status === 500 ? 'internal-error' : status === 502 ? 'bad-gateway' : status === 503 ? 'service-unavailable' : status === 504 ? 'gateway-timeout' : status < 400 ? 'bad-response' : 'unknown';
  return { type: problemBase + slug, title: '无法读取服务器的回答', status };
}

/**
 * Whether a failed request may still have been carried out: no answer (the network), an answer
 * lost or unreadable, or a server error (5xx: a timeout in front of the API may come after the
 * write). A money-moving request is then retried with the same Idempotency-Key, never a new one.
 */
export const outcomeUnknown = (err: unknown): boolean => err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status < 400);

/** The ETag of an object the API answered with its `version` (referrals, advice requests): what If-Match sends back. */
export const etagOf = (o: { version: number }) => `"${o.version}"`;

/** A fresh Idempotency-Key: one per attempt of a money-moving request, reused by its retries. */
export const newIdempotencyKey = (prefix = 'console') => `${prefix}-${crypto.randomUUID()}`;

/**
 * Every page of a list, asked one after another: the first page as the API gave it (with whatever
 * else it carries, such as a day's totals), holding every page's items.
 */
export async function allPages<P extends { items: unknown[]; nextToken?: string }>(page: (nextToken?: string) => Promise<P>): Promise<P> {
  const first = await page();
  const items = [...first.items];
  for (let next = first.nextToken; next; ) {
    const more = await page(next);
    items.push(...more.items);
    next = more.nextToken;
  }
  return { ...first, items };
}
