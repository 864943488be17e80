// Login: OpenID Connect authorization code + PKCE with oauth4webapi, against the issuer in
// console-config.json (the province identity provider in AWS, the dev issuer locally: one code path).
// Tokens live in memory only. sessionStorage holds the PKCE verifier, state and nonce during the
// redirect, the drafts of forms being filled when a session ends (lib/drafts.ts) and the people the
// desk looked up (lib/people.ts), for the person who logged in (another login in the tab starts
// without them); logging out clears it.
import * as oauth from 'oauth4webapi';
import type { ConsoleConfig } from '#schemas/console';

export interface Session {
  accessToken: string;
  expiresAt: number;
  idToken: string;
  sub: string;
  name: string;
  title?: string;
  role: 'operator' | 'clinic' | 'hospital' | 'pharmacy';
  institutionId?: string;
}

const PENDING = 'console.login';
/** Whose the tab's drafts and looked-up people are: a session of someone else starts without them. */
const OWNER = 'console.owner';

let session: Session | undefined;
const listeners = new Set<() => void>();
export const currentSession = () => session;
export const onSessionChange = (fn: () => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};
function setSession(s: Session | undefined) {
  session = s;
  for (const fn of listeners) fn();
}

let server: oauth.AuthorizationServer | undefined;
let cfg: ConsoleConfig['oidc'] | undefined;

/** Plain http only for an issuer on this machine (the local runtime); anything else must be https. */
const insecureOk = (issuer: URL) => issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
const options = (issuer: URL) => (insecureOk(issuer) ? { [oauth.allowInsecureRequests]: true } : {});
const client = () => ({ client_id: cfg!.clientId });
const redirectUri = () => `${location.origin}${location.pathname}`;

async function discover(): Promise<oauth.AuthorizationServer> {
  if (server) return server;
  const issuer = new URL(cfg!.issuer);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options(issuer) });
  server = await oauth.processDiscoveryResponse(issuer, res);
  return server;
}

export function configureAuth(oidc: ConsoleConfig['oidc']) {
  cfg = oidc;
}

/** Goes to the identity provider; back at `returnTo` (a hash route) after login. */
export async function login(returnTo = location.hash): Promise<never> {
  const as = await discover();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, returnTo }));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: cfg!.clientId,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: cfg!.scope ?? 'openid profile',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  location.assign(url);
  return new Promise<never>(() => undefined);
}

/** Completes a login when the page is the redirect back (?code=…&state=…); returns whether it was. */
export async function completeLogin(): Promise<boolean> {
  const here = new URL(location.href);
  if (!here.searchParams.has('code') && !here.searchParams.has('error')) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; nonce: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING);
  // The code is single use: take it out of the address bar (and history) whatever happens next.
  history.replaceState(null, '', `${location.pathname}${pending?.returnTo ?? ''}`);
  if (!pending) throw new Error('登录请求已失效，请重新登录');
  const as = await discover();
  const issuer = new URL(cfg!.issuer);
  const params = oauth.validateAuthResponse(as, client(), here, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client(), oauth.None(), params, redirectUri(), pending.verifier, options(issuer));
  const result = await oauth.processAuthorizationCodeResponse(as, client(), response, { expectedNonce: pending.nonce, requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  // After F5 on a shared workstation the next login may be a colleague's, or another clinic's: the
  // drafts (a diagnosis typed for a patient) and the people looked up stay with the one who left them.
  const owner = JSON.stringify([claims.sub, claims.inst ?? null, claims.role]);
  const previous = sessionStorage.getItem(OWNER);
  if (previous !== owner) {
    sessionStorage.clear();
    sessionStorage.setItem(OWNER, owner);
    // Nor the page the other person was on (a form for their patient): the desk's start.
    if (previous !== null) history.replaceState(null, '', location.pathname);
  }
  setSession({
    accessToken: result.access_token,
    expiresAt: Date.now() + (result.expires_in ?? 3600) * 1000,
    idToken: result.id_token!,
    sub: claims.sub,
    name: typeof claims.name === 'string' ? claims.name : claims.sub,
    title: typeof claims.title === 'string' ? claims.title : undefined,
    role: claims.role as Session['role'],
    institutionId: typeof claims.inst === 'string' ? claims.inst : undefined,
  });
  return true;
}

/** Forgets the tokens and ends the session at the identity provider. */
export async function logout(): Promise<void> {
  const idToken = session?.idToken;
  setSession(undefined);
  // What this tab kept for the session (drafts, the people looked up) is not for whoever logs in next.
  sessionStorage.clear();
  const as = await discover();
  if (!as.end_session_endpoint) {
    location.assign(redirectUri());
    return;
  }
  const url = new URL(as.end_session_endpoint);
  url.search = new URLSearchParams({ client_id: cfg!.clientId, post_logout_redirect_uri: redirectUri(), ...(idToken ? { id_token_hint: idToken } : {}) }).toString();
  location.assign(url);
}

/** The session is over (expired, or the API said 401): back to login, here again afterwards. */
export function sessionEnded(): void {
  if (!session) return;
  setSession(undefined);
}
