// The authorizer's token checks with real keys: a JWKS served over loopback HTTP and fetched by
// jose's remote key set, exactly as the authorizer fetches the province identity provider's.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_SECONDS, tokenVerifier, type VerifierConfig } from '../../functions/authorizer/verify.ts';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'consortium-api';
const MAX_AGE = 12 * 3600;

interface Signer {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signer(kid: string, alg: Signer['alg'] = 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A JWKS endpoint per key set; the verifier under test fetches it over HTTP. */
const servers: Server[] = [];
async function jwksUrl(keys: Signer[]): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
}

const now = () => Math.floor(Date.now() / 1000);

function token(s: Signer, o: { iat?: number | null; exp?: number; kid?: boolean; sub?: string; claims?: Record<string, unknown> } = {}) {
  const jwt = new SignJWT(o.claims ?? { role: 'operator', prov: 'ZJ' })
    .setProtectedHeader({ alg: s.alg, ...(o.kid === false ? {} : { kid: s.kid }) })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(o.sub ?? 'op-1')
    .setExpirationTime(o.exp ?? now() + 3600);
  if (o.iat !== null) jwt.setIssuedAt(o.iat ?? now());
  return jwt.sign(s.privateKey);
}

const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);

let a: Signer;
let b: Signer;
let oneKey: (t: string) => Promise<unknown>;
let twoKeys: (t: string) => Promise<unknown>;

beforeAll(async () => {
  // Two keys of different types, as while an identity provider moves from RS256 to ES256: a token
  // without a kid matches exactly one of them by its alg, so jose alone would accept it.
  [a, b] = await Promise.all([signer('key-a'), signer('key-b', 'RS256')]);
  const config = (url: string): VerifierConfig => ({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, province: 'ZJ', maxTokenAgeSeconds: MAX_AGE });
  oneKey = tokenVerifier(config(await jwksUrl([a])));
  twoKeys = tokenVerifier(config(await jwksUrl([a, b])));
});

afterAll(() => {
  for (const s of servers) s.close();
});

describe('token verifier', () => {
  it('accepts a fresh token, with or without a kid when the set holds one key', async () => {
    expect(await reason(oneKey(await token(a)))).toBe('accepted');
    expect(await reason(oneKey(await token(a, { kid: false })))).toBe('accepted');
  });

  it('a channel token may act for one person (pid); no other role may carry one, nor a malformed one', async () => {
    expect(await oneKey(await token(a, { claims: { role: 'channel', prov: 'ZJ', pid: 'p_abcdefgh' } }))).toMatchObject({ role: 'channel', pid: 'p_abcdefgh' });
    for (const claims of [{ role: 'operator', prov: 'ZJ', pid: 'p_abcdefgh' }, { role: 'clinic', inst: 'clinic-lingyin', prov: 'ZJ', pid: 'p_abcdefgh' }, { role: 'channel', prov: 'ZJ', pid: 'p/../x' }]) {
      expect(await reason(oneKey(await token(a, { claims })))).toBe('TokenRejected: ERR_CLAIMS_INVALID');
    }
  });

  it('refuses a token issued longer ago than the province allows, even with a later exp', async () => {
    const old = await token(a, { iat: now() - MAX_AGE - CLOCK_TOLERANCE_SECONDS - 60, exp: now() + 3600 });
    expect(await reason(oneKey(old))).toBe('TokenRejected: ERR_JWT_EXPIRED');
    const justYoungEnough = await token(a, { iat: now() - MAX_AGE + 60 });
    expect(await reason(oneKey(justYoungEnough))).toBe('accepted');
  });

  it('refuses a token without iat (its age cannot be known)', async () => {
    expect(await reason(oneKey(await token(a, { iat: null })))).toBe('TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('refuses an iat in the future beyond the clock tolerance, accepts one within it', async () => {
    const future = await token(a, { iat: now() + CLOCK_TOLERANCE_SECONDS + 60, exp: now() + 7200 });
    expect(await reason(oneKey(future))).toBe('TokenRejected: ERR_JWT_CLAIM_VALIDATION_FAILED');
    const skewed = await token(a, { iat: now() + CLOCK_TOLERANCE_SECONDS - 10 });
    expect(await reason(oneKey(skewed))).toBe('accepted');
  });

  it('requires a kid when the key set holds more than one key', async () => {
    expect(await reason(twoKeys(await token(a)))).toBe('accepted');
    expect(await reason(twoKeys(await token(b)))).toBe('accepted');
    expect(await reason(twoKeys(await token(a, { kid: false })))).toBe('TokenRejected: ERR_KID_REQUIRED');
    expect(await reason(twoKeys(await token(b, { kid: false })))).toBe('TokenRejected: ERR_KID_REQUIRED');
  });

  it('refuses a subject longer than 256 characters (what is stored from it is bounded) or with control or bidi characters', async () => {
    expect(await reason(oneKey(await token(a, { sub: 'u'.repeat(256) })))).toBe('accepted');
    expect(await reason(oneKey(await token(a, { sub: 'u'.repeat(257) })))).toBe('TokenRejected: ERR_CLAIMS_INVALID');
    // Nor one that would read differently in an access log than it is.
    for (const sub of ['a\u202eb', 'a\nb', 'a\u0000b']) expect(await reason(oneKey(await token(a, { sub })))).toBe('TokenRejected: ERR_CLAIMS_INVALID');
    expect(await reason(oneKey(await token(a, { sub: '王医生-0427' })))).toBe('accepted');
  });

  it('refuses a kid the set does not hold, and a token signed by another key under a known kid', async () => {
    const stranger = await signer('key-c');
    expect(await reason(twoKeys(await token(stranger)))).toBe('TokenRejected: ERR_JWKS_NO_MATCHING_KEY');
    expect(await reason(twoKeys(await token({ ...stranger, kid: 'key-a' })))).toBe('TokenRejected: ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it("fails, rather than refusing the token, when the identity provider's key set cannot be had", async () => {
    const config = (url: string): VerifierConfig => ({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, province: 'ZJ', maxTokenAgeSeconds: MAX_AGE });
    // Nothing listening, an error status, an answer that is not a key set.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/jwks.json`;
    await new Promise((r) => closed.close(r));
    const answering = async (status: number, body: string) => {
      const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
    };
    const good = await token(a);
    expect(await reason(tokenVerifier(config(deadUrl))(good))).toMatch(/^KeySetUnavailable: /);
    expect(await reason(tokenVerifier(config(await answering(503, '{}')))(good))).toBe('KeySetUnavailable: ERR_JOSE_GENERIC');
    expect(await reason(tokenVerifier(config(await answering(200, '{"keys":"none"}')))(good))).toBe('KeySetUnavailable: ERR_JWKS_INVALID');
    // A token the key set does not know stays the token's fault.
    expect(await reason(oneKey(await token(await signer('key-z'))))).toBe('TokenRejected: ERR_JWKS_NO_MATCHING_KEY');
  });
});
