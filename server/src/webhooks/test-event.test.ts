import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { startReceiver, type Receiver } from './test-receiver.js';

interface TestResult {
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  delivered: boolean;
}

let srv: TestServer;
let receiver: Receiver;
let token: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = (await srv.createKey({ name: 'Webhook-Tests' })).secret;
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver.close();
  await srv.cleanup();
});

async function subscribe(url: string, as = token): Promise<{ id: string; secret: string }> {
  const response = await srv.request('POST', '/api/v1/webhooks', { token: as, body: { url, events: ['qr.created'] } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { id: string; secret: string } }).data;
}

async function sendTest(id: string, as = token): Promise<{ status: number; body: any }> {
  const response = await srv.request('POST', `/api/v1/webhooks/${id}/test`, { token: as });
  return { status: response.status, body: await response.json() };
}

describe('POST /api/v1/webhooks/:id/test', () => {
  it('sends a signed webhook.test event at once and answers with the delivery outcome', async () => {
    const hook = await subscribe(receiver.url('/ok'));
    const before = receiver.received.length;
    const { status, body } = await sendTest(hook.id);
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ status_code: 200, error: null, delivered: true });
    expect(Number.isInteger(body.data.duration_ms)).toBe(true);
    // it arrived before the answer, not through the background queue
    expect(receiver.received.length).toBe(before + 1);
    const got = receiver.received[before]!;
    expect(got.path).toBe('/ok');
    expect(got.body).toMatchObject({ type: 'webhook.test', data: { webhook_id: hook.id, mode: 'live' } });
    expect(got.body.id).toMatch(/^evt_/);
    expect(got.headers['qrflow-event-type']).toBe('webhook.test');
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(got.headers['qrflow-signature']));
    expect(match).not.toBeNull();
    expect(match![2]).toBe(createHmac('sha256', hook.secret).update(`${match![1]}.${got.rawBody}`).digest('hex'));
  });

  it('records the attempt in the delivery log', async () => {
    const hook = await subscribe(receiver.url('/logged'));
    const sent = receiver.received.length;
    await sendTest(hook.id);
    const eventId = receiver.received[sent]!.body.id;
    const log = (await (await srv.request('GET', `/api/v1/webhooks/${hook.id}/deliveries`, { token })).json()) as { data: Array<{ event_id: string; status_code: number }> };
    expect(log.data[0]).toMatchObject({ event_id: eventId, status_code: 200 });
  });

  it("reports a receiver's error status with the start of its body, and changes nothing on a 410", async () => {
    const hook = await subscribe(receiver.url('/failing'));
    receiver.respondWith((request) => (request.path === '/failing' ? 500 : request.path === '/gone' ? 410 : 200));
    try {
      const failing = await sendTest(hook.id);
      expect(failing.body.data).toMatchObject({ status_code: 500, delivered: false });
      expect(failing.body.data.error).toMatch(/^HTTP 500: receiver says 500/);
      const gone = await subscribe(receiver.url('/gone'));
      expect((await sendTest(gone.id)).body.data).toMatchObject({ status_code: 410, delivered: false });
      // a real delivery's 410 removes the subscription; a test's does not
      expect((await srv.request('GET', `/api/v1/webhooks/${gone.id}`, { token })).status).toBe(200);
    } finally {
      receiver.respondWith(() => 200);
    }
  });

  it('answers with a null status and the reason when nothing listens', async () => {
    const hook = await subscribe('http://127.0.0.1:9/nobody');
    const { status, body } = await sendTest(hook.id);
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ status_code: null, delivered: false });
    expect(body.data.error).toMatch(/^network error/);
  });

  it('gives up on a receiver that does not answer within the delivery timeout', async () => {
    srv.running.app.services.deliveries.configure({ timeoutMs: 300 });
    const hook = await subscribe(receiver.url('/hang'));
    receiver.respondWith((request) => (request.path === '/hang' ? 'hang' : 200));
    try {
      const { status, body } = await sendTest(hook.id);
      expect(status).toBe(200);
      expect(body.data).toMatchObject({ status_code: null, delivered: false, error: 'timeout: no response within 300 ms' });
    } finally {
      receiver.respondWith(() => 200);
      srv.running.app.services.deliveries.configure({ timeoutMs: 10_000 });
    }
  });

  it("answers 404 for another workspace's webhook and sends it nothing", async () => {
    const hook = await subscribe(receiver.url('/private'));
    const other = await srv.createWorkspace('Other');
    const otherKey = (await srv.createKey({ name: 'Other', workspace: other.workspace })).secret;
    const sent = receiver.received.length;
    const { status, body } = await sendTest(hook.id, otherKey);
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
    expect(receiver.received.length).toBe(sent);
  });

  it('is in the OpenAPI document with its scope and the outcome schema', () => {
    const doc = srv.running.app.openapi() as any;
    const operation = doc.paths['/api/v1/webhooks/{id}/test'].post;
    expect(operation['x-required-scope']).toBe('webhooks:write');
    expect(Object.keys(doc.components.schemas.WebhookTestResult.properties).sort()).toEqual(['delivered', 'duration_ms', 'error', 'status_code']);
    expect(JSON.stringify(operation.responses['200'])).toContain('WebhookTestResult');
  });

  it('needs the webhooks:write scope', async () => {
    const hook = await subscribe(receiver.url('/scoped'));
    const readOnly = (await srv.createKey({ name: 'Read-Only', scopes: ['qr:read'] })).secret;
    const { status, body } = await sendTest(hook.id, readOnly);
    expect(status).toBe(403);
    expect(body.error.code).toBe('insufficient_scope');
  });
});

describe('POST /api/v1/webhooks/:id/test with the address guard on', () => {
  let guarded: TestServer;
  afterAll(async () => {
    await guarded?.cleanup();
  });

  it('refuses a receiver on a private address without connecting', async () => {
    guarded = await startTestServer({ env: { QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'false' } });
    const key = (await guarded.createKey({ name: 'Guarded' })).secret;
    // the subscription was allowed when it was made (e.g. by an operator who later turned the guard on)
    const { webhooks } = guarded.running.app.services;
    const hook = await guarded.running.store.get('workspaces', guarded.workspace.id).then(async (workspace) => {
      guarded.running.app.ctx.config.webhookAllowPrivate = true;
      try {
        return await webhooks.create(workspace!, { url: receiver.url('/guarded'), events: ['qr.created'] });
      } finally {
        guarded.running.app.ctx.config.webhookAllowPrivate = false;
      }
    });
    const sent = receiver.received.length;
    const response = await guarded.request('POST', `/api/v1/webhooks/${hook.id}/test`, { token: key });
    const body = (await response.json()) as { data: TestResult };
    expect(response.status).toBe(200);
    expect(body.data).toMatchObject({ status_code: null, delivered: false });
    expect(body.data.error).toMatch(/^refused: 127\.0\.0\.1/);
    expect(receiver.received.length).toBe(sent);
  });
});
