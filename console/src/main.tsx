// Start: read console-config.json (one build serves every province), finish a login redirect if
// this is one, then show the desk of the signed-in role, or the login screen.
import { render } from 'preact';
import { consoleConfig, CONSOLE_CONFIG_FILE } from '#schemas/console';
import { configureApi } from './lib/api.ts';
import { completeLogin, configureAuth, currentSession, login, sessionEnded } from './lib/auth.ts';
import { saveDrafts } from './lib/drafts.ts';
import { setTimeZone } from './lib/format.ts';
import { App } from './app/App.tsx';
import './app/styles.css';

async function start() {
  const root = document.getElementById('app')!;
  try {
    const res = await fetch(`/${CONSOLE_CONFIG_FILE}`, { cache: 'no-store' });
    const config = consoleConfig.parse(await res.json());
    setTimeZone(config.timeZone);
    configureAuth(config.oidc);
    configureApi({
      baseUrl: config.apiBaseUrl,
      token: () => currentSession()?.accessToken,
      onUnauthorized: () => {
        // The session is over: keep what is being typed, log in again, come back here.
        saveDrafts('session-refused');
        sessionEnded();
        void login(location.hash);
      },
    });
    // Tokens live in memory, so a reload (F5, a crashed tab restored) means logging in again: keep
    // the forms being filled for then too.
    addEventListener('pagehide', () => currentSession() && saveDrafts('page-left'));
    await completeLogin();
    root.replaceChildren();
    render(<App config={config} />, root);
  } catch (err) {
    root.replaceChildren();
    render(
      <main class="boot-error">
        <h1>工作台无法启动</h1>
        <p role="alert">{(err as Error).message}</p>
        <button type="button" onClick={() => location.assign('/')}>重试</button>
      </main>,
      root,
    );
  }
}

void start();
