import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QrView } from './schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, scan } from '../../../test/helpers/qr.js';

let srv: TestServer;
/** Workspace A's key and code; workspace B's key. */
let keyA: string;
let keyB: string;
let codeA: QrView;
let codeB: QrView;

beforeAll(async () => {
  srv = await startTestServer();
  keyA = (await srv.createKey()).secret;
  const other = await srv.createWorkspace('Workspace B');
  keyB = (await srv.createKey({ workspace: other.workspace })).secret;
  codeA = await createQr(srv, keyA, { name: 'A private code', destination_url: 'https://a.example.com/', tags: ['shared-tag'] });
  codeB = await createQr(srv, keyB, { name: 'B private code', destination_url: 'https://b.example.com/', tags: ['shared-tag'] });
});

afterAll(async () => {
  await srv.cleanup();
});

describe("another workspace's codes", () => {
  const routes: Array<[string, (id: string) => string, unknown?]> = [
    ['GET', (id) => `/api/v1/qr/${id}`],
    ['PUT', (id) => `/api/v1/qr/${id}`, { name: 'Hijacked', destination_url: 'https://evil.example.com/' }],
    ['PATCH', (id) => `/api/v1/qr/${id}`, { destination_url: 'https://evil.example.com/' }],
    ['DELETE', (id) => `/api/v1/qr/${id}`],
    ['GET', (id) => `/api/v1/qr/${id}/image`],
    ['GET', (id) => `/api/v1/qr/${id}/image?format=svg&size=128`],
    ['GET', (id) => `/api/v1/qr/${id}/analytics`],
  ];

  it.each(routes)("%s %s with another workspace's key answers 404, the same as an unknown id", async (method, path, body) => {
    const foreign = await expectError(await srv.request(method, path(codeA.id), { token: keyB, ...(body ? { body } : {}) }), 404);
    const unknown = await expectError(await srv.request(method, path('qr_doesnotexist0'), { token: keyB, ...(body ? { body } : {}) }), 404);
    expect(foreign.error).toEqual(unknown.error);
  });

  it('are left unchanged by those attempts', async () => {
    const response = await srv.request('GET', `/api/v1/qr/${codeA.id}`, { token: keyA });
    expect(response.status).toBe(200);
    expect((await json<{ data: QrView }>(response)).data).toEqual(codeA);
    const redirect = await scan(srv, codeA.short_code!);
    expect(redirect.headers.get('location')).toBe('https://a.example.com/');
  });

  it('never appear in the list, whatever the filter', async () => {
    for (const query of ['', '?tag=shared-tag', '?search=private', '?mode=dynamic', '?status=active', '?limit=100']) {
      const listA = await json<{ data: QrView[] }>(await srv.request('GET', `/api/v1/qr${query}`, { token: keyA }));
      expect(listA.data.map((qr) => qr.id)).toEqual([codeA.id]);
      const listB = await json<{ data: QrView[] }>(await srv.request('GET', `/api/v1/qr${query}`, { token: keyB }));
      expect(listB.data.map((qr) => qr.id)).toEqual([codeB.id]);
    }
  });

  it("cannot be reached through a cursor made from another workspace's code", async () => {
    const cursor = Buffer.from(JSON.stringify(['2999-01-01T00:00:00.000Z', codeA.id])).toString('base64url');
    const page = await json<{ data: QrView[] }>(await srv.request('GET', `/api/v1/qr?cursor=${cursor}`, { token: keyB }));
    expect(page.data.map((qr) => qr.id)).toEqual([codeB.id]);
  });
});

describe('scopes', () => {
  let readOnly: string;
  let writeOnly: string;

  beforeAll(async () => {
    readOnly = (await srv.createKey({ name: 'read-only', scopes: ['qr:read'] })).secret;
    writeOnly = (await srv.createKey({ name: 'no-analytics', scopes: ['qr:read', 'qr:write'] })).secret;
  });

  it('lets a qr:read key list and get codes and images', async () => {
    expect((await srv.request('GET', '/api/v1/qr', { token: readOnly })).status).toBe(200);
    expect((await srv.request('GET', `/api/v1/qr/${codeA.id}`, { token: readOnly })).status).toBe(200);
    expect((await srv.request('GET', `/api/v1/qr/${codeA.id}/image?format=svg&size=64`, { token: readOnly })).status).toBe(200);
  });

  it.each([
    ['POST', '/api/v1/qr', { name: 'Nope', destination_url: 'https://example.com/' }],
    ['PUT', 'code', { name: 'Nope' }],
    ['PATCH', 'code', { name: 'Nope' }],
    ['DELETE', 'code', undefined],
  ] as const)('answers 403 insufficient_scope to %s with a qr:read key', async (method, path, body) => {
    const url = path === 'code' ? `/api/v1/qr/${codeA.id}` : path;
    const error = await expectError(await srv.request(method, url, { token: readOnly, ...(body ? { body } : {}) }), 403, 'insufficient_scope');
    expect(error.error.message).toContain('qr:write');
    expect((await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${codeA.id}`, { token: keyA }))).data.name).toBe('A private code');
  });

  it('answers 403 insufficient_scope to analytics with a key without analytics:read', async () => {
    const error = await expectError(await srv.request('GET', `/api/v1/qr/${codeA.id}/analytics`, { token: writeOnly }), 403, 'insufficient_scope');
    expect(error.error.message).toContain('analytics:read');
    expect((await srv.request('GET', `/api/v1/qr/${codeA.id}/analytics`, { token: keyA })).status).toBe(200);
  });

  it('answers 401 without credentials on every QR route', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/qr'],
      ['POST', '/api/v1/qr'],
      ['GET', `/api/v1/qr/${codeA.id}`],
      ['PUT', `/api/v1/qr/${codeA.id}`],
      ['PATCH', `/api/v1/qr/${codeA.id}`],
      ['DELETE', `/api/v1/qr/${codeA.id}`],
      ['GET', `/api/v1/qr/${codeA.id}/image`],
      ['GET', `/api/v1/qr/${codeA.id}/analytics`],
    ] as const) {
      expect((await srv.request(method, path)).status, `${method} ${path}`).toBe(401);
    }
  });
});
