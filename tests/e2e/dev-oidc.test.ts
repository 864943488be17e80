// The local identity provider the console logs in with: OIDC discovery, the authorize form, a
// token endpoint that holds the PKCE verifier to the challenge and a code to one use, and tokens
// the API accepts with the claims `npm run token` gives (sub = the staff member).
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(() => rt?.stop());

const redirectUri = 'http://127.0.0.1:5173/';
const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

async function authorize(challenge: string, form: Record<string, string>) {
  const params = { response_type: 'code', client_id: 'consortium-console', redirect_uri: redirectUri, scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', nonce: 'n-1' };
  const res = await fetch(`${rt.url}/_local/oidc/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...params, ...form }) });
  return res;
}
const token = (code: string, verifier: string) =>
  fetch(`${rt.url}/_local/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'consortium-console', code_verifier: verifier }),
  });

describe('dev OIDC provider', () => {
  it('publishes a discovery document for its own URL', async () => {
    const doc: unknown = await (await fetch(`${rt.url}/_local/oidc/.well-known/openid-configuration`)).json();
    expect(doc).toMatchObject({ issuer: `${rt.url}/_local/oidc`, token_endpoint: `${rt.url}/_local/oidc/token`, code_challenge_methods_supported: ['S256'], end_session_endpoint: `${rt.url}/_local/oidc/logout` });
  });

  it('refuses an authorization request without PKCE or to a redirect off this machine', async () => {
    const noPkce = await fetch(`${rt.url}/_local/oidc/authorize?response_type=code&client_id=consortium-console&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid`);
    expect(noPkce.status).toBe(400);
    const far = await fetch(`${rt.url}/_local/oidc/authorize?response_type=code&client_id=consortium-console&redirect_uri=${encodeURIComponent('https://evil.example/')}&scope=openid&code_challenge=${pkce().challenge}&code_challenge_method=S256`);
    expect(far.status).toBe(400);
  });

  it('gives a code for a staff member of a registered institution, tokens only for the right verifier, once', async () => {
    const { verifier, challenge } = pkce();
    const wrongKind = await authorize(challenge, { role: 'pharmacy', institution: 'hosp-zjph', staff: 'pharmacy:rph-lin' });
    expect(wrongKind.status).toBe(400);
    const res = await authorize(challenge, { role: 'pharmacy', institution: 'ph-xihu-1', staff: 'pharmacy:rph-lin' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;

    // A wrong verifier burns the code: it cannot be tried again with the right one.
    expect((await token(code, pkce().verifier)).status).toBe(400);
    expect((await token(code, verifier)).status).toBe(400);

    const { challenge: c2, verifier: v2 } = pkce();
    const code2 = new URL((await authorize(c2, { role: 'pharmacy', institution: 'ph-xihu-1', staff: 'pharmacy:rph-lin' })).headers.get('location')!).searchParams.get('code')!;
    const tokens = (await (await token(code2, v2)).json()) as { access_token: string; id_token: string };
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String) });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ role: 'pharmacy', inst: 'ph-xihu-1', prov: 'ZJ', sub: 'ph-xihu-1:rph-lin', aud: 'consortium-api' });
    expect(decodeJwt(tokens.id_token)).toMatchObject({ iss: `${rt.url}/_local/oidc`, aud: 'consortium-console', nonce: 'n-1', name: '林芳' });
    // The API takes it as it takes any token of the province identity provider.
    const stock = await rt.call({ token: tokens.access_token }, 'GET', '/pharmacies/ph-xihu-1/stock');
    expect(stock.status).toBe(200);
    expect((await rt.call({ token: tokens.access_token }, 'GET', '/pharmacies/ph-xihu-2/stock')).status).toBe(403);
    expect((await token(code2, v2)).status).toBe(400);
  });
});
