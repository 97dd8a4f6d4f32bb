import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createQr, json, scan, type ErrorBody } from '../../../../test/helpers/qr.js';
import { startTestServer, type TestServer } from '../../../../test/helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../../../../test/helpers/tcp-proxy.js';
import { loadConfig } from '../../config.js';
import { startServer } from '../../server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';
import pg from 'pg';
import { StoreUnavailableError } from '../unavailable.js';
import { POOL_TIMEOUTS } from './postgres-store.js';
import { PostgresScans } from './scans.js';

/**
 * PostgreSQL outages, simulated with a TCP proxy in front of the shared server (stopping it would stop everyone's
 * tests): the API answers 503 database_unavailable with Retry-After, never a 500 or a hang, and recovers by itself.
 */
await describePostgres('PostgreSQL outages', (serverUrl) => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
    const target = new URL(serverUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterEach(async () => {
    proxy.restore();
    for (const server of servers.splice(0)) await server.cleanup();
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  async function start(): Promise<TestServer> {
    const server = await startTestServer({ env: { QRFLOW_DATABASE_URL: proxy.via(database.url) } });
    servers.push(server);
    return server;
  }

  async function expectUnavailable(response: Response): Promise<void> {
    const text = await response.text();
    expect(response.status, text).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = JSON.parse(text) as ErrorBody;
    expect(body.error.code).toBe('database_unavailable');
    expect(body.request_id).toMatch(/^req_/);
    expect(text).not.toMatch(/ECONN|at .*\.js|postgres:\/\//);
  }

  it('answers 503 database_unavailable while the database is down, keeps /healthz, and recovers when it returns', async () => {
    const server = await start();
    const { secret } = await server.createKey();
    const code = await createQr(server, secret, { name: 'Outage', destination_url: 'https://example.com/outage' });

    proxy.cut();
    await expectUnavailable(await server.request('GET', '/api/v1/qr', { token: secret }));
    await expectUnavailable(await server.request('POST', '/api/v1/qr', { token: secret, body: { name: 'During', destination_url: 'https://example.com/during' } }));
    await expectUnavailable(await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret }));
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as ErrorBody).error.code).toBe('not_ready');
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    // the redirect serves the codes this process holds; one it must look up is a retryable 503 page, not a 500
    expect((await scan(server, code.short_code as string)).status).toBe(302);
    const unknown = await scan(server, 'Unknown123');
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toBe('5');
    expect(server.logs()).toContain('database unavailable: answered 503');
    expect(server.logs()).not.toContain('unhandled error');

    proxy.restore();
    const back = await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret });
    expect(back.status).toBe(200);
    expect((await scan(server, code.short_code as string)).status).toBe(302);
    const created = await server.request('POST', '/api/v1/qr', { token: secret, body: { name: 'After', destination_url: 'https://example.com/after' } });
    expect(created.status).toBe(201);
  });

  it('scan reads on a cut connection reject as database unavailable (a 503), not as a raw network error', async () => {
    await start(); // migrates the database
    const pool = new pg.Pool({ connectionString: proxy.via(database.url), max: 1, ...POOL_TIMEOUTS });
    pool.on('error', () => undefined);
    const scans = new PostgresScans(pool);
    try {
      expect(await scans.humanCount('qr_none')).toBe(0);
      proxy.cut();
      await expect(scans.humanCount('qr_none')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(scans.count()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      proxy.restore();
      await scans.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    }
  });

  it('keeps scans made while the database is down in memory and writes them when it returns', async () => {
    const server = await start();
    const { secret } = await server.createKey();
    const code = await createQr(server, secret, { name: 'Buffered', destination_url: 'https://example.com/buffered' });
    const { recorder } = server.running.app.services;
    expect((await scan(server, code.short_code as string)).status).toBe(302);
    await recorder.drain();

    proxy.cut();
    for (let n = 0; n < 5; n++) expect((await scan(server, code.short_code as string)).status).toBe(302);
    await recorder.drain();
    expect(recorder.bufferedScans).toBe(5);
    expect(server.logs()).toContain('scan storage unavailable: scans kept in memory, retrying');

    proxy.restore();
    // the recorder's own timer retries after its backoff (0.5 s, then 1 s...): no call needed
    const deadline = Date.now() + 10_000;
    while (recorder.bufferedScans > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(recorder.bufferedScans).toBe(0);
    expect(recorder.droppedScans).toBe(0);
    const day = 24 * 3600_000;
    const range = `from=${new Date(Date.now() - day).toISOString()}&to=${new Date(Date.now() + day).toISOString()}`;
    const analytics = await server.request('GET', `/api/v1/qr/${code.id}/analytics?${range}`, { token: secret });
    expect(analytics.status).toBe(200);
    expect(((await analytics.json()) as { data: { total_scans: number } }).data.total_scans).toBe(6);
    expect(server.logs()).toContain('scan storage available again');
  }, 30_000);

  it('a hung database (connections accepted, never answered) answers 503 within the pool timeout, not a hang', async () => {
    const server = await start();
    const { secret } = await server.createKey();
    proxy.stall();
    const started = Date.now();
    await expectUnavailable(await server.request('GET', '/api/v1/qr', { token: secret }));
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 30_000);

  it('a server started while the database is down says it waits, retries, and starts once it answers', async () => {
    proxy.cut();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-outage-'));
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', QRFLOW_DATA_FILE: path.join(dataDir, 'qrflow.json'), QRFLOW_DATABASE_URL: proxy.via(database.url), QRFLOW_LOG_LEVEL: 'info' });
    const starting = startServer(config, { logger: pino({ level: 'info' }, sink) });
    const waitFor = async (predicate: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      return predicate();
    };
    // the first retry comes after 0.5 s, the second after 1 s more
    expect(await waitFor(() => lines.filter((line) => line.includes('does not answer')).length >= 2, 5000)).toBe(true);
    const first = JSON.parse(lines.find((line) => line.includes('does not answer')) as string) as { level: number; attempt: number; retry_in_ms: number; database: string; msg: string };
    expect(first).toMatchObject({ level: 40, attempt: 1, retry_in_ms: 500 });
    expect(first.msg).toContain('waiting, retrying in 0.5 s');
    expect(lines.join('')).not.toContain('postgres://');
    proxy.restore();
    const running = await starting;
    try {
      const ready = await fetch(`${running.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('the CLI does not wait for a database that is down: it says so and exits 1', async () => {
    proxy.cut();
    const { runCli } = await import('../../cli/cli.js');
    let err = '';
    const started = Date.now();
    const code = await runCli(['keys', 'list', '--workspace', 'Acme'], { out: () => undefined, err: (text) => (err += text) }, { QRFLOW_DATABASE_URL: proxy.via(database.url), QRFLOW_DATA_FILE: '/nonexistent/qrflow.json' });
    expect(code).toBe(1);
    expect(err).toMatch(/database is unavailable/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
