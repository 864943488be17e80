// Every event of the catalog, for consumers that take them all (the audit projection).
import * as advice from './advice.ts';
import type { EventDef } from './catalog.ts';
import * as institutions from './institutions.ts';
import * as prescriptions from './prescriptions.ts';
import * as referrals from './referrals.ts';
import * as vouchers from './vouchers.ts';

const defsOf = (module: object) => Object.values(module) as EventDef[];

export const allEvents: readonly EventDef[] = [institutions, vouchers, referrals, prescriptions, advice].flatMap(defsOf);
