// Drafts of forms being filled when the session ends or the page is left (a reload): kept in
// sessionStorage (this tab only) across the login redirect and put back into the form afterwards.
// Nothing sensitive beyond what the form holds; read once when the form first shows, and removed
// then. Logging out clears them (auth.ts).
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession } from './auth.ts';

const PREFIX = 'console.draft.';
const open = new Map<string, { values: () => unknown; inFlight: () => boolean }>();

/**
 * Saves every open form's draft. After the API refused the session (401) nothing being sent was
 * written, so every form comes back. When the page is left (a reload) a submit in flight may have
 * been written: that form does not come back, to be sent twice (a referral has no idempotency key).
 */
export function saveDrafts(why: 'session-refused' | 'page-left'): void {
  for (const [key, d] of open) {
    if (why === 'page-left' && d.inFlight()) continue;
    sessionStorage.setItem(PREFIX + key, JSON.stringify(d.values()));
  }
}

/** The draft saved for `key`, read when the form first renders (not at every render: that would eat one saved meanwhile). */
export function useSavedDraft<T>(key: string): T | undefined {
  const [draft] = useState(() => {
    const raw = sessionStorage.getItem(PREFIX + key);
    if (raw === null) return undefined;
    sessionStorage.removeItem(PREFIX + key);
    return JSON.parse(raw) as T;
  });
  return draft;
}

/**
 * Registers a form's current values as its draft while it is on screen. `inFlight`: its submit is
 * waiting for the API. `keepOnLeave`: also kept when the person goes to another screen of the
 * console and back (the counter: a sale half entered when the pharmacist checks 当日结算), while the
 * session lasts (not for whoever logs in next). Returns `forget`, called once the form is done with
 * (sent, saved, given up): from then on its draft is null, also when the screen is left before
 * another render.
 */
export function useDraft(key: string, values: unknown, o: { keepOnLeave?: boolean; inFlight?: boolean } = {}): () => void {
  const ref = useRef({ values, inFlight: !!o.inFlight });
  ref.current = { values, inFlight: !!o.inFlight };
  const forgotten = useRef(false);
  useEffect(() => {
    const now = () => (forgotten.current ? null : ref.current.values);
    open.set(key, { values: now, inFlight: () => ref.current.inFlight });
    return () => {
      open.delete(key);
      if (o.keepOnLeave && currentSession()) sessionStorage.setItem(PREFIX + key, JSON.stringify(now()));
    };
  }, [key]);
  return () => { forgotten.current = true; };
}
