// Vouchers routes: activation, suspend/resume, QR codes, settlement, reversal, reconciliation.
import { voucherRoutes, type Voucher } from '#schemas/vouchers';
import { calendarDay } from '#shared/clock';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { apiHandler } from '#shared/http';
import { newId } from '#shared/ids';
import { giveBack, take, type Limit } from '#shared/limits';
import { nationalIdHash, personIdFromHash } from '#shared/pii';
import type { Principal } from '#shared/principal';
import { getPerson } from '../institutions/store.ts';
import { issueCode } from './codes.ts';
import { reversibleOn, settlementTransitions } from './domain.ts';
import { settle } from './settle.ts';
import * as store from './store.ts';

/** Names match ignoring surrounding and inner whitespace (channel apps pad differently). */
const sameName = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * Failed activations per channel app and per national ID (its keyed hash), counted whether the ID is
 * unknown or the name wrong, so the limit says nothing about who is enrolled.
 */
const ACTIVATION_WINDOW_SECONDS = 15 * 60;
const MAX_FAILED_ACTIVATIONS = 5;
const activationLimits = (client: string, nationalIdHash: string): Limit[] => [
  { key: `activation-failures#client#${client}`, max: MAX_FAILED_ACTIVATIONS, windowSeconds: ACTIVATION_WINDOW_SECONDS, what: 'too many failed activations by this app' },
  { key: `activation-failures#nid#${nationalIdHash}`, max: MAX_FAILED_ACTIVATIONS, windowSeconds: ACTIVATION_WINDOW_SECONDS, what: 'too many failed activations for this national ID' },
];

/** A settlement is visible to the institution that made it and to operators; to others it does not exist. */
async function ownSettlement(settlementId: string, who: Principal) {
  const s = await store.getSettlement(settlementId);
  if (!s || (who.role !== 'operator' && s.institutionId !== who.inst)) throw problem('not-found', `no settlement ${settlementId}`);
  return s;
}

/** A voucher is the business of the channel apps that activated it and of operators; to other apps it does not exist. */
async function ownVoucher(voucherId: string, who: Principal) {
  const record = await store.getVoucher(voucherId);
  if (!record || (who.role !== 'operator' && !record.channelClients.has(who.sub))) throw problem('not-found', `no voucher ${voucherId}`);
  return record.voucher;
}

export const handler = apiHandler(voucherRoutes, {
  async activateVoucher({ body, principal, now, requestId }) {
    const hash = await nationalIdHash(body.nationalId);
    // Counted before the check (each count conditional on the one it makes), so racing guesses cannot pass the limit together;
    // a successful activation gives its count back.
    const limits = activationLimits(principal.sub, hash);
    await take(limits, now);
    const personId = personIdFromHash(hash);
    const person = await getPerson(personId);
    // One answer for "unknown ID" and "wrong name": the caller learns nothing about who is enrolled.
    if (!person || !sameName(person.name, body.name)) throw problem('not-enrolled', 'no enrolment matches this national ID and name');
    await giveBack(limits, now);
    const candidate: Voucher = { voucherId: newId('vch'), personId, status: 'active', channel: body.channel, activatedAt: now.toISOString() };
    const { voucher, created } = await store.activateVoucher(candidate, principal.sub, { now, correlationId: requestId });
    return { status: created ? 201 : 200, body: voucher, headers: { location: `/vouchers/${voucher.voucherId}` } };
  },

  async getVoucher({ params, principal }) {
    return { status: 200, body: await ownVoucher(params.voucherId, principal) };
  },

  async suspendVoucher({ params, principal, now, requestId }) {
    const v = await ownVoucher(params.voucherId, principal);
    return { status: 200, body: await store.transitionVoucher(v, 'suspend', { now, correlationId: requestId }) };
  },

  async resumeVoucher({ params, principal, now, requestId }) {
    const v = await ownVoucher(params.voucherId, principal);
    return { status: 200, body: await store.transitionVoucher(v, 'resume', { now, correlationId: requestId }) };
  },

  async issueVoucherCode({ params, principal, now }) {
    const v = await ownVoucher(params.voucherId, principal);
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
