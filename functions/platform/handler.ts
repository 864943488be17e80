// GET /health and GET /openapi.json: public, no table access.
import { platformRoutes } from '#schemas/platform';
import { cached } from '#shared/cache';
import { provinceConfig } from '#shared/env';
import { apiHandler } from '#shared/http';

// The route table's schemas and the document are built on the first request for the document, not
// at start: a health check never builds them.
const document = cached(Number.POSITIVE_INFINITY, async (_once: 'document'): Promise<Record<string, unknown>> => {
  const [{ openApiDocument }, { routes }] = await Promise.all([import('#schemas/openapi'), import('#schemas/routes')]);
  return openApiDocument(routes, { title: `Medical consortium platform — ${provinceConfig().name}` });
});

export const handler = apiHandler(platformRoutes, {
  async getHealth() {
    return { status: 200, body: { status: 'ok' } };
  },
  async getOpenApi() {
    return { status: 200, body: await document('document'), headers: { 'cache-control': 'public, max-age=300' } };
  },
});
