import { describe, expect, it } from 'vitest';

describe('pagination tokens', async () => {
  const { decodeToken, encodeToken } = await import('../../functions/shared/db.ts');
  const key = { PK: 'INST#a', SK: 'PROFILE', GSI1PK: 'INSTITUTIONS', GSI1SK: 'clinic#a' };

  it('round-trip for the list they came from', () => {
    expect(decodeToken(encodeToken(key), { GSI1PK: 'INSTITUTIONS' })).toEqual(key);
    expect(decodeToken(undefined, { GSI1PK: 'INSTITUTIONS' })).toBeUndefined();
  });

  it('are refused (400) for another list, with missing or extra attributes, or as garbage', () => {
    const refused = (token: string) => expect(() => decodeToken(token, { GSI1PK: 'INSTITUTIONS' })).toThrow(/nextToken/);
    refused(encodeToken({ ...key, GSI1PK: 'OTHER' })!);
    refused(encodeToken({ PK: 'INST#a', SK: 'PROFILE', GSI1PK: 'INSTITUTIONS' })!);
    refused(encodeToken({ ...key, extra: 'x' })!);
    refused(encodeToken({ ...key, SK: 5 })!);
    refused('not-base64-json');
  });
});
