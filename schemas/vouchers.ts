// The vouchers part of API.md: schemas and routes.
import type { RouteDef } from './route.ts';

export const voucherRoutes = [] as const satisfies readonly RouteDef[];
