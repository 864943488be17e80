// E-voucher QR codes: compact JWS (HS256, per-province key from Secrets Manager), bound to the
// voucher and person, with a jti whose single use the settlement transaction enforces. The `kid`
// is the secret's version, so codes signed just before a key rotation still verify after it.
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import { provinceConfig } from '#shared/env';
import { problem } from '#shared/errors';
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

const notACode = () => problem('validation-failed', 'the code is not a valid voucher code of this province (altered, truncated or foreign)', [
  { path: 'body.code', message: 'invalid voucher code' },
]);

/** What Secrets Manager answers for a version that is not there: a code not signed with this province's key. */
const NO_SUCH_VERSION = new Set(['ResourceNotFoundException', 'ValidationException', 'InvalidParameterException']);

/**
 * Verifies signature, issuer, audience and expiry; a code past its expiry is 410 code-expired, any
 * other defect 400. A key that cannot be fetched (Secrets Manager throttled or down) is the
 * platform's fault, not the code's: it is thrown as it is (500), never "invalid code, scan again",
 * which a pharmacist could say to a patient whose sale is in doubt.
 */
export async function verifyCode(code: string, now: Date): Promise<CodeClaims> {
  let kid: unknown;
  try {
    ({ kid } = decodeProtectedHeader(code));
  } catch {
    throw notACode();
  }
  if (typeof kid !== 'string' || !/^[\w-]{1,64}$/.test(kid)) throw notACode();
  const secret = await secretVersion(SECRET, kid).catch((err: Error) => {
    throw NO_SUCH_VERSION.has(err.name) ? notACode() : err;
  });
  try {
    const { payload } = await jwtVerify(code, asKey(secret).key, {
      algorithms: ['HS256'],
      issuer: issuer(),
      audience: AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'jti', 'sub'],
    });
    const c = claims.parse(payload);
    return { voucherId: c.sub, personId: c.pid, jti: c.jti, expiresAt: new Date(c.exp * 1000) };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw problem('code-expired', 'the voucher code has expired; ask the patient to show a new one');
    throw notACode();
  }
}
