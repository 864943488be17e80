// DynamoDB access of the operator context.
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { drug, enrolment, institution, type Drug, type Institution } from '#schemas/institutions';
import { calendarYear } from '#shared/clock';
import { ddb, decodeToken, encodeToken, tableName, TransactionConflict, writeTransaction } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
import { outboxEvent, type EventContext } from '#shared/outbox';
import { DrugCatalogChanged, InstitutionRegistered } from '#events/institutions';
import { displayForms, pooledUsedThisYear, type EnrolmentPerson } from './domain.ts';
import { drugKey, drugListKey, institutionKey, institutionListKey, personKey } from './keys.ts';

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

export async function getInstitution(id: string): Promise<Institution | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: institutionKey(id) }));
  return Item ? institutionItem.parse(Item) : undefined;
}

export async function putInstitution(inst: Institution, ctx: EventContext): Promise<void> {
  await writeTransaction([
    {
      write: {
        Put: {
          TableName: tableName(),
          Item: { ...institutionKey(inst.id), ...institutionListKey(inst.type, inst.id), entity: 'institution', ...inst },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      onConditionFailed: () => problem('conflict', `institution ${inst.id} is already registered`),
    },
    outboxEvent(
      InstitutionRegistered,
      { institutionId: inst.id, type: inst.type, district: inst.district, designated: inst.designated },
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

/** Every registered institution of one type, all pages: the candidates of referral and prescription routing. */
export async function allInstitutions(type: Institution['type']): Promise<Institution[]> {
  const all: Institution[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await queryInstitutions(type, undefined, startKey);
    all.push(...(res.Items ?? []).map((i) => institutionItem.parse(i)));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return all;
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

/** Creates or updates one person; returns whether the person existed before. */
export async function upsertPerson(personId: string, nationalIdHash: string, p: EnrolmentPerson, now: Date): Promise<'enrolled' | 'updated'> {
  const year = calendarYear(now, provinceConfig().timeZone);
  const set: Record<string, unknown> = {
    personId,
    nationalIdHash,
    ...displayForms(p),
    name: p.name,
    district: p.district,
    personalAccountFen: p.personalAccountFen,
    updatedAt: now.toISOString(),
    ...(p.phone ? { phone: p.phone } : {}),
    // Given this year's pooled-fund use, the deductible counts as met if the fund has paid anything.
    ...(p.annualPooledUsedFen !== undefined
      ? { annualPooledUsedFen: p.annualPooledUsedFen, pooledYear: year, deductibleMetFen: p.annualPooledUsedFen > 0 ? provinceConfig().policy.annualDeductibleFen : 0 }
      : {}),
  };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':now': now.toISOString(), ':one': 1 };
  const clauses = Object.entries(set).map(([k, v], i) => {
    names[`#a${i}`] = k;
    values[`:a${i}`] = v;
    return `#a${i} = :a${i}`;
  });
  clauses.push('createdAt = if_not_exists(createdAt, :now)');
  if (p.annualPooledUsedFen === undefined) {
    Object.assign(values, { ':zero': 0, ':year': year });
    clauses.push(
      'annualPooledUsedFen = if_not_exists(annualPooledUsedFen, :zero)',
      'deductibleMetFen = if_not_exists(deductibleMetFen, :zero)',
      'pooledYear = if_not_exists(pooledYear, :year)',
    );
  }
  const res = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: personKey(personId),
      // The version guards settlements: one computed from balances read before this update must recompute.
      UpdateExpression: `SET ${clauses.join(', ')} ADD balanceVersion :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_OLD',
    }),
  );
  return res.Attributes?.createdAt ? 'updated' : 'enrolled';
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
