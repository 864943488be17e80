// The person's access log, producer side (DESIGN.md §12; API.md "GET /people/{personId}/access-log").
// Every successful request that reads or changes a person's records, by anyone but that person,
// leaves one structured log line per person touched, written by the HTTP chain just before it
// answers. The line is the durable record: a log subscription (events/subscriptions.ts
// `logSubscriptions`; CloudWatch Logs in AWS, the local runtime's log tap here) hands it to the
// access-log consumer (functions/access), which files the entries under the person. Writing a line
// to stdout costs microseconds and no network round trip, and once written it is the Lambda
// runtime's to ship, whatever the function does next.
//
// Which answers hold whose records is read off the route table: a response schema with one of the
// ids in `personalRecords` (a single record, or `items` of them), `personIds` (an enrolment batch),
// and the person a /people/{personId}/… route names; a handler whose answer does not show whose
// record it changed says so (`person` in its response). tests/unit/access.test.ts checks that every
// route whose answer mentions a person is covered, so a new one cannot be forgotten.
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { role } from '#schemas/common';
import type { RouteDef } from '#schemas/route';
import type { Principal } from './principal.ts';

/** The `message` of an access line: what the log subscription filter selects. */
export const ACCESS_MESSAGE = 'person-access';

/** A person's records, by the id of their schema (`.meta({ id })`), and where each one lives. */
export const personalRecords: Readonly<Record<string, { readonly idField: string; readonly path: string; readonly personFields: readonly string[] }>> = {
  Enrolment: { idField: 'personId', path: '/enrollments/', personFields: ['personId'] },
  PersonSummary: { idField: 'personId', path: '/enrollments/', personFields: ['personId'] },
  Voucher: { idField: 'voucherId', path: '/vouchers/', personFields: ['personId'] },
  // A relative's personal account that paid (family mutual aid) is theirs: its reads and writes are logged for them too.
  Settlement: { idField: 'settlementId', path: '/settlements/', personFields: ['personId', 'mutualAidPayerId'] },
  SettlementQuote: { idField: 'voucherId', path: '/vouchers/', personFields: ['personId', 'mutualAidPayerId'] },
  FamilyBinding: { idField: 'bindingId', path: '/family-bindings/', personFields: ['payerPersonId', 'beneficiaryPersonId'] },
  Referral: { idField: 'referralId', path: '/referrals/', personFields: ['personId'] },
  Prescription: { idField: 'prescriptionId', path: '/prescriptions/', personFields: ['personId'] },
  AdviceRequest: { idField: 'adviceId', path: '/advice-requests/', personFields: ['personId'] },
};

const MAX_RESOURCES = 500;

/** One access line's payload: who touched which of one person's records, how, when. */
export const accessLine = z.object({
  personId: z.string().min(1).max(64),
  at: z.iso.datetime(),
  requestId: z.string().min(1).max(128),
  operation: z.string().min(1).max(64),
  action: z.enum(['read', 'write']),
  actor: z.object({ role, institutionId: z.string().min(1).max(64).optional(), user: z.string().min(1).max(256) }),
  resources: z.array(z.string().min(1).max(300)).min(1).max(MAX_RESOURCES),
});
export type AccessLine = z.infer<typeof accessLine>;

/**
 * Its own logger, at INFO whatever POWERTOOLS_LOG_LEVEL says: access lines are records, not
 * diagnostics, and turning the function's log level down must not turn them off. (In AWS the
 * functions' application log level is INFO, set by the stack and checked by the infra tests.)
 */
const accessLogger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'consortium', logLevel: 'INFO' });

type Place = { at: 'root' | 'items'; record: (typeof personalRecords)[string] };

const idOf = (schema: z.ZodType | null | undefined) => (schema ? (schema.meta() as { id?: string } | undefined)?.id : undefined);

/** Where a route's answers carry a person's records, worked out once per route from its response schemas. */
export function recordPlaces(route: RouteDef): { places: Place[]; personIds: boolean } {
  const places: Place[] = [];
  let personIds = false;
  for (const [status, schema] of Object.entries(route.responses)) {
    if (Number(status) >= 300 || !schema) continue;
    const root = personalRecords[idOf(schema) ?? ''];
    if (root) {
      places.push({ at: 'root', record: root });
      continue;
    }
    const shape = (schema as z.ZodType & { shape?: Record<string, z.ZodType> }).shape;
    const element = (shape?.items as (z.ZodType & { element?: z.ZodType }) | undefined)?.element;
    const item = personalRecords[idOf(element) ?? ''];
    if (item) places.push({ at: 'items', record: item });
    if (shape?.personIds) personIds = true;
  }
  return { places, personIds };
}

/** The persons an answer touches, each with the paths of their records in it (deduplicated). */
export function touchedBy(plan: ReturnType<typeof recordPlaces>, body: unknown, named: string | undefined, requestPath: string): Map<string, Set<string>> {
  const touched = new Map<string, Set<string>>();
  const add = (personId: unknown, resource: string) => {
    if (typeof personId !== 'string' || !personId) return;
    let set = touched.get(personId);
    if (!set) touched.set(personId, (set = new Set()));
    if (set.size < MAX_RESOURCES) set.add(resource);
  };
  if (named) add(named, requestPath);
  if (!body || typeof body !== 'object') return touched;
  const o = body as Record<string, unknown>;
  for (const { at, record } of plan.places) {
    const list = at === 'root' ? [o] : Array.isArray(o.items) ? (o.items as Array<Record<string, unknown>>) : [];
    for (const r of list) for (const field of record.personFields) add(r?.[field], `${record.path}${String(r?.[record.idField])}`);
  }
  if (plan.personIds && Array.isArray(o.personIds)) for (const p of o.personIds) add(p, `/enrollments/${String(p)}`);
  return touched;
}

/**
 * Logs one access line per person the answer touched, except the caller's own person (a channel
 * token acting for them): what a person does with their own records is not someone else's access.
 */
export function logAccess(o: {
  route: RouteDef; plan: ReturnType<typeof recordPlaces>; caller: Principal; body: unknown; named: string | undefined;
  requestPath: string; requestId: string; now: Date;
}): void {
  const touched = touchedBy(o.plan, o.body, o.named, o.requestPath);
  if (!touched.size) return;
  const action = o.route.method === 'GET' || o.route.readOnly ? 'read' : 'write';
  const actor = { role: o.caller.role, ...(o.caller.inst ? { institutionId: o.caller.inst } : {}), user: o.caller.sub };
  for (const [personId, resources] of touched) {
    if (personId === o.caller.pid) continue;
    const line: AccessLine = { personId, at: o.now.toISOString(), requestId: o.requestId, operation: o.route.operationId, action, actor, resources: [...resources] };
    accessLogger.info(ACCESS_MESSAGE, { access: line });
  }
}
