// Hash routing (#/pharmacy/counter): the API's own paths (/referrals, …) live on the same origin,
// so a reload of a history-mode URL would reach the API instead of the console.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { calendarDate } from '#schemas/common';
import { calendarDay } from '../lib/format.ts';
import { useShownDay } from '../shared/today.ts';
import { focusTitle } from '../shared/ui.tsx';

export function useHashPath(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onChange = () => {
      setPath(read());
      // Move focus to the new screen's heading, for keyboard and screen-reader users: once it shows
      // (a detail screen reads its record first), unless something else took the keyboard meanwhile.
      const from = document.activeElement;
      const until = Date.now() + 5_000;
      const toTitle = () => {
        const now = document.activeElement;
        if (now && now !== from && now !== document.body) return;
        if (document.querySelector('main h1')) focusTitle();
        else if (Date.now() < until) requestAnimationFrame(toTitle);
      };
      requestAnimationFrame(toTitle);
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

export const go = (...segments: string[]) => {
  location.hash = `#/${segments.map(encodeURIComponent).join('/')}`;
};

/** Each list's address as it was left (its tab, filters), by the list's own address. */
const listsAsLeft = new Map<string, string>();

/**
 * Called by a list at `home`: its address now is where its details lead back to (返回工作台 finds the
 * tab left, not the first). Set with every render, in a layout effect: a detail opened the moment a
 * tab is picked still finds it.
 */
export function useListAsLeft(home: string) {
  useLayoutEffect(() => {
    // Only while the address is the list's: a render between a link's new address and its hashchange
    // (a refetch landing then) must not take the detail's address for the list's.
    if (screenOf(location.hash) === screenOf(home)) listsAsLeft.set(home, location.hash || home);
  });
}
/** Where a detail's way back to the list at `home` leads: as left, or (none left) `fallback`. */
export const listAsLeft = (home: string, fallback = home) => listsAsLeft.get(home) ?? fallback;
/** The list's first tab, for the detail of something just made there (not the tab last open). */
export const forgetListAsLeft = (home: string) => listsAsLeft.delete(home);

/** The query after the hash path (#/pharmacy/settlements?date=…): what a screen shows, kept by a reload and by Back. */
export const hashQuery = () => new URLSearchParams(location.hash.split('?')[1] ?? '');

/**
 * A screen's choice (a tab, a filter) kept in the address as `?name=value`: a reload, Back from a
 * detail page and a link bring it back. Written with replaceState: choosing a tab is not a step of
 * history. A value not `allowed` (an old link) reads as the fallback; the fallback is not written.
 */
export function useHashParam<T extends string>(name: string, fallback: T, allowed: (v: string) => v is T): [T, (v: T) => void] {
  const read = () => {
    const v = hashQuery().get(name);
    return v !== null && allowed(v) ? v : fallback;
  };
  const [value, setValue] = useState<T>(read);
  // The address changed under the screen (its nav link, which has no choice in it, or a link with
  // another): show what it says. A choice made here does not fire this (replaceState).
  useSameScreenHashChange(() => setValue(read()));
  const set = (v: T) => {
    replaceParam(name, v === fallback ? undefined : v);
    setValue(v);
  };
  return [value, set];
}

/**
 * The screen an address names: its path without the query. A desk's start screen has several
 * addresses (none after login, #/, #/hospital): they are one screen.
 */
const screenOf = (hash = location.hash) => {
  const path = hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean);
  return path.length <= 1 ? '' : path.join('/');
};

/**
 * Calls `onChange` when the address changes and still names this screen (its path without the
 * query): only its query changed. A change to another screen is this one going away, and its
 * state is left as it was (a worklist's 返回工作台 link is made from it).
 */
function useSameScreenHashChange(onChange: () => void) {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    const screen = screenOf();
    const changed = () => {
      if (screenOf() === screen) latest.current();
    };
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
}

/** Writes `?name=value` (none: removed) into the address without a step of history. */
function replaceParam(name: string, value: string | undefined) {
  const q = hashQuery();
  if (value === undefined) q.delete(name);
  else q.set(name, value);
  // A desk's start page may have no hash at all (the address after login): '#/' then.
  const url = new URL(location.href);
  url.hash = `${location.hash.split('?')[0] || '#/'}${q.size ? `?${q}` : ''}`;
  history.replaceState(history.state, '', url);
}

/** `?date=` for a day: none for today, so a bookmark of today stays today's. */
const dateParam = (day: string) => (day === calendarDay() ? undefined : day);

/** A screen's address (`#/pharmacy/settlements`) for `day`: another day than today is in it. */
export const withDay = (path: string, day: string) => `${path}${dateParam(day) ? `?date=${day}` : ''}`;

/** A `?date=` that names no day the screen can show, and why, for the notice that says today is shown instead. */
export interface BadDay { asked: string; why: '不是有效日期' | '尚未到来' }

/**
 * The day the address names, if it is one that has come, and what it has in its place otherwise
 * (2026-13-45, or a day to come: its totals would be zeros, as if nothing had been sold).
 */
function dayInAddress(): { day?: string; bad?: BadDay } {
  const asked = hashQuery().get('date');
  if (asked === null) return {};
  if (!calendarDate.safeParse(asked).success) return { bad: { asked, why: '不是有效日期' } };
  return asked > calendarDay() ? { bad: { asked, why: '尚未到来' } } : { day: asked };
}

/**
 * The day a screen shows (shared/today.ts: today, following the province's midnight, unless a day
 * was picked), kept in the address as `?date=` so a reload and Back keep it; today is not written.
 * A date in the address that is no day, or a day to come, shows today, and comes back as `badDay` to be said.
 */
export function useDayParam(): { day: string; today: string; pick: (day: string) => void; badDay?: BadDay } {
  const [asked] = useState(dayInAddress);
  const { day, today, pick: show } = useShownDay(asked.day);
  const [badDay, setBadDay] = useState(asked.bad);
  const pick = (d: string) => {
    replaceParam('date', dateParam(d));
    setBadDay(undefined);
    show(d);
  };
  // The address changed under the screen (the nav's link, which has no day, or a link to another
  // day): show what it says. A pick does not fire this (replaceState).
  useSameScreenHashChange(() => {
    const now = dayInAddress();
    setBadDay(now.bad);
    show(now.day ?? calendarDay());
  });
  return { day, today, pick, badDay };
}
