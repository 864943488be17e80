// Advice and guidance routes: ask, worklists, one request, reply, convert to a referral, close.
// Every request a response carries is shown as the caller's institution may see it, with its
// version (the ETag) and the moves the caller may make now.
import { adviceRoutes } from '#schemas/advice';
import type { Institution } from '#schemas/institutions';
import { etagOf } from '#shared/etag';
import { apiHandler, type Response } from '#shared/http';
import type { Principal } from '#shared/principal';
import { presentFor as presentReferral } from '../referrals/domain.ts';
import type { Caller } from '../referrals/service.ts';
import { presentFor } from './domain.ts';
import { convertAdvice, createAdvice, moveAdvice, visibleAdvice } from './service.ts';
import { listBox, type StoredAdvice } from './store.ts';

/** Advice routes are for clinics and hospitals only: the chain has checked their registration. */
const caller = (r: { principal: Principal; institution: Institution | undefined }): Caller => ({ ...r.principal, institution: r.institution! });

const answer = (status: number, a: StoredAdvice, principal: Principal, headers: Record<string, string> = {}): Response => ({
  status,
  body: presentFor(a, principal.inst),
  headers: { ...headers, etag: etagOf(a.version) },
});

export const handler = apiHandler(adviceRoutes, {
  async requestAdvice({ body, principal, institution, now, requestId }) {
    const a = await createAdvice(body, caller({ principal, institution }), now, requestId);
    return answer(201, a, principal, { location: `/advice-requests/${a.adviceId}` });
  },

  async listAdviceRequests({ query, principal }) {
    const page = await listBox(query.box, principal.inst!, query.status, query.limit, query.nextToken);
    return { status: 200, body: { ...page, items: page.items.map((a) => presentFor(a, principal.inst)) } };
  },

  async getAdviceRequest({ params, principal }) {
    return answer(200, await visibleAdvice(params.id, principal), principal);
  },

  async replyAdviceRequest({ params, body, headers, ...req }) {
    const a = await moveAdvice(params.id, { action: 'reply', answer: body.answer, recommendation: body.recommendation }, caller(req), req.now, req.requestId, headers['if-match']);
    return answer(200, a, req.principal);
  },

  async closeAdviceRequest({ params, headers, ...req }) {
    return answer(200, await moveAdvice(params.id, { action: 'close' }, caller(req), req.now, req.requestId, headers['if-match']), req.principal);
  },

  async convertAdviceRequest({ params, body, headers, ...req }) {
    const r = await convertAdvice(params.id, body, caller(req), req.now, req.requestId, headers['if-match']);
    return { status: 201, body: presentReferral(r, req.principal.inst), headers: { location: `/referrals/${r.referralId}`, etag: etagOf(r.version) } };
  },
});
