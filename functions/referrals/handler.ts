// Referral routes: submission and routing, triage, arrival, completion, cancellation, worklists.
// Every referral a response carries is shown as the caller's institution may see it (viewFor).
import { referralRoutes } from '#schemas/referrals';
import { apiHandler } from '#shared/http';
import { checkAppointment, viewFor } from './domain.ts';
import { createReferral, moveReferral, visibleReferral } from './service.ts';
import { listBox, toReferral } from './store.ts';

export const handler = apiHandler(referralRoutes, {
  async createReferral({ body, principal, now, requestId }) {
    const referral = await createReferral(body, principal, now, requestId);
    return { status: 201, body: viewFor(referral, principal.inst), headers: { location: `/referrals/${referral.referralId}` } };
  },

  async getReferral({ params, principal }) {
    return { status: 200, body: viewFor(toReferral(await visibleReferral(params.id, principal)), principal.inst) };
  },

  async listReferrals({ query, principal }) {
    const page = await listBox(query.box, principal.inst!, query.status, query.limit, query.nextToken);
    return { status: 200, body: { ...page, items: page.items.map((r) => viewFor(r, principal.inst)) } };
  },

  async acceptReferral({ params, body, principal, now, requestId }) {
    checkAppointment(body.appointmentAt, now);
    const appointmentAt = new Date(body.appointmentAt).toISOString();
    const next = await moveReferral(params.id, { action: 'accept', appointmentAt }, principal, now, requestId);
    return { status: 200, body: viewFor(next, principal.inst) };
  },

  async rejectReferral({ params, body, principal, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'reject', reason: body.reason }, principal, now, requestId), principal.inst) };
  },

  async rerouteReferral({ params, body, principal, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'reroute', toInstitutionId: body.toInstitutionId }, principal, now, requestId), principal.inst) };
  },

  async arriveReferral({ params, principal, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'arrive' }, principal, now, requestId), principal.inst) };
  },

  async completeReferral({ params, principal, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'complete' }, principal, now, requestId), principal.inst) };
  },

  async cancelReferral({ params, principal, now, requestId }) {
    return { status: 200, body: viewFor(await moveReferral(params.id, { action: 'cancel' }, principal, now, requestId), principal.inst) };
  },
});
