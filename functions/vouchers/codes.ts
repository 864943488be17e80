// E-voucher QR codes: compact JWS (HS256, per-province key from Secrets Manager), bound to the
// voucher and person, with a jti whose single use the settlement transaction enforces. The `kid`
// is the secret's version, so codes signed just before a key rotation still verify after it.
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import { newId } from '#shared/ids';
import { currentSecret, secretVersion, type SecretValue } from '#shared/secrets';

const AUDIENCE = 'consortium-voucher-code';
const issuer = () => `consortium:${provinceConfig().code}`;

const SECRET = 'VOUCHER_KEY_SECRET_ID';
const asKey = (s: SecretValue) => ({ kid: s.versionId, key: new TextEncoder().encode(s.value) });

export interface CodeClaims {
  voucherId: string;
  personId: string;
  jti: string;
  expiresAt: Date;
}

export async function issueCode(voucherId: string, personId: string, now: Date): Promise<{ code: string; expiresAt: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + provinceConfig().voucherCodeTtlSeconds;
  const { kid, key } = asKey(await currentSecret(SECRET));
  const code = await new SignJWT({ pid: personId })
    .setProtectedHeader({ alg: 'HS256', typ: 'voucher-code', kid })
    .setIssuer(issuer())
    .setAudience(AUDIENCE)
    .setSubject(voucherId)
    .setJti(newId('c'))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { code, expiresAt: new Date(exp * 1000) };
}

const claims = z.object({ sub: z.string(), pid: z.string(), jti: z.string(), exp: z.number() });

/** Verifies signature, issuer, audience and expiry; a code past its expiry is 410 code-expired. */
export async function verifyCode(code: string, now: Date): Promise<CodeClaims> {
  try {
    const { kid } = decodeProtectedHeader(code);
    if (typeof kid !== 'string' || !/^[\w-]{1,64}$/.test(kid)) throw new Error('no kid');
    const { key } = asKey(await secretVersion(SECRET, kid));
    const { payload } = await jwtVerify(code, key, {
      algorithms: ['HS256'],
      issuer: issuer(),
      audience: AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'jti', 'sub'],
    });
    const c = claims.parse(payload);
    return { voucherId: c.sub, personId: c.pid, jti: c.jti, expiresAt: new Date(c.exp * 1000) };
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    if (err instanceof errors.JWTExpired) throw problem('code-expired', 'the voucher code has expired; ask the patient to show a new one');
    throw problem('validation-failed', 'the code is not a valid voucher code of this province (altered, truncated or foreign)', [
      { path: 'body.code', message: 'invalid voucher code' },
    ]);
  }
}
