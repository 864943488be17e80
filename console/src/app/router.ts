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
