// The desks' polling backs off while nothing changes (console/src/lib/polling.ts) and comes back to
// its pace when something does. The pharmacy's prescription queue, with the page's clock under the
// test's control (Playwright's clock: the page's timers run only as far as the test moves them) and
// the API and its consumers on real time: ten quiet minutes, then a prescription routed to the
// pharmacy, which must appear within the slowest poll and put the queue back to every 10 s; quiet
// again, then the pharmacist going to another screen and back, and later opening another tab, which
// each do the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MAX_BACKOFF } from '../../console/src/lib/polling.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { login, newPage, people, screen, startDesk, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

/** The queue's own pace (PharmacyDesk's `poll(10_000)`) and the slowest it backs off to. */
const EVERY_S = 10;
const SLOWEST_S = EVERY_S * MAX_BACKOFF;
/** An answer handled a tick late (a busy machine) starts the next wait a second later. */
const LATE_S = 1;

/** The page's clock in whole seconds since the test paused it, and the queue's requests by that clock. */
class PageClock {
  second = 0;
  readonly requests: { at: number; status: string }[] = [];
  private inFlight = 0;
  constructor(private readonly page: Page) {
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname !== '/prescriptions') return;
      this.inFlight++;
      this.requests.push({ at: this.second, status: url.searchParams.get('status') ?? '' });
    });
    const done = (r: { url(): string }) => { if (new URL(r.url()).pathname === '/prescriptions') this.inFlight--; };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
  }

  /** One second of the page's time; then the requests it started are answered before the next. */
  async tick(): Promise<void> {
    await this.page.clock.runFor(1_000);
    this.second++;
    await expect.poll(() => this.inFlight, { timeout: 10_000, interval: 5 }).toBe(0);
    await this.page.evaluate(() => 0); // the answers handled (the query updated, its timer set again)
  }

  routed = (from: number, to = Infinity) => this.requests.filter((r) => r.status === 'routed' && r.at > from && r.at <= to);
  all = (from: number, to = Infinity) => this.requests.filter((r) => r.at > from && r.at <= to);
}

describe('polling', () => {
  it("the pharmacy's queue asks less while nothing changes, shows a new prescription within its slowest poll, and is at its pace again after one, another screen or another tab", async () => {
    const { rt } = desk;
    const { page, context } = await newPage(desk);
    await context.clock.install(); // before the console loads: its timers are the clock's from the start
    await login(page, rt.url, people.pharmacist);
    await page.getByRole('link', { name: '处方', exact: true }).click();
    await page.getByText('没有已流转的处方').waitFor();
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
    const clock = new PageClock(page);

    // Ten quiet minutes.
    while (clock.second < 600) await clock.tick();
    // At a fixed pace (the shown tab every 10 s, the other three tabs' counts every 30 s) the last
    // five minutes took 60 requests; backed off, the shown tab every 60 s and the counts every 180 s.
    const quiet = clock.all(300, 600);
    expect(quiet.length).toBeGreaterThan(0);
    expect(quiet.length).toBeLessThanOrEqual(Math.ceil(300 / SLOWEST_S) + 4 * Math.ceil(300 / (30 * MAX_BACKOFF)));
    // Never slower than the slowest poll: the shown tab was asked at least once a minute.
    const gaps = clock.routed(0, 600).map((r, i, all) => r.at - (all[i - 1]?.at ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(SLOWEST_S + LATE_S);

    // A prescription routed to this pharmacy, on the API's real time.
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    const person = demoPeople[3]!;
    const personId = (await rt.call(clinic, 'POST', '/people/lookup', { nationalId: person.nationalId })).body.personId;
    const rx = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
    expect(rx.status).toBe(201);
    await rt.settle();
    const routedAt = clock.second;
    const card = page.getByRole('listitem', { name: /^处方 / });
    while ((await card.count()) === 0) {
      expect(clock.second - routedAt, 'the prescription should appear within the slowest poll').toBeLessThanOrEqual(SLOWEST_S + LATE_S);
      await clock.tick();
    }
    expect(await card.innerText()).toContain(person.name);

    // Something changed: the queue is asked every 10 s again.
    const shownAt = clock.second;
    while (clock.second < shownAt + 3 * EVERY_S) await clock.tick();
    const next = clock.routed(shownAt).map((r) => r.at);
    expect(next.length).toBeGreaterThan(0);
    expect(next[0]! - shownAt).toBeLessThanOrEqual(EVERY_S + LATE_S);

    // Quiet again until the list is at its slowest; then the pharmacist looks at the day's
    // settlements and comes back (the links' hash changes): the queue is at its pace again though
    // its answers have not changed.
    while (clock.second < shownAt + 300) await clock.tick();
    const slow = clock.routed(shownAt + 170, shownAt + 300).map((r) => r.at);
    expect(slow[1]! - slow[0]!).toBeGreaterThanOrEqual(SLOWEST_S);
    // The nav links' hash changes, without Playwright's wait for a still page, which needs the page's clock.
    const open = (hash: string) => page.evaluate((h) => { (globalThis as unknown as { location: { hash: string } }).location.hash = h; }, hash);
    await open('#/pharmacy/settlements');
    await clock.tick();
    await open('#/pharmacy/prescriptions');
    const backAt = clock.second;
    while (clock.second < backAt + 3 * EVERY_S) await clock.tick();
    const back = clock.routed(backAt - 1).map((r) => r.at); // from the screen's first request
    expect(back.length).toBeGreaterThanOrEqual(2);
    expect(back[1]! - back[0]!).toBeLessThanOrEqual(EVERY_S + LATE_S);

    // Quiet again; then the pharmacist opens the 已审核 tab (a click: its list was backed off as a
    // count): it is asked at the list's pace at once, though nothing in it changed.
    while (clock.second < backAt + 300) await clock.tick();
    const tab = page.getByRole('button', { name: /^已审核/ });
    await tab.dispatchEvent('pointerdown'); // what a click begins with (Playwright's click waits on the page's clock)
    await tab.dispatchEvent('click');
    const tabAt = clock.second;
    while (clock.second < tabAt + 3 * EVERY_S) await clock.tick();
    const accepted = clock.requests.filter((r) => r.status === 'accepted' && r.at >= tabAt).map((r) => r.at);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    expect(accepted[1]! - accepted[0]!).toBeLessThanOrEqual(EVERY_S + LATE_S);

    await page.clock.resume(); // axe and the screenshot wait on the page's timers
    await screen(page, 'pharmacy-queue-after-quiet');
  });
});
