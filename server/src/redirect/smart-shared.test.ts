import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from 'redis';
import { createQr, scan, USER_AGENTS } from '../../../test/helpers/qr.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../store/postgres/test-database.js';
import { WRONG_PASSWORD_LIMIT } from './password-gate.js';

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

async function redisAnswers(): Promise<boolean> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

const redisUp = await redisAnswers();

/** Two servers on one PostgreSQL database and one Redis prefix: what smart codes share across processes. */
await describePostgres('smart codes across processes', (serverUrl) => {
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
    const env = { QRFLOW_DATABASE_URL: database.url, ...(redisUp ? { QRFLOW_REDIS_URL: REDIS_URL, QRFLOW_REDIS_PREFIX: `qrflow-smart-${randomBytes(6).toString('hex')}:` } : {}) };
    first = await startTestServer({ env });
    second = await startTestServer({ env });
    token = (await first.createKey()).secret;
  });

  afterAll(async () => {
    await first?.cleanup();
    await second?.cleanup();
    await database?.drop();
  });

  const tokenOf = async (server: TestServer, shortCode: string) => /name="token" value="([^"]+)"/.exec(await (await scan(server, shortCode)).text())?.[1] as string;
  const tryPassword = async (server: TestServer, shortCode: string, password: string) =>
    fetch(`${server.baseUrl}/r/${shortCode}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: await tokenOf(server, shortCode), password }).toString(),
    });

  it.skipIf(!redisUp)('wrong passwords are counted across processes through Redis', async () => {
    const qr = await createQr(first, token, { name: 'Shared limit', destination_url: 'https://example.com/shared', password: 'the right one' });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the second process hears of the code through the change feed
    for (let n = 1; n < WRONG_PASSWORD_LIMIT; n++) expect((await tryPassword(n % 2 ? first : second, qr.short_code!, `wrong ${n}`)).status).toBe(403);
    expect((await tryPassword(second, qr.short_code!, 'wrong last')).status).toBe(429);
    expect((await tryPassword(first, qr.short_code!, 'the right one')).status).toBe(429);
  });

  it('a form token and an unlock cookie of one process are good on the other (no shared secret to configure)', async () => {
    const qr = await createQr(first, token, { name: 'Shared cookie', destination_url: 'https://example.com/cookie', password: 'the right one' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const unlocked = await fetch(`${second.baseUrl}/r/${qr.short_code}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: await tokenOf(first, qr.short_code!), password: 'the right one' }).toString(),
    });
    expect(unlocked.status).toBe(303);
    const cookie = (unlocked.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const again = await scan(first, qr.short_code!, { cookie });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe('https://example.com/cookie');
  });

  it('max_scans holds across two processes within the documented bound', async () => {
    const qr = await createQr(first, token, { name: 'Shared limit', destination_url: 'https://example.com/limited', max_scans: 10 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let redirected = 0;
    for (let n = 0; n < 30; n++) if ((await scan(n % 2 ? first : second, qr.short_code!)).status === 302) redirected++;
    // each process counts its own scans and the stored count it read: at most the limit per process
    expect(redirected).toBeGreaterThanOrEqual(10);
    expect(redirected).toBeLessThanOrEqual(20);
  });
});
