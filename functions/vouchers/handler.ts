// Vouchers routes: activation, suspend/resume, QR codes, settlement, reversal, reconciliation.
import { familyRoutes } from '#schemas/family';
import { voucherRoutes, type Voucher } from '#schemas/vouchers';
import { IDENTITY_CHECK_WINDOW_SECONDS } from '#schemas/province';
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
import { reversibleOn, revokeAccess, sameName, settlementTransitions } from './domain.ts';
import { quote, settle } from './settle.ts';
import * as family from './family.ts';
import * as store from './store.ts';

/**
 * Failed identity checks per channel app, and per national ID (its keyed hash) within an app, the
 * person's own attempts (a token acting for them, pid) counted apart: a stranger's guesses never
 * lock a person out of their own voucher. Counted whether the ID is unknown or the name wrong, so
 * the limit says nothing about who is enrolled. Not per ID across apps: then five wrong names from
 * anyone, every 15 minutes, would keep a person from activating in every app.
 */
function activationLimits(caller: Principal, nationalIdHash: string): Limit[] {
  const { failuresPerAppPer15Minutes, failuresPerIdPer15Minutes } = provinceConfig().identityChecks;
  const self = caller.pid !== undefined && caller.pid === personIdFromHash(nationalIdHash);
  return [
    { key: `activation-failures#client#${caller.sub}`, max: failuresPerAppPer15Minutes, windowSeconds: IDENTITY_CHECK_WINDOW_SECONDS, what: 'too many failed identity checks by this app' },
    { key: `activation-failures#nid#${nationalIdHash}#by#${caller.sub}${self ? '#self' : ''}`, max: failuresPerIdPer15Minutes, windowSeconds: IDENTITY_CHECK_WINDOW_SECONDS, what: 'too many failed identity checks for this national ID' },
  ];
}

/** A settlement is visible to the institution that made it and to operators; to others it does not exist. */
async function ownSettlement(settlementId: string, who: Principal) {
  const s = await store.getSettlement(settlementId);
  if (!s || (who.role !== 'operator' && s.institutionId !== who.inst)) throw problem('not-found', `no settlement ${settlementId}`);
  return s;
}

/**
 * A voucher is the business of the channel apps that activated it and of operators; to other apps,
 * and to a token acting for another person (pid), it does not exist.
 */
async function ownVoucher(voucherId: string, who: Principal) {
  const record = await store.getVoucher(voucherId);
  const hidden = !record || (who.role !== 'operator' && (!record.channelClients.has(who.sub) || (who.pid !== undefined && who.pid !== record.voucher.personId)));
  if (hidden) throw problem('not-found', `no voucher ${voucherId}`);
  return record.voucher;
}

/** A binding its payer (through their app) or an operator may revoke: 403 for its beneficiary, 404 for anyone else (revokeAccess). */
async function revocableBinding(bindingId: string, who: Principal) {
  const b = await family.getBinding(bindingId);
  const access = b ? revokeAccess(b, who) : 'hidden';
  if (!b || access === 'hidden') throw problem('not-found', `no binding ${bindingId}`);
  if (access === 'forbidden') throw problem('forbidden', 'only the payer revokes a binding');
  return b;
}

export const handler = apiHandler([...voucherRoutes, ...familyRoutes], {
  async activateVoucher({ body, principal, now, requestId }) {
    const hash = await nationalIdHash(body.nationalId);
    // A token acting for a person activates that person's voucher only.
    if (principal.pid !== undefined && principal.pid !== personIdFromHash(hash)) throw problem('forbidden', 'the token acts for another person');
    // Counted before the check (each count conditional on the one it makes), so racing guesses cannot pass the limit together;
    // a successful activation gives its count back.
    const limits = activationLimits(principal, hash);
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
    // A code spends the person's account: an app issuing one without them is in their access log.
    return { status: 201, body: { code, expiresAt: expiresAt.toISOString() }, person: v.personId };
  },

  settle: (req) => settle(req),

  quoteSettlement: (req) => quote(req),

  async getTraceCode({ params, principal }) {
    const sale = await store.getTraceCodeSale(params.code);
    // The institution that sold it and operators see the sale; to others it does not exist.
    if (!sale || (principal.role !== 'operator' && sale.institutionId !== principal.inst)) throw problem('not-found', `no sale of trace code ${params.code}`);
    return { status: 200, body: sale };
  },

  async createFamilyBinding({ body, principal, now, requestId }) {
    const payerPersonId = principal.pid!;
    const hash = await nationalIdHash(body.beneficiaryNationalId);
    // Naming a relative by ID and name is an identity check like activation: the same limits on guesses.
    const limits = activationLimits(principal, hash);
    await take(limits, now);
    const beneficiaryPersonId = personIdFromHash(hash);
    const [payer, beneficiary] = await Promise.all([getPerson(payerPersonId), getPerson(beneficiaryPersonId)]);
    if (!beneficiary || !sameName(beneficiary.name, body.beneficiaryName)) throw problem('not-enrolled', 'no enrolment matches this national ID and name');
    await giveBack(limits, now);
    if (!payer) throw problem('not-enrolled', 'the payer (the person this app acts for) is not enrolled');
    const { binding, created } = await family.createBinding({ payerPersonId, beneficiaryPersonId, relation: body.relation }, { now, correlationId: requestId });
    // No Location: a binding is read in its people's lists (GET /family-bindings?personId=), not by id.
    return { status: created ? 201 : 200, body: binding };
  },

  async listFamilyBindings({ query }) {
    return { status: 200, body: await family.bindingsPage(query.personId, query.limit, query.nextToken) };
  },

  async revokeFamilyBinding({ params, principal, now, requestId }) {
    const b = await revocableBinding(params.bindingId, principal);
    return { status: 200, body: await family.revokeBinding(b, { now, correlationId: requestId }) };
  },

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
