import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';
import { startReceiver, waitFor, type Receiver, type Received } from './test-receiver.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Attempt {
  event_id: string;
  attempted_at: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** Checks `QRflow-Signature: t=<unix>,v1=<hex>` as a receiver would, with the full whsec_ secret as the key. */
function signatureIsValid(secret: string, delivery: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivery.headers['qrflow-signature']));
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${delivery.rawBody}`).digest();
  return timingSafeEqual(Buffer.from(match[2] as string, 'hex'), expected);
}

const clock = new ManualClock(Date.parse('2026-03-02T09:00:00Z'));
let srv: TestServer;
let receiver: Receiver;
const secrets: string[] = [];

/** A fresh workspace (so other tests' subscriptions stay out of the way) and a key for it. */
async function freshToken(): Promise<string> {
  const other = await srv.createWorkspace('Hooks');
  return (await srv.createKey({ workspace: other.workspace })).secret;
}

async function subscribe(token: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const response = await srv.request('POST', '/api/v1/webhooks', { token, body: { url: receiver.url(), ...body } });
  expect(response.status).toBe(201);
  const data = (await json<{ data: { id: string; secret: string } }>(response)).data;
  secrets.push(data.secret);
  return data;
}

async function attempts(token: string, webhookId: string): Promise<Attempt[]> {
  const response = await srv.request('GET', `/api/v1/webhooks/${webhookId}/deliveries`, { token });
  expect(response.status).toBe(200);
  return (await json<{ data: Attempt[] }>(response)).data;
}

/** Waits until the subscription's log has `count` attempts (each attempt is logged once it is settled). */
const attemptsReach = (token: string, webhookId: string, count: number) =>
  waitFor(async () => {
    const log = await attempts(token, webhookId);
    return log.length >= count && log;
  }, `${count} logged attempts`);

/** Lets the worker poll a few times and shows nothing else arrives. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1200));

beforeAll(async () => {
  srv = await startTestServer({ clock });
});

afterEach(async () => {
  await receiver?.close();
  srv.running.app.services.deliveries.configure({ timeoutMs: 10_000 });
});

afterAll(async () => {
  await srv.cleanup();
});

describe('webhook delivery', () => {
  it('qr.created, qr.updated and qr.deleted arrive signed, as {id, type, created_at, data} with the QR object the API returned', async () => {
    receiver = await startReceiver();
    const token = await freshToken();
    const { secret } = await subscribe(token, { events: ['qr.created', 'qr.updated', 'qr.deleted'] });
    const created = await createQr(srv, token, { name: 'Poster', destination_url: 'https://example.com/a' });
    const updated = (await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${created.id}`, { token, body: { destination_url: 'https://example.com/b' } }))).data;
    expect((await srv.request('DELETE', `/api/v1/qr/${created.id}`, { token })).status).toBe(200);

    await waitFor(() => receiver.received.length >= 3, 'three deliveries');
    const byType = Object.fromEntries(receiver.received.map((r) => [r.body.type, r]));
    expect(Object.keys(byType).sort()).toEqual(['qr.created', 'qr.deleted', 'qr.updated']);
    expect(byType['qr.created']?.body.data).toEqual(created);
    expect(byType['qr.updated']?.body.data).toEqual(updated);
    expect(byType['qr.deleted']?.body.data).toMatchObject({ id: created.id, name: 'Poster', destination_url: 'https://example.com/b' });

    const feed = (await json<{ data: Array<{ id: string; type: string }> }>(await srv.request('GET', '/api/v1/events?limit=10', { token }))).data;
    for (const delivery of receiver.received) {
      expect(Object.keys(delivery.body).sort()).toEqual(['created_at', 'data', 'id', 'type']);
      expect(delivery.body.id).toMatch(/^evt_/);
      // the events feed serves the very same object
      expect(feed).toContainEqual(delivery.body);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['user-agent']).toBe('qrflow-webhooks/1');
      expect(delivery.headers['qrflow-event-id']).toBe(delivery.body.id);
      expect(String(delivery.headers['qrflow-signature'])).toBe(`t=${Math.floor(clock.now() / 1000)},v1=${createHmac('sha256', secret).update(`${Math.floor(clock.now() / 1000)}.${delivery.rawBody}`).digest('hex')}`);
      expect(signatureIsValid(secret, delivery)).toBe(true);
      expect(signatureIsValid(`${secret}x`, delivery)).toBe(false);
      expect(signatureIsValid(secret, { ...delivery, rawBody: delivery.rawBody.replace('Poster', 'Forged') })).toBe(false);
    }
  });

  it('a Zapier-style subscription (target_url, event) gets qr.scanned for a browser scan, not for a bot', async () => {
    receiver = await startReceiver();
    const token = await freshToken();
    const response = await srv.request('POST', '/api/v1/webhooks', { token, body: { target_url: receiver.url('/hooks/scanned'), event: 'qr.scanned' } });
    expect(response.status).toBe(201);
    const { secret } = (await json<{ data: { secret: string } }>(response)).data;
    secrets.push(secret);
    const qr = await createQr(srv, token, { name: 'Menu', destination_url: 'https://example.com/menu' });

    expect((await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.googlebot })).status).toBe(302);
    expect((await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.iphone, referer: 'https://news.example.org/story' })).status).toBe(302);
    const delivery = await waitFor(() => receiver.received[0], 'the qr.scanned delivery');
    expect(delivery.path).toBe('/hooks/scanned');
    expect(delivery.body.type).toBe('qr.scanned');
    expect(delivery.body.id).toMatch(/^evt_scan_\d+$/);
    expect(delivery.body.data).toEqual({
      id: expect.stringMatching(/^scn_\d+$/),
      qr_id: qr.id,
      qr_name: 'Menu',
      scanned_at: new Date(clock.now()).toISOString(),
      country: expect.any(String),
      device: 'mobile',
      os: 'iOS',
      browser: expect.stringMatching(/Safari/),
      referrer: 'news.example.org',
      is_bot: false,
      // from loopback: no GeoIP answer; a code without variants
      region: null,
      city: null,
      variant: null,
    });
    expect(signatureIsValid(secret, delivery)).toBe(true);
    await settle();
    expect(receiver.received).toHaveLength(1);
  });

  it('after two 500s the event is retried with backoff (30 s, then 2 min) and delivered once, all attempts logged newest first', async () => {
    receiver = await startReceiver((_request, n) => (n < 2 ? 500 : 200));
    const token = await freshToken();
    const { id, secret } = await subscribe(token, { events: ['qr.created'] });
    await createQr(srv, token, { name: 'Flaky', destination_url: 'https://example.com/flaky' });

    await attemptsReach(token, id, 1);
    clock.advance(29_000);
    await settle();
    expect(receiver.received).toHaveLength(1);
    clock.advance(1_000);
    await attemptsReach(token, id, 2);
    clock.advance(2 * MINUTE);
    const log = await attemptsReach(token, id, 3);

    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(receiver.received.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.rawBody)).size).toBe(1);
    expect(receiver.received.every((r) => signatureIsValid(secret, r))).toBe(true);
    expect(log.map((a) => a.status_code)).toEqual([200, 500, 500]);
    expect(log[0]).toMatchObject({ event_id: receiver.received[0]?.body.id, error: null, attempted_at: new Date(clock.now()).toISOString() });
    expect(log[1]?.error).toBe('HTTP 500: receiver says 500');
    expect(log.every((a) => Number.isInteger(a.duration_ms) && a.duration_ms >= 0)).toBe(true);

    clock.advance(DAY);
    await settle();
    expect(receiver.received).toHaveLength(3);
  });

  it('a receiver that does not answer in time is retried after the timeout', async () => {
    srv.running.app.services.deliveries.configure({ timeoutMs: 300 });
    receiver = await startReceiver((_request, n) => (n === 0 ? 'hang' : 200));
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created'] });
    await createQr(srv, token, { name: 'Slow', destination_url: 'https://example.com/slow' });

    const [first] = await attemptsReach(token, id, 1);
    expect(first).toMatchObject({ status_code: null, error: 'timeout: no response within 300 ms' });
    expect(first?.duration_ms).toBeGreaterThanOrEqual(250);
    clock.advance(30_000);
    const log = await attemptsReach(token, id, 2);
    expect(log[0]).toMatchObject({ status_code: 200, error: null });
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('a receiver that hangs does not hold up the API or the redirect', async () => {
    receiver = await startReceiver(() => 'hang');
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created', 'qr.scanned'] });
    const qr = await createQr(srv, token, { name: 'Stuck', destination_url: 'https://example.com/stuck' });
    await waitFor(() => receiver.received.length >= 1, 'the first (hanging) delivery');
    // while that attempt waits out its 10 s timeout, the API and the redirect answer as usual
    for (let i = 0; i < 5; i++) await createQr(srv, token, { name: `Meanwhile ${i}`, destination_url: 'https://example.com/meanwhile' });
    expect((await scan(srv, qr.short_code!)).status).toBe(302);
    expect((await srv.request('GET', `/api/v1/qr/${qr.id}`, { token })).status).toBe(200);
    expect(await attempts(token, id)).toEqual([]);
    expect(receiver.received.every((r) => r.answered === 'hang')).toBe(true);
    // so its retries cannot reach a later test's receiver on a reused port
    expect((await srv.request('DELETE', `/api/v1/webhooks/${id}`, { token })).status).toBe(200);
  });

  it('a 410 from the receiver removes the subscription and its queued deliveries', async () => {
    receiver = await startReceiver(() => 410);
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created', 'qr.updated'] });
    const qr = await createQr(srv, token, { name: 'Gone', destination_url: 'https://example.com/gone' });
    await waitFor(async () => (await srv.request('GET', `/api/v1/webhooks/${id}`, { token })).status === 404, 'the subscription to go');
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { name: 'Gone again' } });
    clock.advance(MINUTE);
    await settle();
    expect(receiver.received).toHaveLength(1);
    expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toEqual([]);
  });

  it('another 4xx is logged and that event is not retried; the subscription stays active', async () => {
    receiver = await startReceiver((_request, n) => (n === 0 ? 400 : 200));
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created'] });
    await createQr(srv, token, { name: 'Refused', destination_url: 'https://example.com/no' });
    await attemptsReach(token, id, 1);
    clock.advance(DAY);
    await settle();
    expect(receiver.received).toHaveLength(1);
    expect((await attempts(token, id))[0]).toMatchObject({ status_code: 400, error: 'HTTP 400: receiver says 400' });
    expect((await json<{ data: { status: string } }>(await srv.request('GET', `/api/v1/webhooks/${id}`, { token }))).data.status).toBe('active');
    await createQr(srv, token, { name: 'Accepted', destination_url: 'https://example.com/yes' });
    await waitFor(() => receiver.delivered().length === 1, 'the next event');
  });

  it('a delivery is given up after the last retry of the schedule', async () => {
    srv.running.app.services.deliveries.configure({ schedule: [1000, 1000] });
    try {
      receiver = await startReceiver(() => 503);
      const token = await freshToken();
      const { id } = await subscribe(token, { events: ['qr.created'] });
      await createQr(srv, token, { name: 'Doomed', destination_url: 'https://example.com/doomed' });
      await attemptsReach(token, id, 1);
      clock.advance(1000);
      await attemptsReach(token, id, 2);
      clock.advance(1000);
      await attemptsReach(token, id, 3);
      clock.advance(DAY);
      await settle();
      expect(receiver.received).toHaveLength(3);
      expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toEqual([]);
    } finally {
      srv.running.app.services.deliveries.configure({ schedule: (await import('./delivery.js')).DEFAULT_RETRY_SCHEDULE });
    }
  });

  it('deleting a subscription drops its queued retries', async () => {
    receiver = await startReceiver(() => 500);
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created'] });
    await createQr(srv, token, { name: 'Dropped', destination_url: 'https://example.com/dropped' });
    await attemptsReach(token, id, 1);
    expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toHaveLength(1);
    expect((await srv.request('DELETE', `/api/v1/webhooks/${id}`, { token })).status).toBe(200);
    expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toEqual([]);
    clock.advance(DAY);
    await settle();
    expect(receiver.received).toHaveLength(1);
  });

  it('a subscription failing for 3 days is disabled with the reason, and its pending deliveries are dropped', async () => {
    receiver = await startReceiver(() => 500);
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created', 'qr.updated'] });
    const qr = await createQr(srv, token, { name: 'Dead end', destination_url: 'https://example.com/dead' });
    await attemptsReach(token, id, 1);
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { name: 'Dead end 2' } });
    await attemptsReach(token, id, 2);

    clock.advance(3 * DAY + MINUTE);
    await waitFor(async () => (await json<{ data: { status: string } }>(await srv.request('GET', `/api/v1/webhooks/${id}`, { token }))).data.status === 'disabled', 'the subscription to be disabled');
    const hook = (await json<{ data: { status: string; disabled_reason: string } }>(await srv.request('GET', `/api/v1/webhooks/${id}`, { token }))).data;
    expect(hook.disabled_reason).toMatch(/every delivery failed for 3 days since .* \(last: HTTP 500/);
    await settle();
    expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toEqual([]);
    const sent = receiver.received.length;
    expect(sent).toBeLessThanOrEqual(4);

    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { name: 'Dead end 3' } });
    clock.advance(DAY);
    await settle();
    expect(receiver.received).toHaveLength(sent);
  });

  it(`a batch of events with failures in between: every event delivered exactly once`, async () => {
    // every third request fails, with a 500 or a 503
    receiver = await startReceiver((_request, n) => (n % 3 === 0 ? (n % 2 === 0 ? 500 : 503) : 200));
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created'] });
    const count = 40;
    await Promise.all(Array.from({ length: count }, (_, i) => createQr(srv, token, { name: `Batch ${i}`, destination_url: `https://example.com/${i}` })));
    await waitFor(async () => {
      clock.advance(30_000);
      return receiver.delivered().length >= count;
    }, 'every event of the batch', 20_000);
    clock.advance(DAY);
    await settle();

    const feed = (await json<{ data: Array<{ id: string }> }>(await srv.request('GET', '/api/v1/events?type=qr.created&limit=100', { token }))).data;
    const deliveredIds = receiver.delivered().map((r) => r.body.id);
    expect(deliveredIds).toHaveLength(count);
    expect(new Set(deliveredIds)).toEqual(new Set(feed.map((event) => event.id)));
    expect(await srv.running.store.findMany('deliveries', 'webhook_id', id)).toEqual([]);
  });

  it('the delivery log keeps the last 100 attempts, newest first', async () => {
    receiver = await startReceiver();
    const token = await freshToken();
    const { id } = await subscribe(token, { events: ['qr.created'] });
    const created: string[] = [];
    for (let batch = 0; batch < 7; batch++) {
      const codes = await Promise.all(Array.from({ length: 15 }, (_, i) => createQr(srv, token, { name: `Log ${batch}-${i}`, destination_url: 'https://example.com/log' })));
      created.push(...codes.map((c) => c.id));
      clock.advance(1000);
    }
    await waitFor(() => receiver.received.length === 105, '105 deliveries');
    const log = await attemptsReach(token, id, 100);
    await settle();
    const final = await attempts(token, id);
    expect(final).toHaveLength(100);
    const times = final.map((a) => a.attempted_at);
    expect([...times].sort().reverse()).toEqual(times);
    // the 5 oldest attempts are the ones dropped
    const dropped = receiver.received.map((r) => r.body.id).filter((eventId) => !final.some((a) => a.event_id === eventId));
    expect(dropped).toHaveLength(5);
    expect(log.every((a) => a.status_code === 200)).toBe(true);
  });

  it('no signing secret ever appears in the server logs', () => {
    expect(secrets.length).toBeGreaterThan(5);
    const logs = srv.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('whsec_');
  });
});
