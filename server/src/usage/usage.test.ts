import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

interface Usage {
  api_calls: { used: number; limit: number };
  image_credits: { used: number; limit: number };
  rate_limit: { per_minute: number };
  keys: Array<{ id: string; name: string; prefix: string; api_calls: number }>;
}

const PLANS = { metered: { name: 'Metered', api_access: true, requests_per_minute: 1000, monthly_api_calls: 5000, monthly_image_credits: 50, max_qr_codes: 10, max_api_keys: 10 } };

let plansDir: string;
let env: Record<string, string>;

beforeAll(() => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-plans-'));
  const plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(plansFile, JSON.stringify(PLANS));
  env = { QRFLOW_PLANS_FILE: plansFile };
});

afterAll(() => fs.rmSync(plansDir, { recursive: true, force: true }));

async function usageOf(srv: TestServer, token: string): Promise<Usage> {
  const response = await srv.request('GET', '/api/v1/usage', { token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Usage }).data;
}

async function calls(srv: TestServer, token: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await srv.request('GET', '/api/v1/qr', { token });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
}

/**
 * What a kill -9 right now would leave: the data files as they are on disk, copied while the server keeps running
 * (no close, no final flush), without its lock file and admin socket.
 */
function copyDataFiles(srv: TestServer): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-killed-'));
  for (const name of fs.readdirSync(srv.dataDir)) {
    if (!name.endsWith('.lock') && !name.endsWith('.sock')) fs.copyFileSync(path.join(srv.dataDir, name), path.join(target, name));
  }
  return target;
}

function walLines(srv: TestServer): string[] {
  const file = `${srv.dataFile}.wal`;
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('GET /api/v1/usage', () => {
  let srv: TestServer;
  let session: string;

  beforeAll(async () => {
    srv = await startTestServer({ plan: 'metered', env });
    session = await srv.login();
  });

  afterAll(async () => {
    await srv.cleanup();
  });

  it('splits the API calls by key, busiest first, with each key name and prefix; sessions do not count', async () => {
    const production = await srv.createKey({ name: 'Production-WebApp' });
    const zapier = await srv.createKey({ name: 'Zapier-Integration' });
    const unused = await srv.createKey({ name: 'Dev-Testing' });
    await calls(srv, zapier.secret, 1);
    await calls(srv, production.secret, 3);
    await calls(srv, session, 4);
    const usage = await usageOf(srv, session);
    expect(usage.api_calls).toEqual({ used: 4, limit: 5000 });
    expect(usage.image_credits).toEqual({ used: 0, limit: 50 });
    expect(usage.rate_limit).toEqual({ per_minute: 1000 });
    expect(usage.keys.map((key) => [key.name, key.api_calls])).toEqual([
      ['Production-WebApp', 3],
      ['Zapier-Integration', 1],
      ['Dev-Testing', 0],
    ]);
    expect(usage.keys[0]).toMatchObject({ id: production.id, prefix: production.secret.slice(0, usage.keys[0]!.prefix.length) });
    expect(usage.keys.map((key) => key.id)).toContain(unused.id);
    // read with a key, the read itself is one of the calls
    expect((await usageOf(srv, production.secret)).api_calls.used).toBe(5);
  });

  it('writes counters in batches: 200 counted requests add a handful of log lines, not 200', async () => {
    const { secret } = await srv.createKey({ name: 'Batch' });
    await srv.running.app.services.meter.flush();
    const before = walLines(srv).length;
    const started = Date.now();
    await calls(srv, secret, 200);
    await srv.running.app.services.meter.flush();
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const added = walLines(srv).slice(before);
    const usageWrites = added.filter((line) => line.includes('"collection":"usage"'));
    // at most one usage write per second of the run, plus the explicit flush
    expect(usageWrites.length).toBeGreaterThanOrEqual(1);
    expect(usageWrites.length).toBeLessThanOrEqual(seconds + 1);
    // and everything else the requests wrote (key activity, last used) is batched too
    expect(added.length).toBeLessThanOrEqual(3 * (seconds + 1));
    expect(added.length).toBeLessThan(20);
  });
});

describe('usage counters on disk', () => {
  it('survive a restart: what was counted before is what the restarted server reports', async () => {
    let srv = await startTestServer({ plan: 'metered', env });
    try {
      const { secret } = await srv.createKey({ name: 'Restarted' });
      await calls(srv, secret, 7);
      await srv.request('GET', '/api/v1/generate?data=before-restart', { token: secret });
      // the 1 s flush: written and fsynced when this resolves
      await srv.running.app.services.meter.flush();
      const before = await usageOf(srv, await srv.login());
      expect(before.api_calls.used).toBe(8);
      expect(before.image_credits.used).toBe(1);

      srv = await srv.restart();
      // (the restarted helper's login() defaults to a made-up owner email: name the real one)
      const after = await usageOf(srv, await srv.login(srv.ownerEmail, srv.ownerPassword));
      expect(after).toEqual(before);
    } finally {
      await srv.cleanup();
    }
  });

  it('a kill -9 loses at most the last second of counts, and never counts more than were made', async () => {
    const srv = await startTestServer({ plan: 'metered', env });
    const copies: TestServer[] = [];
    try {
      const { secret } = await srv.createKey({ name: 'Killed' });
      const session = await srv.login();
      const atKill = async () => {
        const copy = await startTestServer({ plan: 'metered', env, dataDir: copyDataFiles(srv) });
        copies.push(copy);
        return (await usageOf(copy, await copy.login(srv.ownerEmail, srv.ownerPassword))).api_calls.used;
      };

      // 1. right after the meter's flush has resolved, nothing is lost
      await calls(srv, secret, 6);
      await srv.running.app.services.meter.flush();
      expect(await atKill()).toBe(6);

      // 2. without any explicit flush: counts older than the 1 s timer (plus fsync slack) are on disk
      await calls(srv, secret, 4);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await atKill()).toBe(10);

      // 3. a kill in the middle of a burst: somewhere between the last flushed count and what was made
      await calls(srv, secret, 5);
      const lost = 15 - (await atKill());
      expect(lost).toBeGreaterThanOrEqual(0);
      expect(lost).toBeLessThanOrEqual(5);

      // the live server still has every count
      expect((await usageOf(srv, session)).api_calls.used).toBe(15);
    } finally {
      for (const copy of copies) await copy.cleanup();
      await srv.cleanup();
    }
  });
});
