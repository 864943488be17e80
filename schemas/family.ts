// Family mutual aid (家庭共济), API.md v2: a payer's personal account pays what a relative's own
// could not of their insured share. Bindings are made and revoked by the payer, through a channel
// app acting for them (pid).
import * as z from 'zod';
import { isoDateTime, nationalId, page, pageQuery, personName, serverId } from './common.ts';
import { authProblems, defineRoute } from './route.ts';

export const relations = ['spouse', 'parent', 'child', 'grandparent', 'grandchild', 'sibling'] as const;

export const familyBindingRequest = z
  .object({
    beneficiaryNationalId: nationalId,
    beneficiaryName: personName,
    relation: z.enum(relations),
  })
  .strict();

export const familyBinding = z
  .object({
    bindingId: serverId,
    payerPersonId: serverId,
    beneficiaryPersonId: serverId,
    relation: z.enum(relations),
    status: z.enum(['active', 'revoked']),
    createdAt: isoDateTime,
    revokedAt: isoDateTime.optional(),
  })
  .meta({ id: 'FamilyBinding' });
export type FamilyBinding = z.infer<typeof familyBinding>;

const tag = 'family mutual aid';

export const familyRoutes = [
  defineRoute({
    operationId: 'createFamilyBinding',
    method: 'POST',
    path: '/family-bindings',
    fn: 'vouchers',
    auth: ['channel'],
    person: 'pid',
    tag,
    summary:
      "The payer (the token's person) pays a relative's insured share from their own personal account; a person has at most one active payer. The same request again answers 200 with the binding it made",
    body: familyBindingRequest,
    responses: { 201: familyBinding, 200: familyBinding },
    problems: ['validation-failed', 'not-enrolled', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'listFamilyBindings',
    method: 'GET',
    path: '/family-bindings',
    fn: 'vouchers',
    auth: ['channel', 'operator'],
    person: { in: 'query', name: 'personId' },
    tag,
    summary: 'The bindings a person pays for or is paid for by, newest first (the person, through their app; operators)',
    query: pageQuery.extend({ personId: serverId }),
    responses: { 200: page(familyBinding) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'revokeFamilyBinding',
    method: 'POST',
    path: '/family-bindings/{bindingId}/revoke',
    fn: 'vouchers',
    auth: ['channel', 'operator'],
    person: 'pid',
    tag,
    summary: 'The payer (or an operator) ends a binding: later settlements no longer draw on the payer. The beneficiary may not (403); to anyone else it does not exist (404)',
    params: z.object({ bindingId: serverId }),
    responses: { 200: familyBinding },
    problems: ['not-found', 'invalid-transition', ...authProblems],
  }),
] as const;
