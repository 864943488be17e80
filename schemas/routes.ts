// The API route table: every HTTP route of a province stack, stated once.
import { alertRoutes } from './alerts.ts';
import { institutionRoutes } from './institutions.ts';
import { platformRoutes } from './platform.ts';
import { prescriptionRoutes } from './prescriptions.ts';
import { referralRoutes } from './referrals.ts';
import type { RouteDef } from './route.ts';
import { voucherRoutes } from './vouchers.ts';

export const routes: readonly RouteDef[] = [...platformRoutes, ...institutionRoutes, ...alertRoutes, ...voucherRoutes, ...referralRoutes, ...prescriptionRoutes];
