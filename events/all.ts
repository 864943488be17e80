// Every event of the catalog, for consumers that take them all (the audit projection).
import type { EventDef } from './catalog.ts';
import * as institutions from './institutions.ts';
import * as prescriptions from './prescriptions.ts';
import * as referrals from './referrals.ts';
import * as vouchers from './vouchers.ts';

export const allEvents = [
  ...Object.values(institutions),
  ...Object.values(vouchers),
  ...Object.values(referrals),
  ...Object.values(prescriptions),
] as const satisfies readonly EventDef[];
