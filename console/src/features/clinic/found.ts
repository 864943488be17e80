// The patient last found on 接诊, by whom: Back from a form that was not sent finds them on 接诊
// still, without reading the ID card again. Forgotten once something was made for them (the next
// patient is not offered the last one's card). In memory only, and only for the same login.
import type { PersonSummary } from '#schemas/institutions';
import { currentSession } from '../../lib/auth.ts';

let last: { sub?: string; person: PersonSummary } | undefined;

export const lastFound = (): PersonSummary | undefined => (last && last.sub === currentSession()?.sub ? last.person : undefined);

export function setLastFound(person: PersonSummary | undefined): void {
  last = person && { sub: currentSession()?.sub, person };
}

/** A referral, prescription or question was made for `personId`. */
export function madeFor(personId: string): void {
  if (last?.person.personId === personId) last = undefined;
}
