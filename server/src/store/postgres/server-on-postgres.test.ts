import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createQr, json, scan } from '../../../../test/helpers/qr.js';
import { startTestServer, type TestServer } from '../../../../test/helpers/server.js';
import { runCli } from '../../cli/cli.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

await describePostgres('qrflow on PostgreSQL, end to end', (serverUrl) => {
  let database: TestDatabase;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.cleanup();
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function start(): Promise<TestServer> {
    const server = await startTestServer({ env: { QRFLOW_DATABASE_URL: database.url } });
    servers.push(server);
    return server;
  }

  it('creates codes, redirects them, follows changes, authenticates keys and keeps it all across a restart', async () => {
    let server = await start();
    const { secret } = await server.createKey();
    const code = await createQr(server, secret, { name: 'On PostgreSQL', destination_url: 'https://example.com/first' });
    expect(code.short_code).toMatch(/^[0-9A-Za-z]+$/);
    const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM qrcodes WHERE route_key = $1', [code.short_code]);
    expect(rows.map((row) => row.id)).toEqual([code.id]);

    let redirect = await scan(server, code.short_code as string);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://example.com/first');

    const changed = await server.request('PATCH', `/api/v1/qr/${code.id}`, { token: secret, body: { destination_url: 'https://example.com/second' } });
    expect(changed.status).toBe(200);
    redirect = await scan(server, code.short_code as string);
    expect(redirect.headers.get('location')).toBe('https://example.com/second');

    expect((await server.request('GET', '/api/v1/qr', { token: secret })).status).toBe(200);
    expect((await server.request('GET', '/api/v1/qr', { token: `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}` })).status).toBe(401);
    const ready = await json<{ data: { store: string; checks: { store: { status: string } } } }>(await fetch(`${server.baseUrl}/readyz`));
    expect(ready.data).toMatchObject({ store: 'postgres', checks: { store: { status: 'ok' } } });

    server = await server.restart();
    servers.splice(0, servers.length, server);
    redirect = await scan(server, code.short_code as string);
    expect(redirect.headers.get('location')).toBe('https://example.com/second');
    const list = await json<{ data: Array<{ id: string }> }>(await server.request('GET', '/api/v1/qr', { token: secret }));
    expect(list.data.map((item) => item.id)).toContain(code.id);

    const deleted = await server.request('DELETE', `/api/v1/qr/${code.id}`, { token: secret });
    expect(deleted.status).toBe(200);
    expect((await scan(server, code.short_code as string)).status).toBe(410);
  });

  it('the CLI works on the database while a server runs, and the server authenticates the key it made at once', async () => {
    const server = await start();
    let out = '';
    const code = await runCli(['keys', 'create', '--workspace', server.workspace.id, '--name', 'From-CLI', '--json'], { out: (text) => (out += text), err: () => undefined }, {
      QRFLOW_DATABASE_URL: database.url,
      QRFLOW_DATA_FILE: server.dataFile,
    });
    expect(code).toBe(0);
    const { secret } = JSON.parse(out) as { secret: string };
    const response = await server.request('GET', '/api/v1/me', { token: secret });
    expect(response.status).toBe(200);

    // and reads what the running server wrote: a key made through the server is listed by the CLI
    const made = await server.createKey({ name: 'From-Server' });
    out = '';
    const listed = await runCli(['keys', 'list', '--workspace', server.workspace.id, '--json'], { out: (text) => (out += text), err: () => undefined }, {
      QRFLOW_DATABASE_URL: database.url,
      QRFLOW_DATA_FILE: server.dataFile,
    });
    expect(listed).toBe(0);
    const names = (JSON.parse(out) as { keys: Array<{ id: string; name: string }> }).keys.map((key) => key.name);
    expect(names).toEqual(expect.arrayContaining(['From-CLI', 'From-Server']));
    expect(made.id).toBeTruthy();
  });

  it('with Redis, a key reading a code again and again reads its key, workspace and code from PostgreSQL once, and sees a change at once', async () => {
    const prefix = `qrflow-test-reads-${process.pid}-${Date.now()}:`;
    const server = await startTestServer({ env: { QRFLOW_DATABASE_URL: database.url, QRFLOW_REDIS_URL: REDIS_URL, QRFLOW_REDIS_PREFIX: prefix } });
    servers.push(server);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const get = vi.spyOn(PostgresStore.prototype, 'get');
    const findUnique = vi.spyOn(PostgresStore.prototype, 'findUnique');
    try {
      const { secret } = await server.createKey();
      const code = await createQr(server, secret, { name: 'Read often', destination_url: 'https://example.com/often' });
      get.mockClear();
      findUnique.mockClear();
      for (let n = 0; n < 20; n++) {
        const answer = await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret });
        expect(answer.status).toBe(200);
      }
      const reads = (collection: string) => [...get.mock.calls, ...findUnique.mock.calls].filter(([name]) => name === collection).length;
      // the first request reads each from the database (and, holding a key first seen, once more); the rest none
      expect(reads('keys')).toBeLessThanOrEqual(2);
      expect(reads('workspaces')).toBeLessThanOrEqual(2);
      expect(reads('qrcodes')).toBeLessThanOrEqual(2);
      expect(reads('keys') + reads('workspaces') + reads('qrcodes')).toBeGreaterThan(0);

      const renamed = await server.request('PATCH', `/api/v1/qr/${code.id}`, { token: secret, body: { name: 'Renamed' } });
      expect(renamed.status).toBe(200);
      expect((await json<{ data: { name: string } }>(await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret }))).data.name).toBe('Renamed');
    } finally {
      get.mockRestore();
      findUnique.mockRestore();
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
      await redis.quit();
    }
  });
});
