// Referral routes: submission and routing, triage, arrival, completion, cancellation, worklists.
// Every referral a response carries is shown as the caller's institution may see it, with its
// version and the moves the caller may make now (presentFor); single referrals carry the version
// as their ETag, and moves honour If-Match.
import { referralRoutes } from '#schemas/referrals';
import type { Institution } from '#schemas/institutions';
import { etagOf } from '#shared/etag';
import { apiHandler, type Response } from '#shared/http';
import { IdempotencyRecordExists, idempotencyRecord, recordedAnswer, replay, requestHash } from '#shared/idempotency';
import type { Principal } from '#shared/principal';
import { checkAppointment, presentFor, type MoveInput } from './domain.ts';
import { createReferral, moveReferral, visibleReferral, type Caller } from './service.ts';
import { listBox, type StoredReferral } from './store.ts';

/** The Idempotency-Key namespace of POST /referrals (shared/idempotency.ts). */
const CREATE_OPERATION = 'create-referral';

/** Referral routes are for clinics and hospitals only: the chain has checked their registration. */
const caller = (r: { principal: Principal; institution: Institution | undefined }): Caller => ({ ...r.principal, institution: r.institution! });

const answer = (status: number, r: StoredReferral, principal: Principal, headers: Record<string, string> = {}): Response => ({
  status,
  body: presentFor(r, principal.inst),
  headers: { ...headers, etag: etagOf(r.version) },
});

type MoveRequest = { params: { id: string }; principal: Principal; institution: Institution | undefined; headers: Record<string, string | undefined>; now: Date; requestId: string };
const moved = async (req: MoveRequest, input: MoveInput | { action: 'reroute'; toInstitutionId?: string }) =>
  answer(200, await moveReferral(req.params.id, input, caller(req), req.now, req.requestId, req.headers['if-match']), req.principal);

export const handler = apiHandler(referralRoutes, {
  async createReferral({ body, principal, institution, now, requestId, idempotencyKey }) {
    const idempotency = idempotencyKey ? { institutionId: institution!.id, operation: CREATE_OPERATION, key: idempotencyKey, hash: requestHash(body) } : undefined;
    const first = idempotency && (await recordedAnswer(idempotency));
    if (first) return replay(first, idempotency!.hash);
    try {
      const referral = await createReferral(body, caller({ principal, institution }), now, requestId, undefined,
        idempotency && ((r) => idempotencyRecord(idempotency, { status: 201, body: presentFor(r, principal.inst), location: `/referrals/${r.referralId}` }, now)));
      return answer(201, referral, principal, { location: `/referrals/${referral.referralId}` });
    } catch (err) {
      // A retry with the same key got there first: answered as it was.
      if (err instanceof IdempotencyRecordExists && err.record) return replay(err.record, idempotency!.hash);
      throw err;
    }
  },

  async getReferral({ params, principal }) {
    return answer(200, await visibleReferral(params.id, principal), principal);
  },

  async listReferrals({ query, principal }) {
    const page = await listBox(query.box, principal.inst!, query.status, query.limit, query.nextToken);
    return { status: 200, body: { ...page, items: page.items.map((r) => presentFor(r, principal.inst)) } };
  },

  async acceptReferral(req) {
    checkAppointment(req.body.appointmentAt, req.now);
    return moved(req, { action: 'accept', appointmentAt: new Date(req.body.appointmentAt).toISOString() });
  },

  rejectReferral: (req) => moved(req, { action: 'reject', reason: req.body.reason }),
  rerouteReferral: (req) => moved(req, { action: 'reroute', toInstitutionId: req.body.toInstitutionId }),
  arriveReferral: (req) => moved(req, { action: 'arrive' }),
  completeReferral: (req) => moved(req, { action: 'complete' }),
  cancelReferral: (req) => moved(req, { action: 'cancel' }),
});
