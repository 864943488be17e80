// GET /health and GET /openapi.json: public, no table access.
import { openApiDocument } from '#schemas/openapi';
import { platformRoutes } from '#schemas/platform';
import { routes } from '#schemas/routes';
import { provinceConfig } from '#shared/env';
import { apiHandler } from '#shared/http';

let document: Record<string, unknown> | undefined;

export const handler = apiHandler(platformRoutes, {
  async getHealth() {
    return { status: 200, body: { status: 'ok' } };
  },
  async getOpenApi() {
    document ??= openApiDocument(routes, { title: `Medical consortium platform — ${provinceConfig().name}` });
    return { status: 200, body: document, headers: { 'cache-control': 'public, max-age=300' } };
  },
});
