import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.js';

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const redisAnswers = await new Promise<boolean>((resolve) => {
  const url = new URL(REDIS_URL);
  const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
  socket.setTimeout(1000);
  socket.once('connect', () => socket.write('PING\r\n'));
  socket.once('data', (data) => { socket.destroy(); resolve(String(data).startsWith('+PONG')); });
  socket.once('error', () => resolve(false));
  socket.once('timeout', () => { socket.destroy(); resolve(false); });
});
if (!redisAnswers && process.env.CI !== 'true') console.log(`Redis outage test skipped: no Redis at ${REDIS_URL}; set QRFLOW_TEST_REDIS_URL to run it`);

/** Redis (limits and allowances) lost and back, simulated with a TCP proxy in front of the shared server. */
const PREFIX = `qrflow-test-outage-${process.pid}-${Date.now()}:`;
describe.runIf(redisAnswers || process.env.CI === 'true')('Redis outages', () => {
  let proxy: TcpProxy;
  let server: TestServer | undefined;

  beforeAll(async () => {
    const url = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
  });
  afterEach(async () => {
    proxy.restore();
    if (server) {
      // only this test's keys (its own prefix), never a flush
      const { createClient } = await import('redis');
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${PREFIX}*` })) if (keys.length) await client.del(keys);
      await client.quit();
      await server.cleanup();
    }
    server = undefined;
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('fails open with a throttled warning and /readyz degraded (200, Redis failing) while it is down, and limits again once it is back', async () => {
    server = await startTestServer({ env: { QRFLOW_REDIS_URL: proxy.via(REDIS_URL), QRFLOW_REDIS_PREFIX: PREFIX } });
    const { secret } = await server.createKey();
    const untilLimited = async (srv: TestServer) => {
      const deadline = Date.now() + 10_000;
      let header: string | null = null;
      while (Date.now() < deadline) {
        const response = await srv.request('GET', '/api/v1/qr', { token: secret });
        expect(response.status).toBe(200);
        header = response.headers.get('ratelimit');
        if (header?.includes('"minute"')) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return header;
    };
    // the connection is made in the background at start: the limits apply once it is up
    expect(await untilLimited(server)).toMatch(/"minute"/);

    proxy.cut();
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const response = await server.request('GET', '/api/v1/qr', { token: secret });
      expect(response.status).toBe(200);
      // let through without the per-minute limit's headers
      expect(response.headers.get('ratelimit') ?? '').not.toMatch(/"minute"/);
    }
    expect(Date.now() - started).toBeLessThan(3000);
    const warnings = () => server!.logs().split('\n').filter((line) => line.includes('Redis is unreachable'));
    expect(warnings().length).toBeGreaterThan(0);
    // throttled: not one line per request
    expect(warnings().length).toBeLessThan(4);
    // degraded, not out of rotation: the process serves (limits open), and the answer says Redis is failing
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { data: { status: string; checks: { store: { status: string }; redis: { status: string; message?: string } } } };
    expect(body.data.status).toBe('degraded');
    expect(body.data.checks.store.status).toBe('ok');
    expect(body.data.checks.redis.status).toBe('failing');
    expect(body.data.checks.redis.message).toBeTruthy();

    proxy.restore();
    expect(await untilLimited(server)).toMatch(/"minute"/);
    const back = (await (await fetch(`${server.baseUrl}/readyz`)).json()) as { data: { status: string } };
    expect(back.data.status).toBe('ready');
  }, 30_000);

  it('a server started while Redis is down starts and serves (unlimited) with a warning', async () => {
    proxy.cut();
    server = await startTestServer({ env: { QRFLOW_REDIS_URL: proxy.via(REDIS_URL), QRFLOW_REDIS_PREFIX: PREFIX } });
    const { secret } = await server.createKey();
    expect((await server.request('GET', '/api/v1/qr', { token: secret })).status).toBe(200);
    expect(server.logs()).toContain('Redis is unreachable');
  }, 30_000);
});
