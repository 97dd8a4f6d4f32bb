import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createQr, json } from '../../../test/helpers/qr.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../store/postgres/test-database.js';
import { startReceiver, waitFor, type Receiver } from './test-receiver.js';

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Webhook deliveries through the PostgreSQL job queue (pg-boss), with two server processes on one database. */
await describePostgres('webhook deliveries on PostgreSQL, two processes', (serverUrl) => {
  let database: TestDatabase;
  let receiver: Receiver | undefined;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    for (const server of servers.splice(0).reverse()) await server.cleanup().catch(() => undefined);
    // the processes of every test share one workspace: an earlier test's subscriptions would take the next one's events
    await database.pool.query('DELETE FROM deliveries; DELETE FROM webhooks');
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function pair(): Promise<[TestServer, TestServer, string]> {
    const a = await startTestServer({ env: { QRFLOW_DATABASE_URL: database.url } });
    servers.push(a);
    // the second process finds the first one's workspace in the database
    const b = await startTestServer({ env: { QRFLOW_DATABASE_URL: database.url } });
    servers.push(b);
    const token = (await a.createKey()).secret;
    return [a, b, token];
  }

  async function subscribe(server: TestServer, token: string, url: string): Promise<string> {
    const response = await server.request('POST', '/api/v1/webhooks', { token, body: { url, events: ['qr.created'] } });
    expect(response.status).toBe(201);
    return (await json<{ data: { id: string } }>(response)).data.id;
  }

  it('delivers each event once although both processes work the queue', async () => {
    receiver = await startReceiver(() => 200);
    const [a, b, token] = await pair();
    await subscribe(a, token, receiver.url());
    for (let i = 0; i < 12; i++) await createQr(i % 2 ? a : b, token, { name: `Code ${i}`, destination_url: `https://example.com/${i}` });
    await waitFor(() => receiver!.delivered().length >= 12, '12 deliveries', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ids = receiver.received.map((request) => request.body.id);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    // the delivery id header is the event id, for receivers to drop a repeat
    expect(receiver.received.every((request) => request.headers['qrflow-event-id'] === request.body.id)).toBe(true);
    await waitFor(async () => (await database.pool.query('SELECT count(*)::int AS n FROM deliveries')).rows[0].n === 0, 'an empty delivery table');
    // the events feed reads PostgreSQL: either process lists the events both made
    for (const server of [a, b]) {
      const feed = await json<{ data: Array<{ id: string; type: string }> }>(await server.request('GET', '/api/v1/events?limit=50', { token }));
      expect(feed.data.filter((event) => event.type === 'qr.created').map((event) => event.id).sort()).toEqual([...ids].sort());
    }
  }, 40_000);

  it('keeps the retry schedule: a failed attempt is retried once its delay has passed, by either process', async () => {
    receiver = await startReceiver((_request, n) => (n === 0 ? 503 : 200));
    const [a, b, token] = await pair();
    for (const server of [a, b]) server.running.app.services.deliveries.configure({ schedule: [1500] });
    const hook = await subscribe(a, token, receiver.url());
    await createQr(a, token, { name: 'Retried', destination_url: 'https://example.com/retried' });
    await waitFor(() => receiver!.delivered().length === 1, 'the retried delivery', 20_000);
    expect(receiver.received.map((request) => request.answered)).toEqual([503, 200]);
    expect(receiver.received[0]?.body.id).toBe(receiver.received[1]?.body.id);
    const log = await waitFor(async () => {
      const entries = (await json<{ data: Array<{ status_code: number; attempted_at: string }> }>(await a.request('GET', `/api/v1/webhooks/${hook}/deliveries`, { token }))).data;
      return entries.length === 2 && entries;
    }, 'two logged attempts');
    const [second, first] = log.map((entry) => Date.parse(entry.attempted_at));
    expect((second as number) - (first as number)).toBeGreaterThanOrEqual(1400);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.received).toHaveLength(2);
  }, 40_000);

  it('an attempt cut short by its process stopping is made again by the other process', async () => {
    let hung = false;
    receiver = await startReceiver(() => (hung ? 200 : ((hung = true), 'hang')));
    const [a, b, token] = await pair();
    await subscribe(a, token, receiver.url());
    await createQr(a, token, { name: 'Handed over', destination_url: 'https://example.com/handed-over' });
    await waitFor(() => receiver!.received.length === 1, 'the first (hanging) attempt', 20_000);
    // stop whichever process holds the attempt (its worker aborts the send after the grace); the other takes the job
    const holder = [a, b].find((server) => server.running.app.services.deliveries.pending > 0) ?? a;
    await holder.running.app.services.deliveries.stop(100);
    await waitFor(() => receiver!.delivered().length === 1, 'the delivery made by the other process', 30_000);
    expect(receiver.received[0]?.body.id).toBe(receiver.received[1]?.body.id);
  }, 60_000);

  it('with Redis, creates take the subscriptions from memory, and one made through the other process is delivered from the next create on', async () => {
    const prefix = `qrflow-test-hooks-${process.pid}-${Date.now()}:`;
    const env = { QRFLOW_DATABASE_URL: database.url, QRFLOW_REDIS_URL: REDIS_URL, QRFLOW_REDIS_PREFIX: prefix };
    const a = await startTestServer({ env });
    servers.push(a);
    const b = await startTestServer({ env });
    servers.push(b);
    const token = (await a.createKey()).secret;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const findMany = vi.spyOn(PostgresStore.prototype, 'findMany');
    const hookReads = () => findMany.mock.calls.filter(([collection]) => collection === 'webhooks').length;
    try {
      receiver = await startReceiver(() => 200);
      await createQr(a, token, { name: 'Before 1', destination_url: 'https://example.com/before-1' });
      const held = hookReads();
      for (let i = 2; i <= 4; i++) await createQr(a, token, { name: `Before ${i}`, destination_url: `https://example.com/before-${i}` });
      // the workspace's subscriptions (none) were read once and held at its generation
      expect(hookReads()).toBe(held);

      await subscribe(b, token, receiver.url());
      const afterSubscribe = hookReads();
      const first = await createQr(a, token, { name: 'After 1', destination_url: 'https://example.com/after-1' });
      // the subscription bumped the workspace's webhooks generation: the next create on the other process reads them again
      expect(hookReads()).toBe(afterSubscribe + 1);
      const second = await createQr(a, token, { name: 'After 2', destination_url: 'https://example.com/after-2' });
      expect(hookReads()).toBe(afterSubscribe + 1);

      await waitFor(() => receiver!.delivered().length >= 2, 'two deliveries', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const delivered = receiver.received.map((request) => (request.body.data as { id: string }).id);
      expect(delivered.sort()).toEqual([first.id, second.id].sort());
    } finally {
      findMany.mockRestore();
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
      await redis.quit();
    }
  }, 40_000);
});
