import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyRoute } from '../server/src/http/route.js';
import { startReceiver, waitFor, type Receiver } from '../server/src/webhooks/test-receiver.js';
import { writeUnlimitedPlansFile } from './helpers/child-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Test-mode isolation over every route of the route table: a test key (or a session in test mode) never sees or
 * changes live objects, a live credential never sees or changes test ones, and the redirect, analytics, webhooks
 * and the usage meter keep the two apart.
 */

type Mode = 'live' | 'test';

/** One mode's objects, made with that mode's key. */
interface Objects {
  qr: string;
  qrToDelete: string;
  shortCode: string;
  webhook: string;
  webhookToDelete: string;
}

interface Entry {
  /** The URL naming the objects of one mode. */
  url: (objects: Objects) => string;
  body?: () => unknown;
  /** Request headers beside the credential's (e.g. the Content-Type of a body that is not JSON). */
  headers?: Record<string, string>;
  /** The route names an object: the other mode's credentials get 404. */
  object?: true;
  /** A list route: the other mode's answer must not contain these ids. */
  lists?: (objects: Objects) => string[];
  /** The status a credential of the objects' own mode gets. */
  ok: number;
  /** Not about a mode's data (keys, login, the account, usage, stateless images): the same for both modes. */
  shared?: string;
}

/** One entry per route; a route without one fails the test, and so does an entry without a route. */
const TABLE: Record<string, Entry> = {
  'POST /api/v1/auth/login': { url: () => '/api/v1/auth/login', ok: 200, shared: 'signs a user in; the mode is chosen per request' },
  'GET /healthz': { url: () => '/healthz', ok: 200, shared: 'liveness probe, public' },
  'GET /readyz': { url: () => '/readyz', ok: 200, shared: 'readiness probe, public' },
  'POST /api/v1/auth/logout': { url: () => '/api/v1/auth/logout', ok: 200, shared: 'ends a session' },
  'GET /api/v1/generate': { url: () => '/api/v1/generate?data=x', ok: 200, shared: 'stateless image; test keys use no image credits (tested below)' },
  'GET /api/v1/me': { url: () => '/api/v1/me', ok: 200, shared: 'says the mode (tested below)' },
  'GET /api/v1/keys': { url: () => '/api/v1/keys', ok: 200, shared: 'keys of both modes are managed together by owners and admins' },
  'POST /api/v1/keys': { url: () => '/api/v1/keys', ok: 201, shared: 'creates a key of either mode' },
  'POST /api/v1/keys/:id/pause': { url: () => '', ok: 200, shared: 'key management' },
  'POST /api/v1/keys/:id/resume': { url: () => '', ok: 200, shared: 'key management' },
  'POST /api/v1/keys/:id/renew': { url: () => '', ok: 200, shared: 'key management' },
  'DELETE /api/v1/keys/:id': { url: () => '', ok: 200, shared: 'key management' },
  'GET /api/v1/keys/:id/activity': { url: () => '', ok: 200, shared: 'key management' },
  'GET /api/v1/usage': { url: () => '/api/v1/usage', ok: 200, shared: "the workspace's allowances (test keys do not use them: tested below)" },
  'GET /api/v1/auth/csrf': { url: () => '/api/v1/auth/csrf', ok: 200, shared: "the console's CSRF token" },
  'GET /api/v1/setup': { url: () => '/api/v1/setup', ok: 200, shared: 'first-run state of the server' },
  'POST /api/v1/setup': { url: () => '/api/v1/setup', ok: 201, shared: 'creates a workspace (first run)' },
  'GET /api/v1/members': { url: () => '/api/v1/members', ok: 200, shared: "the workspace's people, not its data" },
  'POST /api/v1/members': { url: () => '/api/v1/members', ok: 201, shared: 'member management' },
  'PATCH /api/v1/members/:id': { url: () => '', ok: 200, shared: 'member management' },
  'DELETE /api/v1/members/:id': { url: () => '', ok: 200, shared: 'member management' },
  'GET /api/v1/events/types': { url: () => '/api/v1/events/types', ok: 200, shared: 'a constant list' },
  'GET /api/v1/qr': { url: () => '/api/v1/qr?limit=100', lists: (o) => [o.qr, o.qrToDelete], ok: 200 },
  'POST /api/v1/qr': { url: () => '/api/v1/qr', body: () => ({ name: 'Made in a mode', destination_url: 'https://example.com/made' }), ok: 201 },
  'GET /api/v1/qr/:id': { url: (o) => `/api/v1/qr/${o.qr}`, object: true, ok: 200 },
  'PUT /api/v1/qr/:id': { url: (o) => `/api/v1/qr/${o.qr}`, body: () => ({ name: 'Renamed by PUT' }), object: true, ok: 200 },
  'PATCH /api/v1/qr/:id': { url: (o) => `/api/v1/qr/${o.qr}`, body: () => ({ tags: ['patched'] }), object: true, ok: 200 },
  'DELETE /api/v1/qr/:id': { url: (o) => `/api/v1/qr/${o.qrToDelete}`, object: true, ok: 200 },
  'GET /api/v1/qr/:id/image': { url: (o) => `/api/v1/qr/${o.qr}/image?format=svg&size=128`, object: true, ok: 200 },
  'GET /api/v1/qr/:id/analytics': { url: (o) => `/api/v1/qr/${o.qr}/analytics`, object: true, ok: 200 },
  // counts of the caller's partition (no ids in the answer): server/src/analytics/location-orphans.test.ts checks that the modes stay apart
  'GET /api/v1/analytics/orphans': { url: () => '/api/v1/analytics/orphans', ok: 200 },
  'PUT /api/v1/qr/:id/logo': {
    url: (o) => `/api/v1/qr/${o.qr}/logo`,
    body: () => '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>',
    headers: { 'content-type': 'image/svg+xml' },
    object: true,
    ok: 200,
  },
  'DELETE /api/v1/qr/:id/logo': { url: (o) => `/api/v1/qr/${o.qr}/logo`, object: true, ok: 200 },
  'GET /api/v1/events': { url: () => '/api/v1/events?limit=100', lists: (o) => [o.qr, o.qrToDelete], ok: 200 },
  'POST /api/v1/webhooks': { url: () => '/api/v1/webhooks', body: () => ({ url: 'http://127.0.0.1:9/made', events: ['qr.created'] }), ok: 201 },
  'GET /api/v1/webhooks': { url: () => '/api/v1/webhooks', lists: (o) => [o.webhook, o.webhookToDelete], ok: 200 },
  'GET /api/v1/webhooks/:id': { url: (o) => `/api/v1/webhooks/${o.webhook}`, object: true, ok: 200 },
  'DELETE /api/v1/webhooks/:id': { url: (o) => `/api/v1/webhooks/${o.webhookToDelete}`, object: true, ok: 200 },
  'POST /api/v1/webhooks/:id/test': { url: (o) => `/api/v1/webhooks/${o.webhook}/test`, object: true, ok: 200 },
  'GET /api/v1/webhooks/:id/deliveries': { url: (o) => `/api/v1/webhooks/${o.webhook}/deliveries`, object: true, ok: 200 },
  'POST /api/v1/domains': { url: () => '/api/v1/domains', ok: 201, shared: 'a hostname belongs to the workspace, not to a mode; test codes may use it (their test prefix keeps links apart: tested below)' },
  'GET /api/v1/domains': { url: () => '/api/v1/domains', ok: 200, shared: "the workspace's domains" },
  'POST /api/v1/domains/:id/verify': { url: () => '', ok: 200, shared: 'domain management' },
  'DELETE /api/v1/domains/:id': { url: () => '', ok: 200, shared: 'domain management' },
  // bulk calls answer 200 with per-item results; the other mode's ids are per-item 404s (tested below)
  'POST /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: () => ({ items: [{ name: 'Bulk in a mode', destination_url: 'https://example.com/bulk' }] }), ok: 200 },
  'PATCH /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: () => ({ tag: 'never-used-tag', set: { status: 'active' } }), ok: 200 },
  'DELETE /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: () => ({ ids: ['qr_none'] }), ok: 200 },
};

const routeKey = (route: AnyRoute) => `${route.method.toUpperCase()} ${route.path}`;
const other = (mode: Mode): Mode => (mode === 'live' ? 'test' : 'live');

let srv: TestServer;
let receiver: Receiver;
const keys = {} as Record<Mode, string>;
let session: string;
const objects = {} as Record<Mode, Objects>;
let checks = 0;

/** The credentials that act in a mode: its API key, and a session with (or, for live, without) the QR-Mode header. */
function credentialsOf(mode: Mode): Array<{ label: string; token: string; headers: Record<string, string> }> {
  return [
    { label: `${mode} key`, token: keys[mode], headers: {} },
    { label: `session in ${mode} mode`, token: session, headers: mode === 'test' ? { 'qr-mode': 'test' } : {} },
  ];
}

async function call(method: string, urlPath: string, credential: { token: string; headers: Record<string, string> }, body?: unknown) {
  const response = await srv.request(method, urlPath, { token: credential.token, headers: credential.headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() };
}

async function make(mode: Mode, urlPath: string, body: unknown): Promise<any> {
  const result = await call('POST', urlPath, { token: keys[mode], headers: {} }, body);
  expect(result.status, result.text).toBe(201);
  return result.json.data;
}

async function makeObjects(mode: Mode): Promise<Objects> {
  const qr = await make(mode, '/api/v1/qr', { name: `${mode} code`, destination_url: `https://example.com/${mode}` });
  return {
    qr: qr.id,
    shortCode: qr.short_code,
    qrToDelete: (await make(mode, '/api/v1/qr', { name: `${mode} code to delete`, destination_url: `https://example.com/${mode}/2` })).id,
    webhook: (await make(mode, '/api/v1/webhooks', { url: receiver.url(`/${mode}`), events: ['qr.created', 'qr.updated', 'qr.scanned'] })).id,
    webhookToDelete: (await make(mode, '/api/v1/webhooks', { url: 'http://127.0.0.1:9/gone', events: ['qr.deleted'] })).id,
  };
}

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-test-mode-'));
  srv = await startTestServer({ dataDir, env: { QRFLOW_PLANS_FILE: writeUnlimitedPlansFile(dataDir) }, plan: 'unlimited' });
  receiver = await startReceiver();
  keys.live = (await srv.createKey({ name: 'Live' })).secret;
  session = await srv.login();
  const created = await srv.request('POST', '/api/v1/keys', { token: session, body: { name: 'Sandbox', password: srv.ownerPassword, mode: 'test' } });
  const createdText = await created.text();
  expect(created.status, createdText).toBe(201);
  const testKey = JSON.parse(createdText).data;
  expect(testKey).toMatchObject({ mode: 'test', name: 'Sandbox' });
  expect(testKey.secret).toMatch(/^qr_test_[0-9A-Za-z]{32}$/);
  expect(testKey.prefix).toBe(testKey.secret.slice(0, 12));
  keys.test = testKey.secret;
  objects.live = await makeObjects('live');
  objects.test = await makeObjects('test');
});

afterAll(async () => {
  await receiver?.close();
  await srv?.cleanup();
});

describe('test-mode isolation, over the route table', () => {
  it('has one table entry per route, and no entry without a route', () => {
    const routes = srv.running.app.routes.map(routeKey);
    expect(routes.filter((key) => !(key in TABLE)), 'routes without an entry in test/test-mode.test.ts TABLE').toEqual([]);
    expect(Object.keys(TABLE).filter((key) => !routes.includes(key)), 'entries whose route is gone').toEqual([]);
  });

  it("answers 404 to every credential of one mode on the other mode's objects, and lists none of them", async () => {
    for (const route of srv.running.app.routes) {
      const entry = TABLE[routeKey(route)]!;
      if (entry.shared) continue;
      for (const mode of ['live', 'test'] as const) {
        for (const credential of credentialsOf(other(mode))) {
          const label = `${routeKey(route)}: ${credential.label} on ${mode} objects`;
          if (entry.object) {
            const result = await call(route.method.toUpperCase(), entry.url(objects[mode]), entry.headers ? { ...credential, headers: { ...credential.headers, ...entry.headers } } : credential, entry.body?.());
            expect(result.status, `${label}: ${result.text}`).toBe(404);
            expect(result.json?.error?.code, label).toBe('not_found');
            checks++;
          }
          if (entry.lists) {
            const result = await call(route.method.toUpperCase(), entry.url(objects[mode]), credential);
            expect(result.status, `${label}: ${result.text}`).toBe(200);
            for (const id of entry.lists(objects[mode])) expect(result.text, `${label} lists ${id}`).not.toContain(id);
            checks++;
          }
        }
      }
    }
  });

  it("answers a per-item 404 to bulk calls naming the other mode's codes, and bulk-creates in the caller's mode", async () => {
    for (const mode of ['live', 'test'] as const) {
      for (const credential of credentialsOf(other(mode))) {
        for (const [method, body] of [['PATCH', { ids: [objects[mode].qr], set: { tags: ['crossed'] } }], ['DELETE', { ids: [objects[mode].qr] }]] as const) {
          const result = await call(method, '/api/v1/qr/bulk', credential, body);
          expect(result.status, result.text).toBe(200);
          expect(result.json.data[0], `${method} bulk by ${credential.label} on ${mode} codes`).toMatchObject({ index: 0, status: 404, error: { code: 'not_found' } });
          checks++;
        }
      }
    }
    const made = await call('POST', '/api/v1/qr/bulk', { token: keys.test, headers: {} }, { items: [{ name: 'Bulk test code', destination_url: 'https://example.com/bulk-test' }] });
    expect(made.json.data[0].data).toMatchObject({ livemode: false, short_code: expect.stringMatching(/^test[0-9A-Za-z]{7}$/) });
  });

  it("lets each mode's own credentials through on every route (so each 404 above is about the mode)", async () => {
    for (const route of srv.running.app.routes) {
      const entry = TABLE[routeKey(route)]!;
      if (entry.shared) continue;
      for (const mode of ['live', 'test'] as const) {
        const [key, modeSession] = credentialsOf(mode) as [ReturnType<typeof credentialsOf>[number], ReturnType<typeof credentialsOf>[number]];
        // the session tries first where the call is safe to repeat; deletes get one try, by the key
        const repeatable = route.method !== 'delete';
        for (const credential of repeatable ? [modeSession, key] : [key]) {
          const result = await call(route.method.toUpperCase(), entry.url(objects[mode]), entry.headers ? { ...credential, headers: { ...credential.headers, ...entry.headers } } : credential, entry.body?.());
          expect(result.status, `${routeKey(route)}: ${credential.label} on ${mode} objects: ${result.text}`).toBe(entry.ok);
          if (entry.lists) for (const id of entry.lists(objects[mode])) expect(result.text, `${routeKey(route)} by ${credential.label}`).toContain(id);
          checks++;
        }
      }
    }
    const routes = srv.running.app.routes.filter((route) => !TABLE[routeKey(route)]!.shared).length;
    console.log(`test mode: ${routes} mode-specific routes, ${checks} route × credential × mode checks`);
    expect(checks).toBeGreaterThan(routes * 4);
  });

  it('marks what test mode made: qr_test_ keys, livemode false on codes, test webhooks, test short links', async () => {
    const testCode = (await call('GET', `/api/v1/qr/${objects.test.qr}`, { token: keys.test, headers: {} })).json.data;
    const liveCode = (await call('GET', `/api/v1/qr/${objects.live.qr}`, { token: keys.live, headers: {} })).json.data;
    expect(testCode.livemode).toBe(false);
    expect(liveCode.livemode).toBe(true);
    expect(testCode.short_code).toMatch(/^test[0-9A-Za-z]{7}$/);
    expect(testCode.short_url).toBe(`${srv.baseUrl}/r/${testCode.short_code}`);
    expect(liveCode.short_code).toMatch(/^[0-9A-Za-z]{7}$/);
    expect((await call('GET', `/api/v1/webhooks/${objects.test.webhook}`, { token: keys.test, headers: {} })).json.data.mode).toBe('test');
    expect((await call('GET', `/api/v1/webhooks/${objects.live.webhook}`, { token: keys.live, headers: {} })).json.data.mode).toBe('live');
    const listed = (await call('GET', '/api/v1/keys', { token: session, headers: {} })).json.data as Array<{ name: string; mode: string }>;
    expect(listed.find((k) => k.name === 'Sandbox')?.mode).toBe('test');
    expect(listed.find((k) => k.name === 'Live')?.mode).toBe('live');
  });

  it('GET /api/v1/me says the mode of the key, and of a session by its QR-Mode header', async () => {
    const testMe = (await call('GET', '/api/v1/me', { token: keys.test, headers: {} })).json.data;
    expect(testMe.mode).toBe('test');
    expect(testMe.key).toMatchObject({ name: 'Sandbox', mode: 'test' });
    const liveMe = (await call('GET', '/api/v1/me', { token: keys.live, headers: {} })).json.data;
    expect(liveMe.mode).toBe('live');
    expect(liveMe.key.mode).toBe('live');
    expect((await call('GET', '/api/v1/me', { token: session, headers: {} })).json.data.mode).toBe('live');
    expect((await call('GET', '/api/v1/me', { token: session, headers: { 'qr-mode': 'test' } })).json.data.mode).toBe('test');
    // a key's own mode wins over the header
    expect((await call('GET', '/api/v1/me', { token: keys.live, headers: { 'qr-mode': 'test' } })).json.data.mode).toBe('live');
    const bad = await call('GET', '/api/v1/qr', { token: session, headers: { 'qr-mode': 'sandbox' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'validation_error', details: [{ field: 'QR-Mode' }] });
  });
});

describe('test mode in the OpenAPI document', () => {
  it('documents the QR-Mode header on every key-or-session route, and mode on keys, codes and webhooks', () => {
    const doc = srv.running.app.openapi() as any;
    for (const route of srv.running.app.routes.filter((r) => r.auth === 'key_or_session')) {
      const operation = doc.paths[route.path.replace(/:([A-Za-z_]+)/g, '{$1}')][route.method];
      const header = (operation.parameters ?? []).find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'qr-mode');
      expect(header, `${routeKey(route)} documents QR-Mode`).toBeDefined();
      expect(header.schema.enum).toEqual(['live', 'test']);
    }
    const schemas = doc.components.schemas;
    expect(schemas.CreateKeyRequest.properties.mode.enum).toEqual(['live', 'test']);
    expect(schemas.ApiKey.properties.mode.enum).toEqual(['live', 'test']);
    expect(schemas.QrCode.properties.livemode.type).toBe('boolean');
    expect(schemas.Webhook.properties.mode.enum).toEqual(['live', 'test']);
    expect(schemas.Me.properties.mode.enum).toEqual(['live', 'test']);
  });
});

describe('test mode in the redirect, analytics, webhooks and usage', () => {
  it("redirects a test code's short link; its scans count in its own analytics and events, never in live ones", async () => {
    const live = { token: keys.live, headers: {} };
    const test = { token: keys.test, headers: {} };
    const liveBefore = (await call('GET', `/api/v1/qr/${objects.live.qr}/analytics`, live)).json.data.total_scans;
    const browser = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' };
    const scan = await fetch(`${srv.baseUrl}/r/${objects.test.shortCode}`, { redirect: 'manual', headers: browser });
    expect(scan.status).toBe(302);
    expect(scan.headers.get('location')).toBe('https://example.com/test');
    await srv.running.app.services.recorder.drain();

    const testAnalytics = (await call('GET', `/api/v1/qr/${objects.test.qr}/analytics`, test)).json.data;
    expect(testAnalytics.total_scans).toBe(1);
    expect((await call('GET', `/api/v1/qr/${objects.live.qr}/analytics`, live)).json.data.total_scans).toBe(liveBefore);
    const testFeed = (await call('GET', '/api/v1/events?type=qr.scanned', test)).json.data as Array<{ data: { qr_id: string } }>;
    expect(testFeed.map((e) => e.data.qr_id)).toContain(objects.test.qr);
    const liveFeed = (await call('GET', '/api/v1/events?type=qr.scanned', live)).json.data as Array<{ data: { qr_id: string } }>;
    expect(liveFeed.map((e) => e.data.qr_id)).not.toContain(objects.test.qr);
    // the scan's webhook went to the test subscription only
    const scanned = await waitFor(() => receiver.received.find((r) => r.body.type === 'qr.scanned' && r.body.data.qr_id === objects.test.qr), 'the test scan delivery');
    expect(scanned.path).toBe('/test');
    expect(receiver.received.filter((r) => r.body.type === 'qr.scanned' && r.path === '/live')).toEqual([]);
  });

  it('delivers test-mode events only to test subscriptions, and live events only to live ones', async () => {
    const testQr = await make('test', '/api/v1/qr', { name: 'Test delivery', destination_url: 'https://example.com/td' });
    const liveQr = await make('live', '/api/v1/qr', { name: 'Live delivery', destination_url: 'https://example.com/ld' });
    const testEvent = await waitFor(() => receiver.received.find((r) => r.body.type === 'qr.created' && r.body.data.id === testQr.id), 'the test qr.created');
    const liveEvent = await waitFor(() => receiver.received.find((r) => r.body.type === 'qr.created' && r.body.data.id === liveQr.id), 'the live qr.created');
    expect(testEvent.path).toBe('/test');
    expect(liveEvent.path).toBe('/live');
    await srv.running.app.services.recorder.drain();
    expect(receiver.received.filter((r) => r.body.data?.id === testQr.id && r.path !== '/test')).toEqual([]);
    expect(receiver.received.filter((r) => r.body.data?.id === liveQr.id && r.path !== '/live')).toEqual([]);
  });

  it("test-key requests use none of the month's API calls or image credits; live-key requests do", async () => {
    const usage = async () => (await call('GET', '/api/v1/usage', { token: session, headers: {} })).json.data;
    const before = await usage();
    const test = { token: keys.test, headers: {} };
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/v1/qr', test)).status).toBe(200);
    // new images (sizes not rendered before), which would each use a credit
    expect((await call('GET', `/api/v1/qr/${objects.test.qr}/image?format=png&size=200`, test)).status).toBe(200);
    expect((await call('GET', '/api/v1/generate?data=https%3A%2F%2Fexample.com%2Ftest-mode&format=png&size=210', test)).status).toBe(200);
    const afterTest = await usage();
    expect(afterTest.api_calls.used).toBe(before.api_calls.used);
    expect(afterTest.image_credits.used).toBe(before.image_credits.used);
    expect(afterTest.keys.find((k: { name: string }) => k.name === 'Sandbox')).toMatchObject({ api_calls: 0, mode: 'test' });

    const live = { token: keys.live, headers: {} };
    expect((await call('GET', `/api/v1/qr/${objects.live.qr}/image?format=png&size=220`, live)).status).toBe(200);
    const afterLive = await usage();
    expect(afterLive.api_calls.used).toBe(before.api_calls.used + 1);
    expect(afterLive.image_credits.used).toBe(before.image_credits.used + 1);
  });

  it('applies the per-minute limit to test keys too (and not the monthly allowance, here 1 call)', async () => {
    const limited = await startTestServer({ env: { QRFLOW_PLANS_FILE: writeTinyPlansFile() }, plan: 'tiny' });
    try {
      const { keys: keyService } = limited.running.app.services;
      const { secret } = await keyService.create(limited.workspace, { name: 'Tiny-Test', mode: 'test' }, 'test');
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await limited.request('GET', '/api/v1/qr', { token: secret });
        answers.push(response.status === 200 ? '200' : `${response.status} ${((await response.json()) as { error: { code: string } }).error.code}`);
      }
      expect(answers).toEqual(['200', '200', '200', '429 rate_limited']);
    } finally {
      await limited.cleanup();
    }
  });
});

function writeTinyPlansFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-tiny-plan-')), 'plans.json');
  fs.writeFileSync(file, JSON.stringify({ tiny: { name: 'Tiny', api_access: true, requests_per_minute: 3, monthly_api_calls: 1, monthly_image_credits: 0, max_qr_codes: 10, max_api_keys: 5 } }));
  return file;
}
