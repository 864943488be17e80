// JWT verification, pinned: issuer, audience, expiry, an algorithm allow-list, key chosen by kid
// from the province's JWKS, and the province claim. Every failure is "unauthorized" to the caller;
// the reason goes to the log (without the token).
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { principal, type Principal } from '#shared/principal';

export const ALLOWED_ALGORITHMS = ['ES256', 'RS256'];

export interface VerifierConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  province: string;
}

export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

export function tokenVerifier(config: VerifierConfig, keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(config.jwksUrl))) {
  return async (token: string): Promise<Principal> => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALLOWED_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 30,
      }));
    } catch (err) {
      const code = err instanceof errors.JOSEError ? err.code : 'ERR_MALFORMED';
      throw new TokenRejected(code);
    }
    const claims = principal.safeParse({ sub: payload.sub, role: payload.role, inst: payload.inst, prov: payload.prov });
    if (!claims.success) throw new TokenRejected('ERR_CLAIMS_INVALID');
    if (claims.data.prov !== config.province) throw new TokenRejected('ERR_WRONG_PROVINCE');
    return claims.data;
  };
}
