import express, { type Router } from 'express';
import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import swaggerUi from 'swagger-ui-express';
import { registerHeaders } from './headers.js';
import { registerRedirect } from './redirect.js';
import { registerWebhooks } from './webhooks.js';
import { withIntegerLimits } from './schema-limits.js';

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
  registerHeaders(registry);
  registerRedirect(registry);
  registerWebhooks(registry);
  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'qrflow API',
      version: '1.0.0',
      description: 'Dynamic QR codes for automation. Authenticate with `Authorization: Bearer qr_live_…`.',
    },
    // x-internal: false, this is the public API (OWASP API9, an inventory of what is exposed)
    servers: [{ url: publicUrl, description: 'This qrflow server (production)', 'x-internal': false }],
    security: [{ bearerAuth: [] }, { cookieAuth: [] }],
  });
  document.tags = tagsOf(document as Parameters<typeof tagsOf>[0]);
  return withIntegerLimits(document) as unknown as Record<string, unknown>;
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  Sessions: 'Log in and out: `qrs_` session tokens for the management endpoints, or the console\'s cookie.',
  Setup: 'First run: create the first workspace and its owner.',
  Members: 'The people of a workspace and their roles.',
  Account: 'Who is calling: the key or session, its workspace and plan.',
  'API keys': 'Create, pause, renew and revoke API keys (sessions of owners and admins only).',
  'QR codes': 'Dynamic and static QR codes, their images, and static images from a link.',
  Analytics: 'Scans of a code over time, with breakdowns.',
  Events: 'The events feed, for clients that poll.',
  Usage: 'This month\'s API calls and image credits.',
  Webhooks: 'Subscriptions that receive events as signed POSTs (the payloads are under `webhooks`).',
  Health: 'Probes for load balancers and process supervisors.',
  'Short links': 'The public redirect that dynamic codes encode.',
};

/** The document's tags, in order of first use, each with a description. */
function tagsOf(document: { paths?: Record<string, Record<string, unknown>>; webhooks?: Record<string, Record<string, unknown>> }): Array<{ name: string; description?: string }> {
  const names = new Set<string>();
  for (const item of [...Object.values(document.paths ?? {}), ...Object.values(document.webhooks ?? {})]) {
    for (const operation of Object.values(item)) for (const tag of (operation as { tags?: string[] }).tags ?? []) names.add(tag);
  }
  return [...names].map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) }));
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
