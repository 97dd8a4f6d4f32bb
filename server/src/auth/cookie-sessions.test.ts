import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import { ConsoleBrowser, parseSetCookie, type SetCookie } from '../../../test/helpers/browser.js';
import { ManualClock } from '../clock.js';
import { LOGIN_LIMITS } from './routes.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function cookieNamed(response: Response, name: string): SetCookie | undefined {
  return response.headers.getSetCookie().map(parseSetCookie).find((cookie) => cookie.name === name);
}

describe('console sessions in a cookie', () => {
  const clock = new ManualClock();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const signedIn = async () => {
    const browser = new ConsoleBrowser(server);
    const response = await browser.login(server.ownerEmail, server.ownerPassword);
    expect(response.status, await response.clone().text()).toBe(200);
    return { browser, response };
  };

  it('sets qrflow_session HttpOnly, SameSite=Strict, Path=/, not Secure on plain http, and keeps the token out of the body', async () => {
    const { browser, response } = await signedIn();
    const cookie = cookieNamed(response, 'qrflow_session')!;
    expect(cookie.value).toMatch(/^qrs_[0-9A-Za-z]{40}$/);
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Strict', path: '/', 'max-age': String(7 * 24 * 3600) });
    expect(cookie.attributes).not.toHaveProperty('secure');
    const text = await response.text();
    expect(text).not.toContain(cookie.value);
    const { data } = JSON.parse(text) as { data: Record<string, unknown> };
    expect(Object.keys(data).sort()).toEqual(['csrf_token', 'expires_at', 'user', 'workspace']);
    expect(data.expires_at).toBe(new Date(clock.now() + 7 * 24 * HOUR).toISOString());
    expect(data.user).toMatchObject({ email: server.ownerEmail, role: 'owner' });
    expect(data.workspace).toEqual({ id: server.workspace.id, name: server.workspace.name, plan: 'business', plan_status: 'active' });
    expect(data.csrf_token).toBe(browser.cookies.get('qrflow_csrf'));
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers GET /api/v1/me with the cookie as with a bearer session', async () => {
    const { browser } = await signedIn();
    const response = await browser.request('GET', '/api/v1/me');
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { key: null; user: { email: string; role: string }; workspace: { id: string } } };
    expect(data.key).toBeNull();
    expect(data.user).toMatchObject({ email: server.ownerEmail, role: 'owner' });
    expect(data.workspace.id).toBe(server.workspace.id);
  });

  it('answers GET /api/v1/auth/csrf with a token and the same token in an HttpOnly, SameSite=Strict cookie', async () => {
    const browser = new ConsoleBrowser(server);
    const response = await browser.request('GET', '/api/v1/auth/csrf');
    expect(response.status).toBe(200);
    const cookie = cookieNamed(response, 'qrflow_csrf')!;
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: 'Strict', path: '/' });
    expect(((await response.json()) as { data: { csrf_token: string } }).data.csrf_token).toBe(cookie.value);
  });

  describe('CSRF on cookie-mode login', () => {
    // refused logins count toward the per-email limit: this describe signs in as its own user
    let email: string;
    let password: string;
    beforeAll(async () => {
      ({ email, password } = await server.createWorkspace('Login CSRF'));
    });
    const login = (browser: ConsoleBrowser, options: { csrf?: boolean | string; origin?: string | null } = {}) =>
      browser.request('POST', '/api/v1/auth/login', { body: { email, password, cookie: true }, ...options });

    it('refuses it without the token, with a wrong one, from another origin and without an Origin: 403 csrf_failed, no cookie set', async () => {
      const browser = new ConsoleBrowser(server);
      for (const response of [await login(browser, { csrf: false }), await login(browser, { csrf: 'abc.def' })]) {
        const body = await expectError(response, 403, 'csrf_failed');
        expect(body.error.message).toContain('X-CSRF-Token');
        expect(cookieNamed(response, 'qrflow_session')).toBeUndefined();
      }
      await browser.fetchCsrfToken();
      const foreign = await expectError(await login(browser, { origin: 'https://evil.example' }), 403, 'csrf_failed');
      expect(foreign.error.message).toContain('https://evil.example');
      await expectError(await login(browser, { origin: null }), 403, 'csrf_failed');
      // another browser's token is not this one's
      const other = new ConsoleBrowser(server);
      await other.fetchCsrfToken();
      browser.cookies.set('qrflow_csrf', other.csrfToken!);
      await expectError(await login(browser), 403, 'csrf_failed');
      expect(browser.cookies.has('qrflow_session')).toBe(false);
    });

    it('accepts it with the token and a same-origin Origin', async () => {
      const browser = new ConsoleBrowser(server);
      await browser.fetchCsrfToken();
      const response = await browser.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail, password: server.ownerPassword, cookie: true } });
      expect(response.status).toBe(200);
      expect(browser.cookies.has('qrflow_session')).toBe(true);
    });

    it('leaves the API clients\' login as it was: no token needed, a qrs_ token in the body, no cookie', async () => {
      const response = await server.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail, password: server.ownerPassword }, headers: { origin: 'https://elsewhere.example' } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: { token: string } }).data.token).toMatch(/^qrs_/);
      expect(response.headers.getSetCookie()).toEqual([]);
    });
  });

  describe('CSRF on changes made with the cookie', () => {
    const createQr = (browser: ConsoleBrowser, options: { csrf?: boolean | string; origin?: string | null } = {}) =>
      browser.request('POST', '/api/v1/qr', { body: { name: 'From the console', destination_url: 'https://example.com/console' }, ...options });

    it('refuses a POST without the token, with a wrong token, with another origin\'s Origin or none, and accepts it with both', async () => {
      const { browser } = await signedIn();
      const countBefore = ((await (await browser.request('GET', '/api/v1/qr?limit=100')).json()) as { data: unknown[] }).data.length;
      await expectError(await createQr(browser, { csrf: false }), 403, 'csrf_failed');
      const token = browser.csrfToken!;
      // the same token with its last character changed
      await expectError(await createQr(browser, { csrf: `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}` }), 403, 'csrf_failed');
      await expectError(await createQr(browser, { origin: 'http://127.0.0.1:1' }), 403, 'csrf_failed');
      await expectError(await createQr(browser, { origin: 'null' }), 403, 'csrf_failed');
      await expectError(await createQr(browser, { origin: null }), 403, 'csrf_failed');
      const countAfterRefusals = ((await (await browser.request('GET', '/api/v1/qr?limit=100')).json()) as { data: unknown[] }).data.length;
      expect(countAfterRefusals).toBe(countBefore);
      expect((await createQr(browser)).status).toBe(201);
    });

    it('checks PATCH and DELETE too, and lets GET through without a token', async () => {
      const { browser } = await signedIn();
      const created = (await (await createQr(browser)).json()) as { data: { id: string } };
      const id = created.data.id;
      await expectError(await browser.request('PATCH', `/api/v1/qr/${id}`, { body: { tags: ['x'] }, csrf: false }), 403, 'csrf_failed');
      await expectError(await browser.request('DELETE', `/api/v1/qr/${id}`, { csrf: false }), 403, 'csrf_failed');
      expect((await browser.request('GET', `/api/v1/qr/${id}`)).status).toBe(200);
      expect((await browser.request('PATCH', `/api/v1/qr/${id}`, { body: { tags: ['x'] } })).status).toBe(200);
      expect((await browser.request('DELETE', `/api/v1/qr/${id}`)).status).toBe(200);
    });

    it('does not accept the token fetched before login once signed in (it is bound to the session)', async () => {
      const browser = new ConsoleBrowser(server);
      const before = await browser.fetchCsrfToken();
      const cookieBefore = browser.cookies.get('qrflow_csrf')!;
      expect((await browser.login(server.ownerEmail, server.ownerPassword)).status).toBe(200);
      browser.cookies.set('qrflow_csrf', cookieBefore);
      await expectError(await createQr(browser, { csrf: before }), 403, 'csrf_failed');
    });

    it('answers GET /api/v1/auth/csrf with the token the session already has', async () => {
      const { browser } = await signedIn();
      const token = browser.csrfToken;
      expect(await browser.fetchCsrfToken()).toBe(token);
      expect((await createQr(browser)).status).toBe(201);
    });

    it('needs no token for Bearer requests, and a Bearer header wins over the cookie', async () => {
      const { secret } = await server.createKey({ name: 'Bearer-Unaffected' });
      const token = await server.login();
      for (const bearer of [secret, token]) {
        const response = await server.request('POST', '/api/v1/qr', { token: bearer, body: { name: 'By bearer', destination_url: 'https://example.com/b' }, headers: { origin: 'https://evil.example' } });
        expect(response.status).toBe(201);
      }
      // a browser with a cookie session that also sends a Bearer key is the key: no CSRF, the key's identity
      const { browser } = await signedIn();
      const response = await browser.request('POST', '/api/v1/qr', { body: { name: 'Key wins', destination_url: 'https://example.com/k' }, csrf: false, headers: { authorization: `Bearer ${secret}` } });
      expect(response.status).toBe(201);
      const me = (await (await browser.request('GET', '/api/v1/me', { headers: { authorization: `Bearer ${secret}` } })).json()) as { data: { key: { name: string } | null } };
      expect(me.data.key?.name).toBe('Bearer-Unaffected');
    });
  });

  it('logs out: needs the CSRF token, ends the session, clears the cookie', async () => {
    const { browser } = await signedIn();
    const session = browser.cookies.get('qrflow_session')!;
    await expectError(await browser.request('POST', '/api/v1/auth/logout', { csrf: false }), 403, 'csrf_failed');
    expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
    const response = await browser.request('POST', '/api/v1/auth/logout');
    expect(response.status).toBe(200);
    const cleared = cookieNamed(response, 'qrflow_session')!;
    expect(cleared.value).toBe('');
    expect(Date.parse(cleared.attributes.expires as string)).toBeLessThan(Date.now());
    expect(browser.cookies.has('qrflow_session')).toBe(false);
    await expectError(await browser.request('GET', '/api/v1/me'), 401, 'missing_authorization');
    // the old cookie, replayed, is a session that has ended
    browser.cookies.set('qrflow_session', session);
    await expectError(await browser.request('GET', '/api/v1/me'), 401, 'invalid_session');
  });

  it('answers 401 invalid_session for a cookie that holds no session', async () => {
    const browser = new ConsoleBrowser(server);
    browser.cookies.set('qrflow_session', `qrs_${'b'.repeat(40)}`);
    await expectError(await browser.request('GET', '/api/v1/me'), 401, 'invalid_session');
    browser.cookies.set('qrflow_session', 'not a token');
    await expectError(await browser.request('GET', '/api/v1/me'), 401, 'invalid_session');
  });

  describe('expiry', () => {
    it('ends a console session after 60 idle minutes, each request pushing the end back', async () => {
      const { browser } = await signedIn();
      // active every 50 minutes for four hours: still signed in
      for (let step = 0; step < 5; step++) {
        clock.advance(50 * MINUTE);
        expect((await browser.request('GET', '/api/v1/me')).status, `after ${(step + 1) * 50} minutes`).toBe(200);
      }
      clock.advance(60 * MINUTE - 1);
      expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
      clock.advance(60 * MINUTE);
      const body = await expectError(await browser.request('GET', '/api/v1/me'), 401, 'session_expired');
      expect(body.error.message).toMatch(/60 minutes without activity/);
      expect(body.error.message).toMatch(/Log in again/);
    });

    it('records the last request at most once a minute (last_seen_at)', async () => {
      const { browser } = await signedIn();
      const sessionRecord = async () => (await server.running.store.all('sessions')).find((s) => s.kind === 'cookie' && s.created_at === new Date(clock.now() - 30_000).toISOString());
      clock.advance(30_000);
      expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
      expect((await sessionRecord())?.last_seen_at).toBe(new Date(clock.now() - 30_000).toISOString());
      clock.advance(30_000);
      expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      const record = (await server.running.store.all('sessions')).find((s) => s.kind === 'cookie' && s.last_seen_at === new Date(clock.now()).toISOString());
      expect(record).toBeDefined();
    });

    it('leaves bearer session tokens without idle expiry (API clients keep the absolute lifetime only)', async () => {
      const token = await server.login();
      clock.advance(6 * HOUR);
      expect((await server.request('GET', '/api/v1/me', { token })).status).toBe(200);
    });
  });
});

describe('console session lifetimes from the configuration', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.cleanup();
    server = undefined;
  });

  it('ends a console session at its absolute expiry (QRFLOW_SESSION_TTL_HOURS) however active it is', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock, env: { QRFLOW_SESSION_TTL_HOURS: '2', QRFLOW_SESSION_IDLE_MINUTES: '45' } });
    const browser = new ConsoleBrowser(server);
    const login = await browser.login(server.ownerEmail, server.ownerPassword);
    expect(cookieNamed(login, 'qrflow_session')!.attributes['max-age']).toBe(String(2 * 3600));
    for (let step = 0; step < 2; step++) {
      clock.advance(40 * MINUTE);
      expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
    }
    clock.advance(40 * MINUTE - 1);
    expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
    clock.advance(1);
    const body = await expectError(await browser.request('GET', '/api/v1/me'), 401, 'session_expired');
    expect(body.error.message).toBe('This session has expired. Log in again.');
  });

  it('honours QRFLOW_SESSION_IDLE_MINUTES', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock, env: { QRFLOW_SESSION_IDLE_MINUTES: '5' } });
    const browser = new ConsoleBrowser(server);
    expect((await browser.login(server.ownerEmail, server.ownerPassword)).status).toBe(200);
    clock.advance(5 * MINUTE - 1);
    expect((await browser.request('GET', '/api/v1/me')).status).toBe(200);
    clock.advance(5 * MINUTE);
    const body = await expectError(await browser.request('GET', '/api/v1/me'), 401, 'session_expired');
    expect(body.error.message).toMatch(/5 minutes without activity/);
  });

  it('marks the cookies Secure when the public URL is https, and takes that URL as the console\'s origin', async () => {
    server = await startTestServer({ env: { QRFLOW_PUBLIC_URL: 'https://qr.example.test' } });
    const browser = new ConsoleBrowser(server);
    browser.origin = 'https://qr.example.test';
    const csrf = await browser.request('GET', '/api/v1/auth/csrf');
    expect(cookieNamed(csrf, 'qrflow_csrf')!.attributes.secure).toBe(true);
    browser.csrfToken = ((await csrf.json()) as { data: { csrf_token: string } }).data.csrf_token;
    const login = await browser.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail, password: server.ownerPassword, cookie: true } });
    expect(login.status).toBe(200);
    expect(cookieNamed(login, 'qrflow_session')!.attributes).toMatchObject({ secure: true, httponly: true, samesite: 'Strict' });
  });

  it('still applies the login rate limits to cookie-mode logins, counting those refused for CSRF', async () => {
    server = await startTestServer();
    const browser = new ConsoleBrowser(server);
    for (let attempt = 0; attempt < LOGIN_LIMITS.perEmail; attempt++) {
      const response = await browser.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail, password: server.ownerPassword, cookie: true }, csrf: false });
      expect(response.status).toBe(403);
    }
    const limited = await browser.login(server.ownerEmail, server.ownerPassword);
    await expectError(limited, 429, 'login_rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
