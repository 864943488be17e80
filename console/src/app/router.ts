// Hash routing (#/pharmacy/counter): the API's own paths (/referrals, …) live on the same origin,
// so a reload of a history-mode URL would reach the API instead of the console.
import { useEffect, useState } from 'preact/hooks';
import { focusTitle } from '../shared/ui.tsx';

export function useHashPath(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onChange = () => {
      setPath(read());
      // Move focus to the new screen's heading, for keyboard and screen-reader users.
      requestAnimationFrame(focusTitle);
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

export const go = (...segments: string[]) => {
  location.hash = `#/${segments.map(encodeURIComponent).join('/')}`;
};

/** The query after the hash path (#/pharmacy/settlements?date=…): what a screen shows, kept by a reload and by Back. */
export const hashQuery = () => new URLSearchParams(location.hash.split('?')[1] ?? '');

/**
 * A screen's choice (a tab, a filter) kept in the address as `?name=value`: a reload, Back from a
 * detail page and a link bring it back. Written with replaceState: choosing a tab is not a step of
 * history. A value not `allowed` (an old link) reads as the fallback; the fallback is not written.
 */
export function useHashParam<T extends string>(name: string, fallback: T, allowed: (v: string) => v is T): [T, (v: T) => void] {
  const [value, setValue] = useState<T>(() => {
    const v = hashQuery().get(name);
    return v !== null && allowed(v) ? v : fallback;
  });
  const set = (v: T) => {
    const q = hashQuery();
    if (v === fallback) q.delete(name);
    else q.set(name, v);
    // A desk's start page may have no hash at all (the address after login): '#/' then.
    const url = new URL(location.href);
    url.hash = `${location.hash.split('?')[0] || '#/'}${q.size ? `?${q}` : ''}`;
    history.replaceState(history.state, '', url);
    setValue(v);
  };
  return [value, set];
}
