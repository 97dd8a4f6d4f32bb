import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from '../server/src/store/postgres/test-database.js';
import { spawnServer, type ChildServer } from './helpers/child-server.js';
import { createQr, json, scan } from './helpers/qr.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { runCli } from '../server/src/cli/cli.js';

/**
 * Several real server processes on one PostgreSQL database and one Redis prefix (issue 14): what one process
 * changes, the others obey; limits and allowances are exact across them.
 */
const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function redisAnswers(): Promise<string | undefined> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(error as Error).message}); set QRFLOW_TEST_REDIS_URL`;
  } finally {
    client.destroy();
  }
}

const redisProblem = await redisAnswers();

const PLANS = {
  quota: { name: 'Quota', api_access: true, requests_per_minute: 100_000, monthly_api_calls: 100, monthly_image_credits: 10, max_qr_codes: 1000, max_api_keys: 50 },
  minute: { name: 'Minute', api_access: true, requests_per_minute: 40, monthly_api_calls: 1_000_000, monthly_image_credits: 10, max_qr_codes: 1000, max_api_keys: 50 },
  capped: { name: 'Capped', api_access: true, requests_per_minute: 100_000, monthly_api_calls: 100_000, monthly_image_credits: 10, max_qr_codes: 10, max_api_keys: 50 },
};

await describePostgres('several qrflow processes on one database and one Redis', (serverUrl) => {
  if (redisProblem) {
    if (process.env.CI === 'true') it('runs in CI, which must reach Redis', () => expect.fail(redisProblem));
    else {
      console.log(`multi-process suite skipped: ${redisProblem}`);
      it.skip('needs Redis', () => undefined);
    }
    return;
  }

  let database: TestDatabase;
  let dir: string;
  let seed: TestServer;
  let env: Record<string, string>;
  const prefix = `qrflow-test-${randomBytes(6).toString('hex')}:`;
  const procs: ChildServer[] = [];
  let secret: string;

  const request = (proc: ChildServer, method: string, urlPath: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${proc.url}${urlPath}`, {
      method,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  const asServer = (proc: ChildServer) => ({ baseUrl: proc.url, request: (method: string, urlPath: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }) => request(proc, method, urlPath, options) }) as unknown as TestServer;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-multi-'));
    const plansFile = path.join(dir, 'plans.json');
    fs.writeFileSync(plansFile, JSON.stringify(PLANS));
    env = { QRFLOW_DATABASE_URL: database.url, QRFLOW_REDIS_URL: REDIS_URL, QRFLOW_REDIS_PREFIX: prefix, QRFLOW_PLANS_FILE: plansFile };
    // the test's own process creates the workspaces and keys (it is one more process on the database)
    fs.mkdirSync(path.join(dir, 'seed'));
    seed = await startTestServer({ env, dataDir: path.join(dir, 'seed') });
    secret = (await seed.createKey()).secret;
    // each process keeps its scans beside a data file of its own (scans move to PostgreSQL separately)
    for (let i = 0; i < 3; i++) fs.mkdirSync(path.join(dir, `p${i}`));
    for (let i = 0; i < 3; i++) procs.push(await spawnServer({ dataFile: path.join(dir, `p${i}`, 'qrflow.json'), env, startTimeoutMs: 60_000 }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((proc) => proc.stop()));
    await seed?.cleanup();
    await database?.drop();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
    client.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a destination changed through any process is obeyed by every process within 1 s (p99 measured)', async () => {
    const code = await createQr(asServer(procs[0]!), secret, { name: 'Shared', destination_url: 'https://example.com/0' });
    const shortCode = code.short_code as string;
    const delays: number[] = [];
    for (let i = 1; i <= 30; i++) {
      const writer = procs[i % 3]!;
      const url = `https://example.com/${i}`;
      const changed = await request(writer, 'PATCH', `/api/v1/qr/${code.id}`, { token: secret, body: { destination_url: url } });
      expect(changed.status).toBe(200);
      const started = performance.now();
      await Promise.all(
        procs.map(async (proc) => {
          for (;;) {
            const response = await scan(asServer(proc), shortCode);
            if (response.headers.get('location') === url) return;
            if (performance.now() - started > 1000) throw new Error(`process ${proc.pid} still redirects to ${response.headers.get('location')} after 1 s`);
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        }),
      );
      delays.push(performance.now() - started);
    }
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.ceil(delays.length * 0.99) - 1] as number;
    console.log(`destination change seen by all 3 processes: p50 ${delays[delays.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${delays.length} changes`);
    expect(p99).toBeLessThan(1000);
    // a delete is obeyed everywhere too: 410, never the old destination
    expect((await request(procs[1]!, 'DELETE', `/api/v1/qr/${code.id}`, { token: secret })).status).toBe(200);
    const deleted = performance.now();
    await Promise.all(
      procs.map(async (proc) => {
        for (;;) {
          const response = await scan(asServer(proc), shortCode);
          if (response.status === 410) return;
          expect(response.status).toBe(302);
          if (performance.now() - deleted > 1000) throw new Error(`process ${proc.pid} still redirects a deleted code after 1 s`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }),
    );
  }, 60_000);

  it('a per-minute limit of 40 gives exactly 40 successes of 120 concurrent calls over 3 processes, and the refused calls cost no allowance', async () => {
    const { workspace } = await seed.createWorkspace('Minute', 'minute');
    const { secret: minuteKey, id: keyId } = await seed.createKey({ workspace });
    const answers = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const response = await request(procs[i % 3]!, 'GET', '/api/v1/me', { token: minuteKey });
        const body = await json<{ error?: { code: string } }>(response);
        return { status: response.status, code: body.error?.code, retryAfter: response.headers.get('retry-after'), state: response.headers.get('ratelimit') };
      }),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(40);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(80);
    for (const a of refused) {
      expect(a.code).toBe('rate_limited');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(a.state).toMatch(/^"minute"; r=0; t=\d+/);
    }
    for (const a of answers.filter((x) => x.status === 200)) expect(a.state).toMatch(/^"minute"; r=\d+; t=\d+(, "month"; r=\d+; t=\d+)?$/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const usage = await seed.running.store.get('usage', `${workspace.id}:${new Date().toISOString().slice(0, 7)}`);
    expect(usage?.api_calls).toBe(40);
    expect(usage?.by_key[keyId]).toBe(40);
  }, 60_000);

  it('a monthly allowance of 100 gives exactly 100 successes of 300 concurrent calls over 3 processes; image credits too', async () => {
    const { workspace } = await seed.createWorkspace('Quota', 'quota');
    const { secret: quotaKey } = await seed.createKey({ workspace });
    const statuses = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const response = await request(procs[i % 3]!, 'GET', '/api/v1/me', { token: quotaKey });
        if (response.status === 429) expect((await json<{ error: { code: string } }>(response)).error.code).toBe('monthly_quota_exceeded');
        else await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(100);
    expect(statuses.filter((status) => status === 429)).toHaveLength(200);
    // the stored usage adds up every process's counts once they are written (about a second)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const usage = await seed.running.store.get('usage', `${workspace.id}:${new Date().toISOString().slice(0, 7)}`);
    expect(usage?.api_calls).toBe(100);

    const { workspace: images } = await seed.createWorkspace('Images', 'quota');
    const { secret: imageKey } = await seed.createKey({ workspace: images });
    const imageStatuses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await request(procs[i % 3]!, 'GET', `/api/v1/generate?data=${encodeURIComponent(`https://example.com/image/${i}`)}&format=svg`, { token: imageKey });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(imageStatuses.filter((status) => status === 200)).toHaveLength(10);
    expect(imageStatuses.filter((status) => status === 429)).toHaveLength(20);
  }, 60_000);

  it('a plan capped at 10 codes gets exactly 10 of 60 concurrent creates over 3 processes, and exactly as many bulk items as deletes freed', async () => {
    const { workspace } = await seed.createWorkspace('Capped', 'capped');
    const { secret: cappedKey } = await seed.createKey({ workspace });
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const response = await request(procs[i % 3]!, 'POST', '/api/v1/qr', { token: cappedKey, body: { name: `Capped ${i}`, destination_url: 'https://example.com/capped' } });
        const body = await json<{ error?: { code: string } }>(response);
        if (response.status === 403) expect(body.error?.code).toBe('qr_limit_reached');
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 403)).toHaveLength(50);
    const codes = async () => Number((await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM qrcodes WHERE workspace_id = $1`, [workspace.id])).rows[0]?.count);
    const counted = async () => Number((await database.pool.query<{ codes: string }>(`SELECT codes FROM qr_counts WHERE workspace_id = $1`, [workspace.id])).rows[0]?.codes);
    expect(await codes()).toBe(10);
    expect(await counted()).toBe(10);

    // three deletes make room for three: of six bulk calls of two items each, racing on three processes, three items land
    const list = await json<{ data: Array<{ id: string }> }>(await request(procs[0]!, 'GET', '/api/v1/qr?limit=3', { token: cappedKey }));
    for (const [i, code] of list.data.entries()) expect((await request(procs[i % 3]!, 'DELETE', `/api/v1/qr/${code.id}`, { token: cappedKey })).status).toBe(200);
    const bulk = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const response = await request(procs[i % 3]!, 'POST', '/api/v1/qr/bulk', { token: cappedKey, body: { items: [{ name: `Bulk capped ${i}a`, destination_url: 'https://example.com/a' }, { name: `Bulk capped ${i}b`, destination_url: 'https://example.com/b' }] } });
        expect(response.status).toBe(200);
        return (await json<{ data: Array<{ status: number; error?: { code: string } }> }>(response)).data;
      }),
    );
    const items = bulk.flat();
    expect(items.filter((item) => item.status === 201)).toHaveLength(3);
    expect(items.filter((item) => item.status === 403 && item.error?.code === 'qr_limit_reached')).toHaveLength(9);
    expect(await codes()).toBe(10);
    expect(await counted()).toBe(10);
  }, 60_000);

  it('a create retried on other processes with the same Idempotency-Key makes one code and answers it every time', async () => {
    const body = { name: 'Once', destination_url: 'https://example.com/once' };
    const responses = await Promise.all(
      Array.from({ length: 9 }, (_, i) => request(procs[i % 3]!, 'POST', '/api/v1/qr', { token: secret, body, headers: { 'idempotency-key': 'multi-process-1' } })),
    );
    const bodies = await Promise.all(responses.map((response) => json<{ data: { id: string } }>(response)));
    expect(responses.map((response) => response.status).every((status) => status === 201 || status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => b.data.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    const { rows } = await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM qrcodes WHERE data->>'name' = 'Once'`);
    expect(Number(rows[0]?.count)).toBe(1);
  }, 30_000);

  it('a bulk create retried on other processes with the same Idempotency-Key makes its codes once', async () => {
    const body = { items: [{ name: 'Bulk once A', destination_url: 'https://example.com/a' }, { name: 'Bulk once B', destination_url: 'https://example.com/b' }, { name: '' }] };
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => request(procs[i % 3]!, 'POST', '/api/v1/qr/bulk', { token: secret, body, headers: { 'idempotency-key': 'multi-process-bulk-1' } })),
    );
    const bodies = await Promise.all(responses.map((response) => json<{ data: Array<{ status: number; data?: { id: string } }> }>(response)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // every answer names the same two codes, and the bad item fails in each
    expect(new Set(bodies.map((b) => b.data.map((item) => item.data?.id ?? item.status).join(',')))).toHaveLength(1);
    expect(bodies[0]!.data.map((item) => item.status)).toEqual([201, 201, 400]);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    const { rows } = await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM qrcodes WHERE data->>'name' LIKE 'Bulk once %'`);
    expect(Number(rows[0]?.count)).toBe(2);
  }, 30_000);

  it('a key paused on one process is refused by the others at once, and their last-used writes do not undo the pause', async () => {
    const { id, secret: key } = await seed.createKey({ name: 'Pausable' });
    const session = await seed.login();
    // keep the key busy on the other processes while it is paused
    let busy = true;
    let answered = 0;
    const traffic = Promise.all(
      procs.slice(1).map(async (proc) => {
        while (busy) {
          const response = await request(proc, 'GET', '/api/v1/me', { token: key });
          if (response.status === 200) answered++;
          await response.arrayBuffer();
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const paused = await request(procs[0]!, 'POST', `/api/v1/keys/${id}/pause`, { token: session });
    expect(paused.status).toBe(200);
    for (const proc of procs) {
      const response = await request(proc, 'GET', '/api/v1/me', { token: key });
      expect(response.status).toBe(401);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBe('api_key_paused');
    }
    busy = false;
    await traffic;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await seed.running.store.get('keys', id))?.status).toBe('paused');
    // a refused call costs nothing: the processes that held the key give back the call they took before refusing it
    const usage = await seed.running.store.get('usage', `${seed.workspace.id}:${new Date().toISOString().slice(0, 7)}`);
    expect(usage?.by_key[id]).toBe(answered);
  }, 30_000);

  it('a plan status set by the CLI beside the running processes is obeyed by their very next request', async () => {
    const { workspace } = await seed.createWorkspace('Cli-Plan', 'quota');
    const { secret: key } = await seed.createKey({ workspace });
    // every process holds the key and workspace in memory by now
    for (const proc of procs) for (let i = 0; i < 3; i++) expect((await request(proc, 'GET', '/api/v1/me', { token: key })).status).toBe(200);
    const exit = await runCli(['plan', 'set', '--workspace', workspace.id, '--plan', 'quota', '--status', 'expired'], { out: () => undefined, err: () => undefined }, { ...env, QRFLOW_DATA_FILE: path.join(dir, 'cli', 'qrflow.json') });
    expect(exit).toBe(0);
    for (const proc of procs) {
      const response = await request(proc, 'GET', '/api/v1/me', { token: key });
      expect(response.status).toBe(403);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBe('subscription_inactive');
    }
  }, 30_000);

  it('renewal (5 in 24 h) and login limits hold across processes', async () => {
    const { id } = await seed.createKey({ name: 'Renewable' });
    const session = await seed.login();
    const renewals = await Promise.all(Array.from({ length: 9 }, (_, i) => request(procs[i % 3]!, 'POST', `/api/v1/keys/${id}/renew`, { token: session, body: {} })));
    const statuses = renewals.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(4);
    // the secret that works is the one of the last renewal the store kept
    const stored = await seed.running.store.get('keys', id);
    expect(stored?.renewals).toHaveLength(5);

    // five failed logins for one email, spread over the processes, and the sixth is refused wherever it goes
    const email = seed.ownerEmail;
    for (let i = 0; i < 5; i++) {
      const response = await request(procs[i % 3]!, 'POST', '/api/v1/auth/login', { body: { email, password: `wrong-${i}` } });
      expect(response.status).toBe(401);
    }
    for (const proc of procs) {
      const response = await request(proc, 'POST', '/api/v1/auth/login', { body: { email, password: seed.ownerPassword } });
      expect(response.status).toBe(429);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBe('login_rate_limited');
    }
  }, 30_000);

  it('a logout on one process ends the session on the others at once', async () => {
    // another owner: the login limit of the test above holds for the first owner's email
    const { email, password } = await seed.createWorkspace('Sessions');
    const login = await request(procs[0]!, 'POST', '/api/v1/auth/login', { body: { email, password } });
    const token = (await json<{ data: { token: string } }>(login)).data.token;
    expect((await request(procs[1]!, 'GET', '/api/v1/keys', { token })).status).toBe(200);
    expect((await request(procs[2]!, 'POST', '/api/v1/auth/logout', { token })).status).toBe(200);
    for (const proc of procs) expect((await request(proc, 'GET', '/api/v1/keys', { token })).status).toBe(401);
  }, 30_000);
});

describe('QRFLOW_WORKERS', () => {
  it('is refused with the embedded store, saying why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/index.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', QRFLOW_WORKERS: '2', QRFLOW_DATA_FILE: path.join(os.tmpdir(), `qrflow-workers-${process.pid}.json`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/QRFLOW_WORKERS=2 needs QRFLOW_DATABASE_URL/);
  }, 30_000);
});

await describePostgres('QRFLOW_WORKERS on PostgreSQL', (serverUrl) => {
  let database: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-workers-'));
  });
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs N processes on one port and stops them all gracefully on SIGTERM', async () => {
    const primary = await spawnServer({ dataFile: path.join(dir, 'qrflow.json'), env: { QRFLOW_DATABASE_URL: database.url, QRFLOW_WORKERS: '2' }, startTimeoutMs: 60_000 });
    // both workers say they listen, on the same address
    const deadline = Date.now() + 60_000;
    while ((primary.output().match(/qrflow is listening/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the second worker did not start:\n${primary.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lines = primary.output().split('\n').filter((line) => line.includes('qrflow is listening')).map((line) => JSON.parse(line) as { url: string; pid: number; worker: number });
    expect(new Set(lines.map((line) => line.url)).size).toBe(1);
    expect(new Set(lines.map((line) => line.pid)).size).toBe(2);
    // a worker replaced after a failed start would be 3: the output says why
    expect(lines.map((line) => line.worker).sort(), primary.output()).toEqual([1, 2]);
    expect(lines.every((line) => line.pid !== primary.pid)).toBe(true);
    expect((await fetch(`${primary.url}/healthz`)).status).toBe(200);
    await primary.stop();
    expect(await primary.exited).toEqual({ code: 0, signal: null });
    const pids = lines.map((line) => line.pid);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(primary.output()).toMatch(/shutting down the worker processes/);
  }, 90_000);
});
