// DynamoDB access of the operator context.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { drug, enrolment, institution, type Drug, type Institution } from '#schemas/institutions';
import { calendarYear } from '#shared/clock';
import { mapLimited } from '#shared/concurrency';
import { batchGet, batchPut, ddb, decodeToken, encodeToken, keyOf, queryAll, tableName, TransactionConflict, updateExpression, withRaceRetries, writeTransaction } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import { DrugCatalogChanged, InstitutionChanged, InstitutionRegistered, PersonalAccountCredited } from '#events/institutions';
import { displayForms, pooledUsedThisYear, type EnrolmentPerson } from './domain.ts';
import {
  consortiumRouteKey, consortiumRoutePartition, departmentRouteDistrictPrefix, departmentRouteKey, departmentRoutePartition, drugKey, drugListKey,
  accountCreditKey, institutionDistrictKey, institutionKey, institutionListKey, personKey,
} from './keys.ts';

// Stored shapes are parsed on read (unknown attributes such as keys are stripped).
const institutionItem = z.object(institution.shape);
const drugItem = z.object(drug.shape);
export const personItem = z.object({
  personId: z.string(),
  nationalIdHash: z.string(),
  nationalIdMasked: z.string(),
  name: z.string(),
  phone: z.string().optional(),
  phoneMasked: z.string().optional(),
  district: z.string(),
  personalAccountFen: z.number().int(),
  annualPooledUsedFen: z.number().int().default(0),
  pooledYear: z.number().int().optional(),
});
export type PersonItem = z.infer<typeof personItem>;

async function readInstitution(id: string, consistent: boolean): Promise<Institution | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: institutionKey(id), ConsistentRead: consistent }));
  return Item ? institutionItem.parse(Item) : undefined;
}
export const getInstitution = (id: string) => readInstitution(id, false);
/** As last written: what a change is made over. */
export const currentInstitution = (id: string) => readInstitution(id, true);

/**
 * What referral routing knows of an institution for one department (its routing entry): enough for
 * the ranking (functions/referrals/domain.ts Candidate), with that department alone.
 */
const departmentRoute = z.object({
  id: z.string(),
  type: institution.shape.type,
  designated: z.boolean(),
  district: z.string(),
  leadHospitalId: z.string().optional(),
  departments: z.array(z.object({ code: z.string(), dailyCapacity: z.number().int() })).length(1),
});
export type DepartmentRoute = z.infer<typeof departmentRoute>;

/** The routing entries of an institution's departments: written with it, replaced when it changes. */
function departmentRoutes(inst: Institution) {
  return (inst.departments ?? []).map(({ code, dailyCapacity }) => ({
    ...departmentRouteKey(inst.type, code, inst.district, inst.id),
    ...(inst.type === 'clinic' && inst.leadHospitalId ? consortiumRouteKey(code, inst.leadHospitalId, inst.id) : {}),
    entity: 'departmentRoute',
    ...departmentRoute.parse({
      id: inst.id,
      type: inst.type,
      designated: inst.designated,
      district: inst.district,
      ...(inst.leadHospitalId ? { leadHospitalId: inst.leadHospitalId } : {}),
      departments: [{ code, dailyCapacity }],
    }),
  }));
}

export async function putInstitution(inst: Institution, ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: {
            ...institutionKey(inst.id),
            ...institutionListKey(inst.type, inst.id),
            ...institutionDistrictKey(inst.type, inst.district, inst.id),
            entity: 'institution',
            ...inst,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      onConditionFailed: () => problem('conflict', `institution ${inst.id} is already registered`),
    },
    // Unconditional: an entry exists only if its institution does, and the institution's condition fails the lot.
    ...departmentRoutes(inst).map((Item) => ({ write: { Put: { TableName: tableName(), Item } } })),
    outboxEvent(
      InstitutionRegistered,
      { institutionId: inst.id, type: inst.type, district: inst.district, designated: inst.designated },
      ctx,
    ),
  ]);
}

/**
 * Replaces a registered institution with `next`, in one transaction: the institution (on condition
 * that it is still the version `prev` was read at: a concurrent change makes the caller read again),
 * its routing entries (those of departments gone, or under a district or lead hospital no longer its
 * own, deleted), and an InstitutionChanged event.
 */
export async function replaceInstitution(prev: Institution, next: Institution, ctx: EventContext): Promise<void> {
  const routes = departmentRoutes(next);
  const kept = new Set(routes.map(keyOf));
  const gone = departmentRoutes(prev).filter((r) => !kept.has(keyOf(r)));
  // One transaction holds 100 writes: a hospital of many departments moving district at once is refused.
  if (routes.length + gone.length + 2 > 100) {
    throw problem('validation-failed', `the change rewrites ${routes.length + gone.length} department routing entries, more than one transaction holds`, [
      { path: 'body.departments', message: 'too many departments changed at once: change the district (or lead hospital) with fewer departments, then add the rest' },
    ]);
  }
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...institutionKey(next.id), ...institutionListKey(next.type, next.id), ...institutionDistrictKey(next.type, next.district, next.id), entity: 'institution', ...next },
          ConditionExpression: prev.version ? 'version = :v' : 'attribute_exists(PK) AND attribute_not_exists(version)',
          ...(prev.version ? { ExpressionAttributeValues: { ':v': prev.version } } : {}),
        },
      },
      onConditionFailed: () => new TransactionConflict(`institution ${next.id} changed concurrently`),
    },
    ...gone.map((r) => ({ write: { Delete: { TableName: tableName(), Key: { PK: r.PK, SK: r.SK } } } })),
    ...routes.map((Item) => ({ write: { Put: { TableName: tableName(), Item } } })),
    outboxEvent(
      InstitutionChanged,
      { institutionId: next.id, type: next.type, district: next.district, designated: next.designated, previousDistrict: prev.district, previouslyDesignated: prev.designated },
      ctx,
    ),
  ]);
}

async function queryInstitutions(type: string | undefined, limit: number | undefined, startKey: Record<string, unknown> | undefined) {
  return ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI1',
      KeyConditionExpression: type ? 'GSI1PK = :pk AND begins_with(GSI1SK, :type)' : 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': INSTITUTION_LIST.GSI1PK, ...(type ? { ':type': `${type}#` } : {}) },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
}

const INSTITUTION_LIST = { GSI1PK: 'INSTITUTIONS' };

export async function listInstitutions(type: string | undefined, limit: number, nextToken?: string) {
  const res = await queryInstitutions(type, limit, decodeToken(nextToken, INSTITUTION_LIST, type && `${type}#`));
  return { items: (res.Items ?? []).map((i) => institutionItem.parse(i)), nextToken: encodeToken(res.LastEvaluatedKey) };
}

/**
 * Gives institutions registered before routing read by district (issue 16) what registration writes
 * now: the district key on the institution and a routing entry per department. Idempotent: run it
 * once after deploying, again after an interruption. One page of the institution list per call.
 */
export async function backfillRouting(startKey?: Record<string, unknown>): Promise<{ institutions: number; next?: Record<string, unknown> }> {
  const res = await queryInstitutions(undefined, 100, startKey);
  const page = (res.Items ?? []).map((i) => institutionItem.parse(i));
  for (const inst of page) {
    const { GSI2PK, GSI2SK } = institutionDistrictKey(inst.type, inst.district, inst.id);
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: institutionKey(inst.id),
        UpdateExpression: 'SET GSI2PK = :pk, GSI2SK = :sk',
        ExpressionAttributeValues: { ':pk': GSI2PK, ':sk': GSI2SK },
      }),
    );
  }
  await batchPut(page.flatMap(departmentRoutes));
  return { institutions: page.length, ...(res.LastEvaluatedKey ? { next: res.LastEvaluatedKey } : {}) };
}

/** The registered institutions of one type in one district (GSI2): the candidates of pharmacy routing. */
export async function institutionsInDistrict(type: Institution['type'], district: string): Promise<Institution[]> {
  const { GSI2PK } = institutionDistrictKey(type, district, '');
  const items = await queryAll({
    TableName: tableName(),
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk',
    ExpressionAttributeValues: { ':pk': GSI2PK },
  });
  return items.map((i) => institutionItem.parse(i));
}

/**
 * The routing entries of the institutions of `type` with `department`: those of one district when
 * `district` is given, else the province's (routing's last resort, when the sender's own district
 * and consortium have no free slot).
 */
export async function departmentCandidates(type: Institution['type'], department: string, district?: string): Promise<DepartmentRoute[]> {
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: district === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :district)',
    ExpressionAttributeValues: { ':pk': departmentRoutePartition(type, department), ...(district === undefined ? {} : { ':district': departmentRouteDistrictPrefix(district) }) },
  });
  return items.map((i) => departmentRoute.parse(i));
}

/** The routing entries of a lead hospital's consortium clinics with `department` (GSI1). */
export async function consortiumCandidates(department: string, leadHospitalId: string): Promise<DepartmentRoute[]> {
  const items = await queryAll({
    TableName: tableName(),
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': consortiumRoutePartition(department, leadHospitalId) },
  });
  return items.map((i) => departmentRoute.parse(i));
}

export async function getPerson(personId: string): Promise<PersonItem | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: personKey(personId) }));
  return Item ? personItem.parse(Item) : undefined;
}

export function toEnrolment(p: PersonItem, now: Date) {
  return enrolment.parse({
    personId: p.personId,
    nationalIdMasked: p.nationalIdMasked,
    name: p.name,
    phoneMasked: p.phoneMasked,
    district: p.district,
    personalAccountFen: p.personalAccountFen,
    annualPooledUsedFen: pooledUsedThisYear(p, now, provinceConfig().timeZone),
  });
}

/** What enrolling one person did: created, updated, or refused (its balances, with why). */
export type EnrolOutcome = 'enrolled' | 'updated' | { refused: Array<{ path: string; message: string }> };

/**
 * Enrols a batch (distinct people), batched as DESIGN.md §11 asks: one BatchGetItem per 100 tells who
 * is new. Each new person is one PutItem conditional on the person not existing, so that a retried or
 * overlapping import can never put back balances a settlement has changed since; one found there
 * after all, and each person already enrolled, is updated by `upsertPerson`, which keeps what
 * settlements changed. Not a transaction of 100 creations: the people are independent, and a
 * transactional write costs two write units where a conditional PutItem costs one, as a raw
 * BatchWriteItem does.
 */
export async function enrolPeople(
  people: ReadonlyArray<{ personId: string; nationalIdHash: string; person: EnrolmentPerson }>,
  now: Date,
  concurrency: number,
): Promise<Map<string, EnrolOutcome>> {
  const known = await batchGet(people.map((p) => personKey(p.personId)), { projection: ['personId'] });
  const outcomes = new Map<string, EnrolOutcome>();
  await mapLimited(people, concurrency, async ({ personId, nationalIdHash, person }) => {
    if (!known.has(keyOf(personKey(personId)))) {
      try {
        const item = { ...personKey(personId), ...newPersonDefaults(now), ...profileFields(personId, nationalIdHash, person, now), ...balanceFields(person, now), balanceVersion: 1, enrolledVersion: 1 };
        await ddb.send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
        return void outcomes.set(personId, 'enrolled');
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    outcomes.set(personId, await upsertPerson(personId, nationalIdHash, person, now));
  });
  return outcomes;
}

/** What a new person starts with unless the enrolment gives it: no pooled-fund use this year. */
function newPersonDefaults(now: Date): Record<string, unknown> {
  return { annualPooledUsedFen: 0, deductibleMetFen: 0, pooledYear: calendarYear(now, provinceConfig().timeZone), createdAt: now.toISOString() };
}

/** Who the person is, as an enrolment gives it. */
function profileFields(personId: string, nationalIdHash: string, p: EnrolmentPerson, now: Date): Record<string, unknown> {
  return { personId, nationalIdHash, ...displayForms(p), name: p.name, district: p.district, updatedAt: now.toISOString(), ...(p.phone ? { phone: p.phone } : {}) };
}

/**
 * The balances an enrolment sets, and the figures it gave (`enrolled*`: what a later enrolment of the
 * same figures, a file sent again, is compared with). Given this year's pooled-fund use, the
 * deductible counts as met if the fund has paid anything.
 */
function balanceFields(p: EnrolmentPerson, now: Date): Record<string, unknown> {
  return {
    personalAccountFen: p.personalAccountFen,
    ...(p.annualPooledUsedFen !== undefined
      ? {
          annualPooledUsedFen: p.annualPooledUsedFen,
          pooledYear: calendarYear(now, provinceConfig().timeZone),
          deductibleMetFen: p.annualPooledUsedFen > 0 ? provinceConfig().policy.annualDeductibleFen : 0,
        }
      : {}),
    ...enrolledFigures(p),
  };
}

const enrolledFigures = (p: EnrolmentPerson) => ({
  enrolledAccountFen: p.personalAccountFen,
  ...(p.annualPooledUsedFen !== undefined ? { enrolledPooledUsedFen: p.annualPooledUsedFen } : {}),
});

/**
 * Updates a person already enrolled. Their balances are set only if nothing has changed them since
 * the last enrolment (`enrolledVersion`, the balance version that enrolment left); otherwise a
 * settlement (or a reversal) has, and a file's figures would put back what it spent: the profile is
 * updated if the figures are the ones enrolled before (the same file again), and the person is
 * refused if they are new figures.
 */
export async function upsertPerson(personId: string, nationalIdHash: string, p: EnrolmentPerson, now: Date): Promise<EnrolOutcome> {
  const set = { ...profileFields(personId, nationalIdHash, p, now), ...balanceFields(p, now) };
  // A new person's defaults, only where the person has nothing yet (and the enrolment gave nothing).
  const defaults = Object.fromEntries(Object.entries(newPersonDefaults(now)).filter(([k]) => !(k in set)));
  const update = updateExpression({ set, setIfMissing: defaults });
  try {
    const res = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: personKey(personId),
        // The version guards settlements: one computed from balances read before this update must
        // recompute. Both versions move by one from equal values (or from none), so they stay equal.
        UpdateExpression: `${update.UpdateExpression}, enrolledVersion = if_not_exists(enrolledVersion, :zero) + :one ADD balanceVersion :one`,
        ConditionExpression: 'attribute_not_exists(PK) OR balanceVersion = enrolledVersion',
        ExpressionAttributeNames: update.ExpressionAttributeNames,
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return res.Attributes?.createdAt ? 'updated' : 'enrolled';
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const current = err.Item ? unmarshall(err.Item) : {};
    const changed = changedFigures(p, current);
    if (changed.length) return { refused: changed };
    // Enrolled before enrolments were tracked, with balances that are the file's figures: those
    // become what it was enrolled with, from its balance version now (unless a settlement comes in between).
    const read = Number(current.balanceVersion ?? 0);
    const adopt = current.enrolledVersion === undefined && read > 0;
    const profile = updateExpression({
      set: { ...profileFields(personId, nationalIdHash, p, now), ...(adopt ? { ...enrolledFigures(p), enrolledVersion: read + 1 } : {}) },
      add: { balanceVersion: 1 },
    });
    try {
      await ddb.send(new UpdateCommand({
        TableName: tableName(), Key: personKey(personId), ...profile,
        ConditionExpression: adopt ? 'balanceVersion = :read' : 'attribute_exists(PK)',
        ...(adopt ? { ExpressionAttributeValues: { ...profile.ExpressionAttributeValues, ':read': read } } : {}),
      }));
    } catch (again) {
      // A settlement came in between: its balances are no longer the file's; ask again from the start.
      if (adopt && again instanceof ConditionalCheckFailedException) return upsertPerson(personId, nationalIdHash, p, now);
      throw again;
    }
    return 'updated';
  }
}

/**
 * The figures of `p` that differ from those the person was last enrolled with (or, enrolled before
 * those were kept, from the balances now), each with why it is not applied.
 */
function changedFigures(p: EnrolmentPerson, current: Record<string, unknown>): Array<{ path: string; message: string }> {
  const was = (enrolled: string, now: string) => Number(current[enrolled] ?? current[now] ?? 0);
  const why = current.enrolledVersion === undefined
    ? 'enrolled before enrolments were tracked, with balances now other than these figures: an enrolment does not overwrite balances a settlement or credit changed'
    : 'settled, reversed or credited since last enrolled with other figures: an enrolment does not overwrite balances a settlement or credit changed';
  return [
    ...(p.personalAccountFen !== was('enrolledAccountFen', 'personalAccountFen') ? [{ path: 'personalAccountFen', message: why }] : []),
    ...(p.annualPooledUsedFen !== undefined && p.annualPooledUsedFen !== was('enrolledPooledUsedFen', 'annualPooledUsedFen') ? [{ path: 'annualPooledUsedFen', message: why }] : []),
  ];
}

/** What crediting one person did (or why not). */
export type CreditOutcome = 'credited' | 'already-credited' | { refused: Array<{ path: string; message: string }> };

class AlreadyCredited extends Error {
  constructor(readonly amountFen: number) {
    super('credited by this batch before');
  }
}
class NotEnrolled extends Error {}

/**
 * Adds `amountFen` to the person's personal account, once per batch: the batch's credit item is put
 * (conditional on its absence) in the transaction that adds the amount and moves the balance
 * version on (a settlement computed from the balance before recomputes; a later enrolment of new
 * figures is refused, as after a settlement). The event goes with it, for the audit trail.
 */
export async function creditAccount(personId: string, batchId: string, amountFen: number, ctx: EventContext): Promise<CreditOutcome> {
  try {
    // Racing a settlement of the person (or another batch): both items are read afresh by DynamoDB, so simply again.
    await withRaceRetries(() => writeTransaction([
      {
        write: {
          Put: {
            TableName: tableName(),
            Item: { ...accountCreditKey(personId, batchId), entity: 'account-credit', personId, batchId, amountFen, creditedAt: ctx.now.toISOString() },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        onConditionFailed: (current) => new AlreadyCredited(Number(current?.amountFen)),
      },
      {
        write: {
          Update: {
            TableName: tableName(),
            Key: personKey(personId),
            UpdateExpression: 'SET personalAccountFen = personalAccountFen + :amount, updatedAt = :at ADD balanceVersion :one',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':amount': amountFen, ':at': ctx.now.toISOString(), ':one': 1 },
          },
        },
        onConditionFailed: () => new NotEnrolled(),
      },
      outboxEvent(PersonalAccountCredited, { personId, batchId, amountFen }, ctx),
    ]));
    return 'credited';
  } catch (err) {
    if (err instanceof AlreadyCredited) {
      return err.amountFen === amountFen
        ? 'already-credited'
        : { refused: [{ path: 'amountFen', message: `batch ${batchId} credited ${err.amountFen} fen to this person before; a batch credits a person once` }] };
    }
    if (err instanceof NotEnrolled) return { refused: [{ path: 'nationalId', message: 'not enrolled' }] };
    throw err;
  }
}

export async function getDrug(code: string): Promise<Drug | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: drugKey(code) }));
  return Item ? drugItem.parse(Item) : undefined;
}

/** Creates or replaces a drug; returns whether it existed. Publishes DrugCatalogChanged with it. */
export async function putDrug(d: Drug, existed: boolean, ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...drugKey(d.drugCode), ...drugListKey(d.drugCode), entity: 'drug', ...d, updatedAt: ctx.now.toISOString() },
          ConditionExpression: existed ? 'attribute_exists(PK)' : 'attribute_not_exists(PK)',
        },
      },
      // Someone else created or deleted it between our read and write: read again.
      onConditionFailed: () => new TransactionConflict('drug changed concurrently'),
    },
    outboxEvent(DrugCatalogChanged, { drugCode: d.drugCode, category: d.category }, ctx),
  ]);
}

const DRUG_LIST = { GSI1PK: drugListKey('').GSI1PK };

export async function listDrugs(limit: number, nextToken?: string) {
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': DRUG_LIST.GSI1PK },
      Limit: limit,
      ExclusiveStartKey: decodeToken(nextToken, DRUG_LIST),
    }),
  );
  return { items: (res.Items ?? []).map((i) => drugItem.parse(i)), nextToken: encodeToken(res.LastEvaluatedKey) };
}
