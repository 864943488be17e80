// The API route table: every HTTP route of a province stack, stated once.
import { institutionRoutes } from './institutions.ts';
import { platformRoutes } from './platform.ts';
import type { RouteDef } from './route.ts';

export const routes: readonly RouteDef[] = [...platformRoutes, ...institutionRoutes];
