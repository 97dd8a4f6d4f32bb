import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from './operations.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import type { AnyRoute } from '../http/route.js';

type Json = Record<string, unknown>;
interface DocumentedResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Json }>;
  'x-error-codes'?: string[];
}
interface Operation {
  operationId?: string;
  responses: Record<string, DocumentedResponse>;
  requestBody?: { required?: boolean };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
  components: Json;
}

let srv: TestServer;
let document: Document;
let routes: readonly AnyRoute[];

beforeAll(async () => {
  srv = await startTestServer({ plan: 'team' });
  document = (await (await fetch(`${srv.baseUrl}/openapi.json`)).json()) as Document;
  routes = srv.running.app.routes;
});
afterAll(async () => {
  await srv.cleanup();
});

const operationOf = (route: AnyRoute): Operation => document.paths[openApiPath(route.path)]?.[route.method] as Operation;
const codesOf = (operation: Operation, status: number): string[] => operation.responses[String(status)]?.['x-error-codes'] ?? [];
const headersOf = (operation: Operation, status: number): string[] => Object.keys(operation.responses[String(status)]?.headers ?? {});

describe('operationIds', () => {
  it('every route has one, camelCase verbNoun, and no two operations (webhooks included) share one', () => {
    const missing = routes.filter((route) => !route.operationId).map((route) => `${route.method} ${route.path}`);
    expect(missing).toEqual([]);
    const ids = [...Object.values(document.paths), ...Object.values(document.webhooks)].flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(ids.every((id) => typeof id === 'string' && /^[a-z]+(?:[A-Z0-9][a-z0-9]*)+$/.test(id)), ids.join(', ')).toBe(true);
    expect(ids.length).toBe(new Set(ids).size);
    for (const route of routes) expect(operationOf(route).operationId).toBe(route.operationId);
  });
});

describe('every status the middleware of a route can answer is documented, with the error model', () => {
  /** What the route's shape says it can answer, worked out here independently of docs/operations.ts. */
  function expectedStatuses(route: AnyRoute): Array<[number, string | undefined]> {
    const expected: Array<[number, string | undefined]> = [[500, 'internal_error']];
    if (route.body) expected.push([400, 'invalid_json'], [413, 'payload_too_large'], [415, 'unsupported_encoding']);
    if (route.body || route.query || route.params) expected.push([400, 'validation_error']);
    if (route.params) expected.push([404, 'not_found'], [400, 'invalid_path']);
    if (route.auth !== 'none') {
      expected.push([401, 'missing_authorization'], [401, 'missing_api_key'], [429, 'rate_limited'], [429, 'monthly_quota_exceeded']);
      if (route.auth === 'key_or_session') expected.push([401, 'invalid_api_key'], [403, 'plan_upgrade_required']);
      else expected.push([401, 'session_required']);
      if (route.method !== 'get') expected.push([403, 'csrf_failed']);
    }
    if (route.scope) expected.push([403, 'insufficient_scope']);
    if (route.roles) expected.push([403, 'forbidden_role']);
    if (route.path === '/api/v1/auth/login') expected.push([429, 'login_rate_limited'], [401, 'invalid_credentials'], [403, 'csrf_failed']);
    if (route.path === '/api/v1/setup' && route.method === 'post') expected.push([429, 'setup_rate_limited'], [403, 'signup_closed'], [403, 'csrf_failed']);
    if (route.path === '/api/v1/generate') expected.push([429, 'rate_limited'], [429, 'image_credits_exhausted']);
    return expected;
  }

  it('for each route in the table', () => {
    const missing: string[] = [];
    for (const route of routes) {
      const operation = operationOf(route);
      for (const [status, code] of expectedStatuses(route)) {
        if (!operation.responses[String(status)] || (code && !codesOf(operation, status).includes(code))) missing.push(`${route.method} ${route.path}: ${status} ${code ?? ''}`);
      }
      // and nothing public claims a 401 it cannot give
      if (route.auth === 'none' && route.path !== '/api/v1/auth/login') expect(operation.responses['401'], route.path).toBeUndefined();
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) expect(response.content?.['application/json']?.schema, `${route.path} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares X-Request-Id everywhere, Retry-After on every 429 and 503, and the RateLimit headers on authenticated successes', () => {
    for (const route of routes) {
      const operation = operationOf(route);
      for (const status of Object.keys(operation.responses).map(Number)) {
        expect(headersOf(operation, status), `${route.path} ${status}`).toContain('X-Request-Id');
        if (status === 429 || status === 503) expect(headersOf(operation, status), `${route.path} ${status}`).toContain('Retry-After');
        if (route.auth !== 'none' && status < 300) expect(headersOf(operation, status), `${route.path} ${status}`).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
      }
    }
  });

  it('marks a body optional exactly when the server accepts the request without one', () => {
    for (const route of routes.filter((r) => r.body)) {
      expect(operationOf(route).requestBody?.required, `${route.method} ${route.path}`).toBe(!route.body!.safeParse({}).success);
    }
    const renew = document.paths['/api/v1/keys/{id}/renew']?.post;
    expect(renew?.requestBody?.required).toBe(false);
    expect(document.paths['/api/v1/qr']?.post?.requestBody?.required).toBe(true);
  });

  it('documents SVG, PDF and EPS beside PNG, the short-link redirect and one webhook per event type', () => {
    for (const path of ['/api/v1/qr/{id}/image', '/api/v1/generate']) expect(Object.keys(document.paths[path]?.get?.responses['200']?.content ?? {})).toEqual(['image/png', 'image/svg+xml', 'application/pdf', 'application/postscript']);
    const redirect = document.paths['/r/{short_code}']?.get as Operation;
    expect(Object.keys(redirect.responses)).toEqual(['200', '302', '404', '410', '500']);
    expect(headersOf(redirect, 302)).toContain('Location');
    expect(Object.keys(redirect.responses['404']?.content ?? {})).toEqual(['text/html']);
    expect(Object.keys(document.webhooks).sort()).toEqual(['qr.created', 'qr.deleted', 'qr.scanned', 'qr.updated', 'webhook.test']);
  });
});

describe('real answers match the documented status, body schema and headers', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  let compiledFor: Document | undefined;
  /** Standard transport headers, not part of the contract. */
  const TRANSPORT = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

  function validatorFor(schema: Json) {
    if (compiledFor !== document) {
      ajv.addSchema({ $id: 'qrflow-openapi', components: document.components });
      compiledFor = document;
    }
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"qrflow-openapi#/components/')) as Json;
    return ajv.compile(rebased);
  }

  /** Checks one real answer against the operation `method path` of the document; returns the parsed body. */
  async function check(method: string, path: string, response: Response): Promise<unknown> {
    const operation = (document.paths[path]?.[method.toLowerCase()] ?? undefined) as Operation | undefined;
    expect(operation, `${method} ${path}`).toBeDefined();
    const documented = operation!.responses[String(response.status)];
    expect(documented, `${method} ${path} answered ${response.status}, which is not documented`).toBeDefined();
    const declared = new Set(Object.keys(documented!.headers ?? {}).map((name) => name.toLowerCase()));
    const sent = [...response.headers.keys()].filter((name) => !TRANSPORT.has(name));
    expect(sent.filter((name) => !declared.has(name)), `${method} ${path} ${response.status}: undeclared headers`).toEqual([]);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length === 0) return undefined;
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const content = documented!.content?.[type];
    expect(content, `${method} ${path} ${response.status}: ${type} not documented`).toBeDefined();
    if (type !== 'application/json') return bytes;
    const body = JSON.parse(bytes.toString('utf8')) as unknown;
    const validate = validatorFor(content!.schema);
    expect(validate(body) ? [] : validate.errors, `${method} ${path} ${response.status}`).toEqual([]);
    const code = (body as { error?: { code?: string } }).error?.code;
    if (code) expect(documented!['x-error-codes'], `${method} ${path} ${response.status}`).toContain(code);
    return body;
  }

  let key: string;
  beforeAll(async () => {
    key = (await srv.createKey()).secret;
  });

  it('401 missing_api_key for "Bearer " with nothing after it', async () => {
    const response = await fetch(`${srv.baseUrl}/api/v1/qr`, { headers: { authorization: 'Bearer ' } });
    expect(response.status).toBe(401);
    expect(await check('GET', '/api/v1/qr', response)).toMatchObject({ error: { code: 'missing_api_key' } });
  });

  it('413 payload_too_large for a body over 1 MB', async () => {
    const response = await fetch(`${srv.baseUrl}/api/v1/qr`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.status).toBe(413);
    expect(await check('POST', '/api/v1/qr', response)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('415 for a charset other than UTF-8, 400 for bad JSON and for a bad field', async () => {
    const post = (headers: Record<string, string>, body: string) => fetch(`${srv.baseUrl}/api/v1/qr`, { method: 'POST', headers: { authorization: `Bearer ${key}`, ...headers }, body });
    const unsupported = await post({ 'content-type': 'application/json; charset=klingon' }, '{}');
    expect(unsupported.status).toBe(415);
    await check('POST', '/api/v1/qr', unsupported);
    const invalid = await post({ 'content-type': 'application/json' }, '{"name":');
    expect(invalid.status).toBe(400);
    expect(await check('POST', '/api/v1/qr', invalid)).toMatchObject({ error: { code: 'invalid_json' } });
    const field = await post({ 'content-type': 'application/json' }, '{"name":""}');
    expect(field.status).toBe(400);
    expect(await check('POST', '/api/v1/qr', field)).toMatchObject({ error: { code: 'validation_error' } });
  });

  it('429 login_rate_limited with Retry-After after five failed logins for one email', async () => {
    const login = () =>
      fetch(`${srv.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password' }) });
    for (let i = 0; i < 5; i++) {
      const response = await login();
      expect(response.status).toBe(401);
      await check('POST', '/api/v1/auth/login', response);
    }
    const limited = await login();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await check('POST', '/api/v1/auth/login', limited)).toMatchObject({ error: { code: 'login_rate_limited' } });
  });

  it('successes: create (and its replay), list, get, the PNG and SVG images and their 304, a 404, analytics, a preview', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'contract-1' };
    const body = JSON.stringify({ name: 'Contract', destination_url: 'https://example.com/contract' });
    const created = await fetch(`${srv.baseUrl}/api/v1/qr`, { method: 'POST', headers, body });
    expect(created.status).toBe(201);
    const { data } = (await check('POST', '/api/v1/qr', created)) as { data: { id: string; short_code: string } };
    const replayed = await fetch(`${srv.baseUrl}/api/v1/qr`, { method: 'POST', headers, body });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await check('POST', '/api/v1/qr', replayed);

    const get = (path: string, extra: Record<string, string> = {}) => fetch(`${srv.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}`, ...extra }, redirect: 'manual' });
    await check('GET', '/api/v1/qr', await get('/api/v1/qr?limit=2'));
    const badCursor = await get('/api/v1/qr?cursor=not-a-cursor');
    expect(badCursor.status).toBe(400);
    expect(await check('GET', '/api/v1/qr', badCursor)).toMatchObject({ error: { code: 'invalid_cursor' } });
    await check('GET', '/api/v1/qr/{id}', await get(`/api/v1/qr/${data.id}`));
    const missing = await get('/api/v1/qr/qr_doesNotExist01');
    expect(missing.status).toBe(404);
    await check('GET', '/api/v1/qr/{id}', missing);
    const png = await get(`/api/v1/qr/${data.id}/image`);
    expect(png.headers.get('content-type')).toBe('image/png');
    const etag = png.headers.get('etag')!;
    await check('GET', '/api/v1/qr/{id}/image', png);
    const svg = await get(`/api/v1/qr/${data.id}/image?format=svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    await check('GET', '/api/v1/qr/{id}/image', svg);
    const notModified = await get(`/api/v1/qr/${data.id}/image`, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    await check('GET', '/api/v1/qr/{id}/image', notModified);
    await check('GET', '/api/v1/qr/{id}/analytics', await get(`/api/v1/qr/${data.id}/analytics`));
    await check('GET', '/api/v1/usage', await get('/api/v1/usage'));
    await check('GET', '/api/v1/me', await get('/api/v1/me'));

    const preview = await fetch(`${srv.baseUrl}/api/v1/generate?data=hello`);
    expect(preview.headers.get('qr-preview')).toBe('missing_key');
    await check('GET', '/api/v1/generate', preview);

    const redirect = await fetch(`${srv.baseUrl}/r/${data.short_code}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    await check('GET', '/r/{short_code}', redirect);
    const unknown = await fetch(`${srv.baseUrl}/r/zzzzzzzz`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
    await check('GET', '/r/{short_code}', unknown);
    await check('GET', '/readyz', await fetch(`${srv.baseUrl}/readyz`));
    await check('GET', '/api/v1/auth/csrf', await fetch(`${srv.baseUrl}/api/v1/auth/csrf`));
  });

  it('the per-minute 429 carries Retry-After and the RateLimit headers, as documented', async () => {
    const limited = await startTestServer({ env: { QRFLOW_PLANS_FILE: await tinyPlans() }, plan: 'tiny' });
    try {
      const { secret } = await limited.createKey();
      let response: Response | undefined;
      for (let i = 0; i < 3; i++) response = await fetch(`${limited.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
      expect(response!.status).toBe(429);
      expect(response!.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response!.headers.get('ratelimit')).toMatch(/"minute"; r=0/);
      expect(await check('GET', '/api/v1/me', response!)).toMatchObject({ error: { code: 'rate_limited' } });
    } finally {
      await limited.cleanup();
    }
  });
});

async function tinyPlans(): Promise<string> {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'qrflow-contract-plans-')), 'plans.json');
  await writeFile(file, JSON.stringify({ tiny: { name: 'Tiny', api_access: true, requests_per_minute: 2, monthly_api_calls: 100, monthly_image_credits: 0, max_qr_codes: 10, max_api_keys: 5 } }));
  return file;
}
