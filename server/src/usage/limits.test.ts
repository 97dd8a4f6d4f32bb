import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { WorkspaceRecord } from '../store/records.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

// tiny limits so every edge is a few requests away
const PLANS = {
  three_a_minute: { name: 'Three a minute', api_access: true, requests_per_minute: 3, monthly_api_calls: 1000, monthly_image_credits: 100, max_qr_codes: 10, max_api_keys: 10 },
  five_a_month: { name: 'Five a month', api_access: true, requests_per_minute: 1000, monthly_api_calls: 5, monthly_image_credits: 2, max_qr_codes: 10, max_api_keys: 10 },
};

interface ErrorBody {
  error: { code: string; message: string };
}

interface Usage {
  period: { start: string; end: string };
  api_calls: { used: number; limit: number };
  image_credits: { used: number; limit: number };
  rate_limit: { per_minute: number };
}

/** `"name"; r=…; t=…` items of a RateLimit header, by policy name. */
function policies(header: string | null): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {};
  for (const item of (header ?? '').split(/,\s*/).filter(Boolean)) {
    const [name, ...parameters] = item.split(/;\s*/);
    result[JSON.parse(name as string) as string] = Object.fromEntries(parameters.map((parameter) => parameter.split('=') as [string, string]));
  }
  return result;
}

const clock = new ManualClock(Date.parse('2026-01-31T23:00:00Z'));
let plansDir: string;
let srv: TestServer;

beforeAll(async () => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-plans-'));
  const plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(plansFile, JSON.stringify(PLANS));
  srv = await startTestServer({ clock, env: { QRFLOW_PLANS_FILE: plansFile } });
});

afterAll(async () => {
  await srv.cleanup();
  fs.rmSync(plansDir, { recursive: true, force: true });
});

async function workspaceOn(plan: keyof typeof PLANS, name: string): Promise<{ workspace: WorkspaceRecord; session: string; key: () => Promise<string> }> {
  const created = await srv.createWorkspace(name, plan);
  const session = await srv.login(created.email, created.password);
  return { workspace: created.workspace, session, key: async () => (await srv.createKey({ workspace: created.workspace, name: `Key ${Math.random().toString(36).slice(2, 8)}` })).secret };
}

describe('per-minute rate limit', () => {
  it('the fourth request of a minute answers 429 rate_limited with Retry-After; every response carries the minute and the month', async () => {
    const { key } = await workspaceOn('three_a_minute', 'Minute');
    const secret = await key();
    const seen: Array<Record<string, Record<string, string>>> = [];
    for (let i = 0; i < 3; i++) {
      const response = await srv.request('GET', '/api/v1/usage', { token: secret });
      expect(response.status).toBe(200);
      const policy = policies(response.headers.get('ratelimit-policy'));
      expect(policy.minute).toMatchObject({ q: '3', w: '60' });
      expect(policy.month).toEqual({ q: '1000', w: String(31 * 24 * 3600) });
      seen.push(policies(response.headers.get('ratelimit')));
    }
    expect(seen.map((state) => state.minute!.r)).toEqual(['2', '1', '0']);
    expect(seen.map((state) => state.month!.r)).toEqual(['999', '998', '997']);
    // the month resets at 2026-02-01T00:00:00Z, an hour after the clock
    expect(seen.map((state) => state.month!.t)).toEqual(['3600', '3600', '3600']);

    const limited = await srv.request('GET', '/api/v1/usage', { token: secret });
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as ErrorBody;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/allows 3 per minute for the whole workspace/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(policies(limited.headers.get('ratelimit')).minute).toMatchObject({ r: '0' });
  });

  it("all keys of a workspace share its limit, and another workspace's is untouched", async () => {
    const shared = await workspaceOn('three_a_minute', 'Shared');
    const [first, second] = [await shared.key(), await shared.key()];
    expect((await srv.request('GET', '/api/v1/usage', { token: first })).status).toBe(200);
    expect((await srv.request('GET', '/api/v1/usage', { token: second })).status).toBe(200);
    expect((await srv.request('GET', '/api/v1/usage', { token: first })).status).toBe(200);
    expect((await srv.request('GET', '/api/v1/usage', { token: second })).status).toBe(429);
    expect((await srv.request('GET', '/api/v1/usage', { token: first })).status).toBe(429);
    // a third key created now is limited too: the limit belongs to the workspace
    expect((await srv.request('GET', '/api/v1/usage', { token: await shared.key() })).status).toBe(429);

    const other = await workspaceOn('three_a_minute', 'Other');
    const response = await srv.request('GET', '/api/v1/usage', { token: await other.key() });
    expect(response.status).toBe(200);
    expect(policies(response.headers.get('ratelimit')).minute).toMatchObject({ r: '2' });
  });
});

describe('monthly allowances (calendar months in UTC)', () => {
  it('answers 429 monthly_quota_exceeded past the API calls, with Retry-After to the next month and how to raise it; the 1st resets it', async () => {
    clock.set('2026-01-31T23:00:00Z');
    const { workspace, session, key } = await workspaceOn('five_a_month', 'Monthly');
    const secret = await key();
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await srv.request('GET', '/api/v1/qr', { token: secret });
      expect(response.status).toBe(200);
      remaining.push(policies(response.headers.get('ratelimit')).month!.r as string);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    clock.set('2026-01-31T23:59:00Z');
    const over = await srv.request('GET', '/api/v1/qr', { token: secret });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(policies(over.headers.get('ratelimit')).month).toEqual({ r: '0', t: '60' });
    const body = (await over.json()) as ErrorBody;
    expect(body.error.code).toBe('monthly_quota_exceeded');
    expect(body.error.message).toMatch(/all 5 API calls of its Five a month plan/);
    expect(body.error.message).toMatch(/resets at 2026-02-01T00:00:00\.000Z/);
    expect(body.error.message).toMatch(/upgrade the plan to raise it/);
    // a refused request is not counted; a session (the dashboard) still reads usage, and does not count either
    const january = (await (await srv.request('GET', '/api/v1/usage', { token: session })).json()) as { data: Usage };
    expect(january.data).toMatchObject({ period: { start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' }, api_calls: { used: 5, limit: 5 } });

    clock.set('2026-02-01T00:00:00Z');
    const reset = await srv.request('GET', '/api/v1/qr', { token: secret });
    expect(reset.status).toBe(200);
    expect(policies(reset.headers.get('ratelimit')).month).toEqual({ r: '4', t: String(28 * 24 * 3600) });
    const february = (await (await srv.request('GET', '/api/v1/usage', { token: session })).json()) as { data: Usage };
    expect(february.data).toMatchObject({ period: { start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' }, api_calls: { used: 1, limit: 5 } });
    // January stays on record
    await srv.running.app.services.meter.flush();
    expect(await srv.running.store.get('usage', `${workspace.id}:2026-01`)).toMatchObject({ api_calls: 5, month: '2026-01' });
  });

  it('answers 429 image_credits_exhausted past the image credits until the month turns, in UTC (not local time)', async () => {
    clock.set('2026-03-31T22:30:00Z');
    const { session, key } = await workspaceOn('five_a_month', 'Images');
    const secret = await key();
    const generate = (data: string) => srv.request('GET', `/api/v1/generate?data=${encodeURIComponent(data)}&size=128`, { token: secret });
    expect((await generate('image one')).status).toBe(200);
    expect((await generate('image two')).status).toBe(200);
    const over = await generate('image three');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe(String(90 * 60));
    const body = (await over.json()) as ErrorBody;
    expect(body.error.code).toBe('image_credits_exhausted');
    expect(body.error.message).toMatch(/all 2 image credits of its Five a month plan this month/);
    expect(body.error.message).toMatch(/reset at 2026-04-01T00:00:00\.000Z; upgrade the plan for more/);

    // past midnight in Europe (UTC+2 in summer time), still March in UTC: still exhausted
    clock.set('2026-03-31T23:30:00Z');
    expect((await generate('image four')).status).toBe(429);
    clock.set('2026-04-01T00:00:01Z');
    expect((await generate('image three')).status).toBe(200);
    const april = (await (await srv.request('GET', '/api/v1/usage', { token: session })).json()) as { data: Usage };
    expect(april.data.image_credits).toEqual({ used: 1, limit: 2 });
    expect(april.data.api_calls.used).toBe(1);
  });
});
