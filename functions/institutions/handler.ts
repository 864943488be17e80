// Operator and catalog routes: institutions, enrolments, drugs.
import { alertRoutes } from '#schemas/alerts';
import { institutionRoutes } from '#schemas/institutions';
import { IDENTITY_CHECK_WINDOW_SECONDS } from '#schemas/province';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { etagOf, ifMatchAdmits } from '#shared/etag';
import { apiHandler } from '#shared/http';
import { nationalIdHash, personIdFromHash } from '#shared/pii';
import { mapLimited } from '#shared/concurrency';
import { withRaceRetries } from '#shared/db';
import { giveBack, take, type Limit } from '#shared/limits';
import type { Principal } from '#shared/principal';
import { checkCreditBatch, checkEnrolmentBatch, effectiveLevel } from './domain.ts';
import { activatedBy } from '../vouchers/store.ts';
import { listAlerts } from '../alerts/store.ts';
import * as store from './store.ts';

/** Writes in flight per enrolment batch (one person each): fast, but well under the table's burst capacity. */
const ENROL_CONCURRENCY = 16;

/**
 * IDs looked up that are nobody enrolled, per staff member and per institution (an operator: per
 * user). Counted before the read and given back on a hit, as activation's checks are, so racing
 * guesses cannot pass them together; a reception desk mistyping an ID now and then is far below.
 */
function lookupLimits(caller: Principal): Limit[] {
  const { lookupMissesPerUserPer15Minutes, lookupMissesPerInstitutionPer15Minutes } = provinceConfig().identityChecks;
  const limit = (key: string, max: number): Limit => ({ key: `lookup-misses#${key}`, max, windowSeconds: IDENTITY_CHECK_WINDOW_SECONDS, what: 'too many national IDs looked up that are not enrolled' });
  return [limit(`user#${caller.sub}`, lookupMissesPerUserPer15Minutes), ...(caller.inst ? [limit(`inst#${caller.inst}`, lookupMissesPerInstitutionPer15Minutes)] : [])];
}

/** A clinic's consortium lead must be a registered hospital. */
async function checkLead(leadHospitalId: string | undefined): Promise<void> {
  if (!leadHospitalId) return;
  const lead = await store.getInstitution(leadHospitalId);
  if (lead?.type !== 'hospital') {
    throw problem('validation-failed', 'leadHospitalId must name a registered hospital', [{ path: 'body.leadHospitalId', message: 'not a registered hospital' }]);
  }
}

export const handler = apiHandler([...institutionRoutes, ...alertRoutes], {
  async registerInstitution({ body, now, requestId }) {
    await checkLead(body.leadHospitalId);
    const level = effectiveLevel(body);
    const inst = { ...body, ...(level ? { level } : {}), createdAt: now.toISOString(), version: 1 };
    await store.putInstitution(inst, { now, correlationId: requestId });
    return { status: 201, body: inst, headers: { location: `/institutions/${inst.id}` } };
  },

  async updateInstitution({ params, body, headers, now, requestId }) {
    const { id: _id, createdAt: _created, updatedAt: _updated, version: _version, ...fields } = body;
    if (body.id !== undefined && body.id !== params.id) {
      throw problem('validation-failed', `the body names institution ${body.id}, the path ${params.id}`, [{ path: 'body.id', message: `must be ${params.id} (or left out)` }]);
    }
    await checkLead(fields.leadHospitalId);
    // A change racing this one: read again; with If-Match (as the console sends it) that is a 412,
    // so an edit begun from an older copy never puts back what another operator changed.
    return withRaceRetries(async () => {
      const prev = await store.currentInstitution(params.id);
      if (!prev) throw problem('not-found', `no institution ${params.id}`);
      if (ifMatchAdmits(headers['if-match'], prev.version) === false) {
        throw problem('precondition-failed', `institution ${prev.id} has changed since the version you edited (now ${prev.version}); read it again`);
      }
      if (fields.type !== prev.type) {
        throw problem('validation-failed', `institution ${prev.id} is a ${prev.type}; its type does not change (register a new one)`, [{ path: 'body.type', message: `must be ${prev.type}` }]);
      }
      const level = effectiveLevel(fields);
      const { level: _level, ...rest } = fields;
      const next = {
        ...rest,
        id: prev.id,
        ...(level ? { level } : {}),
        createdAt: prev.createdAt,
        updatedAt: now.toISOString(),
        version: prev.version + 1,
      };
      await store.replaceInstitution(prev, next, { now, correlationId: requestId });
      return { status: 200, body: next, headers: { etag: etagOf(next.version) } };
    });
  },

  async getInstitution({ params }) {
    const inst = await store.getInstitution(params.id);
    if (!inst) throw problem('not-found', `no institution ${params.id}`);
    return { status: 200, body: inst, headers: { etag: etagOf(inst.version) } };
  },

  async listInstitutions({ query }) {
    return { status: 200, body: await store.listInstitutions(query.type, query.limit, query.nextToken) };
  },

  async enrol({ body, now }) {
    const { valid, rejected } = checkEnrolmentBatch(body.people);
    const people = await Promise.all(
      valid.map(async ({ index, entry: person }) => {
        const hash = await nationalIdHash(person.nationalId);
        return { index, personId: personIdFromHash(hash), nationalIdHash: hash, person };
      }),
    );
    const outcomes = await store.enrolPeople(people, now, ENROL_CONCURRENCY);
    const personIds: Array<string | null> = body.people.map(() => null);
    let enrolled = 0;
    let updated = 0;
    for (const p of people) {
      const outcome = outcomes.get(p.personId)!;
      if (typeof outcome === 'object') rejected.push({ index: p.index, errors: outcome.refused });
      else {
        personIds[p.index] = p.personId;
        if (outcome === 'enrolled') enrolled++;
        else updated++;
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    return { status: 200, body: { enrolled, updated, rejected, personIds } };
  },

  async creditPersonalAccounts({ body, now, requestId }) {
    const { valid, rejected } = checkCreditBatch(body.credits);
    const credits = await Promise.all(
      valid.map(async ({ index, entry }) => ({ index, personId: personIdFromHash(await nationalIdHash(entry.nationalId)), amountFen: entry.amountFen })),
    );
    const outcomes = await mapLimited(credits, ENROL_CONCURRENCY, (c) => store.creditAccount(c.personId, body.batchId, c.amountFen, { now, correlationId: requestId }));
    const personIds: Array<string | null> = body.credits.map(() => null);
    let credited = 0;
    let alreadyCredited = 0;
    credits.forEach((c, i) => {
      const outcome = outcomes[i]!;
      if (typeof outcome === 'object') return void rejected.push({ index: c.index, errors: outcome.refused });
      personIds[c.index] = c.personId;
      if (outcome === 'credited') credited++;
      else alreadyCredited++;
    });
    rejected.sort((a, b) => a.index - b.index);
    return { status: 200, body: { credited, alreadyCredited, rejected, personIds } };
  },

  async getEnrolment({ params, principal, now }) {
    const person = await store.getPerson(params.personId);
    // A channel app reads only the people whose voucher it activated (it acts for them); a token
    // acting for one person (pid), only that person.
    const hidden =
      !person || (principal.role === 'channel' && ((principal.pid !== undefined && principal.pid !== params.personId) || !(await activatedBy(params.personId, principal.sub))));
    if (hidden) throw problem('not-found', `no enrolment ${params.personId}`);
    return { status: 200, body: store.toEnrolment(person, now) };
  },

  async lookupPerson({ body, principal, now }) {
    const limits = lookupLimits(principal);
    await take(limits, now);
    const person = await store.getPerson(personIdFromHash(await nationalIdHash(body.nationalId))).catch(async (err: unknown) => {
      await giveBack(limits, now);
      throw err;
    });
    if (!person) throw problem('not-enrolled', 'no enrolled person has this national ID', [{ path: 'body.nationalId', message: 'not enrolled' }]);
    await giveBack(limits, now);
    const { personId, nationalIdMasked, name, district } = person;
    return { status: 200, body: { personId, nationalIdMasked, name, district } };
  },

  async listDrugs({ query }) {
    return { status: 200, body: await store.listDrugs(query.limit, query.nextToken) };
  },

  async listAlerts({ query }) {
    return { status: 200, body: { date: query.date, ...(await listAlerts(query.date, query.limit, query.nextToken)) } };
  },

  async getDrug({ params }) {
    const drug = await store.getDrug(params.drugCode);
    if (!drug) throw problem('not-found', `no drug ${params.drugCode}`);
    return { status: 200, body: drug };
  },

  async putDrug({ params, body, now, requestId }) {
    if (body.drugCode !== undefined && body.drugCode !== params.drugCode) {
      throw problem('validation-failed', 'the body names another drug than the path', [
        { path: 'body.drugCode', message: `must equal the path's drug code ${params.drugCode}` },
      ]);
    }
    const drug = { ...body, drugCode: params.drugCode };
    const existed = await withRaceRetries(async () => {
      const existing = await store.getDrug(params.drugCode);
      await store.putDrug(drug, !!existing, { now, correlationId: requestId });
      return !!existing;
    });
    return { status: existed ? 200 : 201, body: drug };
  },
});
