// The two questions every explicit state machine here answers from its one transition table (one
// row per action: the statuses it starts from, who may make it): may this actor make this move now
// (403 for the wrong actor, then 409 invalid-transition for the wrong status), and which moves may
// it make now (`allowedActions`). Both read the same two predicates, so the second never offers
// what the first would refuse.
import { problem } from './errors.ts';

export interface Row<S extends string, W extends string> {
  readonly from: readonly S[];
  readonly by: readonly W[];
}

export function assertAllowed<S extends string, W extends string>(table: Record<string, Row<S, W>>, noun: string, status: S, action: string, actor: W): void {
  const t = table[action]!;
  if (!t.by.includes(actor)) throw problem('forbidden', `only the ${t.by.join(' or ')} may ${action} ${noun}`);
  if (!t.from.includes(status)) throw problem('invalid-transition', `cannot ${action} ${noun} that is ${status}`);
}

/** The actions of `table` that `actor` may make from `status`, in the table's order. */
export function allowedIn<S extends string, W extends string, A extends string>(table: Record<A, Row<S, W>>, status: S, actor: W | undefined): A[] {
  if (actor === undefined) return [];
  return (Object.keys(table) as A[]).filter((a) => table[a].by.includes(actor) && table[a].from.includes(status));
}
