// Referral routes: submission and routing, triage, arrival, completion, cancellation, worklists.
import { referralRoutes } from '#schemas/referrals';
import { apiHandler } from '#shared/http';
import { checkAppointment } from './domain.ts';
import { createReferral, moveReferral, visibleReferral } from './service.ts';
import { listBox, toReferral } from './store.ts';

export const handler = apiHandler(referralRoutes, {
  async createReferral({ body, principal, now, requestId }) {
    const referral = await createReferral(body, principal, now, requestId);
    return { status: 201, body: referral, headers: { location: `/referrals/${referral.referralId}` } };
  },

  async getReferral({ params, principal }) {
    return { status: 200, body: toReferral(await visibleReferral(params.id, principal)) };
  },

  async listReferrals({ query, principal }) {
    return { status: 200, body: await listBox(query.box, principal.inst!, query.status, query.limit, query.nextToken) };
  },

  async acceptReferral({ params, body, principal, now, requestId }) {
    checkAppointment(body.appointmentAt, now);
    const appointmentAt = new Date(body.appointmentAt).toISOString();
    return { status: 200, body: await moveReferral(params.id, { action: 'accept', appointmentAt }, principal, now, requestId) };
  },

  async rejectReferral({ params, body, principal, now, requestId }) {
    return { status: 200, body: await moveReferral(params.id, { action: 'reject', reason: body.reason }, principal, now, requestId) };
  },

  async rerouteReferral({ params, body, principal, now, requestId }) {
    return { status: 200, body: await moveReferral(params.id, { action: 'reroute', toInstitutionId: body.toInstitutionId }, principal, now, requestId) };
  },

  async arriveReferral({ params, principal, now, requestId }) {
    return { status: 200, body: await moveReferral(params.id, { action: 'arrive' }, principal, now, requestId) };
  },

  async completeReferral({ params, principal, now, requestId }) {
    return { status: 200, body: await moveReferral(params.id, { action: 'complete' }, principal, now, requestId) };
  },

  async cancelReferral({ params, principal, now, requestId }) {
    return { status: 200, body: await moveReferral(params.id, { action: 'cancel' }, principal, now, requestId) };
  },
});
