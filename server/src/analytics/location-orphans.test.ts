import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { loadGeoDatabases } from '../geo/lookup.js';
import type { Analytics } from './service.js';
import type { OrphanAnalytics } from './orphans.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

const clock = new ManualClock(Date.parse('2026-05-04T10:00:00Z'));
let srv: TestServer;
let token: string;
/** A range around the clock (analytics' default ends at now, exclusive: a scan made now is not in it). */
const RANGE = 'from=2026-05-01&to=2026-05-10';

beforeAll(async () => {
  // loaded before the server starts (the server reads it in the background and does not hold scans back for long)
  await loadGeoDatabases();
  // X-Forwarded-For from the test client is trusted, so scans can come "from" public addresses
  srv = await startTestServer({ clock, env: { QRFLOW_TRUST_PROXY: 'loopback' } });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
});

async function get<T>(path: string, key = token): Promise<T> {
  await srv.running.app.services.recorder.drain();
  const response = await srv.request('GET', path, { token: key });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { data: T }).data;
}

describe('location from the visitor address (GeoIP), in the batch', () => {
  it('gives scans without a country header the country, region and city of their address', async () => {
    const qr = await createQr(srv, token, { name: 'Geo', destination_url: 'https://example.com/geo' });
    for (const ip of ['81.2.69.142', '81.2.69.142', '8.8.8.8', '127.0.0.1']) {
      expect((await scan(srv, qr.short_code!, { 'x-forwarded-for': ip })).status).toBe(302);
    }
    const result = await get<Analytics>(`/api/v1/qr/${qr.id}/analytics?${RANGE}`);
    expect(result.countries).toEqual([
      { value: 'GB', scans: 2 },
      { value: 'US', scans: 1 },
      { value: 'unknown', scans: 1 },
    ]);
    expect(result.regions).toEqual([
      { value: 'England', scans: 2 },
      { value: 'California', scans: 1 },
      { value: 'unknown', scans: 1 },
    ]);
    expect(result.cities).toEqual([
      { value: 'London', scans: 2 },
      { value: 'Mountain View', scans: 1 },
      { value: 'unknown', scans: 1 },
    ]);
    expect(result.variants).toEqual([]);
  });

  it('lets the proxy country header win, and keeps no region or city the header contradicts', async () => {
    const qr = await createQr(srv, token, { name: 'Header', destination_url: 'https://example.com/header' });
    expect((await scan(srv, qr.short_code!, { 'x-forwarded-for': '81.2.69.142', 'cf-ipcountry': 'FR' })).status).toBe(302);
    expect((await scan(srv, qr.short_code!, { 'x-forwarded-for': '81.2.69.142', 'cf-ipcountry': 'GB' })).status).toBe(302);
    const result = await get<Analytics>(`/api/v1/qr/${qr.id}/analytics?${RANGE}`);
    expect(result.countries).toEqual([
      { value: 'FR', scans: 1 },
      { value: 'GB', scans: 1 },
    ]);
    expect(result.cities).toEqual([
      { value: 'London', scans: 1 },
      { value: 'unknown', scans: 1 },
    ]);
  });

  it("records the variant the redirect chose and breaks analytics down by it", async () => {
    const qr = await createQr(srv, token, { name: 'Split', destination_url: 'https://example.com/split' });
    const { recorder } = srv.running.app.services;
    const hit = { time: clock.now(), qrId: qr.id, workspaceId: srv.workspace.id, ip: '81.2.69.142', userAgent: USER_AGENTS.iphone, country: 'unknown', referer: '' };
    recorder.hit({ ...hit, variant: 1 });
    recorder.hit({ ...hit, variant: 1 });
    recorder.hit({ ...hit, variant: 0 });
    recorder.hit(hit);
    const result = await get<Analytics>(`/api/v1/qr/${qr.id}/analytics?${RANGE}`);
    expect(result.total_scans).toBe(4);
    expect(result.variants).toEqual([
      { value: '1', scans: 2 },
      { value: '0', scans: 1 },
    ]);
  });
});

describe('orphan scans', () => {
  it('counts scans of paused and deleted codes for their workspace by reason; unknown codes are the server\'s', async () => {
    const paused = await createQr(srv, token, { name: 'Paused', destination_url: 'https://example.com/p', status: 'paused' });
    const deleted = await createQr(srv, token, { name: 'Deleted', destination_url: 'https://example.com/d' });
    expect((await srv.request('DELETE', `/api/v1/qr/${deleted.id}`, { token })).status).toBe(200);
    const empty = await get<OrphanAnalytics>('/api/v1/analytics/orphans');
    expect(empty).toMatchObject({ total: 0, by_reason: [] });

    for (let n = 0; n < 3; n++) expect((await scan(srv, paused.short_code!)).status).toBe(404);
    expect((await scan(srv, paused.short_code!, { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' })).status).toBe(404);
    for (let n = 0; n < 2; n++) expect((await scan(srv, deleted.short_code!)).status).toBe(410);
    expect((await scan(srv, 'NeverMade42')).status).toBe(404);
    // HEAD requests are not scans
    expect((await scan(srv, paused.short_code!, {}, 'HEAD')).status).toBe(404);

    const result = await get<OrphanAnalytics>('/api/v1/analytics/orphans');
    expect(result).toEqual({
      from: '2026-04-04T00:00:00.000Z',
      to: '2026-05-05T00:00:00.000Z',
      include_bots: false,
      total: 5,
      by_reason: [
        { value: 'paused', scans: 3 },
        { value: 'deleted', scans: 2 },
      ],
    });
    const withBots = await get<OrphanAnalytics>('/api/v1/analytics/orphans?include_bots=true');
    expect(withBots.by_reason).toEqual([
      { value: 'paused', scans: 4 },
      { value: 'deleted', scans: 2 },
    ]);
    // the unknown code is counted for the server, not for any workspace
    const server = await srv.running.app.services.scans.orphans({ workspaceId: null, fromDay: 0, toDay: 100_000, includeBots: true });
    expect(server.get('unknown')).toBe(1);

    // per UTC day: a range of other days has none of them
    const before = await get<OrphanAnalytics>('/api/v1/analytics/orphans?from=2026-05-01&to=2026-05-04');
    expect(before.total).toBe(0);
    const day = await get<OrphanAnalytics>('/api/v1/analytics/orphans?from=2026-05-04T09:00:00Z&to=2026-05-04T11:00:00Z');
    expect(day).toMatchObject({ from: '2026-05-04T00:00:00.000Z', to: '2026-05-05T00:00:00.000Z', total: 5 });
  });

  it("keeps workspaces and test mode apart: another workspace's and the test partition's orphans are their own", async () => {
    const other = await srv.createWorkspace('Orphan Other');
    const otherToken = (await srv.createKey({ workspace: other.workspace })).secret;
    const session = await srv.login(other.email, other.password);
    const created = await srv.request('POST', '/api/v1/keys', { token: session, body: { name: 'Sandbox', password: other.password, mode: 'test' } });
    expect(created.status).toBe(201);
    const testToken = ((await created.json()) as { data: { secret: string } }).data.secret;
    const livePaused = await createQr(srv, otherToken, { name: 'Live paused', destination_url: 'https://example.com/lp', status: 'paused' });
    const testPaused = await createQr(srv, testToken, { name: 'Test paused', destination_url: 'https://example.com/tp', status: 'paused' });
    expect((await scan(srv, livePaused.short_code!)).status).toBe(404);
    expect((await scan(srv, testPaused.short_code!)).status).toBe(404);
    expect((await scan(srv, testPaused.short_code!)).status).toBe(404);
    expect((await get<OrphanAnalytics>('/api/v1/analytics/orphans', otherToken)).by_reason).toEqual([{ value: 'paused', scans: 1 }]);
    expect((await get<OrphanAnalytics>('/api/v1/analytics/orphans', testToken)).by_reason).toEqual([{ value: 'paused', scans: 2 }]);
    // the first workspace's counts did not move
    expect((await get<OrphanAnalytics>('/api/v1/analytics/orphans')).total).toBe(5);
  });

  it('keeps orphan counts across a restart', async () => {
    srv = await srv.restart();
    expect((await get<OrphanAnalytics>('/api/v1/analytics/orphans')).total).toBe(5);
  });

  it('checks its query like the analytics do', async () => {
    await expectError(await srv.request('GET', '/api/v1/analytics/orphans?from=yesterday', { token }), 400, 'validation_error');
    await expectError(await srv.request('GET', '/api/v1/analytics/orphans?from=2026-05-02&to=2026-05-01', { token }), 400, 'validation_error');
    await expectError(await srv.request('GET', '/api/v1/analytics/orphans?bogus=1', { token }), 400, 'validation_error');
    await expectError(await srv.request('GET', '/api/v1/analytics/orphans'), 401);
  });
});

describe('smart codes: GeoIP for country rules, orphans of expired and limit-reached codes', () => {
  it('routes a country rule by the GeoIP country of the address when no proxy header names one', async () => {
    const qr = await createQr(srv, token, {
      name: 'By country',
      destination_url: 'https://example.com/world',
      redirect_rules: [{ url: 'https://example.com/uk', conditions: [{ type: 'country', in: ['GB'] }] }],
    });
    const fromLondon = await scan(srv, qr.short_code!, { 'x-forwarded-for': '81.2.69.142' });
    expect(fromLondon.headers.get('location')).toBe('https://example.com/uk');
    const fromCalifornia = await scan(srv, qr.short_code!, { 'x-forwarded-for': '8.8.8.8' });
    expect(fromCalifornia.headers.get('location')).toBe('https://example.com/world');
  });

  it('counts scans of an expired code and of one past its scan limit as orphans of its workspace', async () => {
    const before = new Map((await get<OrphanAnalytics>('/api/v1/analytics/orphans')).by_reason.map((row) => [row.value, row.scans]));
    const expired = await createQr(srv, token, { name: 'Over', destination_url: 'https://example.com/over', valid_until: '2026-05-01T00:00:00Z' });
    const limited = await createQr(srv, token, { name: 'Once', destination_url: 'https://example.com/once', max_scans: 1 });
    expect((await scan(srv, expired.short_code!)).status).toBe(410);
    expect((await scan(srv, limited.short_code!)).status).toBe(302);
    await srv.running.app.services.recorder.drain();
    expect((await scan(srv, limited.short_code!)).status).toBe(410);
    expect((await scan(srv, limited.short_code!)).status).toBe(410);
    const after = new Map((await get<OrphanAnalytics>('/api/v1/analytics/orphans')).by_reason.map((row) => [row.value, row.scans]));
    expect((after.get('expired') ?? 0) - (before.get('expired') ?? 0)).toBe(1);
    expect((after.get('limit_reached') ?? 0) - (before.get('limit_reached') ?? 0)).toBe(2);
  });
});
