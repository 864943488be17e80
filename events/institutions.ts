import * as z from 'zod';
import { defineEvent, sources } from './catalog.ts';

/** What routing and settlement depend on: where it is and whether it is designated. */
const institutionDetail = {
  institutionId: z.string(),
  type: z.enum(['clinic', 'hospital', 'pharmacy']),
  district: z.string(),
  designated: z.boolean(),
};

export const InstitutionRegistered = defineEvent({
  source: sources.institutions,
  detailType: 'InstitutionRegistered',
  version: 1,
  detail: institutionDetail,
});

/** A registered institution changed (the operator's PUT): where it is and its designation, before and after. */
export const InstitutionChanged = defineEvent({
  source: sources.institutions,
  detailType: 'InstitutionChanged',
  version: 1,
  detail: { ...institutionDetail, previousDistrict: z.string(), previouslyDesignated: z.boolean() },
});

export const DrugCatalogChanged = defineEvent({
  source: sources.institutions,
  detailType: 'DrugCatalogChanged',
  version: 1,
  detail: { drugCode: z.string(), category: z.enum(['A', 'B', 'C']) },
});

/** 划入: the fund credited an amount to a person's personal account (once per batch and person). */
export const PersonalAccountCredited = defineEvent({
  source: sources.institutions,
  detailType: 'PersonalAccountCredited',
  version: 1,
  detail: { personId: z.string(), batchId: z.string(), amountFen: z.number().int() },
});
