import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { loadConfig } from '../config.js';

describe('Redis configuration', () => {
  it('QRFLOW_REDIS_URL serves everything; QRFLOW_RATE_LIMIT_REDIS_URL is its older name; two different ones are refused', () => {
    expect(loadConfig({ QRFLOW_REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', rateLimitRedisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'qrflow:' });
    expect(loadConfig({ QRFLOW_RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:6380' })).toMatchObject({ redisUrl: 'redis://127.0.0.1:6380' });
    expect(() => loadConfig({ QRFLOW_REDIS_URL: 'redis://a:6379', QRFLOW_RATE_LIMIT_REDIS_URL: 'redis://b:6379' })).toThrow(/name different servers/);
    expect(() => loadConfig({ QRFLOW_REDIS_URL: 'http://a' })).toThrow(/QRFLOW_REDIS_URL/);
    expect(() => loadConfig({ QRFLOW_REDIS_PREFIX: 'has space' })).toThrow(/QRFLOW_REDIS_PREFIX/);
  });

  it('QRFLOW_WORKERS above 1 needs PostgreSQL', () => {
    expect(() => loadConfig({ QRFLOW_WORKERS: '3' })).toThrow(/QRFLOW_WORKERS=3 needs QRFLOW_DATABASE_URL/);
    expect(loadConfig({ QRFLOW_WORKERS: '3', QRFLOW_DATABASE_URL: 'postgres://x@127.0.0.1/db' }).workers).toBe(3);
    expect(loadConfig({}).workers).toBe(1);
  });
});

describe('Redis down', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.cleanup();
    server = undefined;
  });

  it('limits and allowances fail open with a warn log, never a 500, and /readyz says so', async () => {
    // nothing listens on port 1: every Redis command fails at once
    server = await startTestServer({ env: { QRFLOW_REDIS_URL: 'redis://127.0.0.1:1' } });
    const { secret } = await server.createKey();
    for (let i = 0; i < 5; i++) {
      const response = await server.request('GET', '/api/v1/qr', { token: secret });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const image = await server.request('GET', '/api/v1/generate?data=redis-down&format=svg', { token: secret });
    expect(image.status).toBe(200);
    const failedLogin = await fetch(`${server.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: server.ownerEmail, password: 'wrong-password' }) });
    expect(failedLogin.status).toBe(401);
    const token = await server.login();
    const usage = await server.request('GET', '/api/v1/usage', { token });
    // counted in this process meanwhile (and written to the store)
    expect(((await usage.json()) as { data: { api_calls: { used: number } } }).data.api_calls.used).toBeGreaterThanOrEqual(6);
    // degraded, not out of rotation: the process still serves
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { data: { status: string } }).data.status).toBe('degraded');
    const warnings = server.logs().split('\n').filter((line) => line.includes('Redis is unreachable'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((line) => (JSON.parse(line) as { level: number }).level === 40)).toBe(true);
    // throttled: not one line per request
    expect(warnings.length).toBeLessThan(10);
    expect(server.logs()).not.toMatch(/"level":50.*rate/);
  }, 30_000);
});
