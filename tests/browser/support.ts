// Browser tests: Chromium from the OS packages driven by playwright-core, against the real local
// runtime (one per test file, serving the built console). Locators by role and accessible name,
// assertions that wait for the page (Playwright's auto-waiting locators, vitest's expect.poll), no sleeps. Screenshots of every screen go to tests/browser/.screenshots/
// (git-ignored); every screen is checked with axe (no serious or critical violation).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterEach, expect } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import type { RuntimeOptions } from '../../infra/local/runtime.ts';

// Debian's chromium-headless-shell: the same Blink as Chromium without the browser's own UI layers,
// what Playwright itself runs headless. The login took 1.1 s against 2.4 s in full Chromium, and
// flows.test.ts 55 s against 68 s. Its one difference on screen: date fields are laid out as in
// en-US (mm/dd/yyyy), not 年/月/日, unless Chromium's zh-CN locale pack is there (chromium-l10n, which
// needs the full browser), so no test may type into one by parts. CHROMIUM_PATH=/usr/bin/chromium runs
// the full one (Debian's chromium, and chromium-l10n for 年/月/日; .ci/run installs neither).
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium-headless-shell';
export const screenshots = join(import.meta.dirname, '.screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Desk {
  rt: TestRuntime;
  browser: Browser;
  stop(): Promise<void>;
}

export async function startDesk(o: RuntimeOptions = {}): Promise<Desk> {
  mkdirSync(screenshots, { recursive: true });
  // The two at once: neither needs the other to start.
  const [rt, browser] = await Promise.allSettled([
    startTestRuntime(o),
    chromium.launch({
      executablePath: CHROMIUM,
      // Chromium takes its UI locale (date and time inputs) from these, when its locale pack for it is
      // installed (en-US otherwise); the page's locale is the context's either way.
      env: { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN:zh' },
      args: ['--lang=zh-CN', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    }),
  ]);
  if (rt.status === 'rejected' || browser.status === 'rejected') {
    if (rt.status === 'fulfilled') await rt.value.stop();
    if (browser.status === 'fulfilled') await browser.value.close();
    throw rt.status === 'rejected' ? rt.reason : (browser as PromiseRejectedResult).reason;
  }
  return { rt: rt.value, browser: browser.value, stop: async () => { await browser.value.close(); await rt.value.stop(); } };
}

export interface Who {
  /** The role option's label on the dev issuer's page. */
  role: '社区卫生服务中心' | '医院' | '药店' | '平台运营方';
  /** The institution's name (none for the operator). */
  institution?: string;
  /** The staff member's option label, e.g. "林芳（执业药师）". */
  staff: string;
}

export const people = {
  gp: { role: '社区卫生服务中心', institution: '灵隐街道社区卫生服务中心', staff: '王建国（全科医生）' },
  otherGp: { role: '社区卫生服务中心', institution: '北山街道社区卫生服务中心', staff: '李秀梅（全科医生）' },
  nurse: { role: '医院', institution: '浙江省人民医院', staff: '陈静（分诊护士）' },
  pharmacist: { role: '药店', institution: '西湖大药房文三路店', staff: '林芳（执业药师）' },
  otherPharmacist: { role: '药店', institution: '民生药店古荡店', staff: '吴强（执业药师）' },
  operator: { role: '平台运营方', staff: '赵磊（平台运营）' },
} satisfies Record<string, Who>;

/** Pages still open, so that a failed test can show what each one displayed. */
const openPages = new Set<Page>();

// A failing browser test leaves evidence in the CI log: each open page's address and visible text,
// and a screenshot beside the others.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  let n = 0;
  for (const page of openPages) {
    if (page.isClosed()) continue;
    const name = `FAILED-${ctx.task.name.slice(0, 40).replace(/[^\p{L}\p{N}]+/gu, '-')}-${++n}`;
    await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true }).catch(() => undefined);
    const text = await page.locator('body').innerText({ timeout: 2_000 }).catch((e: Error) => `(no text: ${e.message})`);
    process.stderr.write(`\n── ${name} at ${page.url()}\n${text.slice(0, 2_000)}\n`);
  }
});

/** Requests each page of newPage has sent and not yet had answered: all, and the reads (GET) among them. */
const inFlight = new WeakMap<Page, { requests: number; reads: number }>();

/** A fresh browser context (its own memory and sessionStorage), at 1280×800 unless told. */
export async function newPage(desk: Desk, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; context: BrowserContext }> {
  const context = await desk.browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  // An action waits this long for its element. 10 s was once too short on a loaded 2-core CI
  // machine: a prescription's issue took longer, and its list heading came after the wait gave up.
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const pending = { requests: 0, reads: 0 };
  inFlight.set(page, pending);
  const count = (r: Request, by: number) => {
    pending.requests += by;
    if (r.method() === 'GET') pending.reads += by;
  };
  page.on('request', (r) => count(r, 1));
  page.on('requestfinished', (r) => count(r, -1));
  page.on('requestfailed', (r) => count(r, -1));
  openPages.add(page);
  page.on('close', () => openPages.delete(page));
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
  return { page, context };
}

/** Through the console's login button and the dev issuer's authorize page, as a person would. */
export async function login(page: Page, url: string, who: Who): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: '登录' }).click();
  await fillIssuerForm(page, who);
  await page.getByRole('button', { name: '退出登录' }).waitFor();
}

/**
 * 退出登录, and back from the issuer's logout: the login screen shows at once, then the page goes to
 * the issuer and comes back (a new load), so nothing is read from the page until it has.
 */
export async function logOut(page: Page): Promise<void> {
  const back = page.waitForEvent('load');
  await page.getByRole('button', { name: '退出登录' }).click();
  await back;
  await page.getByRole('button', { name: '登录' }).waitFor();
}

export async function fillIssuerForm(page: Page, who: Who): Promise<void> {
  await page.getByRole('heading', { name: '登录工作台' }).waitFor();
  await page.getByLabel('角色').selectOption({ label: who.role });
  await page.getByLabel('机构').selectOption(who.institution ? { label: who.institution } : { value: '' });
  await page.getByLabel('工作人员').selectOption({ label: who.staff });
  await page.getByRole('button', { name: '登录' }).click();
}

/** Saves a screenshot of the screen and checks it with axe: no serious or critical violation. */
export async function screen(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  expect((await seriousViolations(page)).map((v) => `${name}: ${v}`)).toEqual([]);
}

/**
 * axe's serious and critical violations on the page, one line each. Every rule runs, in the page
 * itself (the console has no frames). axe-core is called directly rather than through
 * @axe-core/playwright, which sent its 1.5 MB unminified source into the page twice on every call:
 * here the minified build goes in once per document, and only violations are collected (not the
 * nodes of every rule that passed). On flows.test.ts (24 screens) axe took 6.5 s against 17.5 s.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (await page.evaluate(() => !('axe' in globalThis))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => {
    // Runs in the page (the tests' TypeScript has no DOM types).
    const g = globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<AxeResults> }; document: unknown };
    return g.axe.run(g.document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The tab hidden or shown again, as the browser says it when she switches tabs. */
const setHidden = (page: Page, hidden: boolean) => page.evaluate((h) => {
  // Runs in the page (the tests' TypeScript has no DOM types).
  const doc = (globalThis as unknown as { document: { dispatchEvent(e: Event): boolean } }).document;
  if (h) Object.defineProperty(doc, 'visibilityState', { configurable: true, get: () => 'hidden' });
  else Reflect.deleteProperty(doc, 'visibilityState');
  doc.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
}, hidden);

/** Until the page's requests of that kind under way are answered (10 s at most). */
async function answered(page: Page, kind: 'requests' | 'reads'): Promise<void> {
  const pending = inFlight.get(page);
  for (const until = Date.now() + 10_000; pending && pending[kind] > 0;) {
    if (Date.now() > until) throw new Error(`${pending[kind]} ${kind} still unanswered after 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * She looks at another tab and comes back: the console reads what it shows again at once (TanStack
 * Query's refetch on focus), where a test would otherwise wait for the list's next poll (10 s or
 * more, backing off). A read already under way is waited for first: the refetch would join it, and
 * it may have been answered before what the test just changed. Moves under way are left to run (a
 * test may be holding one; `inBackground` waits for them too).
 */
export async function lookAgain(page: Page): Promise<void> {
  await setHidden(page, true);
  await answered(page, 'reads');
  await setHidden(page, false);
}

/**
 * The page as a tab in the background (document hidden): the console stops polling (TanStack
 * Query runs `refetchInterval` only while the document is visible, `refetchIntervalInBackground`
 * being off), so what it shows stays as it was while others act. That is the stale view a test
 * needs, without a race against the next poll. Requests the page makes itself (a click, the reload
 * after a refusal) still go out. Returns the way back to the foreground.
 */
export async function inBackground(page: Page): Promise<() => Promise<void>> {
  await setHidden(page, true);
  // A refetch sent just before is still answered, and would show what the test then changes through
  // the API (a cancelled row gone before the click meant to find it stale): waited for.
  await answered(page, 'requests');
  return () => setHidden(page, false);
}

/**
 * Answers the page's requests to `url` as an unavailable API would (503, problem+json): a fault the
 * local runtime cannot be made to give on demand. `times`: only the first so many.
 */
export async function unavailable(page: Page, url: RegExp, times?: number): Promise<void> {
  const body = JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
  await page.route(url, (r) => r.fulfill({ status: 503, contentType: 'application/problem+json', body }), times ? { times } : undefined);
}

/** The text of a locator, polled until the assertion holds (or the timeout). */
export const textOf = (l: import('playwright-core').Locator) => () => l.innerText();

/** Whether the element has the keyboard focus (where a scanner types, where Tab goes on from). */
export const focused = (l: import('playwright-core').Locator) => () => l.evaluate((el) => (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement === el);
