import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { json, type ErrorBody } from '../../../test/helpers/qr.js';
import { MAX_WEBHOOKS_PER_WORKSPACE } from './schemas.js';

interface Subscription {
  id: string;
  url: string;
  events: string[];
  status: string;
  disabled_reason: string | null;
  created_at: string;
  secret?: string;
}

let srv: TestServer;
let token: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = (await srv.createKey({ name: 'Webhooks' })).secret;
});

afterAll(async () => {
  await srv.cleanup();
});

async function subscribe(body: unknown, as = token): Promise<Subscription> {
  const response = await srv.request('POST', '/api/v1/webhooks', { token: as, body });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return (JSON.parse(text) as { data: Subscription }).data;
}

describe('webhook subscriptions', () => {
  it('subscribing with url and events answers 201 with a whsec_ secret shown only once', async () => {
    const created = await subscribe({ url: 'https://hooks.example.com/n8n', events: ['qr.created', 'qr.scanned'] });
    expect(created).toMatchObject({ url: 'https://hooks.example.com/n8n', events: ['qr.created', 'qr.scanned'], status: 'active', disabled_reason: null });
    expect(created.id).toMatch(/^wh_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);

    const one = await json<{ data: Subscription }>(await srv.request('GET', `/api/v1/webhooks/${created.id}`, { token }));
    expect(one.data).toEqual({ id: created.id, url: created.url, events: created.events, status: 'active', disabled_reason: null, created_at: created.created_at, mode: 'live' });
    const list = await json<{ data: Subscription[] }>(await srv.request('GET', '/api/v1/webhooks', { token }));
    expect(list.data.find((hook) => hook.id === created.id)).toEqual(one.data);
    expect(JSON.stringify(list)).not.toContain('whsec_');
  });

  it('accepts Zapier REST hook fields: target_url and a single event', async () => {
    const created = await subscribe({ target_url: 'https://hooks.zapier.com/hooks/standard/1/abc', event: 'qr.scanned' });
    expect(created).toMatchObject({ url: 'https://hooks.zapier.com/hooks/standard/1/abc', events: ['qr.scanned'], status: 'active' });
    expect(created.secret).toMatch(/^whsec_/);
  });

  it('accepts plain http receivers and drops repeated event types', async () => {
    const created = await subscribe({ url: 'http://hooks.example.com/plain', events: ['qr.updated', 'qr.updated'] });
    expect(created.events).toEqual(['qr.updated']);
  });

  it.each([
    [{ events: ['qr.created'] }, 'url'],
    [{ url: 'https://hooks.example.com/x' }, 'events'],
    [{ url: 'ftp://hooks.example.com/x', events: ['qr.created'] }, 'url'],
    [{ url: 'javascript:alert(1)', events: ['qr.created'] }, 'url'],
    [{ url: 'https://user:pass@hooks.example.com/x', events: ['qr.created'] }, 'url'],
    [{ url: 'https://hooks.example.com/x', events: ['qr.exploded'] }, 'events.0'],
    [{ url: 'https://hooks.example.com/x', events: [] }, 'events'],
    [{ url: 'https://hooks.example.com/x', events: ['qr.created'], event: 'qr.updated' }, 'event'],
    [{ url: 'https://a.example.com/x', target_url: 'https://b.example.com/x', events: ['qr.created'] }, 'target_url'],
    [{ url: 'https://hooks.example.com/x', events: ['qr.created'], secret: 'mine' }, 'secret'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const response = await srv.request('POST', '/api/v1/webhooks', { token, body });
    expect(response.status).toBe(400);
    const error = await json<ErrorBody>(response);
    expect(error.error.code).toBe('validation_error');
    expect(error.error.details?.map((d) => d.field)).toContain(field);
  });

  it('deleting a subscription answers {id, deleted: true}, then 404', async () => {
    const created = await subscribe({ url: 'https://hooks.example.com/bye', events: ['qr.deleted'] });
    const response = await srv.request('DELETE', `/api/v1/webhooks/${created.id}`, { token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { id: created.id, deleted: true } });
    expect((await srv.request('GET', `/api/v1/webhooks/${created.id}`, { token })).status).toBe(404);
    expect((await srv.request('DELETE', `/api/v1/webhooks/${created.id}`, { token })).status).toBe(404);
  });

  it('another workspace sees a 404 for every route of a subscription it does not own', async () => {
    const created = await subscribe({ url: 'https://hooks.example.com/mine', events: ['qr.created'] });
    const other = await srv.createWorkspace('Other');
    const otherToken = (await srv.createKey({ workspace: other.workspace })).secret;
    for (const [method, path] of [
      ['GET', `/api/v1/webhooks/${created.id}`],
      ['DELETE', `/api/v1/webhooks/${created.id}`],
      ['GET', `/api/v1/webhooks/${created.id}/deliveries`],
    ] as const) {
      const response = await srv.request(method, path, { token: otherToken });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await json<ErrorBody>(response)).error.code).toBe('not_found');
    }
    const list = await json<{ data: Subscription[] }>(await srv.request('GET', '/api/v1/webhooks', { token: otherToken }));
    expect(list.data).toEqual([]);
    expect((await srv.request('GET', `/api/v1/webhooks/${created.id}`, { token })).status).toBe(200);
  });

  it('a key without the webhooks:write scope gets 403 insufficient_scope on every webhook route', async () => {
    const readOnly = (await srv.createKey({ name: 'Read-Only', scopes: ['qr:read', 'qr:write', 'analytics:read'] })).secret;
    for (const [method, path, body] of [
      ['POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['qr.created'] }],
      ['GET', '/api/v1/webhooks', undefined],
      ['GET', '/api/v1/webhooks/wh_x', undefined],
      ['DELETE', '/api/v1/webhooks/wh_x', undefined],
      ['GET', '/api/v1/webhooks/wh_x/deliveries', undefined],
    ] as const) {
      const response = await srv.request(method, path, { token: readOnly, ...(body ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect((await json<ErrorBody>(response)).error.code).toBe('insufficient_scope');
    }
  });

  it(`a workspace can have ${MAX_WEBHOOKS_PER_WORKSPACE} subscriptions; one more answers 403 webhook_limit_reached`, async () => {
    const other = await srv.createWorkspace('Busy');
    const otherToken = (await srv.createKey({ workspace: other.workspace })).secret;
    for (let i = 0; i < MAX_WEBHOOKS_PER_WORKSPACE; i++) await subscribe({ url: `https://hooks.example.com/${i}`, event: 'qr.created' }, otherToken);
    const response = await srv.request('POST', '/api/v1/webhooks', { token: otherToken, body: { url: 'https://hooks.example.com/one-more', event: 'qr.created' } });
    expect(response.status).toBe(403);
    const error = await json<ErrorBody>(response);
    expect(error.error.code).toBe('webhook_limit_reached');
    expect(error.error.message).toContain(String(MAX_WEBHOOKS_PER_WORKSPACE));
  });

  it('the routes are in the OpenAPI document with their scope', async () => {
    const doc = srv.running.app.openapi() as { paths: Record<string, Record<string, { 'x-required-scope'?: string }>> };
    expect(doc.paths['/api/v1/webhooks']?.post?.['x-required-scope']).toBe('webhooks:write');
    expect(doc.paths['/api/v1/webhooks/{id}/deliveries']?.get?.['x-required-scope']).toBe('webhooks:write');
  });
});

describe('the SSRF guard at subscription time (QRFLOW_WEBHOOK_ALLOW_PRIVATE=false)', () => {
  let guarded: TestServer;
  let guardedToken: string;

  beforeAll(async () => {
    guarded = await startTestServer({ env: { QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'false' } });
    guardedToken = (await guarded.createKey()).secret;
  });

  afterAll(async () => {
    await guarded.cleanup();
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://10.0.0.1/hook',
    'http://172.16.0.5/hook',
    'http://192.168.1.10/hook',
    'http://100.64.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0/hook',
    'http://2130706433/hook',
    'http://localhost:3000/hook',
    'http://api.localhost/hook',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://receiver/hook',
  ])('refuses %s with a 400 that says why', async (url) => {
    const response = await guarded.request('POST', '/api/v1/webhooks', { token: guardedToken, body: { url, events: ['qr.created'] } });
    expect(response.status).toBe(400);
    const error = await json<ErrorBody>(response);
    expect(error.error.code).toBe('validation_error');
    expect(error.error.details?.[0]?.field).toBe('url');
    expect(error.error.message).toContain('public internet');
  });

  it('names target_url when the Zapier alias is refused', async () => {
    const response = await guarded.request('POST', '/api/v1/webhooks', { token: guardedToken, body: { target_url: 'http://127.0.0.1/x', event: 'qr.created' } });
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error.details?.[0]?.field).toBe('target_url');
  });

  it('accepts a public address', async () => {
    const response = await guarded.request('POST', '/api/v1/webhooks', { token: guardedToken, body: { url: 'https://93.184.215.14/hook', events: ['qr.created'] } });
    expect(response.status).toBe(201);
  });
});
