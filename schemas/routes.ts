// The API route table: every HTTP route of a province stack, stated once.
import { adviceRoutes } from './advice.ts';
import { alertRoutes } from './alerts.ts';
import { familyRoutes } from './family.ts';
import { institutionRoutes } from './institutions.ts';
import { overviewRoutes } from './overview.ts';
import { peopleRoutes } from './people.ts';
import { platformRoutes } from './platform.ts';
import { prescriptionRoutes } from './prescriptions.ts';
import { referralRoutes } from './referrals.ts';
import type { RouteDef } from './route.ts';
import { voucherRoutes } from './vouchers.ts';
import { webhookRoutes } from './webhooks.ts';

// The same table as a tuple type: the console's API client derives each operation's path, input
// and output types from it.
export const typedRoutes = [...platformRoutes, ...institutionRoutes, ...alertRoutes, ...voucherRoutes, ...familyRoutes, ...referralRoutes, ...prescriptionRoutes, ...overviewRoutes, ...webhookRoutes, ...adviceRoutes, ...peopleRoutes] as const;

export const routes: readonly RouteDef[] = typedRoutes;
