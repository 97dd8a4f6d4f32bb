import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyRoute } from '../server/src/http/route.js';
import type { Scope } from '../server/src/store/records.js';
import { ALL_SCOPES } from '../server/src/store/records.js';
import { writeUnlimitedPlansFile } from './helpers/child-server.js';
import { findSecrets } from './helpers/secrets.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Isolation and authorization over every route of the route table (OWASP API1 broken object level
 * authorization, API2 broken authentication, API5 broken function level authorization).
 */

interface Fixtures {
  qr: string;
  qrToDelete: string;
  qrToBulkDelete: string;
  domain: string;
  domainToDelete: string;
  key: string;
  keyToRenew: string;
  keyToRevoke: string;
  keyToPause: string;
  webhook: string;
  webhookToDelete: string;
  /** Members of A (not used to sign in) whose role may change, and who may be removed. */
  memberToPatch: string;
  memberToRemove: string;
  /** A session of A's owner that the logout route may end. */
  throwawaySession: string;
  receiverUrl: string;
}

interface Entry {
  /** The concrete URL, naming workspace A's objects. */
  url: (fx: Fixtures) => string;
  /** A valid body, so a check is not answered by validation first. */
  body?: (fx: Fixtures) => unknown;
  /** Request headers beside the credential (e.g. the Content-Type of a body that is not JSON). */
  headers?: Record<string, string>;
  /** The route names one of A's objects: B's credentials must get 404. */
  object?: true;
  /** A list route: B's answer must not contain these ids of A's. */
  lists?: (fx: Fixtures) => string[];
  /** Safe to call more than once (GET): the member and admin positive controls use it. */
  safe?: true;
  /** A's own credential gets this (the positive control that shows the negative checks mean something). */
  ok: number;
  /** The key is optional: without a usable one the answer is a watermarked preview saying why (QR-Preview). */
  preview?: true;
}

/** A logo for PUT /api/v1/qr/:id/logo (its body is the image, not JSON). */
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>';

/** One entry per route; a route without one fails the test, and so does an entry without a route. */
const TABLE: Record<string, Entry> = {
  'POST /api/v1/auth/login': { url: () => '/api/v1/auth/login', body: () => ({ email: srv.ownerEmail, password: srv.ownerPassword }), ok: 200 },
  'GET /api/v1/auth/csrf': { url: () => '/api/v1/auth/csrf', safe: true, ok: 200 },
  'GET /api/v1/setup': { url: () => '/api/v1/setup', safe: true, ok: 200 },
  // public, and closed once a workspace exists (signup_closed): server/src/setup/setup.test.ts covers first run and open sign-up
  'POST /api/v1/setup': { url: () => '/api/v1/setup', body: () => ({ workspace_name: 'Not made', email: 'not-made@example.test', password: 'not-made-password' }), ok: 403 },
  'GET /healthz': { url: () => '/healthz', safe: true, ok: 200 },
  'GET /readyz': { url: () => '/readyz', safe: true, ok: 200 },
  'GET /api/v1/generate': { url: () => '/api/v1/generate?data=https%3A%2F%2Fexample.com%2Fmenu&format=svg&size=64', preview: true, ok: 200 },
  'POST /api/v1/auth/logout': { url: () => '/api/v1/auth/logout', ok: 200 },
  'GET /api/v1/me': { url: () => '/api/v1/me', safe: true, ok: 200 },
  'GET /api/v1/keys': { url: () => '/api/v1/keys', lists: (fx) => [fx.key, fx.keyToRenew], safe: true, ok: 200 },
  'POST /api/v1/keys': { url: () => '/api/v1/keys', body: () => ({ name: 'Made-By-Owner', password: 'test-password-123', scopes: ['qr:read'] }), ok: 201 },
  'POST /api/v1/keys/:id/pause': { url: (fx) => `/api/v1/keys/${fx.keyToPause}/pause`, object: true, ok: 200 },
  'POST /api/v1/keys/:id/resume': { url: (fx) => `/api/v1/keys/${fx.keyToPause}/resume`, object: true, ok: 200 },
  'POST /api/v1/keys/:id/renew': { url: (fx) => `/api/v1/keys/${fx.keyToRenew}/renew`, body: () => ({}), object: true, ok: 200 },
  'DELETE /api/v1/keys/:id': { url: (fx) => `/api/v1/keys/${fx.keyToRevoke}`, object: true, ok: 200 },
  'GET /api/v1/keys/:id/activity': { url: (fx) => `/api/v1/keys/${fx.key}/activity`, object: true, safe: true, ok: 200 },
  'GET /api/v1/qr': { url: () => '/api/v1/qr?limit=100', lists: (fx) => [fx.qr, fx.qrToDelete], safe: true, ok: 200 },
  'POST /api/v1/qr': { url: () => '/api/v1/qr', body: () => ({ name: 'Made by A', destination_url: 'https://example.com/a' }), ok: 201 },
  'GET /api/v1/qr/:id': { url: (fx) => `/api/v1/qr/${fx.qr}`, object: true, safe: true, ok: 200 },
  'PUT /api/v1/qr/:id': { url: (fx) => `/api/v1/qr/${fx.qr}`, body: () => ({ name: 'Renamed by PUT' }), object: true, ok: 200 },
  'PATCH /api/v1/qr/:id': { url: (fx) => `/api/v1/qr/${fx.qr}`, body: () => ({ tags: ['patched'] }), object: true, ok: 200 },
  'DELETE /api/v1/qr/:id': { url: (fx) => `/api/v1/qr/${fx.qrToDelete}`, object: true, ok: 200 },
  'GET /api/v1/qr/:id/image': { url: (fx) => `/api/v1/qr/${fx.qr}/image?format=svg&size=128`, object: true, safe: true, ok: 200 },
  'GET /api/v1/qr/:id/analytics': { url: (fx) => `/api/v1/qr/${fx.qr}/analytics`, object: true, safe: true, ok: 200 },
  // counts of the caller's workspace only (no ids in the answer): server/src/analytics/location-orphans.test.ts checks that another workspace's stay apart
  'GET /api/v1/analytics/orphans': { url: () => '/api/v1/analytics/orphans', safe: true, ok: 200 },
  'PUT /api/v1/qr/:id/logo': { url: (fx) => `/api/v1/qr/${fx.qr}/logo`, body: () => LOGO_SVG, headers: { 'content-type': 'image/svg+xml' }, object: true, ok: 200 },
  'DELETE /api/v1/qr/:id/logo': { url: (fx) => `/api/v1/qr/${fx.qr}/logo`, object: true, ok: 200 },
  'GET /api/v1/events': { url: () => '/api/v1/events?limit=100', lists: (fx) => [fx.qr, fx.qrToDelete], safe: true, ok: 200 },
  'GET /api/v1/events/types': { url: () => '/api/v1/events/types', safe: true, ok: 200 },
  'GET /api/v1/usage': { url: () => '/api/v1/usage', lists: (fx) => [fx.key, fx.keyToRenew], safe: true, ok: 200 },
  'POST /api/v1/webhooks': { url: () => '/api/v1/webhooks', body: (fx) => ({ url: `${fx.receiverUrl}/made-by-a`, events: ['qr.created'] }), ok: 201 },
  'GET /api/v1/webhooks': { url: () => '/api/v1/webhooks', lists: (fx) => [fx.webhook, fx.webhookToDelete], safe: true, ok: 200 },
  'GET /api/v1/webhooks/:id': { url: (fx) => `/api/v1/webhooks/${fx.webhook}`, object: true, safe: true, ok: 200 },
  'DELETE /api/v1/webhooks/:id': { url: (fx) => `/api/v1/webhooks/${fx.webhookToDelete}`, object: true, ok: 200 },
  'GET /api/v1/members': { url: () => '/api/v1/members', lists: (fx) => [fx.memberToPatch, fx.memberToRemove], safe: true, ok: 200 },
  'POST /api/v1/members': { url: () => '/api/v1/members', body: () => ({ email: 'added-by-owner-a@example.test', role: 'member' }), ok: 201 },
  'PATCH /api/v1/members/:id': { url: (fx) => `/api/v1/members/${fx.memberToPatch}`, body: () => ({ role: 'admin' }), object: true, ok: 200 },
  'DELETE /api/v1/members/:id': { url: (fx) => `/api/v1/members/${fx.memberToRemove}`, object: true, ok: 200 },
  'POST /api/v1/webhooks/:id/test': { url: (fx) => `/api/v1/webhooks/${fx.webhook}/test`, object: true, ok: 200 },
  'GET /api/v1/webhooks/:id/deliveries': { url: (fx) => `/api/v1/webhooks/${fx.webhook}/deliveries`, object: true, safe: true, ok: 200 },
  'POST /api/v1/domains': { url: () => '/api/v1/domains', body: () => ({ hostname: 'go.made-by-a.com' }), ok: 201 },
  'GET /api/v1/domains': { url: () => '/api/v1/domains', lists: (fx) => [fx.domain, fx.domainToDelete], safe: true, ok: 200 },
  'POST /api/v1/domains/:id/verify': { url: (fx) => `/api/v1/domains/${fx.domain}/verify`, object: true, ok: 200 },
  'DELETE /api/v1/domains/:id': { url: (fx) => `/api/v1/domains/${fx.domainToDelete}`, object: true, ok: 200 },
  // bulk calls answer 200 with per-item results: B naming A's ids gets a 404 per item (server/src/qr/bulk.test.ts), and A's snapshot stays unchanged
  'POST /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: () => ({ items: [{ name: 'Bulk by A', destination_url: 'https://example.com/bulk-a' }] }), ok: 200 },
  'PATCH /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: (fx) => ({ ids: [fx.qr], set: { tags: ['bulk-patched'] } }), ok: 200 },
  'DELETE /api/v1/qr/bulk': { url: () => '/api/v1/qr/bulk', body: (fx) => ({ ids: [fx.qrToBulkDelete] }), ok: 200 },
};

const routeKey = (route: AnyRoute) => `${route.method.toUpperCase()} ${route.path}`;

let srv: TestServer;
let offset = 0;
const clock = { now: () => Date.now() + offset };
let fx: Fixtures;
const secrets: string[] = [];
const credentials = {} as {
  ownerSession: string;
  adminSession: string;
  memberSession: string;
  fullKey: string;
  pausedKey: string;
  revokedKey: string;
  expiredKey: string;
  /** A key with every scope but the one named. */
  without: Record<Scope, string>;
  /** A key with only the scope named. */
  only: Record<Scope, string>;
  bKey: string;
  bSession: string;
};
let checks = 0;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-authz-'));
  // domains are verified at once: the verify route then needs no DNS
  srv = await startTestServer({ dataDir, env: { QRFLOW_PLANS_FILE: writeUnlimitedPlansFile(dataDir), QRFLOW_DOMAIN_VERIFICATION: 'off' }, plan: 'unlimited', clock });
  const { workspaces } = srv.running.app.services;
  const workspaceA = srv.workspace;
  await workspaces.addMember(workspaceA, { email: 'admin-a@example.test', password: 'admin-password-1', role: 'admin' });
  await workspaces.addMember(workspaceA, { email: 'member-a@example.test', password: 'member-password-1', role: 'member' });
  const memberToPatch = (await workspaces.addMember(workspaceA, { email: 'to-patch-a@example.test', password: 'to-patch-password-1', role: 'member' })).member.id;
  const memberToRemove = (await workspaces.addMember(workspaceA, { email: 'to-remove-a@example.test', password: 'to-remove-password-1', role: 'member' })).member.id;
  const key = async (name: string, scopes?: Scope[]) => {
    const created = await srv.createKey({ name, ...(scopes ? { scopes } : {}) });
    secrets.push(created.secret);
    return created;
  };
  credentials.ownerSession = await srv.login();
  credentials.adminSession = await srv.login('admin-a@example.test', 'admin-password-1');
  credentials.memberSession = await srv.login('member-a@example.test', 'member-password-1');
  const throwawaySession = await srv.login();
  secrets.push(credentials.ownerSession, credentials.adminSession, credentials.memberSession, throwawaySession, 'test-password-123', 'admin-password-1', 'member-password-1');
  const full = await key('Full');
  credentials.fullKey = full.secret;
  credentials.without = {} as Record<Scope, string>;
  credentials.only = {} as Record<Scope, string>;
  for (const scope of ALL_SCOPES) {
    credentials.without[scope] = (await key(`Without-${scope}`, ALL_SCOPES.filter((s) => s !== scope))).secret;
    credentials.only[scope] = (await key(`Only-${scope}`, [scope])).secret;
  }
  const { keys } = srv.running.app.services;
  const paused = await key('Paused');
  await keys.pause(workspaceA, paused.id);
  credentials.pausedKey = paused.secret;
  const revoked = await key('Revoked');
  await keys.revoke(workspaceA, revoked.id);
  credentials.revokedKey = revoked.secret;
  const expiring = await keys.create(workspaceA, { name: 'Expiring', expires_at: new Date(clock.now() + 60_000).toISOString() }, 'test');
  secrets.push(expiring.secret);
  credentials.expiredKey = expiring.secret;

  const b = await srv.createWorkspace('Workspace B', 'unlimited');
  const bKey = await srv.createKey({ name: 'B-Key', workspace: b.workspace });
  credentials.bKey = bKey.secret;
  credentials.bSession = await srv.login(b.email, b.password);
  secrets.push(bKey.secret, credentials.bSession);

  const post = async (urlPath: string, body: unknown) => {
    const response = await srv.request('POST', urlPath, { token: credentials.fullKey, body });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    return JSON.parse(text).data as { id: string; secret?: string };
  };
  const receiverUrl = 'http://127.0.0.1:9'; // nothing listens: deliveries fail quietly in the background
  const webhook = await post('/api/v1/webhooks', { url: `${receiverUrl}/a`, events: ['qr.created'] });
  const webhookToDelete = await post('/api/v1/webhooks', { url: `${receiverUrl}/b`, events: ['qr.deleted'] });
  fx = {
    qr: (await post('/api/v1/qr', { name: 'A code', destination_url: 'https://example.com/a1' })).id,
    qrToDelete: (await post('/api/v1/qr', { name: 'A code to delete', destination_url: 'https://example.com/a2' })).id,
    qrToBulkDelete: (await post('/api/v1/qr', { name: 'A code to bulk-delete', destination_url: 'https://example.com/a3' })).id,
    domain: (await post('/api/v1/domains', { hostname: 'go.workspace-a.com' })).id,
    domainToDelete: (await post('/api/v1/domains', { hostname: 'go.workspace-a-old.com' })).id,
    key: full.id,
    keyToRenew: (await key('To-Renew')).id,
    keyToRevoke: (await key('To-Revoke')).id,
    keyToPause: (await key('To-Pause')).id,
    webhook: webhook.id,
    webhookToDelete: webhookToDelete.id,
    memberToPatch,
    memberToRemove,
    throwawaySession,
    receiverUrl,
  };
  // the expiring key is now past its expiry
  offset = 120_000;
});

afterAll(async () => {
  await srv?.cleanup();
});

async function call(entry: Entry, route: AnyRoute, token: string | undefined, query = ''): Promise<{ status: number; body: any; text: string; preview: string | null }> {
  const response = await srv.request(route.method.toUpperCase(), entry.url(fx) + query, { ...(token ? { token } : {}), ...(entry.body ? { body: entry.body(fx) } : {}), ...(entry.headers ? { headers: entry.headers } : {}) });
  const text = await response.text();
  const preview = response.headers.get('qr-preview');
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // images
  }
  return { status: response.status, body, text, preview };
}

/** On an optional-key route, a credential that is not a usable key gets the watermarked preview, with its reason. */
function expectPreview(result: { status: number; preview: string | null; text: string }, reason: string, label: string): void {
  expect(result.status, `${label}: ${result.text.slice(0, 200)}`).toBe(200);
  expect(result.preview, label).toBe(reason);
  checks++;
}

function expectErrorModel(result: { status: number; body: any; text: string }, status: number, label: string, codes?: string[]): void {
  expect(result.status, `${label}: ${result.text}`).toBe(status);
  expect(typeof result.body?.error?.code, label).toBe('string');
  expect(typeof result.body?.request_id, label).toBe('string');
  if (codes) expect(codes, `${label}: ${result.body.error.code}`).toContain(result.body.error.code);
  checks++;
}

/** A's data as its owner sees it, without the fields that change by mere use. */
async function snapshotOfA(): Promise<string> {
  const get = async (urlPath: string) => JSON.parse(await (await srv.request('GET', urlPath, { token: credentials.ownerSession })).text()).data;
  const qrs = (await get('/api/v1/qr?limit=100')).sort((a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1));
  // sorted by id: keys made in the same millisecond have no defined order in the listing
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
  const keys = (await get('/api/v1/keys')).map(({ last_used_at: _, ...rest }: Record<string, unknown>) => rest).sort(byId);
  const webhooks = (await get('/api/v1/webhooks')).sort(byId);
  const domains = (await get('/api/v1/domains')).sort(byId);
  return JSON.stringify({ qrs, keys, webhooks, domains });
}

describe('isolation and authorization, over the route table', () => {
  it('has one table entry per route, and no entry without a route', () => {
    const routes = srv.running.app.routes.map(routeKey);
    const missing = routes.filter((key) => !(key in TABLE));
    const stale = Object.keys(TABLE).filter((key) => !routes.includes(key));
    expect(missing, `routes without an entry in test/authorization.test.ts TABLE: add one for each`).toEqual([]);
    expect(stale, 'entries whose route is gone').toEqual([]);
  });

  it('refuses the wrong credentials on every route and leaves workspace A unchanged', async () => {
    const before = await snapshotOfA();
    for (const route of srv.running.app.routes) {
      const entry = TABLE[routeKey(route)];
      if (!entry) continue;
      const label = routeKey(route);
      if (entry.preview) {
        expectPreview(await call(entry, route, undefined), 'missing_key', `${label} unauthenticated`);
        expectPreview(await call(entry, route, 'qr_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'malformed_api_key', `${label} malformed key`);
        expectPreview(await call(entry, route, credentials.pausedKey), 'api_key_paused', `${label} paused key`);
        expectPreview(await call(entry, route, credentials.revokedKey), 'api_key_revoked', `${label} revoked key`);
        expectPreview(await call(entry, route, credentials.expiredKey), 'api_key_expired', `${label} expired key`);
        expectPreview(await call(entry, route, credentials.without['qr:read']), 'insufficient_scope', `${label} key without qr:read`);
        expectPreview(await call(entry, route, credentials.ownerSession), 'malformed_api_key', `${label} a session token (never accepted here)`);
        expectPreview(await call(entry, route, undefined, `&api_key=${credentials.revokedKey}`), 'api_key_revoked', `${label} revoked key in ?api_key=`);
        continue;
      }
      if (route.auth === 'none') continue;

      // no credentials, malformed and unknown credentials
      expectErrorModel(await call(entry, route, undefined), 401, `${label} unauthenticated`, ['missing_authorization']);
      expectErrorModel(await call(entry, route, 'qr_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401, `${label} malformed key`, ['malformed_api_key', 'session_required']);

      // keys that are paused, revoked or expired (session routes refuse every key)
      const keyCodes = (code: string) => (route.auth === 'session' ? ['session_required'] : [code]);
      expectErrorModel(await call(entry, route, credentials.pausedKey), 401, `${label} paused key`, keyCodes('api_key_paused'));
      expectErrorModel(await call(entry, route, credentials.revokedKey), 401, `${label} revoked key`, keyCodes('api_key_revoked'));
      expectErrorModel(await call(entry, route, credentials.expiredKey), 401, `${label} expired key`, keyCodes('api_key_expired'));
      if (route.auth === 'session') expectErrorModel(await call(entry, route, credentials.fullKey), 401, `${label} valid key on a session route`, ['session_required']);

      // a key without the scope the route needs
      if (route.scope) expectErrorModel(await call(entry, route, credentials.without[route.scope]), 403, `${label} key without ${route.scope}`, ['insufficient_scope']);

      // a member on owner/admin routes
      if (route.roles) {
        expect(route.roles).not.toContain('member');
        expectErrorModel(await call(entry, route, credentials.memberSession), 403, `${label} member session`, ['forbidden_role']);
      }

      // workspace B on A's objects: not found, never forbidden
      if (entry.object) {
        if (route.auth === 'key_or_session') expectErrorModel(await call(entry, route, credentials.bKey), 404, `${label} B's key on A's object`);
        expectErrorModel(await call(entry, route, credentials.bSession), 404, `${label} B's session on A's object`);
      }
      if (entry.lists) {
        for (const token of route.auth === 'key_or_session' ? [credentials.bKey, credentials.bSession] : [credentials.bSession]) {
          const result = await call(entry, route, token);
          expect(result.status, `${label} listed by B: ${result.text}`).toBe(200);
          for (const id of entry.lists(fx)) expect(result.text, `${label}: B sees A's ${id}`).not.toContain(id);
          checks++;
        }
      }
    }
    expect(await snapshotOfA()).toBe(before);
  });

  it("lets A's own credentials through on every route (so each refusal above is about the credential)", async () => {
    for (const route of srv.running.app.routes) {
      const entry = TABLE[routeKey(route)];
      if (!entry) continue;
      const label = routeKey(route);
      if (entry.preview) {
        for (const [how, result] of [
          ['header', await call(entry, route, credentials.only['qr:read'])],
          ['?api_key=', await call(entry, route, undefined, `&api_key=${credentials.only['qr:read']}`)],
        ] as const) {
          expect(result.status, `${label} with a qr:read key in the ${how}: ${result.text.slice(0, 200)}`).toBe(entry.ok);
          expect(result.preview, `${label} with a qr:read key in the ${how}`).toBeNull();
          checks++;
        }
        continue;
      }
      if (entry.safe) {
        // members and admins pass where no role is required; admins pass owner/admin routes
        if (!route.roles) {
          const member = await call(entry, route, credentials.memberSession);
          expect(member.status, `${label} member: ${member.text}`).toBe(entry.ok);
          checks++;
        }
        const admin = await call(entry, route, credentials.adminSession);
        expect(admin.status, `${label} admin: ${admin.text}`).toBe(entry.ok);
        checks++;
      }
      let token: string | undefined;
      if (route.auth === 'none') token = undefined;
      else if (route.method === 'post' && route.path === '/api/v1/auth/logout') token = fx.throwawaySession;
      else if (route.auth === 'session') token = credentials.ownerSession;
      else token = route.scope ? credentials.only[route.scope] : credentials.only['qr:read'];
      const result =
        route.auth === 'none' && route.path === '/api/v1/auth/login'
          ? await (async () => {
              const response = await call(entry, route, undefined);
              if (typeof response.body?.data?.token === 'string') secrets.push(response.body.data.token);
              return response;
            })()
          : await call(entry, route, token);
      expect(result.status, `${label} with A's ${route.auth === 'session' ? 'owner session' : route.scope ? `key with only ${route.scope}` : 'key'}: ${result.text}`).toBe(entry.ok);
      if (/"secret":"(qr_live_\w+)"/.test(result.text)) secrets.push(/"secret":"(qr_live_\w+)"/.exec(result.text)![1]!);
      if (/"temporary_password":"(\w+)"/.test(result.text)) secrets.push(/"temporary_password":"(\w+)"/.exec(result.text)![1]!);
      checks++;
    }
    const routes = srv.running.app.routes.length;
    console.log(`authorization: ${routes} routes, ${checks} route × credential checks (unauthenticated, malformed, paused, revoked, expired, missing scope, member role, workspace B key and session, and A's own)`);
    expect(checks).toBeGreaterThan(routes * 5);
  });

  it('leaves no key secret, session token or password in the data files or the logs', async () => {
    await srv.stop();
    const { findings, searched } = findSecrets(secrets, { dataDir: srv.dataDir, texts: { 'server logs': srv.logs() } });
    console.log(`secrets: ${secrets.length} searched for in ${searched.length} places, ${findings.length} found`);
    expect(findings).toEqual([]);
    expect(searched.length).toBeGreaterThanOrEqual(3);
  });
});
