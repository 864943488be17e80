// Vouchers routes: activation, suspend/resume, QR codes, settlement, reversal, reconciliation.
import { voucherRoutes, type Voucher } from '#schemas/vouchers';
import { calendarDay } from '#shared/clock';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { apiHandler } from '#shared/http';
import { newId } from '#shared/ids';
import { nationalIdHash, personIdFromHash } from '#shared/pii';
import type { Principal } from '#shared/principal';
import { getPerson } from '../institutions/store.ts';
import { issueCode } from './codes.ts';
import { reversibleOn, settlementTransitions } from './domain.ts';
import { settle } from './settle.ts';
import * as store from './store.ts';

/** Names match ignoring surrounding and inner whitespace (channel apps pad differently). */
const sameName = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/** A settlement is visible to the institution that made it and to operators; to others it does not exist. */
async function ownSettlement(settlementId: string, who: Principal) {
  const s = await store.getSettlement(settlementId);
  if (!s || (who.role !== 'operator' && s.institutionId !== who.inst)) throw problem('not-found', `no settlement ${settlementId}`);
  return s;
}

export const handler = apiHandler(voucherRoutes, {
  async activateVoucher({ body, now, requestId }) {
    const personId = personIdFromHash(await nationalIdHash(body.nationalId));
    const person = await getPerson(personId);
    // One answer for "unknown ID" and "wrong name": the caller learns nothing about who is enrolled.
    if (!person || !sameName(person.name, body.name)) throw problem('not-enrolled', 'no enrolment matches this national ID and name');
    const candidate: Voucher = { voucherId: newId('vch'), personId, status: 'active', channel: body.channel, activatedAt: now.toISOString() };
    const { voucher, created } = await store.activateVoucher(candidate, { now, correlationId: requestId });
    return { status: created ? 201 : 200, body: voucher, headers: { location: `/vouchers/${voucher.voucherId}` } };
  },

  async getVoucher({ params }) {
    const v = await store.getVoucher(params.voucherId);
    if (!v) throw problem('not-found', `no voucher ${params.voucherId}`);
    return { status: 200, body: v };
  },

  async suspendVoucher({ params, now, requestId }) {
    return { status: 200, body: await store.transitionVoucher(params.voucherId, 'suspend', { now, correlationId: requestId }) };
  },

  async resumeVoucher({ params, now, requestId }) {
    return { status: 200, body: await store.transitionVoucher(params.voucherId, 'resume', { now, correlationId: requestId }) };
  },

  async issueVoucherCode({ params, now }) {
    const v = await store.getVoucher(params.voucherId);
    if (!v) throw problem('not-found', `no voucher ${params.voucherId}`);
    if (v.status !== 'active') throw problem('voucher-not-active', `the voucher is ${v.status}`);
    const { code, expiresAt } = await issueCode(v.voucherId, v.personId, now);
    return { status: 201, body: { code, expiresAt: expiresAt.toISOString() } };
  },

  settle: (req) => settle(req),

  async getSettlement({ params, principal }) {
    return { status: 200, body: await ownSettlement(params.settlementId, principal) };
  },

  async reverseSettlement({ params, principal, now, requestId }) {
    const s = await ownSettlement(params.settlementId, principal);
    if (!(settlementTransitions.reverse.from as readonly string[]).includes(s.status)) {
      throw problem('invalid-transition', `settlement is already ${s.status}`);
    }
    const tz = provinceConfig().timeZone;
    if (!reversibleOn(s.settledAt, now, tz)) {
      throw problem('invalid-transition', `a settlement can only be reversed on its own day (${calendarDay(new Date(s.settledAt), tz)}, ${tz})`);
    }
    return { status: 200, body: await store.writeReversal(s, { now, correlationId: requestId }) };
  },

  async listSettlements({ query, principal }) {
    const page = await store.listSettlementsOfDay(principal.inst!, query.date, query.limit, query.nextToken);
    return { status: 200, body: { date: query.date, ...page } };
  },
});
