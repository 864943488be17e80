// The registered institution behind an institution-role token (clinic, hospital, pharmacy): the
// identity provider's claims alone do not make a pharmacy. The HTTP chain (http.ts) checks it on
// every route, against the token's role, before any handler runs.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { institution, type Institution } from '#schemas/institutions';
import { institutionKey } from '../institutions/keys.ts';
import { cached } from './cache.ts';
import { ddb, tableName } from './db.ts';

/** Registrations never change type; a container keeps them a few minutes (one read per caller, not per request). */
const REGISTRATION_TTL_MS = 5 * 60_000;

const institutionItem = z.object(institution.shape);

class NotRegistered extends Error {}

// A miss throws, so `cached` drops it: an institution registered a moment ago is seen at once.
const load = cached(REGISTRATION_TTL_MS, async (id: string) => {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: institutionKey(id) }));
  if (!Item) throw new NotRegistered(id);
  return institutionItem.parse(Item);
});

export async function registeredInstitution(id: string): Promise<Institution | undefined> {
  try {
    return await load(id);
  } catch (err) {
    if (err instanceof NotRegistered) return undefined;
    throw err;
  }
}

export const institutionRoles = ['clinic', 'hospital', 'pharmacy'] as const;
