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

describe('pagination tokens of a filtered list', async () => {
  const { decodeToken, encodeToken } = await import('../../functions/shared/db.ts');
  const key = { PK: 'RX#1', SK: 'PROFILE', GSI2PK: 'RX#AT#ph-1', GSI2SK: 'routed#2026-01-01T00:00:00Z#rx_1' };

  it('must start inside the filter (the sort key of the queried index, or of the table)', () => {
    expect(decodeToken(encodeToken(key), { GSI2PK: 'RX#AT#ph-1' }, 'routed#')).toEqual(key);
    expect(() => decodeToken(encodeToken(key), { GSI2PK: 'RX#AT#ph-1' }, 'accepted#')).toThrow(/nextToken/);
    const stock = { PK: 'PHARMACY#ph-1', SK: 'STOCK#X1' };
    expect(decodeToken(encodeToken(stock), { PK: 'PHARMACY#ph-1' }, 'STOCK#')).toEqual(stock);
    expect(() => decodeToken(encodeToken({ ...stock, SK: 'PROFILE' }), { PK: 'PHARMACY#ph-1' }, 'STOCK#')).toThrow(/nextToken/);
  });
});
