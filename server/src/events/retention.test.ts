import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, scan, USER_AGENTS } from '../../../test/helpers/qr.js';
import type { EventPayload } from '../store/records.js';
import { MAX_QUEUED_DELIVERIES, newDeliveryBatch, type EventType } from './service.js';

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

/** A subscription of the test workspace to `type`, sending nowhere. */
async function subscribe(secret: string, type: EventType): Promise<string> {
  const response = await srv!.request('POST', '/api/v1/webhooks', { token: secret, body: { url: 'http://127.0.0.1:9/hook', events: [type] } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { id: string } }).data.id;
}

/** Stops sending (the queues only grow) and queues `count` deliveries of a filler `type` event for `hook`. */
async function fillQueue(hook: string, count: number, type: EventType): Promise<EventPayload> {
  const { store, app } = srv!.running;
  await app.services.deliveries.stop();
  const event = { id: 'evt_filler', type, created_at: new Date().toISOString(), data: {} };
  await store.commit(
    Array.from({ length: count }, (_, n) => ({
      collection: 'deliveries' as const,
      put: { id: `dlv_filler${n}`, workspace_id: srv!.workspace.id, webhook_id: hook, event, attempts: 0, next_attempt_at: Date.now(), created_at: event.created_at },
    })),
  );
  return event;
}

describe('bounded webhook queues', () => {
  it('stops queueing events for a subscription holding MAX_QUEUED_DELIVERIES, and only for that one', async () => {
    srv = await startTestServer();
    const { secret } = await srv.createKey();
    const [full, open] = [await subscribe(secret, 'qr.created'), await subscribe(secret, 'qr.created')];
    await fillQueue(full, MAX_QUEUED_DELIVERIES, 'qr.created');
    const { store } = srv.running;

    const created = await srv.request('POST', '/api/v1/qr', { token: secret, body: { name: 'after', destination_url: 'https://example.com/' } });
    expect(created.status).toBe(201);
    expect(await store.countMany('deliveries', 'webhook_id', full)).toBe(MAX_QUEUED_DELIVERIES);
    expect(await store.countMany('deliveries', 'webhook_id', open)).toBe(1);
    expect(srv.logs()).toContain('webhook queue full');
    // the event itself is still in the feed for a client to catch up from
    const feed = (await (await srv.request('GET', '/api/v1/events?type=qr.created', { token: secret })).json()) as { data: Array<{ data: { name: string } }> };
    expect(feed.data.map((e) => e.data.name)).toEqual(['after']);
  });

  it('holds the cap within a batch of scans: the deliveries a batch queues count towards it', async () => {
    srv = await startTestServer();
    const { secret } = await srv.createKey();
    const [nearlyFull, open] = [await subscribe(secret, 'qr.scanned'), await subscribe(secret, 'qr.scanned')];
    await fillQueue(nearlyFull, MAX_QUEUED_DELIVERIES - 3, 'qr.scanned');
    const { store, app } = srv.running;
    const codes = [await createQr(srv, secret, { name: 'Poster', destination_url: 'https://example.com/poster' }), await createQr(srv, secret, { name: 'Flyer', destination_url: 'https://example.com/flyer' })];
    // sent together, so that the recorder writes them (mostly) as one batch, the two codes interleaved
    const answers = await Promise.all(Array.from({ length: 10 }, (_, n) => scan(srv!, codes[n % 2]!.short_code!, { 'user-agent': USER_AGENTS.iphone })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(302));
    await app.services.recorder.drain();
    expect(await store.countMany('deliveries', 'webhook_id', nearlyFull)).toBe(MAX_QUEUED_DELIVERIES);
    const queued = await store.findMany('deliveries', 'webhook_id', open);
    expect(queued).toHaveLength(10);
    // each event names its own code (the batch reads each code's name once)
    const named = queued.map((delivery) => delivery.event.data as { qr_id: string; qr_name: string });
    expect(named.every((data) => data.qr_name === codes.find((code) => code.id === data.qr_id)?.name)).toBe(true);
    expect(new Set(named.map((data) => data.qr_name))).toEqual(new Set(['Poster', 'Flyer']));
    expect(srv.logs()).toContain('webhook queue full');
  });
});

describe('EventService.deliveryOps with a batch', () => {
  it("counts each subscription once and the batch's own deliveries after that", async () => {
    srv = await startTestServer();
    const { secret } = await srv.createKey();
    const hook = await subscribe(secret, 'qr.scanned');
    const event = await fillQueue(hook, MAX_QUEUED_DELIVERIES - 2, 'qr.scanned');
    const { events } = srv.running.app.services;
    const batch = newDeliveryBatch();
    const queued: number[] = [];
    for (let n = 0; n < 5; n++) queued.push((await events.deliveryOps(srv.workspace.id, { ...event, id: `evt_${n}` }, undefined, batch)).length);
    expect(queued).toEqual([1, 1, 0, 0, 0]);
    expect(batch.queued.get(hook)).toBe(MAX_QUEUED_DELIVERIES);
    // without a batch each call counts what is committed, which the calls above did not commit
    expect((await events.deliveryOps(srv.workspace.id, event)).length).toBe(1);
  });
});
