// The referrals part of API.md: schemas and routes.
import type { RouteDef } from './route.ts';

export const referralRoutes = [] as const satisfies readonly RouteDef[];
