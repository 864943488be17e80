// The prescriptions part of API.md: schemas and routes.
import type { RouteDef } from './route.ts';

export const prescriptionRoutes = [] as const satisfies readonly RouteDef[];
