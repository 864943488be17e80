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

export const DrugCatalogChanged = defineEvent({
  source: sources.institutions,
  detailType: 'DrugCatalogChanged',
  version: 1,
  detail: { drugCode: z.string(), category: z.enum(['A', 'B', 'C']) },
});
