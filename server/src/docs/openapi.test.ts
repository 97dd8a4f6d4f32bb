import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../http/mount.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

type Json = Record<string, unknown>;
interface Operation extends Json {
  parameters?: Array<{ name: string; in: string; schema?: Json; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: Json }> };
  security?: unknown[];
  responses: Record<string, unknown>;
}
interface Document extends Json {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
let srv: TestServer;
let document: Document;

beforeAll(async () => {
  srv = await startTestServer({ env: { QRFLOW_PUBLIC_URL: 'https://qr.example.test' } });
  const response = await fetch(`${srv.baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/json');
  document = (await response.json()) as Document;
});

afterAll(async () => {
  await srv.cleanup();
});

/** `method path` of every operation in the document. */
function documentedOperations(): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).filter((key) => METHODS.has(key)).map((method) => `${method} ${path}`));
}

/** Every `$ref` value anywhere in a JSON value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') out.push(child);
      else refsIn(child, out);
    }
  }
  return out;
}

/** The schema a `$ref` (or an inline schema) stands for. */
function resolve(schema: Json): Json {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  return document.components.schemas[ref.replace('#/components/schemas/', '')] as Json;
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: 'https://qr.example.test', description: 'This qrflow server (production)', 'x-internal': false }]);
  });

  it('has no $ref that points nowhere', () => {
    const missing = refsIn(document).filter((ref) => {
      const [, section, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(ref) ?? [];
      return !section || !name || !(document.components as Record<string, Record<string, unknown> | undefined>)[section]?.[name];
    });
    expect(missing).toEqual([]);
  });

  it('documents every mounted route, and mounts every documented operation', () => {
    const mounted = srv.running.app.routes.map((route) => `${route.method} ${openApiPath(route.path)}`);
    // the short-link redirect is served before the route table (redirect/handler.ts): documented, not mounted
    const documented = documentedOperations().filter((operation) => !SHORT_LINKS.includes(operation));
    expect(documentedOperations()).toEqual(expect.arrayContaining(SHORT_LINKS));
    expect(new Set(mounted).size).toBe(mounted.length);
    expect([...documented].sort()).toEqual([...mounted].sort());
    for (const operation of ['get /api/v1/qr', 'post /api/v1/qr', 'get /api/v1/qr/{id}', 'put /api/v1/qr/{id}', 'patch /api/v1/qr/{id}', 'delete /api/v1/qr/{id}', 'get /api/v1/qr/{id}/image', 'get /api/v1/qr/{id}/analytics', 'get /api/v1/events']) {
      expect(documented).toContain(operation);
    }
  });

  /** The public redirect and its password form, outside the route table. */
  const SHORT_LINKS = ['get /r/{short_code}', 'post /r/{short_code}'];
  /** The load balancer's probes: public by design. */
  const HEALTH_OPERATIONS = ['get /healthz', 'get /readyz'];

  it('describes only operations the server answers (no documented path falls through to "no such endpoint")', async () => {
    // public reads answer without credentials
    const publicReads = ['get /api/v1/auth/csrf', 'get /api/v1/setup'];
    for (const operation of documentedOperations()) {
      if (HEALTH_OPERATIONS.includes(operation)) continue; // public and answering 200: server/src/health/health.test.ts
      if (SHORT_LINKS.includes(operation)) continue; // public, HTML: server/src/docs/contract.test.ts, redirect/smart-redirect.test.ts
      const [method, path] = operation.split(' ') as [string, string];
      const response = await fetch(`${srv.baseUrl}${path.replace(/\{[^}]+\}/g, 'qr_probe')}`, { method: method.toUpperCase(), redirect: 'manual' });
      const body = (await response.json()) as { error?: { code: string; message: string } };
      expect(body.error?.message ?? '', operation).not.toMatch(/^There is no /);
      expect(publicReads.includes(operation) ? [200] : [400, 401, 403], operation).toContain(response.status);
    }
  });

  it('protects every operation but login, the CSRF token and first-run setup with the bearer scheme or the console\'s cookie', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.securitySchemes.cookieAuth).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'qrflow_session' });
    expect(document.security).toEqual([{ bearerAuth: [] }, { cookieAuth: [] }]);
    const publicOperations = documentedOperations().filter((operation) => {
      const [method, path] = operation.split(' ') as [string, string];
      return (document.paths[path]?.[method] as Operation).security?.length === 0;
    });
    expect(publicOperations.filter((operation) => !HEALTH_OPERATIONS.includes(operation) && !SHORT_LINKS.includes(operation)).sort()).toEqual(['get /api/v1/auth/csrf', 'get /api/v1/setup', 'post /api/v1/auth/login', 'post /api/v1/setup']);
    expect(publicOperations).toEqual(expect.arrayContaining(HEALTH_OPERATIONS));
  });

  it('describes the QR endpoints from the zod schemas that validate them', () => {
    const create = document.paths['/api/v1/qr']?.post as Operation;
    const body = resolve(create.requestBody?.content['application/json']?.schema as Json);
    expect(body.additionalProperties).toBe(false);
    expect(body.required).toEqual(['name']);
    const properties = body.properties as Record<string, Json>;
    expect(Object.keys(properties).sort()).toEqual(['content', 'destination_url', 'domain', 'expired_url', 'max_scans', 'mode', 'name', 'password', 'redirect_rules', 'status', 'style', 'tags', 'type', 'utm', 'valid_from', 'valid_until', 'variants']);
    expect(properties.name).toMatchObject({ minLength: 1, maxLength: 120 });
    expect(properties.type).toMatchObject({ enum: ['url', 'text', 'email', 'phone', 'sms', 'wifi', 'vcard'], default: 'url' });
    expect(create.parameters?.find((parameter) => parameter.name === 'idempotency-key')).toMatchObject({ in: 'header', schema: { maxLength: 255 } });
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409']));

    const list = document.paths['/api/v1/qr']?.get as Operation;
    const parameters = Object.fromEntries((list.parameters ?? []).map((parameter) => [parameter.name, parameter]));
    expect(Object.keys(parameters).sort()).toEqual(['cursor', 'limit', 'mode', 'qr-mode', 'search', 'status', 'tag']);
    expect(parameters.limit?.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });

    const imageParameters = (document.paths['/api/v1/qr/{id}/image']?.get as Operation).parameters ?? [];
    expect(imageParameters.find((parameter) => parameter.name === 'size')?.schema).toMatchObject({ minimum: 64, maximum: 2048, default: 512 });
    expect(imageParameters.find((parameter) => parameter.name === 'id')).toMatchObject({ in: 'path', required: true });

    const analytics = document.paths['/api/v1/qr/{id}/analytics']?.get as Operation;
    expect(analytics['x-required-scope']).toBe('analytics:read');
    const analyticsParameters = (analytics.parameters ?? []).map((parameter) => parameter.name).sort();
    expect(analyticsParameters).toEqual(['from', 'id', 'include_bots', 'interval', 'qr-mode', 'to', 'tz']);
  });
});

describe('the documented content of a static code', () => {
  /** Whether a flat object satisfies a documented object schema's required and additionalProperties rules. */
  const satisfies = (value: Json, schema: Json) =>
    ((schema.required as string[] | undefined) ?? []).every((key) => key in value) &&
    (schema.additionalProperties !== false || Object.keys(value).every((key) => key in (schema.properties as Json)));

  it.each([
    ['text', { text: 'hi' }],
    ['email', { to: 'a@example.com' }],
    ['phone', { number: '+15550100' }],
    ['sms', { number: '+15550100', message: 'hi' }],
    ['wifi', { ssid: 'Cafe' }],
    ['vcard', { first_name: 'Ada' }],
  ])('accepts a valid %s content in the create request', (_type, content) => {
    const body = resolve((document.paths['/api/v1/qr']?.post as Operation).requestBody?.content['application/json']?.schema as Json);
    const documented = (body.properties as Record<string, Json>).content as Json;
    const choices = ((documented.anyOf ?? documented.oneOf) as Json[]).map(resolve);
    const matches = choices.filter((choice) => satisfies(content, choice)).length;
    expect(matches).toBeGreaterThan(0);
    // a value matching several shapes is valid under anyOf, and invalid under oneOf
    if (matches > 1) expect(documented.oneOf).toBeUndefined();
  });
});

describe('/api-docs', () => {
  it('serves the Swagger UI page', async () => {
    const redirect = await fetch(`${srv.baseUrl}/api-docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/api-docs/');
    const response = await fetch(`${srv.baseUrl}/api-docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
    expect(html).toContain('<title>qrflow API</title>');
    expect(html).toContain('swagger-ui-bundle.js');
  });

  it('loads this document into the page, with Authorize remembered and Try it out on', async () => {
    const init = await (await fetch(`${srv.baseUrl}/api-docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"openapi": "3.1.0"');
    expect(init).toContain('"/api/v1/qr/{id}/analytics"');
    expect(init).toMatch(/"persistAuthorization": true/);
    expect(init).toMatch(/"tryItOutEnabled": true/);
    const bundle = await fetch(`${srv.baseUrl}/api-docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
  });
});
