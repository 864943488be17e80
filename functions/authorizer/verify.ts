// JWT verification, pinned: issuer, audience, expiry, a maximum age by iat, an algorithm allow-list,
// key chosen by kid from the province's JWKS, and the province claim. Every failure of the token is
// "unauthorized" to the caller; the reason goes to the log (without the token). A key set that
// cannot be fetched is not the token's failure (KeySetUnavailable).
import { createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { principal, type Principal } from '#shared/principal';

export const ALLOWED_ALGORITHMS = ['ES256', 'RS256'];
/** Seconds of clock skew allowed between the identity provider and us, for exp, nbf and iat alike. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface VerifierConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  province: string;
  /** Tokens issued (iat) longer ago than this are refused, whatever their exp says. */
  maxTokenAgeSeconds: number;
}

/** A key set that can also show what it holds (jose's remote and local sets both can). */
export type KeySet = JWTVerifyGetKey & { jwks(): JSONWebKeySet | undefined };

export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

/**
 * The identity provider's key set could not be had (unreachable, a timeout, an error status, not a
 * key set). Not the token's fault: every caller would get 401 and log in again in vain, while the
 * on-call engineer saw nothing. The authorizer fails instead (API Gateway answers 500, the 5xx alarm).
 */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
}

/** What the key set may answer about a token: it names no key we hold, or more than one. */
const tokenFaults = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

/**
 * With several keys in the set, a token without a kid would make jose try each key in turn; we
 * refuse it instead, so a token is always checked against exactly the key it names.
 */
function kidRequiredWhenSeveral(keys: KeySet): JWTVerifyGetKey {
  const ambiguous = (kid: string | undefined) => kid === undefined && (keys.jwks()?.keys.length ?? 0) > 1;
  return async (header, token) => {
    // The set is fetched (and cached) by the first call, so ask it first, then look at its size.
    const key = await Promise.resolve(keys(header, token)).catch((err: unknown) => {
      if (ambiguous(header.kid)) throw new TokenRejected('ERR_KID_REQUIRED');
      if (err instanceof errors.JOSEError && tokenFaults.has(err.code)) throw err;
      throw new KeySetUnavailable(err instanceof errors.JOSEError ? err.code : (err as Error).name || 'Error');
    });
    if (ambiguous(header.kid)) throw new TokenRejected('ERR_KID_REQUIRED');
    return key;
  };
}

export function tokenVerifier(config: VerifierConfig, keys: KeySet = createRemoteJWKSet(new URL(config.jwksUrl))) {
  const getKey = kidRequiredWhenSeveral(keys);
  return async (token: string): Promise<Principal> => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALLOWED_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        // Also requires iat, and refuses an iat in the future beyond the tolerance.
        maxTokenAge: config.maxTokenAgeSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      if (err instanceof TokenRejected || err instanceof KeySetUnavailable) throw err;
      const code = err instanceof errors.JOSEError ? err.code : 'ERR_MALFORMED';
      throw new TokenRejected(code);
    }
    const claims = principal.safeParse({ sub: payload.sub, role: payload.role, inst: payload.inst, prov: payload.prov, pid: payload.pid });
    if (!claims.success) throw new TokenRejected('ERR_CLAIMS_INVALID');
    if (claims.data.prov !== config.province) throw new TokenRejected('ERR_WRONG_PROVINCE');
    return claims.data;
  };
}
