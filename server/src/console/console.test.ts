import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';

const EXPECTED_CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob:;connect-src 'self';font-src 'self';object-src 'none';base-uri 'none';form-action 'self';frame-ancestors 'none'";
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';

function writeDist(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-console-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'index-Ab12Cd34.js'), 'console.log("console");');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the console, served from a built web/dist', () => {
  let dist: string;
  let server: TestServer;

  beforeAll(async () => {
    dist = writeDist();
    server = await startTestServer({ env: { QRFLOW_CONSOLE_DIR: dist } });
  });
  afterAll(async () => {
    await server.cleanup();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('answers / with index.html, not cached, under the console CSP and frame-ancestors none', async () => {
    const response = await server.request('GET', '/', { headers: html });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toBe(INDEX);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toBe(EXPECTED_CSP);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // plain http: no HSTS
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it.each(['/settings/api', '/settings/members', '/qr/qr_8fK2mP0aZx91', '/login', '/setup', '/webhooks', '/events'])('loads the app for the deep link %s', async (page) => {
    const response = await server.request('GET', page, { headers: html });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX);
    expect(response.headers.get('content-security-policy')).toBe(EXPECTED_CSP);
  });

  it('answers HEAD of a deep link like GET, without a body', async () => {
    const response = await server.request('HEAD', '/settings/api', { headers: html });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toBe('');
  });

  it('serves hashed assets with a year of immutable caching', async () => {
    const response = await server.request('GET', '/assets/index-Ab12Cd34.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await response.text()).toBe('console.log("console");');
  });

  it('serves other files of the build without long caching', async () => {
    const response = await server.request('GET', '/favicon.svg');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a missing asset with 404, never index.html in its place', async () => {
    const response = await server.request('GET', '/assets/index-Gone0000.js', { headers: html });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<div id="root">');
  });

  it.each(['application/json', '*/*', ''])('does not answer with the console what does not prefer HTML (Accept: %s)', async (accept) => {
    await expectError(await server.request('GET', '/settings/api', { headers: accept ? { accept } : {} }), 404, 'not_found');
  });

  it.each(['/api/v1/nothing-here', '/api', '/api/', '/r/', '/api-docs/nothing'])('keeps %s out of the fallback (JSON, not the app)', async (page) => {
    const response = await server.request('GET', page, { headers: html });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<div id="root">');
  });

  it.each(['/healthz-history', '/openapi.json.html', '/rabbits'])('reserves only the exact probe and document paths: %s is a page', async (page) => {
    const response = await server.request('GET', page, { headers: html });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX);
  });

  it('answers unknown API paths with the JSON 404 of the error model, even for a browser', async () => {
    const body = await expectError(await server.request('GET', '/api/v1/nothing-here', { headers: html }), 404, 'not_found');
    expect(body.error.message).toContain('/api-docs');
  });

  it('leaves POST to a page path to the JSON 404', async () => {
    await expectError(await server.request('POST', '/settings/api', { headers: html, body: {} }), 404, 'not_found');
  });

  it('keeps the API and the docs as they were', async () => {
    const me = await server.request('GET', '/api/v1/me', { headers: html });
    expect(me.status).toBe(401);
    expect(me.headers.get('content-security-policy')).toBeNull();
    const openapi = await server.request('GET', '/openapi.json', { headers: html });
    expect(openapi.status).toBe(200);
    expect(openapi.headers.get('content-type')).toMatch(/json/);
  });

  it('does not serve files outside the build directory', async () => {
    const response = await fetch(`${server.baseUrl}/..%2f..%2fetc%2fpasswd`, { headers: { accept: 'text/plain' } });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('root:');
  });
});

describe('the console before it is built', () => {
  let server: TestServer;
  let missing: string;

  beforeAll(async () => {
    missing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-console-missing-')), 'dist');
    server = await startTestServer({ env: { QRFLOW_CONSOLE_DIR: missing } });
  });
  afterAll(async () => {
    await server.cleanup();
    fs.rmSync(path.dirname(missing), { recursive: true, force: true });
  });

  it('answers / with a small HTML page saying how to build it', async () => {
    const response = await server.request('GET', '/', { headers: html });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(EXPECTED_CSP);
    const text = await response.text();
    expect(text).toContain('not built');
    expect(text).toContain('npm run build -w web');
    expect(text).toContain(missing);
  });

  it('starts serving the console as soon as it is built, without a restart', async () => {
    fs.mkdirSync(missing);
    fs.writeFileSync(path.join(missing, 'index.html'), INDEX);
    const response = await server.request('GET', '/settings/api', { headers: html });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX);
  });
});

describe('the console behind an https public URL', () => {
  let server: TestServer;
  let dist: string;

  beforeAll(async () => {
    dist = writeDist();
    server = await startTestServer({ env: { QRFLOW_CONSOLE_DIR: dist, QRFLOW_PUBLIC_URL: 'https://qr.example.test' } });
  });
  afterAll(async () => {
    await server.cleanup();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('adds Strict-Transport-Security', async () => {
    const response = await server.request('GET', '/', { headers: html });
    expect(response.status).toBe(200);
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });
});
