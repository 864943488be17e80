// Every event of the catalog, for consumers that take them all (the audit projection).
import type { EventDef } from './catalog.ts';
import * as institutions from './institutions.ts';

export const allEvents = [...Object.values(institutions)] as const satisfies readonly EventDef[];
