import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.cleanup();
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ env });
  servers.push(server);
  return server;
}

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** Whether a Redis answers; in CI it must. */
const redisAnswers = await new Promise<boolean>((resolve) => {
  const url = new URL(REDIS_URL);
  const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
  socket.setTimeout(1000);
  socket.once('connect', () => socket.write('PING\r\n'));
  socket.once('data', (data) => { socket.destroy(); resolve(String(data).startsWith('+PONG')); });
  socket.once('error', () => resolve(false));
  socket.once('timeout', () => { socket.destroy(); resolve(false); });
});
if (!redisAnswers && process.env.CI !== 'true') console.log(`Redis readiness test skipped: no Redis at ${REDIS_URL}; set QRFLOW_TEST_REDIS_URL to run it`);

describe('health checks', () => {
  it('GET /healthz answers 200 alive, uncached, with no credentials', async () => {
    const server = await start();
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ data: { status: 'alive' } });
  });

  it('GET /readyz answers 200 with the store checked and Redis not configured', async () => {
    const server = await start();
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { status: string; store: string; checks: Record<string, { status: string }> } };
    expect(body.data.status).toBe('ready');
    expect(body.data.store).toBe(process.env.QRFLOW_TEST_STORE === 'postgres' ? 'postgres' : 'embedded');
    expect(body.data.checks).toEqual({ store: { status: 'ok' }, redis: { status: 'not_configured' } });
  });

  it('GET /readyz answers 503 not_ready with Retry-After, in the error model, when the store does not answer', async () => {
    const server = await start();
    await server.running.store.close();
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = (await response.json()) as { error: { code: string; message: string; details: Array<{ field: string }> }; request_id: string };
    expect(body.error.code).toBe('not_ready');
    expect(body.error.details.map((detail) => detail.field)).toEqual(['store']);
    expect(body.request_id).toMatch(/^req_/);
    // alive all the same: the process answers
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });

  it.runIf(redisAnswers || process.env.CI === 'true')('GET /readyz checks Redis when the rate limits use it', async () => {
    const server = await start({ QRFLOW_RATE_LIMIT_REDIS_URL: REDIS_URL });
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { checks: { redis: { status: string } } } }).data.checks.redis).toEqual({ status: 'ok' });
  });
});
