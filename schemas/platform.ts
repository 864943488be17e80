import * as z from 'zod';
import { defineRoute } from './route.ts';

export const health = z.object({ status: z.literal('ok') });

export const platformRoutes = [
  defineRoute({
    operationId: 'getHealth',
    method: 'GET',
    path: '/health',
    fn: 'platform',
    auth: 'public',
    tag: 'platform',
    summary: 'Liveness check',
    responses: { 200: health },
    problems: [],
  }),
  defineRoute({
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    fn: 'platform',
    auth: 'public',
    tag: 'platform',
    summary: 'This OpenAPI 3.1 document, generated from the zod schemas',
    responses: { 200: z.looseObject({ openapi: z.literal('3.1.0') }).meta({ description: 'An OpenAPI 3.1 document' }) },
    problems: [],
  }),
] as const;
