// E-voucher QR codes: compact JWS (HS256, per-province key from Secrets Manager), bound to the
// voucher and person, with a jti whose single use the settlement transaction enforces.
import { errors, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import { provinceConfig } from '#shared/env';
import { HttpProblem, problem } from '#shared/errors';
import { newId } from '#shared/ids';
import { secretFrom } from '#shared/secrets';

const AUDIENCE = 'consortium-voucher-code';
const issuer = () => `consortium:${provinceConfig().code}`;

let key: Promise<Uint8Array> | undefined;
const signingKey = () => (key ??= secretFrom('VOUCHER_KEY_SECRET_ID').then((s) => new TextEncoder().encode(s)));

export interface CodeClaims {
  voucherId: string;
  personId: string;
  jti: string;
  expiresAt: Date;
}

export async function issueCode(voucherId: string, personId: string, now: Date): Promise<{ code: string; expiresAt: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + provinceConfig().voucherCodeTtlSeconds;
  const code = await new SignJWT({ pid: personId })
    .setProtectedHeader({ alg: 'HS256', typ: 'voucher-code' })
    .setIssuer(issuer())
    .setAudience(AUDIENCE)
    .setSubject(voucherId)
    .setJti(newId('c', now.getTime()))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(await signingKey());
  return { code, expiresAt: new Date(exp * 1000) };
}

const claims = z.object({ sub: z.string(), pid: z.string(), jti: z.string(), exp: z.number() });

/** Verifies signature, issuer, audience and expiry; a code past its expiry is 410 code-expired. */
export async function verifyCode(code: string, now: Date): Promise<CodeClaims> {
  try {
    const { payload } = await jwtVerify(code, await signingKey(), {
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
