// The one middy chain of every HTTP function: dispatch by route, role check, zod parsing of path,
// query and body, problem+json errors (4xx detailed, 5xx masked), structured logs with the request
// id as correlation id. A context's handler is `apiHandler(itsRoutes, itsOperations)`.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { Institution } from '#schemas/institutions';
import { problemBody } from '#schemas/problems';
import type { RouteDef } from '#schemas/route';
import { logAccess, recordPlaces } from './access.ts';
import { HttpProblem, issuesToErrors, problem } from './errors.ts';
import { logger } from './logger.ts';
import { institutionRoles, registeredInstitution } from './callers.ts';
import { principalFromContext, type Principal } from './principal.ts';

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Request<R extends RouteDef> {
  params: Infer<R['params']>;
  query: Infer<R['query']>;
  body: Infer<R['body']>;
  /** Absent only on public routes. */
  principal: R['auth'] extends 'public' ? undefined : Principal;
  /**
   * The caller's registered institution, for clinic, hospital and pharmacy callers (checked by the
   * chain: registered, and of the type the token's role says); undefined for operator and channel.
   */
  institution: Institution | undefined;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  idempotencyKey: R['idempotencyKey'] extends 'required' ? string : R['idempotencyKey'] extends 'optional' ? string | undefined : undefined;
  requestId: string;
  now: Date;
}

export interface Response {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * The person whose record this request changed, where the answer does not show them (a QR code
   * issued for their voucher): the access log names them as it names those the answer shows.
   */
  person?: string;
}

export type Operations<Routes extends readonly RouteDef[]> = {
  [R in Routes[number] as R['operationId']]: (req: Request<R>) => Promise<Response>;
};

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;
export const NO_STORE = { 'cache-control': 'no-store' } as const;
/** Ordinary requests are a few KiB; routes that take batches say so in the route table. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function problemResponse(err: HttpProblem): APIGatewayProxyResult {
  return {
    statusCode: err.status,
    headers: { 'content-type': 'application/problem+json', ...err.headers },
    body: JSON.stringify(problemBody(err.slug, err.detail, err.errors)),
  };
}

const throttled = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** Maps any error to a problem response; unexpected ones are logged and masked. */
export function errorToResponse(err: unknown): APIGatewayProxyResult {
  if (err instanceof HttpProblem) return problemResponse(err);
  const name = (err as { name?: string })?.name ?? '';
  if (throttled.has(name)) {
    logger.warn('throttled by a dependency', { errorName: name });
    return problemResponse(new HttpProblem('service-unavailable', 'the platform is busy; retry in a moment', undefined, { 'retry-after': '1' }));
  }
  // middy's early answer before the function's own timeout: the platform is overloaded, not broken.
  if (name === 'TimeoutError') {
    logger.error('the function ran out of time', err as Error);
    return problemResponse(new HttpProblem('service-unavailable', 'the platform is busy; retry in a moment', undefined, { 'retry-after': '1' }));
  }
  if (name === 'TransactionConflict') {
    return problemResponse(new HttpProblem('conflict', 'a concurrent request changed the same record; retry'));
  }
  // Error messages of our own code and the SDK carry ids, not personal data.
  logger.error('unhandled error', err as Error);
  return problemResponse(new HttpProblem('internal-error', 'an unexpected error occurred; it has been logged'));
}

/** A channel caller on a person's route acts for that person (the token's pid), else 403. */
function checkPerson(scope: NonNullable<RouteDef['person']>, caller: Principal, parts: { params: unknown; query: unknown }): void {
  if (!caller.pid) throw problem('forbidden', 'this route needs a token acting for a person (pid)');
  if (scope === 'pid') return;
  const named = (parts[scope.in] as Record<string, unknown> | undefined)?.[scope.name];
  if (named !== caller.pid) throw problem('forbidden', 'the token acts for another person');
}

function parsePart<S extends z.ZodType | undefined>(schema: S, value: unknown, where: string): Infer<S> {
  if (!schema) return undefined as Infer<S>;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw problem('validation-failed', `invalid ${where}`, issuesToErrors(result.error.issues, where));
  return result.data as Infer<S>;
}

function parseBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  // Bytes that are not UTF-8 (a GBK system's 王伟) arrive as U+FFFD: refused as such, rather than
  // read as a name that matches nobody (and counted as a failed identity check).
  if (text.includes('\uFFFD')) throw problem('validation-failed', 'body is not valid UTF-8: send text as UTF-8 (not GBK)', [{ path: 'body', message: 'invalid UTF-8' }]);
  try {
    return JSON.parse(text);
  } catch {
    throw problem('validation-failed', 'body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]);
  }
}

export function apiHandler<const Routes extends readonly RouteDef[]>(routes: Routes, operations: NoInfer<Operations<Routes>>) {
  const byResource = new Map<string, RouteDef>(routes.map((r) => [`${r.method} ${r.path}`, r]));
  const accessPlans = new Map(routes.map((r) => [r, recordPlaces(r)]));
  const ops = operations as unknown as Record<string, (req: Request<RouteDef>) => Promise<Response>>;

  const dispatch = async (event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> => {
    const route = byResource.get(`${event.httpMethod} ${event.resource}`);
    if (!route) throw problem('not-found', `no route ${event.httpMethod} ${event.resource}`);
    logger.appendKeys({ operation: route.operationId });

    let caller: Principal | undefined;
    let institution: Institution | undefined;
    if (route.auth !== 'public') {
      caller = principalFromContext(event.requestContext?.authorizer);
      if (!caller) throw problem('unauthorized');
      logger.appendKeys({ role: caller.role, institution: caller.inst });
      if (!route.auth.includes(caller.role)) throw problem('forbidden', `role ${caller.role} may not ${route.operationId}`);
      if ((institutionRoles as readonly string[]).includes(caller.role)) {
        institution = caller.inst ? await registeredInstitution(caller.inst) : undefined;
        if (institution?.type !== caller.role) throw problem('forbidden', `institution ${caller.inst} is not a registered ${caller.role}`);
      }
    }

    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
    let idempotencyKey: string | undefined;
    if (route.idempotencyKey) {
      idempotencyKey = headers['idempotency-key'];
      const missing = idempotencyKey === undefined || idempotencyKey === '';
      if (missing && route.idempotencyKey === 'optional') idempotencyKey = undefined;
      else if (missing || !IDEMPOTENCY_KEY.test(idempotencyKey!)) {
        const rule = '8..128 characters of letters, digits, "_.:-"';
        throw problem('validation-failed', missing ? `Idempotency-Key header is required: ${rule}` : `Idempotency-Key header must be ${rule}`, [
          { path: 'headers.idempotency-key', message: idempotencyKey ? 'invalid format' : 'required' },
        ]);
      }
    }

    const params = parsePart(route.params, event.pathParameters, 'path');
    const query = parsePart(route.query, event.queryStringParameters, 'query');
    if (route.person && caller?.role === 'channel') checkPerson(route.person, caller, { params, query });
    const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (event.body && Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8') > limit) {
      throw problem('payload-too-large', `the body exceeds ${limit} bytes for ${route.operationId}`);
    }
    // A body sent to a route that takes none is ignored, but one that is not JSON is the client's
    // mistake to hear about (400), not to pass unnoticed.
    const sent = parseBody(event);
    let rawBody = route.body ? sent : undefined;
    if (route.body && rawBody === undefined) {
      if (!route.bodyOptional) throw problem('validation-failed', 'a JSON body is required', [{ path: 'body', message: 'required' }]);
      rawBody = {};
    }
    const body = parsePart(route.body, rawBody, 'body');

    const res = await ops[route.operationId]!({
      params,
      query,
      body,
      principal: caller,
      institution,
      headers,
      idempotencyKey,
      requestId: event.requestContext?.requestId ?? 'unknown',
      now: new Date(),
    } as Request<RouteDef>);
    // The person's access log: one line per person whose records this answer read or changed
    // (functions/shared/access.ts), before the answer leaves.
    if (caller && res.status < 300) {
      const named = route.person && route.person !== 'pid' ? (({ params, query })[route.person.in] as Record<string, unknown> | undefined)?.[route.person.name] : undefined;
      logAccess({
        route, plan: accessPlans.get(route)!, caller, body: res.body, named: typeof named === 'string' ? named : res.person,
        requestPath: event.path, requestId: event.requestContext?.requestId ?? 'unknown', now: new Date(),
      });
    }
    // Answers to authenticated requests carry personal or institutional data: no cache may keep them.
    const answerHeaders = route.auth === 'public' ? res.headers : { ...res.headers, ...NO_STORE };
    return res.body === undefined
      ? { statusCode: res.status, headers: answerHeaders ?? {}, body: '' }
      : json(res.status, res.body, answerHeaders);
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        logger.setCorrelationId(request.event.requestContext?.requestId);
      },
      onError: (request) => {
        const res = errorToResponse(request.error);
        request.response = { ...res, headers: { ...res.headers, ...NO_STORE } };
      },
    })
    .handler(dispatch);
}
