// The local API Gateway: matches a request against the route table, runs the real TOKEN authorizer
// for protected routes, turns the request into a REST API proxy event, invokes the function that
// serves the route, and answers gateway-level failures with the same problem+json bodies the CDK
// stack configures as gateway responses.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BEARER_HEADER } from '../../functions/authorizer/bearer.ts';
import { gatewayResponses, problemBody } from '../../schemas/problems.ts';
import type { RouteDef } from '../../schemas/route.ts';
import { requestStats } from './lambda.ts';

const bearerHeader = new RegExp(BEARER_HEADER);

/** API Gateway's own payload limit; smaller per-route limits are the functions' (route table). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: RouteDef;
  regex: RegExp;
  names: string[];
  specificity: number;
}

export interface ApiServerOptions {
  routes: readonly RouteDef[];
  invoke: (fn: RouteDef['fn'], event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  authorize: (event: { type: 'TOKEN'; authorizationToken: string; methodArn: string }) => Promise<APIGatewayAuthorizerResult>;
  /** Local-only endpoints under /_local/ (JWKS of the dev issuer, admin hooks); a string body is sent as is. */
  local?: (req: IncomingMessage, body: string, url: URL) => Promise<{ status: number; body: unknown; headers?: Record<string, string> } | undefined>;
  /** Static files (the console), asked only for a path no route matches: it can never shadow the API. */
  files?: (method: string, url: URL) => Reply | undefined;
  region: string;
  account: string;
  /** API Gateway's authorizer cache (resultsCacheTtl): an allowing answer is reused for the same header this long. */
  authorizerCacheSeconds: number;
  log?: (line: string) => void;
}

export function compileRoutes(routes: readonly RouteDef[]): CompiledRoute[] {
  return routes
    .map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route, names, regex: new RegExp(`^${source}$`), specificity: names.length };
    })
    // Literal segments win over parameters, as in API Gateway.
    .sort((a, b) => a.specificity - b.specificity);
}

export type Reply = { statusCode: number; headers?: Record<string, unknown>; body?: string | Buffer };

function gatewayProblem(kind: keyof typeof gatewayResponses, detail?: string): Reply {
  const body = problemBody(gatewayResponses[kind], detail);
  return { statusCode: body.status, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const statements = result.policyDocument?.Statement ?? [];
  const resources = (s: (typeof statements)[number]) => {
    const r = (s as { Resource?: string | string[] }).Resource ?? [];
    return Array.isArray(r) ? r : [r];
  };
  const hit = (s: (typeof statements)[number]) =>
    resources(s).some((r) => new RegExp(`^${r.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(methodArn));
  if (statements.some((s) => s.Effect === 'Deny' && hit(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && hit(s));
}

export function startApiServer(port: number, o: ApiServerOptions): Promise<Server> {
  const compiled = compileRoutes(o.routes);
  // As API Gateway: the authorizer runs once per Authorization header within the TTL, and the cached
  // policy is evaluated against each request's method ARN. Refusals are not kept.
  const authorized = new Map<string, { result: APIGatewayAuthorizerResult; until: number }>();
  /** The authorizer's answer, and how long it took to get (0 from the cache). */
  async function authorize(header: string, methodArn: string): Promise<{ result: APIGatewayAuthorizerResult; ms: number }> {
    const cached = authorized.get(header);
    if (cached && cached.until > Date.now()) return { result: cached.result, ms: 0 };
    const started = performance.now();
    const result = await o.authorize({ type: 'TOKEN', authorizationToken: header, methodArn });
    if (authorized.size > 10_000) authorized.clear();
    authorized.set(header, { result, until: Date.now() + o.authorizerCacheSeconds * 1000 });
    return { result, ms: performance.now() - started };
  }

  async function handle(req: IncomingMessage, raw: Buffer): Promise<Reply> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const bodyText = raw.toString('utf8');
    if (url.pathname.startsWith('/_local/') && o.local) {
      const r = await o.local(req, bodyText, url);
      if (r) return { statusCode: r.status, headers: { 'content-type': 'application/json', ...r.headers }, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
    }
    const candidates = compiled.filter((c) => c.regex.test(url.pathname));
    const file = candidates.length === 0 && o.files ? o.files(method, url) : undefined;
    if (file) return file;
    const hit = candidates.find((c) => c.route.method === method);
    if (!hit) return gatewayProblem('MISSING_AUTHENTICATION_TOKEN', `no route ${method} ${url.pathname}`);
    const { route } = hit;
    const m = hit.regex.exec(url.pathname)!;
    let pathParameters: Record<string, string> | null = null;
    try {
      pathParameters = hit.names.length ? Object.fromEntries(hit.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) : null;
    } catch {
      return gatewayProblem('BAD_REQUEST_PARAMETERS', 'path is not valid percent-encoding');
    }
    const requestId = randomUUID();
    const stage = 'local';
    const methodArn = `arn:aws:execute-api:${o.region}:${o.account}:local/${stage}/${method}${url.pathname}`;

    let authorizer: Record<string, unknown> | null = null;
    let authorizerMs = 0;
    if (route.auth !== 'public') {
      const header = req.headers.authorization;
      if (!header) return gatewayProblem('UNAUTHORIZED', 'Authorization: Bearer <token> is required');
      // As the stack's gateway: a header of another form never reaches the authorizer.
      if (!bearerHeader.test(header)) return gatewayProblem('UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"');
      let result: APIGatewayAuthorizerResult;
      try {
        ({ result, ms: authorizerMs } = await authorize(header, methodArn));
      } catch (err) {
        if ((err as Error).message === 'Unauthorized') return gatewayProblem('UNAUTHORIZED', 'the bearer token is not valid');
        o.log?.(`authorizer failed: ${(err as Error).message}`);
        return gatewayProblem('DEFAULT_5XX', 'authorizer failure');
      }
      if (!policyAllows(result, methodArn)) return gatewayProblem('ACCESS_DENIED');
      authorizer = { principalId: result.principalId, ...(result.context ?? {}) };
    }

    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!;
      const v = req.rawHeaders[i + 1]!;
      headers[k] = v;
      (multiValueHeaders[k] ??= []).push(v);
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) {
      query[k] = v;
      (multiQuery[k] ??= []).push(v);
    }
    const event: APIGatewayProxyEvent = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: url.searchParams.size ? query : null,
      multiValueQueryStringParameters: url.searchParams.size ? multiQuery : null,
      pathParameters,
      stageVariables: null,
      body: raw.length ? bodyText : null,
      isBase64Encoded: false,
      requestContext: {
        accountId: o.account,
        apiId: 'local',
        authorizer,
        protocol: 'HTTP/1.1',
        httpMethod: method,
        identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? null } as never,
        path: `/${stage}${url.pathname}`,
        stage,
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: route.path,
      },
    };
    try {
      const stats = { dynamoCalls: 0, itemsRead: 0, dynamoMs: 0 };
      const started = performance.now();
      const res = await requestStats.run(stats, () => o.invoke(route.fn, event));
      const functionMs = performance.now() - started;
      // Local diagnostics only: DynamoDB commands this request's function sent, the items they read,
      // and where its time went (Server-Timing: the authorizer, 0 when its answer was cached; the
      // function; DynamoDB's share of it).
      const diagnostics = {
        'x-local-dynamodb-calls': String(stats.dynamoCalls),
        'x-local-dynamodb-items-read': String(stats.itemsRead),
        'server-timing': `authorizer;dur=${authorizerMs ? authorizerMs.toFixed(2) : 0}, function;dur=${functionMs.toFixed(2)}, dynamodb;dur=${stats.dynamoMs.toFixed(2)}`,
      };
      return { statusCode: res.statusCode, headers: { ...res.headers, ...diagnostics }, body: res.body };
    } catch (err) {
      o.log?.(`function ${route.fn} failed: ${(err as Error).stack ?? err}`);
      return gatewayProblem('DEFAULT_5XX', 'the function failed');
    }
  }

  const server = createServer((req, res: ServerResponse) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const done = tooLarge ? Promise.resolve(gatewayProblem('REQUEST_TOO_LARGE', `body exceeds ${MAX_BODY_BYTES} bytes`)) : handle(req, Buffer.concat(chunks));
      done
        .catch((err: Error): Reply => {
          o.log?.(`local gateway error: ${err.stack}`);
          return gatewayProblem('DEFAULT_5XX');
        })
        .then((r) => {
          res.writeHead(r.statusCode, { ...(r.headers as Record<string, string>) });
          res.end(r.body ?? '');
          // Paths hold ids only (personId is a pseudonym); no query strings or bodies are logged.
          const db = r.headers?.['x-local-dynamodb-calls'];
          o.log?.(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname} ${r.statusCode} ${Date.now() - started}ms${db ? ` db=${db}` : ''}`);
        });
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
