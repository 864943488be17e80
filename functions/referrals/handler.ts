// Referral routes: submission and routing, triage, arrival, completion, cancellation, worklists.
// Every referral a response carries is shown as the caller's institution may see it (viewFor).
import { referralRoutes } from '#schemas/referrals';
import type { Institution } from '#schemas/institutions';
import { apiHandler } from '#shared/http';
import type { Principal } from '#shared/principal';
import { checkAppointment, viewFor } from './domain.ts';
import { createReferral, moveReferral, visibleReferral, type Caller } from './service.ts';
import { listBox, toReferral } from './store.ts';

/** Referral routes are for clinics and hospitals only: the chain has checked their registration. */
const caller = (r: { principal: Principal; institution: Institution | undefined }): Caller => ({ ...r.principal, institution: r.institution! });

export const handler = apiHandler(referralRoutes, {
  async createReferral({ body, principal, institution, now, requestId }) {
    const referral = await createReferral(body, caller({ principal, institution }), now, requestId);
    return { status: 201, body: viewFor(referral, principal.inst), headers: { location: `/referrals/${referral.referralId}` } };
  },

  async getReferral({ params, principal }) {
    return { status: 200, body: viewFor(toReferral(await visibleReferral(params.id, principal)), principal.inst) };
  },

  async listReferrals({ query, principal }) {
    const page = await listBox(query.box, principal.inst!, query.status, query.limit, query.nextToken);
    return { status: 200, body: { ...page, items: page.items.map((r) => viewFor(r, principal.inst)) } };
  },

  async acceptReferral({ params, body, principal, institution, now, requestId }) {
    checkAppointment(body.appointmentAt, now);
    const appointmentAt = new Date(body.appointmentAt).toISOString();
    const next = await moveReferral(params.id, { action: 'accept', appointmentAt }, caller({ principal, institution }), now, requestId);
    return { status: 200, body: viewFor(next, principal.inst) };
  },

  async rejectReferral({ params, body, principal, institution, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'reject', reason: body.reason }, caller({ principal, institution }), now, requestId), principal.inst) };
  },

  async rerouteReferral({ params, body, principal, institution, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'reroute', toInstitutionId: body.toInstitutionId }, caller({ principal, institution }), now, requestId), principal.inst) };
  },

  async arriveReferral({ params, principal, institution, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'arrive' }, caller({ principal, institution }), now, requestId), principal.inst) };
  },

  async completeReferral({ params, principal, institution, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'complete' }, caller({ principal, institution }), now, requestId), principal.inst) };
  },

  async cancelReferral({ params, principal, institution, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'cancel' }, caller({ principal, institution }), now, requestId), principal.inst) };
  },
});
