import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { Analytics } from '../analytics/service.js';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

const clock = new ManualClock(Date.parse('2026-05-04T10:00:00Z'));
let srv: TestServer;
let token: string;

beforeAll(async () => {
  srv = await startTestServer({ clock });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
});

const newCode = (destination = 'https://example.com/landing', extra: Record<string, unknown> = {}) => createQr(srv, token, { name: 'Redirected', destination_url: destination, ...extra });

/** Analytics of a code after every queued scan is recorded. */
async function analyticsOf(qr: QrView, query = ''): Promise<Analytics> {
  await srv.running.app.services.recorder.drain();
  const response = await srv.request('GET', `/api/v1/qr/${qr.id}/analytics?from=2026-05-01T00:00:00Z&to=2026-05-31T00:00:00Z${query}`, { token });
  expect(response.status).toBe(200);
  return (await json<{ data: Analytics }>(response)).data;
}

async function scanCount(qr: QrView): Promise<number> {
  await srv.running.app.services.recorder.drain();
  return (await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${qr.id}`, { token }))).data.scan_count;
}

async function expectHtmlPage(response: Response, status: number, text: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('location')).toBeNull();
  const body = await response.text();
  expect(body).toMatch(/^<!doctype html>/);
  expect(body).toMatch(text);
}

describe('the public redirect', () => {
  it('answers 302 to the destination of an active dynamic code, uncached', async () => {
    const qr = await newCode('https://example.com/landing?utm_source=print');
    const response = await scan(srv, qr.short_code!);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://example.com/landing?utm_source=print');
    expect(response.headers.get('cache-control')).toContain('no-store');
  });

  it('accepts a trailing slash and a query string on the short link', async () => {
    const qr = await newCode();
    expect((await fetch(`${srv.baseUrl}/r/${qr.short_code}/`, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(`${srv.baseUrl}/r/${qr.short_code}?src=poster`, { redirect: 'manual' })).status).toBe(302);
  });

  it('follows a changed destination at once', async () => {
    const qr = await newCode('https://example.com/old');
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { destination_url: 'https://example.com/new' } });
    expect((await scan(srv, qr.short_code!)).headers.get('location')).toBe('https://example.com/new');
  });

  it('answers a 404 HTML page for a paused code and records no scan; resuming brings the redirect back', async () => {
    const qr = await newCode('https://example.com/', { status: 'paused' });
    await expectHtmlPage(await scan(srv, qr.short_code!), 404, /paused/);
    expect(await scanCount(qr)).toBe(0);
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { status: 'active' } });
    expect((await scan(srv, qr.short_code!)).status).toBe(302);
  });

  it('answers a 404 HTML page for an unknown or malformed short code', async () => {
    await expectHtmlPage(await scan(srv, 'Zz9Zz9Q'), 404, /does not exist/);
    await expectHtmlPage(await scan(srv, 'bad!code'), 404, /does not exist/);
  });

  it('answers a 410 HTML page for a deleted code', async () => {
    const qr = await newCode();
    await srv.request('DELETE', `/api/v1/qr/${qr.id}`, { token });
    await expectHtmlPage(await scan(srv, qr.short_code!), 410, /deleted/);
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const qr = await newCode();
    const response = await scan(srv, qr.short_code!, {}, 'POST');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD with the redirect but records no scan', async () => {
    const qr = await newCode('https://example.com/head');
    const response = await scan(srv, qr.short_code!, {}, 'HEAD');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://example.com/head');
    expect((await analyticsOf(qr, '&include_bots=true')).total_scans).toBe(0);
    expect(await scanCount(qr)).toBe(0);
  });
});

describe('what a scan records', () => {
  it('records country from CF-IPCountry, device, OS and browser from the user agent, and the referrer host', async () => {
    const qr = await newCode();
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.iphone, 'cf-ipcountry': 'de', referer: 'https://news.example.org/article?id=1' });
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.android, 'cf-ipcountry': 'DE' });
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.windowsChrome, 'cf-ipcountry': 'US', referer: 'https://news.example.org/other' });
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.macFirefox, 'cf-ipcountry': 'XX' });
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.ipad, 'cf-ipcountry': 'not-a-country', referer: 'not a url' });
    const analytics = await analyticsOf(qr);
    expect(analytics.total_scans).toBe(5);
    expect(analytics.countries).toEqual([
      { value: 'DE', scans: 2 },
      { value: 'unknown', scans: 2 },
      { value: 'US', scans: 1 },
    ]);
    expect(analytics.devices).toEqual([
      { value: 'desktop', scans: 2 },
      { value: 'mobile', scans: 2 },
      { value: 'tablet', scans: 1 },
    ]);
    expect(analytics.os).toEqual([
      { value: 'iOS', scans: 2 },
      { value: 'Android', scans: 1 },
      { value: 'Windows', scans: 1 },
      { value: 'macOS', scans: 1 },
    ]);
    expect(analytics.browsers).toEqual([
      { value: 'Mobile Safari', scans: 2 },
      { value: 'Chrome', scans: 1 },
      { value: 'Firefox', scans: 1 },
      { value: 'Mobile Chrome', scans: 1 },
    ]);
    expect(analytics.referrers).toEqual([
      { value: 'direct', scans: 2 },
      { value: 'news.example.org', scans: 2 },
      { value: 'unknown', scans: 1 },
    ]);
  });

  it.each([
    ['Googlebot', USER_AGENTS.googlebot],
    ['Slackbot-LinkExpanding', USER_AGENTS.slackbot],
    ['facebookexternalhit', USER_AGENTS.facebook],
    ['curl', USER_AGENTS.curl],
    ['an empty user agent', ''],
  ])('records %s as a bot, left out unless include_bots=true', async (_label, userAgent) => {
    const qr = await newCode();
    expect((await scan(srv, qr.short_code!, { 'user-agent': userAgent })).status).toBe(302);
    await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.android });
    const humans = await analyticsOf(qr);
    expect(humans).toMatchObject({ total_scans: 1, unique_scans: 1, include_bots: false, devices: [{ value: 'mobile', scans: 1 }] });
    const everyone = await analyticsOf(qr, '&include_bots=true');
    expect(everyone.total_scans).toBe(2);
    expect(everyone.include_bots).toBe(true);
    expect(everyone.devices).toContainEqual({ value: 'bot', scans: 1 });
    expect(await scanCount(qr)).toBe(1);
  });

  it('keeps scan_count equal to the human scans of the code only', async () => {
    const qr = await newCode();
    const other = await newCode();
    for (const userAgent of [USER_AGENTS.iphone, USER_AGENTS.iphone, USER_AGENTS.googlebot, USER_AGENTS.windowsChrome, USER_AGENTS.slackbot, USER_AGENTS.ipad]) {
      await scan(srv, qr.short_code!, { 'user-agent': userAgent });
    }
    await scan(srv, other.short_code!);
    expect(await scanCount(qr)).toBe(4);
    expect(await scanCount(other)).toBe(1);
    expect((await analyticsOf(qr)).total_scans).toBe(4);
    const listed = await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token }));
    expect(listed.data.find((item) => item.id === qr.id)?.scan_count).toBe(4);
  });

  it('takes the country from the header QRFLOW_COUNTRY_HEADER names', async () => {
    const custom = await startTestServer({ clock, env: { QRFLOW_COUNTRY_HEADER: 'X-Country' } });
    try {
      const key = (await custom.createKey()).secret;
      const qr = await createQr(custom, key, { name: 'Custom header', destination_url: 'https://example.com/' });
      await scan(custom, qr.short_code!, { 'x-country': 'fr', 'cf-ipcountry': 'US' });
      await custom.running.app.services.recorder.drain();
      // the default range ends (exclusively) now, so step past the scan's instant
      clock.advance(1000);
      const analytics = await json<{ data: Analytics }>(await custom.request('GET', `/api/v1/qr/${qr.id}/analytics`, { token: key }));
      expect(analytics.data.countries).toEqual([{ value: 'FR', scans: 1 }]);
    } finally {
      await custom.cleanup();
    }
  });
});
