import * as z from 'zod';
import { defineEvent, sources } from './catalog.ts';

export const InstitutionRegistered = defineEvent({
  source: sources.institutions,
  detailType: 'InstitutionRegistered',
  version: 1,
  detail: {
    institutionId: z.string(),
    type: z.enum(['clinic', 'hospital', 'pharmacy']),
    district: z.string(),
    designated: z.boolean(),
  },
});

/** A registered institution changed (the operator's PUT): what routing and settlement depend on, before and after. */
export const InstitutionChanged = defineEvent({
  source: sources.institutions,
  detailType: 'InstitutionChanged',
  version: 1,
  detail: {
    institutionId: z.string(),
    type: z.enum(['clinic', 'hospital', 'pharmacy']),
    district: z.string(),
    designated: z.boolean(),
    previousDistrict: z.string(),
    previouslyDesignated: z.boolean(),
  },
});

export const DrugCatalogChanged = defineEvent({
  source: sources.institutions,
  detailType: 'DrugCatalogChanged',
  version: 1,
  detail: { drugCode: z.string(), category: z.enum(['A', 'B', 'C']) },
});
