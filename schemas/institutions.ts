// Operator and catalog part of API.md: institutions, enrolments, drugs.
import * as z from 'zod';
import {
  district, drugCode, freeText, fen, institutionId, isoDateTime, location, nationalId, page, pageQuery, patterned, personName, phone, serverId,
} from './common.ts';
import { fieldErrors } from './problems.ts';
import { authProblems, defineRoute } from './route.ts';

export const institutionTypes = ['clinic', 'hospital', 'pharmacy'] as const;
export type InstitutionType = (typeof institutionTypes)[number];
export const isInstitutionType = (role: string): role is InstitutionType => (institutionTypes as readonly string[]).includes(role);
export const institutionLevels = ['primary', 'secondary', 'tertiary'] as const;

export const department = z.object({
  code: patterned(32, /^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "-" and "_", up to 32 characters'),
  name: freeText(64),
  dailyCapacity: z.number().int().min(0).max(100_000),
});

/**
 * Registration is one transaction of at most 100 writes: the institution, its event and one routing
 * entry per department (functions/institutions/keys.ts).
 */
export const MAX_DEPARTMENTS = 98;

export const institutionInput = z
  .object({
    id: institutionId,
    name: freeText(128),
    type: z.enum(institutionTypes),
    level: z.enum(institutionLevels).optional(),
    district,
    location: location.optional(),
    designated: z.boolean(),
    departments: z
      .array(department)
      .max(MAX_DEPARTMENTS)
      .refine((ds) => new Set(ds.map((d) => d.code)).size === ds.length, 'department codes must be unique')
      .optional(),
    /** Consortium lead hospital of a clinic: preferred target of its upward referrals. */
    leadHospitalId: institutionId.optional(),
  })
  .strict();

/** `platform` names the platform itself in histories; a pharmacy has no departments. */
const institutionRules = (i: { id?: string; type: string; departments?: unknown[] }, ctx: z.RefinementCtx) => {
  if (i.id?.toLowerCase() === 'platform') ctx.addIssue({ code: 'custom', path: ['id'], message: 'reserved: "platform" names the platform itself in histories' });
  if (i.type === 'pharmacy' && i.departments?.length) ctx.addIssue({ code: 'custom', path: ['departments'], message: 'a pharmacy has no departments' });
};
/** What POST /institutions takes. */
export const institutionRequest = institutionInput.superRefine(institutionRules);
/**
 * What PUT /institutions/{id} takes: what GET returns, changed (a round trip). The id (if repeated)
 * and the type must be the registered ones; createdAt and updatedAt are the server's, and ignored.
 */
export const institutionPut = institutionInput
  .extend({ id: institutionId.optional(), createdAt: isoDateTime.optional(), updatedAt: isoDateTime.optional(), version: z.number().int().nonnegative().optional() })
  .superRefine(institutionRules);

export const institution = institutionInput
  .extend({
    createdAt: isoDateTime,
    updatedAt: isoDateTime.optional(),
    /** Moves with each change; the ETag. A PUT with If-Match naming another is 412 (registered before versions: 0). */
    version: z.number().int().nonnegative().max(1_000_000).default(0),
  })
  .meta({ id: 'Institution' });
export type Institution = z.infer<typeof institution>;

/**
 * ¥1,000,000: a personal account is a few per cent of a salary a year, and a balance above this in an
 * enrolment file is a slip of units (fen for yuan), not savings. Credits add to it afterwards.
 */
export const MAX_ENROLMENT_BALANCE_FEN = 100_000_000;

export const enrolmentPerson = z
  .object({
    nationalId,
    name: personName,
    phone: phone.optional(),
    district,
    personalAccountFen: z.number().int().min(0).max(MAX_ENROLMENT_BALANCE_FEN, `at most ${MAX_ENROLMENT_BALANCE_FEN} fen (¥1,000,000) enrolled as a balance`)
      .meta({ description: 'Balance in integer fen (1 yuan = 100 fen), at most ¥1,000,000' }),
    annualPooledUsedFen: fen.optional(),
  })
  .strict();

export const MAX_ENROLMENT_BATCH = 500;

export const enrolmentRequest = z.object({
  people: z.array(z.unknown()).min(1, 'at least one person').max(MAX_ENROLMENT_BATCH, `at most ${MAX_ENROLMENT_BATCH} people per request`),
});

const batchCount = z.number().int().min(0).max(MAX_ENROLMENT_BATCH);
/** The entries of a batch (people, credits) that were not applied, by index, each with why. */
const batchRejections = z.array(z.object({ index: batchCount, errors: fieldErrors })).max(MAX_ENROLMENT_BATCH);
/** A person id per entry of a batch, in request order (null where rejected). */
const batchPersonIds = z.array(serverId.nullable()).max(MAX_ENROLMENT_BATCH);

export const enrolmentResult = z.object({
  enrolled: batchCount,
  updated: batchCount,
  rejected: batchRejections,
  /** personId of each accepted person, in request order (null where rejected). */
  personIds: batchPersonIds,
});

/**
 * 划入: an amount the fund credits to one person's personal account (its yearly or monthly credit),
 * added to the balance, never a balance. More than ¥100,000 at once is a slip of units, not a credit.
 */
export const MAX_CREDIT_FEN = 10_000_000;
export const accountCredit = z
  .object({
    nationalId,
    amountFen: z.number().int().min(1, 'a credit adds at least 1 fen').max(MAX_CREDIT_FEN, `at most ${MAX_CREDIT_FEN} fen (¥100,000) in one credit`),
  })
  .strict();
export type AccountCredit = z.infer<typeof accountCredit>;

/** Names one crediting run (2027年度划入, 2027-01): a person is credited once per batch, however often it is sent. */
export const creditBatchId = patterned(64, /^[\p{L}\p{N}_.:-]+$/u, 'letters, digits, _ . : - (at most 64)');

export const creditRequest = z.object({
  batchId: creditBatchId,
  credits: z.array(z.unknown()).min(1, 'at least one credit').max(MAX_ENROLMENT_BATCH, `at most ${MAX_ENROLMENT_BATCH} credits per request`),
});

export const creditResult = z.object({
  /** People credited by this request. */
  credited: batchCount,
  /** People this batch had credited before with the same amount (a file sent again): not credited twice. */
  alreadyCredited: batchCount,
  /** Not credited: invalid, not enrolled, or credited by this batch before with another amount. */
  rejected: batchRejections,
  /** personId of each person credited now or before, in request order (null where rejected). */
  personIds: batchPersonIds,
});

export const enrolment = z
  .object({
    personId: serverId,
    nationalIdMasked: patterned(18, /^\d{3}\*{11}[\dX]{4}$/, 'a masked resident ID'),
    name: personName,
    phoneMasked: patterned(11, /^1\d{2}\*{4}\d{4}$/, 'a masked mobile number').optional(),
    district,
    personalAccountFen: fen,
    annualPooledUsedFen: fen,
  })
  .meta({ id: 'Enrolment' });
export type Enrolment = z.infer<typeof enrolment>;

/** A clinician finds an enrolled person by national ID (in the body, never in a URL or a log). */
export const personLookupRequest = z.object({ nationalId }).strict();
/** What a clinic or hospital needs to refer or prescribe: no balances, no phone. */
export const personSummary = enrolment.pick({ personId: true, nationalIdMasked: true, name: true, district: true }).meta({ id: 'PersonSummary' });
export type PersonSummary = z.infer<typeof personSummary>;

export const drugCategories = ['A', 'B', 'C'] as const;
export const drugInput = z
  .object({
    name: freeText(128),
    category: z.enum(drugCategories),
    unit: freeText(32),
    /** Whether a long prescription (over 28 days, 长期处方) may include it; not, e.g., for antibiotics. */
    longTermAllowed: z.boolean().default(true),
  })
  .strict();
export const drug = drugInput.extend({ drugCode }).meta({ id: 'Drug' });
export type Drug = z.infer<typeof drug>;
/** PUT takes what GET returns (a round trip): the body may repeat the path's drugCode (checked equal). */
export const drugPut = drugInput.extend({ drugCode: drugCode.optional() });

const tag = 'operator';
export const institutionRoutes = [
  defineRoute({
    operationId: 'registerInstitution',
    method: 'POST',
    path: '/institutions',
    fn: 'institutions',
    auth: ['operator'],
    tag,
    summary: 'Register a clinic, hospital or pharmacy',
    body: institutionRequest,
    responses: { 201: institution },
    problems: ['validation-failed', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'getInstitution',
    method: 'GET',
    path: '/institutions/{id}',
    fn: 'institutions',
    auth: ['operator', 'channel', 'clinic', 'hospital', 'pharmacy'],
    tag,
    summary: 'One institution; the ETag names its version',
    params: z.object({ id: institutionId }),
    responses: { 200: institution },
    etag: 'read',
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'updateInstitution',
    method: 'PUT',
    path: '/institutions/{id}',
    fn: 'institutions',
    auth: ['operator'],
    tag,
    summary:
      'Change a registered institution (its designation, name, district, location, level, departments and capacity, lead hospital): ' +
      'the representation GET returns, changed, with If-Match naming the version it was read at (412 if it changed since). ' +
      'Its id and type stay. Routing and settlement follow within 5 minutes (their caches)',
    params: z.object({ id: institutionId }),
    body: institutionPut,
    responses: { 200: institution },
    etag: 'if-match',
    problems: ['validation-failed', 'not-found', 'precondition-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'listInstitutions',
    method: 'GET',
    path: '/institutions',
    fn: 'institutions',
    auth: ['operator', 'channel', 'clinic', 'hospital', 'pharmacy'],
    tag,
    summary: 'Institutions of the province, optionally of one type',
    query: pageQuery.extend({ type: z.enum(institutionTypes).optional() }),
    responses: { 200: page(institution) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'enrol',
    method: 'POST',
    path: '/enrollments',
    fn: 'institutions',
    auth: ['operator'],
    tag,
    summary: 'Enrol or update insured people (1..500); invalid people are rejected by index, the rest enrol',
    body: enrolmentRequest,
    docBody: z.object({ people: z.array(enrolmentPerson).min(1).max(MAX_ENROLMENT_BATCH) }),
    // Up to 500 people per call: bigger bodies, fewer calls.
    maxBodyBytes: 1024 * 1024,
    throttle: { rate: 5, burst: 10 },
    responses: { 200: enrolmentResult },
    problems: ['validation-failed', ...authProblems],
  }),
  // An enrolment sets balances, and is refused for anyone who has settled since (it would put back
  // what they spent); a credit adds. Once per batchId and person: the same batch sent again answers
  // alreadyCredited; with another amount it is rejected by index.
  defineRoute({
    operationId: 'creditPersonalAccounts',
    method: 'POST',
    path: '/personal-account-credits',
    fn: 'institutions',
    auth: ['operator'],
    tag,
    summary: "Credit amounts to insured people's personal accounts (划入, 1..500), once per batch and person; invalid or unknown people are rejected by index",
    body: creditRequest,
    docBody: z.object({ batchId: creditBatchId, credits: z.array(accountCredit).min(1).max(MAX_ENROLMENT_BATCH) }),
    throttle: { rate: 5, burst: 10 },
    responses: { 200: creditResult },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'getEnrolment',
    method: 'GET',
    path: '/enrollments/{personId}',
    fn: 'institutions',
    auth: ['operator', 'channel'],
    tag,
    summary: 'Enrolment and balances of one person',
    params: z.object({ personId: serverId }),
    responses: { 200: enrolment },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'lookupPerson',
    method: 'POST',
    path: '/people/lookup',
    fn: 'institutions',
    auth: ['operator', 'clinic', 'hospital'],
    tag,
    summary: 'Find an enrolled person by national ID (POST: the ID stays out of URLs and access logs); not enrolled → 422; too many IDs not enrolled from one institution in 15 minutes → 429',
    body: personLookupRequest,
    readOnly: true,
    responses: { 200: personSummary },
    problems: ['validation-failed', 'not-enrolled', ...authProblems],
  }),
  defineRoute({
    operationId: 'listDrugs',
    method: 'GET',
    path: '/drugs',
    fn: 'institutions',
    auth: ['operator', 'channel', 'clinic', 'hospital', 'pharmacy'],
    tag: 'catalog',
    summary: 'The drug catalog, by drug code',
    query: pageQuery,
    responses: { 200: page(drug) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'getDrug',
    method: 'GET',
    path: '/drugs/{drugCode}',
    fn: 'institutions',
    auth: ['operator', 'channel', 'clinic', 'hospital', 'pharmacy'],
    tag: 'catalog',
    summary: 'One drug of the catalog',
    params: z.object({ drugCode }),
    responses: { 200: drug },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'putDrug',
    method: 'PUT',
    path: '/drugs/{drugCode}',
    fn: 'institutions',
    auth: ['operator'],
    tag: 'catalog',
    summary: 'Create (201) or replace (200) a drug of the catalog; takes the representation GET returns (a drugCode in the body must equal the path\'s)',
    params: z.object({ drugCode }),
    body: drugPut,
    responses: { 200: drug, 201: drug },
    problems: ['validation-failed', ...authProblems],
  }),
] as const;
