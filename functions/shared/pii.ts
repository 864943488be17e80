// National IDs are stored only as a keyed hash (for lookup) and a masked form (for display).
// The personId is derived from the keyed hash, so the same person always gets the same id and
// looking someone up by national ID is a single GetItem.
import { createHmac } from 'node:crypto';
import { secretFrom } from './secrets.ts';

export async function nationalIdHash(nationalId: string): Promise<string> {
  const key = await secretFrom('PII_KEY_SECRET_ID');
  return createHmac('sha256', key).update(`nid:${nationalId}`).digest('base64url');
}

export const personIdFromHash = (hash: string) => `p_${hash.slice(0, 26)}`;
