// The people this tab's desk looked up (name and masked ID, as the lookup answered), so that a form
// for one (#/clinic/prescribe/<personId>) still names them after a reload, when the query cache is
// gone and the clinic has no API to read a person by id. sessionStorage: this tab only, cleared at
// logout (auth.ts).
export interface NamedPerson { name: string; nationalIdMasked: string }

const KEY = 'console.people';
/** A day at a busy desk; older ones fall out first. */
const MOST = 200;

const read = (): Record<string, NamedPerson> => JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, NamedPerson>;

export function rememberPerson(personId: string, p: NamedPerson): void {
  try {
    const all = read();
    delete all[personId];
    all[personId] = { name: p.name, nationalIdMasked: p.nationalIdMasked };
    sessionStorage.setItem(KEY, JSON.stringify(Object.fromEntries(Object.entries(all).slice(-MOST))));
  } catch {
    // Storage full or blocked: the name is still shown until a reload, as before.
  }
}

export const rememberedPerson = (personId: string): NamedPerson | undefined => read()[personId];
