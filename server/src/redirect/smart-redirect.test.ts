import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from '../qr/schemas.js';
import type { Hit } from './recorder.js';
import { WRONG_PASSWORD_LIMIT } from './password-gate.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

const clock = new ManualClock(Date.parse('2026-05-04T10:00:00Z'));
let srv: TestServer;
let token: string;
let hits: Hit[];

beforeAll(async () => {
  srv = await startTestServer({ clock });
  token = (await srv.createKey()).secret;
  const recorder = srv.running.app.services.recorder;
  const original = recorder.hit.bind(recorder);
  vi.spyOn(recorder, 'hit').mockImplementation((hit) => {
    hits.push(hit);
    original(hit);
  });
});

beforeEach(() => {
  hits = [];
  clock.set('2026-05-04T10:00:00Z');
});

afterAll(async () => {
  await srv.cleanup();
});

const smartCode = (extra: Record<string, unknown>, destination = 'https://example.com/default') => createQr(srv, token, { name: 'Smart', destination_url: destination, ...extra });
const locationOf = async (qr: QrView, headers: Record<string, string> = {}, query = '') => {
  const response = await fetch(`${srv.baseUrl}/r/${qr.short_code}${query}`, { redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, ...headers } });
  expect(response.status).toBe(302);
  return response.headers.get('location');
};
const view = async (qr: QrView) => (await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${qr.id}`, { token }))).data;

describe('redirect rules', () => {
  it('a device rule sends phones, tablets and desktops where they belong', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://m.example.com/', conditions: [{ type: 'device', in: ['mobile'] }] }, { url: 'https://t.example.com/', conditions: [{ type: 'device', in: ['tablet'] }] }] });
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.android })).toBe('https://m.example.com/');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.ipad })).toBe('https://t.example.com/');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.windowsChrome })).toBe('https://example.com/default');
  });

  it('an OS rule matches the names analytics reports, in any case', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://apps.apple.com/app', conditions: [{ type: 'os', in: ['ios'] }] }, { url: 'https://play.google.com/app', conditions: [{ type: 'os', in: ['Android'] }] }] });
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.iphone })).toBe('https://apps.apple.com/app');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.android })).toBe('https://play.google.com/app');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.macFirefox })).toBe('https://example.com/default');
  });

  it('a browser rule matches the browser name; "Safari" also matches Mobile Safari', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://example.com/safari', conditions: [{ type: 'browser', in: ['Safari'] }] }, { url: 'https://example.com/firefox', conditions: [{ type: 'browser', in: ['firefox'] }] }] });
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.iphone })).toBe('https://example.com/safari');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.macFirefox })).toBe('https://example.com/firefox');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.windowsChrome })).toBe('https://example.com/default');
  });

  it('a country rule uses the proxy header (any case); without one the country is unknown and the rule does not match', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://example.de/', conditions: [{ type: 'country', in: ['de', 'AT'] }] }] });
    expect(await locationOf(qr, { 'cf-ipcountry': 'AT' })).toBe('https://example.de/');
    expect(await locationOf(qr, { 'cf-ipcountry': 'de' })).toBe('https://example.de/');
    expect(await locationOf(qr, { 'cf-ipcountry': 'FR' })).toBe('https://example.com/default');
    expect(await locationOf(qr)).toBe('https://example.com/default');
    expect((await view(qr)).redirect_rules[0]?.conditions[0]).toEqual({ type: 'country', in: ['DE', 'AT'] });
  });

  it('a language rule looks at the most preferred language of Accept-Language by q', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://example.com/fr', conditions: [{ type: 'language', in: ['fr'] }] }, { url: 'https://example.com/de', conditions: [{ type: 'language', in: ['DE'] }] }] });
    expect(await locationOf(qr, { 'accept-language': 'de-CH, fr;q=0.8' })).toBe('https://example.com/de');
    expect(await locationOf(qr, { 'accept-language': 'en;q=0.5, fr-CA;q=0.9, de;q=0.7' })).toBe('https://example.com/fr');
    expect(await locationOf(qr, { 'accept-language': 'en-US,en;q=0.9' })).toBe('https://example.com/default');
    expect(await locationOf(qr, { 'accept-language': '*' })).toBe('https://example.com/default');
  });

  it('a query rule matches a parameter of the scanned link', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://example.com/flyer', conditions: [{ type: 'query', param: 'src', equals: 'flyer' }] }] });
    expect(await locationOf(qr, {}, '?src=flyer')).toBe('https://example.com/flyer');
    expect(await locationOf(qr, {}, '?src=poster')).toBe('https://example.com/default');
    expect(await locationOf(qr, {}, '?other=flyer')).toBe('https://example.com/default');
  });

  it('a time rule follows the injected clock in the zone, across midnight and a DST change', async () => {
    const qr = await smartCode({
      redirect_rules: [
        { url: 'https://example.com/office', conditions: [{ type: 'time', from: '09:00', to: '17:30', tz: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5] }] },
        { url: 'https://example.com/night', conditions: [{ type: 'time', from: '22:00', to: '02:00', tz: 'Europe/Berlin', weekdays: [5] }] },
      ],
    });
    // Friday 27 March 2026, 08:30 UTC = 09:30 CET: office hours
    clock.set('2026-03-27T08:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/office');
    // the same UTC time on Monday 30 March is 10:30 CEST (clocks went forward on the 29th): still office hours
    clock.set('2026-03-30T07:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/office');
    // 07:30 UTC on Friday the 27th was 08:30 CET: not yet
    clock.set('2026-03-27T07:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/default');
    // Friday 23:30 CET and Saturday 01:30 CET belong to Friday's night window; Saturday 22:30 does not (weekday 6)
    clock.set('2026-03-27T22:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/night');
    clock.set('2026-03-28T00:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/night');
    clock.set('2026-03-28T21:30:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/default');
  });

  it('the first matching rule wins, all conditions of a rule must match, and no match goes to destination_url', async () => {
    const qr = await smartCode({
      redirect_rules: [
        { url: 'https://example.com/ios-de', conditions: [{ type: 'os', in: ['iOS'] }, { type: 'country', in: ['DE'] }] },
        { url: 'https://example.com/ios', conditions: [{ type: 'os', in: ['iOS'] }] },
        { url: 'https://example.com/de', conditions: [{ type: 'country', in: ['DE'] }] },
      ],
    });
    expect(await locationOf(qr, { 'cf-ipcountry': 'DE' })).toBe('https://example.com/ios-de');
    expect(await locationOf(qr, { 'cf-ipcountry': 'FR' })).toBe('https://example.com/ios');
    expect(await locationOf(qr, { 'cf-ipcountry': 'DE', 'user-agent': USER_AGENTS.android })).toBe('https://example.com/de');
    expect(await locationOf(qr, { 'cf-ipcountry': 'FR', 'user-agent': USER_AGENTS.android })).toBe('https://example.com/default');
  });

  it('a change of the rules applies to the next scan', async () => {
    const qr = await smartCode({ redirect_rules: [{ url: 'https://example.com/a', conditions: [{ type: 'os', in: ['iOS'] }] }] });
    expect(await locationOf(qr)).toBe('https://example.com/a');
    expect((await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { redirect_rules: [{ url: 'https://example.com/b', conditions: [{ type: 'os', in: ['iOS'] }] }] } })).status).toBe(200);
    expect(await locationOf(qr)).toBe('https://example.com/b');
    expect((await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { redirect_rules: null } })).status).toBe(200);
    expect(await locationOf(qr)).toBe('https://example.com/default');
  });
});

describe('A/B variants', () => {
  it('a visitor keeps the same variant, the hit records its index, and rules come first', async () => {
    const qr = await smartCode({
      redirect_rules: [{ url: 'https://example.com/android', conditions: [{ type: 'os', in: ['Android'] }] }],
      variants: [{ url: 'https://example.com/a', weight: 50 }, { url: 'https://example.com/b', weight: 50 }],
    });
    const seen = new Map<string, string>();
    for (let n = 0; n < 40; n++) {
      const agent = `${USER_AGENTS.iphone} visitor/${n % 20}`;
      const location = (await locationOf(qr, { 'user-agent': agent })) as string;
      if (seen.has(agent)) expect(location).toBe(seen.get(agent));
      seen.set(agent, location);
    }
    expect(new Set(seen.values())).toEqual(new Set(['https://example.com/a', 'https://example.com/b']));
    expect(hits).toHaveLength(40);
    for (const hit of hits) expect(seen.get(hit.userAgent)).toBe(hit.variant === 0 ? 'https://example.com/a' : 'https://example.com/b');
    hits = [];
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.android })).toBe('https://example.com/android');
    expect(hits[0]?.variant).toBeUndefined();
  });

  it('a variant of weight 0 is never chosen', async () => {
    const qr = await smartCode({ variants: [{ url: 'https://example.com/never', weight: 0 }, { url: 'https://example.com/always', weight: 3 }] });
    for (let n = 0; n < 20; n++) expect(await locationOf(qr, { 'user-agent': `agent ${n}` })).toBe('https://example.com/always');
  });
});

describe('schedule and scan limit', () => {
  it('before valid_from and from valid_until a code sends scans to expired_url; state says why; status is unchanged', async () => {
    const qr = await smartCode({ valid_from: '2026-05-05T00:00:00+02:00', valid_until: '2026-05-10T00:00:00Z', expired_url: 'https://example.com/over' });
    expect(qr.state).toBe('scheduled');
    expect(qr.valid_from).toBe('2026-05-04T22:00:00.000Z');
    expect(await locationOf(qr)).toBe('https://example.com/over');
    clock.set('2026-05-04T22:00:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/default');
    expect((await view(qr)).state).toBe('live');
    clock.set('2026-05-10T00:00:00Z');
    expect(await locationOf(qr)).toBe('https://example.com/over');
    const expired = await view(qr);
    expect(expired.state).toBe('expired');
    expect(expired.status).toBe('active');
    expect(hits).toHaveLength(1);
  });

  it('without expired_url an expired code answers a 410 page', async () => {
    const qr = await smartCode({ valid_until: '2026-05-01T00:00:00Z' });
    const response = await scan(srv, qr.short_code!);
    expect(response.status).toBe(410);
    expect(await response.text()).toMatch(/has expired/);
    expect(response.headers.get('location')).toBeNull();
  });

  it('max_scans counts human scans only; past it the code sends to expired_url, or answers 410 without one', async () => {
    const limited = await smartCode({ max_scans: 3, expired_url: 'https://example.com/sold-out' });
    expect(await locationOf(limited, { 'user-agent': USER_AGENTS.googlebot })).toBe('https://example.com/default');
    for (let n = 0; n < 3; n++) expect(await locationOf(limited)).toBe('https://example.com/default');
    expect(await locationOf(limited)).toBe('https://example.com/sold-out');
    expect(await locationOf(limited, { 'user-agent': USER_AGENTS.googlebot })).toBe('https://example.com/sold-out');
    await srv.running.app.services.recorder.drain();
    const after = await view(limited);
    expect(after.scan_count).toBe(3);
    expect(after.state).toBe('limit_reached');

    const plain = await smartCode({ max_scans: 1 });
    expect((await scan(srv, plain.short_code!)).status).toBe(302);
    const over = await scan(srv, plain.short_code!);
    expect(over.status).toBe(410);
    expect(await over.text()).toMatch(/scan limit/);
  });

  it('concurrent first scans of a limited code pass the limit exactly', async () => {
    const qr = await smartCode({ max_scans: 5 });
    const statuses = await Promise.all(Array.from({ length: 12 }, () => scan(srv, qr.short_code!).then((r) => r.status)));
    expect(statuses.filter((s) => s === 302)).toHaveLength(5);
    expect(statuses.filter((s) => s === 410)).toHaveLength(7);
  });

  it('raising max_scans opens the code again', async () => {
    const qr = await smartCode({ max_scans: 1 });
    expect((await scan(srv, qr.short_code!)).status).toBe(302);
    expect((await scan(srv, qr.short_code!)).status).toBe(410);
    expect((await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { max_scans: 2 } })).status).toBe(200);
    expect((await scan(srv, qr.short_code!)).status).toBe(302);
    expect((await scan(srv, qr.short_code!)).status).toBe(410);
  });
});

describe('UTM parameters', () => {
  it('are appended to the chosen destination; the destination\'s own win; query and fragment kept', async () => {
    const qr = await smartCode(
      {
        utm: { source: 'flyer', medium: 'print', campaign: 'spring sale' },
        redirect_rules: [{ url: 'https://example.com/ios#top', conditions: [{ type: 'os', in: ['iOS'] }] }],
      },
      'https://example.com/landing?utm_source=web&a=1&a=2#section',
    );
    expect(await locationOf(qr)).toBe('https://example.com/ios?utm_source=flyer&utm_medium=print&utm_campaign=spring%20sale#top');
    expect(await locationOf(qr, { 'user-agent': USER_AGENTS.android })).toBe('https://example.com/landing?utm_source=web&a=1&a=2&utm_medium=print&utm_campaign=spring%20sale#section');
  });
});

describe('a password-protected code', () => {
  const password = 'open sesame 42';
  let qr: QrView;
  let cookieJar: string | undefined;

  /** The form token of the password page. */
  const formOf = async (response: Response) => {
    const html = await response.text();
    expect(html).toMatch(/<form method="post"/);
    expect(html).not.toMatch(/<script/);
    return /name="token" value="([^"]+)"/.exec(html)?.[1] as string;
  };
  const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${srv.baseUrl}/r/${qr.short_code}?src=flyer`, { method: 'POST', redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() });

  beforeAll(async () => {
    qr = await createQr(srv, token, { name: 'Secret', destination_url: 'https://example.com/secret', password, redirect_rules: [{ url: 'https://example.com/flyer', conditions: [{ type: 'query', param: 'src', equals: 'flyer' }] }] });
  });

  it('answers password_protected and never the password or its hash', async () => {
    expect(qr.password_protected).toBe(true);
    const body = await (await srv.request('GET', `/api/v1/qr/${qr.id}`, { token })).text();
    expect(body).not.toContain(password);
    expect(body).not.toContain('scrypt');
    expect(body).not.toContain('password_hash');
  });

  it('shows a form, records no scan for it, and the right password redirects (303) with a cookie scoped to the code', async () => {
    const page = await fetch(`${srv.baseUrl}/r/${qr.short_code}?src=flyer`, { headers: { 'user-agent': USER_AGENTS.iphone } });
    expect(page.status).toBe(200);
    const token_ = await formOf(page);
    expect(hits).toHaveLength(0);
    const unlocked = await post({ token: token_, password }, { origin: srv.baseUrl });
    expect(unlocked.status).toBe(303);
    // the query of the scanned link is still there for the rules
    expect(unlocked.headers.get('location')).toBe('https://example.com/flyer');
    const cookie = unlocked.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^qrflow_unlock=\\d+\\.[\\w-]+; Path=/r/${qr.short_code}; Max-Age=1800; HttpOnly; SameSite=Lax$`));
    expect(hits).toHaveLength(1);
    cookieJar = cookie.split(';')[0];
  });

  it('with the cookie the next scan redirects at once; without cookies the form is shown again', async () => {
    expect(await locationOf(qr, { cookie: cookieJar as string })).toBe('https://example.com/secret');
    expect((await scan(srv, qr.short_code!)).status).toBe(200);
    // a cookie forged, or from another code, does not open it
    expect((await scan(srv, qr.short_code!, { cookie: `qrflow_unlock=${Date.now() + 60_000}.forged` })).status).toBe(200);
    // once its 30 minutes are over it no longer opens it
    clock.advance(31 * 60_000);
    expect((await scan(srv, qr.short_code!, { cookie: cookieJar as string })).status).toBe(200);
  });

  it('refuses a form sent from another site, or without a valid token', async () => {
    const token_ = await formOf(await scan(srv, qr.short_code!));
    const crossSite = await post({ token: token_, password }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    const noToken = await post({ password });
    expect(noToken.status).toBe(403);
    // a token shown to another visitor (another user agent) is not valid for this one
    const other = await formOf(await scan(srv, qr.short_code!, { 'user-agent': USER_AGENTS.android }));
    expect((await post({ token: other, password })).status).toBe(403);
    expect(hits).toHaveLength(0);
  });

  it(`limits wrong passwords to ${WRONG_PASSWORD_LIMIT} per IP and code with a 429 page, the right one included after that`, async () => {
    const limited = await createQr(srv, token, { name: 'Limited', destination_url: 'https://example.com/limited', password });
    const tokenOf = async () => formOf(await scan(srv, limited.short_code!));
    const send = async (given: string) =>
      fetch(`${srv.baseUrl}/r/${limited.short_code}`, { method: 'POST', redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: await tokenOf(), password: given }).toString() });
    for (let n = 1; n < WRONG_PASSWORD_LIMIT; n++) {
      const wrong = await send(`wrong guess ${n}`);
      expect(wrong.status).toBe(403);
      expect(await wrong.text()).toMatch(/Wrong password/);
    }
    const last = await send('wrong guess last');
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await send(password)).status).toBe(429);
    // another code is counted on its own
    const token_ = await formOf(await scan(srv, qr.short_code!));
    expect((await post({ token: token_, password })).status).toBe(303);
  });

  it('a POST to a code without a password answers 405', async () => {
    const open = await smartCode({});
    const response = await fetch(`${srv.baseUrl}/r/${open.short_code}`, { method: 'POST', redirect: 'manual' });
    expect(response.status).toBe(405);
  });

  it('changing the password ends the old cookies; null removes the protection', async () => {
    const code = await createQr(srv, token, { name: 'Changing', destination_url: 'https://example.com/changing', password });
    const token_ = await formOf(await scan(srv, code.short_code!));
    const unlocked = await fetch(`${srv.baseUrl}/r/${code.short_code}`, { method: 'POST', redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: token_, password }).toString() });
    const cookie = (unlocked.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await scan(srv, code.short_code!, { cookie })).status).toBe(302);
    expect((await srv.request('PATCH', `/api/v1/qr/${code.id}`, { token, body: { password: 'another password' } })).status).toBe(200);
    expect((await scan(srv, code.short_code!, { cookie })).status).toBe(200);
    const removed = await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${code.id}`, { token, body: { password: null } }));
    expect(removed.data.password_protected).toBe(false);
    expect((await scan(srv, code.short_code!)).status).toBe(302);
  });

  it('the password is in no file of the data directory and in no log line', async () => {
    const secret = 'never-stored-9f3kq';
    const code = await createQr(srv, token, { name: 'Hidden', destination_url: 'https://example.com/hidden', password: secret }, { 'idempotency-key': 'pw-test-1' });
    const token_ = await formOf(await scan(srv, code.short_code!));
    await fetch(`${srv.baseUrl}/r/${code.short_code}`, { method: 'POST', redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: token_, password: secret }).toString() });
    await srv.request('PATCH', `/api/v1/qr/${code.id}`, { token, body: { password: `${secret}-2`, name: 'x'.repeat(200) } });
    await srv.running.app.services.recorder.drain();
    const files = fs.readdirSync(srv.dataDir, { recursive: true }).map(String);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const full = path.join(srv.dataDir, file);
      if (fs.statSync(full).isFile()) expect(fs.readFileSync(full).includes(secret), file).toBe(false);
    }
    expect(srv.logs()).not.toContain(secret);
  });
});
