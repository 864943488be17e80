// The dev issuer as an OpenID Connect provider, so the console logs in locally exactly as it does
// against a province's identity provider: discovery, an authorize page (pick a role, a registered
// institution and a staff member), a token endpoint that checks the PKCE verifier, end session.
//
// Its OIDC issuer is `<origin>/_local/oidc` (a URL the browser can reach, as discovery requires).
// The access tokens it returns are the tokens the API accepts, with the claims `npm run token`
// gives (iss = the dev issuer the authorizer is configured with, aud, role, inst, prov) and
// sub = the staff member: to the console an access token is opaque, as OAuth says it should be.
import type { ProvinceRuntime } from '../../schemas/province.ts';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { importJWK, SignJWT } from 'jose';
import type { Role } from '../../schemas/common.ts';
import type { Institution } from '../../schemas/institutions.ts';
import { loadOrCreateKeys, signToken } from './dev-issuer.ts';

export const CONSOLE_CLIENT_ID = 'consortium-console';
const CODE_TTL_MS = 60_000;

/** Made-up staff per role; sub = `<institution or platform>:<staff id>`. */
export const devStaff: Record<Exclude<Role, 'channel'>, Array<{ id: string; name: string; title: string }>> = {
  clinic: [
    { id: 'dr-wang', name: '王建国', title: '全科医生' },
    { id: 'dr-li', name: '李秀梅', title: '全科医生' },
  ],
  hospital: [
    { id: 'rn-chen', name: '陈静', title: '分诊护士' },
    { id: 'dr-zhou', name: '周明', title: '心内科医生' },
  ],
  pharmacy: [
    { id: 'rph-lin', name: '林芳', title: '执业药师' },
    { id: 'rph-wu', name: '吴强', title: '执业药师' },
  ],
  operator: [{ id: 'ops-zhao', name: '赵磊', title: '平台运营' }],
};
const roleNames: Record<keyof typeof devStaff, string> = { clinic: '社区卫生服务中心', hospital: '医院', pharmacy: '药店', operator: '平台运营方' };

interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  role: Role;
  institution?: string;
  staff: { id: string; name: string; title: string };
  expires: number;
}

export interface OidcReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface DevOidcOptions {
  dataDir: string;
  province: Pick<ProvinceRuntime, 'code' | 'tokenMaxAgeHours'>;
  /** Registered institutions, for the picker. */
  institutions: () => Promise<Institution[]>;
  /** Access-token lifetime (tests shorten it to see a session expire). */
  accessTokenSeconds?: number;
}

const html = (status: number, body: string, headers: Record<string, string> = {}): OidcReply => ({
  status,
  body,
  headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'", 'cache-control': 'no-store', ...headers },
});
const json = (status: number, body: unknown): OidcReply => ({
  status,
  body,
  // The token endpoint is called by the browser (a public client with PKCE): any origin may, as with a real IdP's CORS.
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' },
});
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Redirect URIs of the local console: any loopback http(s) origin (npm start, or Vite's dev server). */
function loopbackUri(value: string | undefined): URL | undefined {
  if (!value) return undefined;
  try {
    const u = new URL(value);
    return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && /^https?:$/.test(u.protocol) ? u : undefined;
  } catch {
    return undefined;
  }
}

export function devOidc(o: DevOidcOptions) {
  const codes = new Map<string, PendingCode>();
  const issuerOf = (req: IncomingMessage) => `http://${req.headers.host ?? '127.0.0.1'}/_local/oidc`;

  async function page(params: URLSearchParams, error?: string): Promise<OidcReply> {
    const institutions = await o.institutions();
    const byType = (t: string) => institutions.filter((i) => i.type === t).map((i) => `<option value="${esc(i.id)}">${esc(i.name)}</option>`).join('');
    const hidden = [...params].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
    const staff = (Object.keys(devStaff) as Array<keyof typeof devStaff>)
      .map((r) => `<optgroup label="${roleNames[r]}">${devStaff[r].map((s) => `<option value="${r}:${s.id}">${esc(s.name)}（${s.title}）</option>`).join('')}</optgroup>`)
      .join('');
    return html(
      error ? 400 : 200,
      `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>开发用身份提供方 · 登录</title>
<style>body{font:16px/1.5 system-ui,"Noto Sans CJK SC",sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
label{display:block;margin:1rem 0 .25rem;font-weight:600}select,button{font:inherit;width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.5rem;background:#0b5cad;color:#fff;border:0;border-radius:4px;cursor:pointer}.error{color:#b00020;font-weight:600}
.note{color:#52606d;font-size:.875rem}</style></head><body><main>
<h1>登录工作台</h1><p class="note">本地开发用身份提供方（省级统一身份认证的替身）：选择角色、机构与工作人员。</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/_local/oidc/authorize">${hidden}
<label for="role">角色</label><select id="role" name="role">${(Object.keys(devStaff) as Array<keyof typeof devStaff>).map((r) => `<option value="${r}">${roleNames[r]}</option>`).join('')}</select>
<label for="institution">机构</label><select id="institution" name="institution"><option value="">（平台运营方无机构）</option>
<optgroup label="社区卫生服务中心">${byType('clinic')}</optgroup><optgroup label="医院">${byType('hospital')}</optgroup><optgroup label="药店">${byType('pharmacy')}</optgroup></select>
<label for="staff">工作人员</label><select id="staff" name="staff">${staff}</select>
<button type="submit">登录</button></form></main></body></html>`,
    );
  }

  function authorizeParams(p: URLSearchParams): string | undefined {
    if (p.get('response_type') !== 'code') return 'response_type 必须为 code';
    if (p.get('client_id') !== CONSOLE_CLIENT_ID) return `未登记的 client_id：${p.get('client_id') ?? ''}`;
    if (!loopbackUri(p.get('redirect_uri') ?? undefined)) return 'redirect_uri 必须是本机地址';
    if (p.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(p.get('code_challenge') ?? '')) return '需要 PKCE（code_challenge_method=S256）';
    if (!(p.get('scope') ?? '').split(' ').includes('openid')) return 'scope 必须包含 openid';
    return undefined;
  }

  async function handle(req: IncomingMessage, body: string, url: URL): Promise<OidcReply | undefined> {
    const path = url.pathname.slice('/_local/oidc'.length);
    const issuer = issuerOf(req);
    if (path === '/.well-known/openid-configuration' && req.method === 'GET') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        end_session_endpoint: `${issuer}/logout`,
        jwks_uri: issuer.replace(/\/oidc$/, '/jwks.json'),
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        scopes_supported: ['openid', 'profile'],
      });
    }
    if (path === '/authorize' && req.method === 'GET') {
      const problem = authorizeParams(url.searchParams);
      return problem ? html(400, `<!doctype html><html lang="zh-CN"><title>请求无效</title><p role="alert">${esc(problem)}</p></html>`) : page(url.searchParams);
    }
    if (path === '/authorize' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const problem = authorizeParams(form);
      if (problem) return html(400, `<!doctype html><html lang="zh-CN"><title>请求无效</title><p role="alert">${esc(problem)}</p></html>`);
      const back = new URLSearchParams([...form].filter(([k]) => !['role', 'institution', 'staff'].includes(k)));
      const role = form.get('role') as keyof typeof devStaff;
      if (!(role in devStaff)) return page(back, '请选择角色');
      const [staffRole, staffId] = (form.get('staff') ?? '').split(':');
      const staff = devStaff[role].find((s) => staffRole === role && s.id === staffId);
      if (!staff) return page(back, `所选工作人员不属于「${roleNames[role]}」`);
      const institution = form.get('institution') || undefined;
      if (role === 'operator' && institution) return page(back, '平台运营方不选机构');
      if (role !== 'operator') {
        const inst = (await o.institutions()).find((i) => i.id === institution);
        if (inst?.type !== role) return page(back, `请选择一家${roleNames[role]}`);
      }
      const code = randomBytes(24).toString('base64url');
      codes.set(code, {
        clientId: form.get('client_id')!, redirectUri: form.get('redirect_uri')!, codeChallenge: form.get('code_challenge')!,
        nonce: form.get('nonce') ?? undefined, role, institution, staff, expires: Date.now() + CODE_TTL_MS,
      });
      const to = new URL(form.get('redirect_uri')!);
      to.searchParams.set('code', code);
      if (form.get('state')) to.searchParams.set('state', form.get('state')!);
      to.searchParams.set('iss', issuer);
      return { status: 302, body: '', headers: { location: to.toString(), 'cache-control': 'no-store' } };
    }
    if (path === '/token' && req.method === 'OPTIONS') {
      return { status: 204, body: '', headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, dpop', 'access-control-max-age': '600' } };
    }
    if (path === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const code = form.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code); // one use, whatever happens next
      const invalid = (description: string) => json(400, { error: 'invalid_grant', error_description: description });
      if (form.get('grant_type') !== 'authorization_code') return json(400, { error: 'unsupported_grant_type' });
      if (!pending || pending.expires < Date.now()) return invalid('unknown, used or expired code');
      if (form.get('client_id') !== pending.clientId || form.get('redirect_uri') !== pending.redirectUri) return invalid('client_id or redirect_uri differs from the authorization request');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.codeChallenge) return invalid('PKCE verifier does not match the challenge');
      const keys = await loadOrCreateKeys(o.dataDir);
      const ttl = o.accessTokenSeconds ?? 8 * 3600;
      const sub = `${pending.institution ?? 'platform'}:${pending.staff.id}`;
      const accessToken = await signToken(keys, { role: pending.role, institution: pending.institution, province: o.province, subject: sub, ttlSeconds: ttl });
      const idToken = await new SignJWT({
        name: pending.staff.name, title: pending.staff.title, role: pending.role, ...(pending.institution ? { inst: pending.institution } : {}),
        ...(pending.nonce ? { nonce: pending.nonce } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(pending.clientId)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(await importJWK(keys.privateJwk, 'ES256'));
      return json(200, { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, id_token: idToken, scope: 'openid profile' });
    }
    if (path === '/logout' && req.method === 'GET') {
      // No session is kept here (every login shows the picker), so ending it is going back.
      const back = loopbackUri(url.searchParams.get('post_logout_redirect_uri') ?? undefined);
      if (back) return { status: 302, body: '', headers: { location: back.toString(), 'cache-control': 'no-store' } };
      return html(200, '<!doctype html><html lang="zh-CN"><title>已退出</title><main><h1>已退出登录</h1></main></html>');
    }
    return undefined;
  }

  return { handle };
}
