// The local runtime's admin hook POST /_local/schedules/<name> (never part of the CDK stack): an
// operator token of the local dev issuer, checked by the real authorizer, a JSON body (so a web
// page cannot send it without a CORS preflight, which nothing here answers), and a bounded time.
import type { IncomingMessage } from 'node:http';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import * as z from 'zod';
import { principalFromContext } from '../../functions/shared/principal.ts';
import { problemBody, type ProblemSlug } from '../../schemas/problems.ts';

/** How far from now a run may be set: past the longest validity or SLA a province config allows (30 days). */
export const SCHEDULE_WINDOW_DAYS = 31;
const windowMs = SCHEDULE_WINDOW_DAYS * 24 * 3_600_000;

export const scheduleRequest = z
  .object({
    time: z.iso
      .datetime({ offset: true })
      .refine((t) => Math.abs(Date.parse(t) - Date.now()) <= windowMs, `must be within ${SCHEDULE_WINDOW_DAYS} days of now`)
      .optional(),
  })
  .strict();

export interface LocalReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function problem(slug: ProblemSlug, detail: string): LocalReply {
  const body = problemBody(slug, detail);
  return { status: body.status, body, headers: { 'content-type': 'application/problem+json' } };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return Symbol('not JSON'); // fails any schema
  }
}

type Authorize = (event: { type: 'TOKEN'; authorizationToken: string; methodArn: string }) => Promise<APIGatewayAuthorizerResult>;

/** A problem reply unless the request carries an operator token and a JSON content type. */
export async function refuseScheduleRequest(req: IncomingMessage, url: URL, authorize: Authorize): Promise<LocalReply | undefined> {
  const header = req.headers.authorization;
  if (!header) return problem('unauthorized', 'Authorization: Bearer <operator token> is required (npm run --silent token -- --role operator)');
  let result: APIGatewayAuthorizerResult;
  try {
    result = await authorize({ type: 'TOKEN', authorizationToken: header, methodArn: `arn:aws:execute-api:local:000000000000:local/local/POST${url.pathname}` });
  } catch (err) {
    if ((err as Error).message === 'Unauthorized') return problem('unauthorized', 'the bearer token is not valid');
    throw err;
  }
  if (principalFromContext(result.context)?.role !== 'operator') return problem('forbidden', 'only an operator token may run a schedule');
  const type = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return problem('validation-failed', 'content-type must be application/json');
  return undefined;
}
