// Tokens that must be refused: each differs from a good one in exactly one way.
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { DEV_AUDIENCE, devIssuerFor, loadOrCreateKeys } from '../../infra/local/dev-issuer.ts';

export async function badTokens(dataDir: string, province: string) {
  const keys = await loadOrCreateKeys(dataDir);
  const key = await importJWK(keys.privateJwk, 'ES256');
  const good = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ role: 'operator', prov: province, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setIssuer(devIssuerFor(province))
      .setAudience(DEV_AUDIENCE)
      .setSubject('tester')
      .setIssuedAt()
      .setExpirationTime('1h');
  const stranger = (await generateKeyPair('ES256')).privateKey;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return {
    valid: await good().sign(key),
    forged: await good().sign(stranger), // same kid, someone else's key
    expired: await good().setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key),
    // Past the province's tokenMaxAgeHours (12 h in the configs) by iat, though exp is still ahead.
    tooOld: await good().setIssuedAt(now - 13 * 3600).setExpirationTime(now + 3600).sign(key),
    issuedInTheFuture: await good().setIssuedAt(now + 3600).setExpirationTime(now + 7200).sign(key),
    noIssuedAt: await new SignJWT({ role: 'operator', prov: province }).setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setIssuer(devIssuerFor(province)).setAudience(DEV_AUDIENCE).setSubject('tester').setExpirationTime('1h').sign(key),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'operator', prov: province, iss: devIssuerFor(province), aud: DEV_AUDIENCE, sub: 'x', exp: now + 3600 })}.`,
    wrongProvince: await good({ prov: 'XX' }).sign(key),
    wrongAudience: await good().setAudience('someone-else').sign(key),
    wrongIssuer: await good().setIssuer('https://evil.example/').sign(key),
    unknownRole: await good({ role: 'admin' }).sign(key),
    clinicWithoutInstitution: await good({ role: 'clinic' }).sign(key),
    tampered: (await good().sign(key)).replace(/\.([^.]+)\./, (_m, p: string) => `.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'operator', sub: 'mallory' })}.`),
  };
}
