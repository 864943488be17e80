// Drafts of forms being filled when the session ends or the page is left (a reload): kept in
// sessionStorage (this tab only) across the login redirect and put back into the form afterwards. Nothing sensitive beyond what the form
// holds; removed once restored.
import { useEffect, useRef } from 'preact/hooks';
import { currentSession } from './auth.ts';

const PREFIX = 'console.draft.';
const open = new Map<string, () => unknown>();

/** Saves every open form's draft (called when the session ends, before the login redirect). */
export function saveDrafts(): void {
  for (const [key, get] of open) sessionStorage.setItem(PREFIX + key, JSON.stringify(get()));
}

/** The draft saved for `key`, once (it is removed as it is read). */
export function takeDraft<T>(key: string): T | undefined {
  const raw = sessionStorage.getItem(PREFIX + key);
  if (raw === null) return undefined;
  sessionStorage.removeItem(PREFIX + key);
  return JSON.parse(raw) as T;
}

/**
 * Registers a form's current values as its draft while it is on screen. `keepOnLeave`: also when
 * the person goes to another screen of the console and back (the counter: a sale half entered when
 * the pharmacist checks 当日结算), while the session lasts (not for whoever logs in next).
 */
export function useDraft(key: string, values: unknown, o: { keepOnLeave?: boolean } = {}): void {
  const ref = useRef(values);
  ref.current = values;
  useEffect(() => {
    open.set(key, () => ref.current);
    return () => {
      open.delete(key);
      if (o.keepOnLeave && currentSession()) sessionStorage.setItem(PREFIX + key, JSON.stringify(ref.current));
    };
  }, [key]);
}
