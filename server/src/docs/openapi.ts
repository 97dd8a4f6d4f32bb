import express, { type Router } from 'express';
import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import swaggerUi from 'swagger-ui-express';

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(registry: OpenAPIRegistry, publicUrl: string): Record<string, unknown> {
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`qr_live_…`) or, for the key-management endpoints, a session token (`qrs_…`) from /api/v1/auth/login.',
  });
  registry.registerComponent('securitySchemes', 'cookieAuth', {
    type: 'apiKey',
    in: 'cookie',
    name: 'qrflow_session',
    description:
      'The console\'s session, set by POST /api/v1/auth/login with `"cookie": true` (or by first-run setup). POST, PUT, PATCH and DELETE made with it ' +
      'also need `X-CSRF-Token` (GET /api/v1/auth/csrf) and a same-origin `Origin`, else 403 `csrf_failed`.',
  });
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'qrflow API',
      version: '1.0.0',
      description: 'Dynamic QR codes for automation. Authenticate with `Authorization: Bearer qr_live_…`.',
    },
    servers: [{ url: publicUrl }],
    security: [{ bearerAuth: [] }, { cookieAuth: [] }],
  }) as unknown as Record<string, unknown>;
}

/** `/openapi.json` and the try-it page at `/api-docs` (Authorize, paste a key, Try it out). */
export function docsRouter(document: () => Record<string, unknown>): Router {
  const router = express.Router();
  let cached: Record<string, unknown> | undefined;
  const get = () => (cached ??= document());
  router.get('/openapi.json', (_req, res) => {
    res.json(get());
  });
  router.use('/api-docs', swaggerUi.serve);
  router.get('/api-docs', (req, res, next) => {
    swaggerUi.setup(get(), { customSiteTitle: 'qrflow API', swaggerOptions: { persistAuthorization: true, tryItOutEnabled: true } })(req, res, next);
  });
  return router;
}
