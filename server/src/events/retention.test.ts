import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { MAX_QUEUED_DELIVERIES } from './service.js';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.cleanup();
  srv = undefined;
});

describe('retention sweeps', () => {
  it('drops stored events older than 30 days and keeps newer ones', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    srv = await startTestServer({ clock });
    const { secret } = await srv.createKey();
    const create = (name: string) => srv!.request('POST', '/api/v1/qr', { token: secret, body: { name, destination_url: 'https://example.com/' } });
    expect((await create('old')).status).toBe(201);
    clock.advance(31 * 24 * 3600_000);
    expect((await create('new')).status).toBe(201);
    const dropped = await srv.running.app.services.events.sweep();
    expect(dropped).toBe(1);
    const feed = (await (await srv.request('GET', '/api/v1/events?type=qr.created', { token: secret })).json()) as { data: Array<{ data: { name: string } }> };
    expect(feed.data.map((event) => event.data.name)).toEqual(['new']);
  });

  it('forgets expired sessions, which then answer 401', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    srv = await startTestServer({ clock });
    const token = await srv.login();
    expect((await srv.request('GET', '/api/v1/keys', { token })).status).toBe(200);
    clock.advance(8 * 24 * 3600_000);
    expect(await srv.running.app.services.sessions.sweep()).toBe(1);
    const response = await srv.request('GET', '/api/v1/keys', { token });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_session');
  });
});

describe('bounded webhook queues', () => {
  it('stops queueing events for a subscription holding MAX_QUEUED_DELIVERIES, and only for that one', async () => {
    srv = await startTestServer();
    const { secret } = await srv.createKey();
    const subscribe = async () => {
      const response = await srv!.request('POST', '/api/v1/webhooks', { token: secret, body: { url: 'http://127.0.0.1:9/hook', events: ['qr.created'] } });
      expect(response.status).toBe(201);
      return ((await response.json()) as { data: { id: string } }).data.id;
    };
    const [full, open] = [await subscribe(), await subscribe()];
    const { store, app } = srv.running;
    await app.services.deliveries.stop(); // nothing is sent: the queue only grows
    const event = { id: 'evt_filler', type: 'qr.created' as const, created_at: new Date().toISOString(), data: {} };
    const filler = Array.from({ length: MAX_QUEUED_DELIVERIES }, (_, n) => ({
      collection: 'deliveries' as const,
      put: { id: `dlv_filler${n}`, workspace_id: srv!.workspace.id, webhook_id: full, event, attempts: 0, next_attempt_at: Date.now(), created_at: event.created_at },
    }));
    await store.commit(filler);

    const created = await srv.request('POST', '/api/v1/qr', { token: secret, body: { name: 'after', destination_url: 'https://example.com/' } });
    expect(created.status).toBe(201);
    expect(await store.countMany('deliveries', 'webhook_id', full)).toBe(MAX_QUEUED_DELIVERIES);
    expect(await store.countMany('deliveries', 'webhook_id', open)).toBe(1);
    expect(srv.logs()).toContain('webhook queue full');
    // the event itself is still in the feed for a client to catch up from
    const feed = (await (await srv.request('GET', '/api/v1/events?type=qr.created', { token: secret })).json()) as { data: Array<{ data: { name: string } }> };
    expect(feed.data.map((e) => e.data.name)).toEqual(['after']);
  });
});
