// The local stand-in for a province's identity provider: an ES256 key pair kept in DATA_DIR, a JWKS
// the local authorizer fetches over HTTP (the same code path as in AWS), and token signing for
// `npm run token` and the tests.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Role } from '#schemas/common';
import type { ProvinceRuntime } from '#schemas/province';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-dir.ts';

export const DEV_AUDIENCE = 'consortium-api';
export const devIssuerFor = (province: string) => `https://dev-issuer.local/${province}`;

interface KeyFile {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function loadOrCreateKeys(dataDir: string): Promise<KeyFile> {
  const file = join(dataDir, 'dev-issuer.json');
  ensurePrivateDir(dataDir);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const keys: KeyFile = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
  // Write then rename: two processes starting at once both end up with one valid file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: PRIVATE_FILE_MODE });
  if (!existsSync(file)) renameSync(tmp, file);
  return JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
}

export const jwks = (keys: KeyFile) => ({ keys: [keys.publicJwk] });

export interface TokenRequest {
  role: Role;
  institution?: string;
  /** Channel tokens only: the personId the app acts for (the `pid` claim). */
  person?: string;
  province: Pick<ProvinceRuntime, 'code' | 'tokenMaxAgeHours'>;
  subject?: string;
  /** Default and upper bound: the province's tokenMaxAgeHours, past which the authorizer refuses a token anyway. */
  ttlSeconds?: number;
}

export async function signToken(keys: KeyFile, req: TokenRequest): Promise<string> {
  const maxAge = req.province.tokenMaxAgeHours * 3600;
  const ttl = req.ttlSeconds ?? maxAge;
  if (!(ttl > 0 && ttl <= maxAge)) throw new RangeError(`a token's lifetime must be 1..${maxAge} seconds (the province's tokenMaxAgeHours)`);
  const key = await importJWK(keys.privateJwk, 'ES256');
  return new SignJWT({ role: req.role, prov: req.province.code, ...(req.institution ? { inst: req.institution } : {}), ...(req.person ? { pid: req.person } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' })
    .setIssuer(devIssuerFor(req.province.code))
    .setAudience(DEV_AUDIENCE)
    .setSubject(req.subject ?? `${req.role}:${req.institution ?? 'dev'}`)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(key);
}
