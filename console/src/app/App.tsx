// The shell: who is signed in, the desk of their role (one feature folder each), logout. Features
// never import each other; this file composes them.
import { focusManager, QueryClient, QueryClientProvider } from '@tanstack/preact-query';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleConfig } from '#schemas/console';
import { isInstitutionType } from '#schemas/institutions';
import { ApiError } from '../lib/api.ts';
import { currentSession, login, logout, onSessionChange, type Session } from '../lib/auth.ts';
import { roleLabel } from '../lib/labels.ts';
import { backToPace } from '../lib/polling.ts';
import { useInstitutionName } from '../shared/names.ts';
import { Alert, Announcer, focusTitle } from '../shared/ui.tsx';
import { useHashPath } from './router.ts';
import { ClinicDesk, clinicNav } from '../features/clinic/ClinicDesk.tsx';
import { HospitalDesk, hospitalNav } from '../features/hospital/HospitalDesk.tsx';
import { PharmacyDesk, pharmacyNav } from '../features/pharmacy/PharmacyDesk.tsx';
import { OperatorDesk, operatorNav } from '../features/operator/OperatorDesk.tsx';
import { WebhooksScreen } from '../features/webhooks/WebhooksScreen.tsx';

// What the person at the desk does (a click, a key, another screen, coming back to the window) puts
// every list back to its polling pace at its next answer (lib/polling.ts); what they act on is
// refetched after, by the action itself, the new screen or the focus.
for (const type of ['pointerdown', 'keydown', 'hashchange']) addEventListener(type, backToPace, { capture: true, passive: true });
focusManager.subscribe((focused) => {
  if (focused) backToPace();
});
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused or missing object will not appear by asking again; the network might.
      retry: (count, err) => count < 2 && (!(err instanceof ApiError) || err.status === 0 || err.status >= 500),
      refetchOnWindowFocus: true,
    },
  },
});

const desks = {
  clinic: { Desk: ClinicDesk, nav: clinicNav },
  hospital: { Desk: HospitalDesk, nav: hospitalNav },
  pharmacy: { Desk: PharmacyDesk, nav: pharmacyNav },
  operator: { Desk: OperatorDesk, nav: operatorNav },
} as const;

/** Screens every institution's desk has, after its own: 系统对接 (webhooks) for its IT staff. */
const institutionScreens = [{ section: 'webhooks', label: '系统对接', Screen: WebhooksScreen }] as const;

function useSession(): Session | undefined {
  const [s, setS] = useState(currentSession());
  useEffect(() => onSessionChange(() => setS(currentSession())), []);
  return s;
}

function Header({ session, province }: { session: Session; province: string }) {
  const inst = useInstitutionName(session.institutionId);
  return (
    <header class="topbar">
      <div class="brand">医联体工作台 <span class="muted">· {province}</span></div>
      <div class="who">
        <span>{session.institutionId ? inst : roleLabel[session.role]}</span>
        <span class="muted">{session.name}{session.title ? `（${session.title}）` : ''}</span>
        <button type="button" class="link" onClick={() => void logout()}>退出登录</button>
      </div>
    </header>
  );
}

function Shell({ session, config }: { session: Session; config: ConsoleConfig }) {
  const path = useHashPath();
  const desk = desks[session.role];
  if (!desk) return <main><h1>此角色不使用工作台</h1></main>;
  const { Desk } = desk;
  const institutionRole = isInstitutionType(session.role) ? session.role : undefined;
  const shared = institutionRole ? institutionScreens : [];
  const nav = [...desk.nav, ...shared];
  const section = path[0] === session.role ? (path[1] ?? '') : '';
  const Shared = shared.find((s) => s.section === section)?.Screen;
  // The nav's entry for this screen: its own, or the one a screen opened from it belongs to.
  const within = (n: (typeof nav)[number]) => 'within' in n && (n.within as readonly string[]).includes(section);
  const current = nav.find((n) => n.section === section) ?? nav.find(within);
  return (
    <>
      {/* Past the header and the nav to the screen, for keyboard users (a link to #… would change the route). */}
      <button type="button" class="skip-link" onClick={focusTitle}>跳到主要内容</button>
      <Header session={session} province={config.province.name} />
      <nav class="desknav" aria-label="工作台导航">
        {nav.map((n) => (
          <a key={n.section} href={`#/${session.role}${n.section ? `/${n.section}` : ''}`} aria-current={n === current ? 'page' : undefined}>{n.label}</a>
        ))}
      </nav>
      <main class="content">
        {/* A link into another role's desk (a colleague's, a bookmark from another login) opens this one's start, and says so. */}
        {path.length > 0 && path[0] !== session.role && <Alert kind="info">该地址不属于本工作台（{roleLabel[session.role]}），已打开首页。</Alert>}
        {Shared && institutionRole ? <Shared role={institutionRole} /> : <Desk path={path[0] === session.role ? path.slice(1) : []} />}
      </main>
    </>
  );
}

function Login({ province }: { province: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <main class="login">
      <h1>医联体工作台</h1>
      <p class="muted">{province} · 社区卫生服务中心、医院、药店与平台运营方共用</p>
      <button type="button" class="primary big" disabled={busy} onClick={() => { setBusy(true); void login(location.hash); }}>登录</button>
      <p class="muted small">使用省级统一身份认证登录。</p>
    </main>
  );
}

export function App({ config }: { config: ConsoleConfig }) {
  const session = useSession();
  return (
    <QueryClientProvider client={queryClient}>
      {session ? <Shell session={session} config={config} /> : <Login province={config.province.name} />}
      {/* Outside the screens, so it is there before anything is said in it (ui.tsx announce). */}
      <Announcer />
      {config.icpLicense && (
        <footer class="icp"><a href="https://beian.miit.gov.cn/" rel="noreferrer" target="_blank">{config.icpLicense}</a></footer>
      )}
    </QueryClientProvider>
  );
}
