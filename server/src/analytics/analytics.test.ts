import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { Analytics } from './service.js';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
let srv: TestServer;
let token: string;

beforeAll(async () => {
  // trust X-Forwarded-For from the test client, so tests can scan from several visitor IPs
  srv = await startTestServer({ clock, env: { QRFLOW_TRUST_PROXY: 'loopback' } });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
});

const newCode = () => createQr(srv, token, { name: 'Analysed', destination_url: 'https://example.com/' });

/** Scans `qr` with the clock set to `time`. */
async function scanAt(qr: QrView, time: string, headers: Record<string, string> = {}): Promise<void> {
  clock.set(time);
  expect((await scan(srv, qr.short_code!, headers)).status).toBe(302);
}

async function analytics(qr: QrView, query: string): Promise<Analytics> {
  await srv.running.app.services.recorder.drain();
  const response = await srv.request('GET', `/api/v1/qr/${qr.id}/analytics?${query}`, { token });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { data: Analytics }).data;
}

const series = (result: Analytics) => result.timeseries.map(({ period, scans }) => [period, scans]);

describe('analytics across days and time zones', () => {
  let qr: QrView;

  beforeAll(async () => {
    qr = await newCode();
    await scanAt(qr, '2026-03-09T02:00:00Z');
    await scanAt(qr, '2026-03-10T23:30:00Z');
    await scanAt(qr, '2026-03-12T12:00:00Z');
  });

  const range = 'from=2026-03-08T00:00:00Z&to=2026-03-14T00:00:00Z';

  it('buckets scans by UTC day by default, zero-filling days without scans', async () => {
    const result = await analytics(qr, range);
    expect(result).toMatchObject({ qr_id: qr.id, from: '2026-03-08T00:00:00.000Z', to: '2026-03-14T00:00:00.000Z', interval: 'day', tz: 'UTC', include_bots: false, total_scans: 3 });
    expect(series(result)).toEqual([
      ['2026-03-08', 0],
      ['2026-03-09', 1],
      ['2026-03-10', 1],
      ['2026-03-11', 0],
      ['2026-03-12', 1],
      ['2026-03-13', 0],
    ]);
  });

  it('puts a scan at 23:30 UTC on the next day in Asia/Tokyo', async () => {
    expect(series(await analytics(qr, `${range}&tz=Asia/Tokyo`))).toEqual([
      ['2026-03-08', 0],
      ['2026-03-09', 1],
      ['2026-03-10', 0],
      ['2026-03-11', 1],
      ['2026-03-12', 1],
      ['2026-03-13', 0],
      ['2026-03-14', 0],
    ]);
  });

  it('puts a scan at 02:00 UTC on the previous day in America/New_York, across the DST change', async () => {
    expect(series(await analytics(qr, `${range}&tz=America/New_York`))).toEqual([
      ['2026-03-07', 0],
      ['2026-03-08', 1],
      ['2026-03-09', 0],
      ['2026-03-10', 1],
      ['2026-03-11', 0],
      ['2026-03-12', 1],
      ['2026-03-13', 0],
    ]);
  });

  it('counts a scan at the from instant and leaves out one at the to instant', async () => {
    expect((await analytics(qr, 'from=2026-03-09T02:00:00Z&to=2026-03-12T12:00:00Z')).total_scans).toBe(2);
    expect((await analytics(qr, 'from=2026-03-09T02:00:00.001Z&to=2026-03-12T12:00:00.001Z')).total_scans).toBe(2);
  });

  it('defaults to the 30 days before now', async () => {
    clock.set('2026-04-10T00:00:00Z');
    const result = await analytics(qr, '');
    expect(result).toMatchObject({ from: '2026-03-11T00:00:00.000Z', to: '2026-04-10T00:00:00.000Z', total_scans: 1 });
    expect(result.timeseries).toHaveLength(30);
  });
});

describe('weekly and monthly intervals', () => {
  it('groups by weeks starting on Monday, in the time zone asked for', async () => {
    const qr = await newCode();
    await scanAt(qr, '2026-03-08T12:00:00Z'); // a Sunday
    await scanAt(qr, '2026-03-09T12:00:00Z'); // the next Monday
    await scanAt(qr, '2026-03-22T23:30:00Z'); // Sunday in UTC, Monday morning in Tokyo
    const range = 'from=2026-03-01T00:00:00Z&to=2026-03-29T00:00:00Z&interval=week';
    expect(series(await analytics(qr, range))).toEqual([
      ['2026-02-23', 0],
      ['2026-03-02', 1],
      ['2026-03-09', 1],
      ['2026-03-16', 1],
      ['2026-03-23', 0],
    ]);
    expect(series(await analytics(qr, `${range}&tz=Asia/Tokyo`))).toEqual([
      ['2026-02-23', 0],
      ['2026-03-02', 1],
      ['2026-03-09', 1],
      ['2026-03-16', 0],
      ['2026-03-23', 1],
    ]);
  });

  it('groups by calendar months, zero-filling empty months, in the time zone asked for', async () => {
    const qr = await newCode();
    await scanAt(qr, '2026-05-15T12:00:00Z');
    await scanAt(qr, '2026-05-31T23:30:00Z'); // June in Tokyo
    await scanAt(qr, '2026-07-03T12:00:00Z');
    const range = 'from=2026-05-01T00:00:00Z&to=2026-08-01T00:00:00Z&interval=month';
    const utc = await analytics(qr, range);
    expect(utc.interval).toBe('month');
    expect(series(utc)).toEqual([
      ['2026-05', 2],
      ['2026-06', 0],
      ['2026-07', 1],
    ]);
    expect(series(await analytics(qr, `${range}&tz=Asia/Tokyo`))).toEqual([
      ['2026-05', 1],
      ['2026-06', 1],
      ['2026-07', 1],
      ['2026-08', 0],
    ]);
    expect(series(await analytics(qr, `${range}&tz=America/New_York`))).toEqual([
      ['2026-04', 0],
      ['2026-05', 2],
      ['2026-06', 0],
      ['2026-07', 1],
    ]);
  });
});

describe('unique scans', () => {
  it('counts the same IP and user agent once a day, and again on another day (the salt changes daily)', async () => {
    const qr = await newCode();
    const visitor = { 'x-forwarded-for': '203.0.113.7', 'user-agent': USER_AGENTS.iphone };
    await scanAt(qr, '2026-09-01T08:00:00Z', visitor);
    await scanAt(qr, '2026-09-01T20:00:00Z', visitor);
    await scanAt(qr, '2026-09-01T21:00:00Z', { ...visitor, 'user-agent': USER_AGENTS.android }); // same IP, other device
    await scanAt(qr, '2026-09-01T22:00:00Z', { ...visitor, 'x-forwarded-for': '198.51.100.20' }); // same device, other IP
    await scanAt(qr, '2026-09-02T08:00:00Z', visitor);
    const result = await analytics(qr, 'from=2026-09-01T00:00:00Z&to=2026-09-03T00:00:00Z');
    expect(result.total_scans).toBe(5);
    expect(result.unique_scans).toBe(4);
    expect(result.timeseries).toEqual([
      { period: '2026-09-01', scans: 4, unique_scans: 3 },
      { period: '2026-09-02', scans: 1, unique_scans: 1 },
    ]);
  });

  it('leaves bots out of unique scans unless include_bots=true', async () => {
    const qr = await newCode();
    await scanAt(qr, '2026-09-05T08:00:00Z', { 'user-agent': USER_AGENTS.googlebot, 'x-forwarded-for': '66.249.66.1' });
    await scanAt(qr, '2026-09-05T09:00:00Z', { 'user-agent': USER_AGENTS.windowsChrome, 'x-forwarded-for': '203.0.113.9' });
    const range = 'from=2026-09-05T00:00:00Z&to=2026-09-06T00:00:00Z';
    expect(await analytics(qr, range)).toMatchObject({ total_scans: 1, unique_scans: 1 });
    expect(await analytics(qr, `${range}&include_bots=true`)).toMatchObject({ total_scans: 2, unique_scans: 2 });
  });
});

describe('invalid analytics queries', () => {
  let qr: QrView;
  beforeAll(async () => {
    qr = await newCode();
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=1700000000', 'from'],
    ['to=2026-13-45T00:00:00Z', 'to'],
    ['tz=Mars/Olympus_Mons', 'tz'],
    ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ['from=2024-01-01T00:00:00Z&to=2026-01-03T00:00:00Z', 'from'],
    ['interval=year', 'interval'],
    ['include_bots=yes', 'include_bots'],
    ['colour=red', 'colour'],
  ])('answers 400 for %s naming %s', async (query, field) => {
    const body = await expectError(await srv.request('GET', `/api/v1/qr/${qr.id}/analytics?${query}`, { token }), 400);
    expect(body.error.details?.some((detail) => detail.field.includes(field))).toBe(true);
  });

  it('accepts a range of exactly 732 days and plain dates', async () => {
    expect((await analytics(qr, 'from=2024-01-01&to=2026-01-02')).timeseries).toHaveLength(732);
  });
});

describe('scans and a restart', () => {
  it('keeps recorded scans, counts and visitors across a restart', async () => {
    const restartClock = new ManualClock(Date.parse('2026-10-01T09:00:00Z'));
    let server = await startTestServer({ clock: restartClock });
    try {
      const key = (await server.createKey()).secret;
      const qr = await createQr(server, key, { name: 'Survivor', destination_url: 'https://example.com/' });
      for (const userAgent of [USER_AGENTS.iphone, USER_AGENTS.android, USER_AGENTS.googlebot, USER_AGENTS.iphone]) {
        restartClock.advance(60_000);
        await scan(server, qr.short_code!, { 'user-agent': userAgent, 'cf-ipcountry': 'NL' });
      }
      // no drain: a clean shutdown must write what is still queued
      server = await server.restart();
      restartClock.advance(60_000);
      await scan(server, qr.short_code!, { 'user-agent': USER_AGENTS.iphone }); // a visitor already seen today
      await server.running.app.services.recorder.drain();
      restartClock.advance(60_000);
      const code = await json<{ data: QrView }>(await server.request('GET', `/api/v1/qr/${qr.id}`, { token: key }));
      expect(code.data.scan_count).toBe(4);
      const result = await json<{ data: Analytics }>(await server.request('GET', `/api/v1/qr/${qr.id}/analytics?include_bots=true`, { token: key }));
      expect(result.data).toMatchObject({ total_scans: 5, unique_scans: 3 });
      expect(result.data.countries).toEqual([
        { value: 'NL', scans: 4 },
        { value: 'unknown', scans: 1 },
      ]);
      const humans = await json<{ data: Analytics }>(await server.request('GET', `/api/v1/qr/${qr.id}/analytics`, { token: key }));
      expect(humans.data).toMatchObject({ total_scans: 4, unique_scans: 2 });
    } finally {
      await server.cleanup();
    }
  });
});
