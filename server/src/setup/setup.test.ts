import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import { ConsoleBrowser, parseSetCookie } from '../../../test/helpers/browser.js';
import { PASSWORD_RULES } from '../auth/passwords.js';
import { SETUP_LIMITS } from './routes.js';

interface SetupStatus {
  needs_setup: boolean;
  signup: string;
  password_rules: { min_length: number; max_length: number; text: string };
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
});

const status = async (srv: TestServer) => {
  const response = await srv.request('GET', '/api/v1/setup');
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: SetupStatus }).data;
};

const owner = { workspace_name: 'Acme Marketing', email: 'Owner@Acme.example', password: 'a long enough passphrase' };

async function setUp(browser: ConsoleBrowser, body: Record<string, unknown> = owner, options: { csrf?: boolean | string; origin?: string | null } = {}) {
  if (options.csrf === undefined) await browser.fetchCsrfToken();
  return browser.request('POST', '/api/v1/setup', { body, ...options });
}

describe('first run', () => {
  it('tells an empty server it needs setup, with the real password rule', async () => {
    server = await startTestServer({ empty: true });
    const data = await status(server);
    expect(data).toEqual({ needs_setup: true, signup: 'closed', password_rules: { min_length: 10, max_length: 256, text: PASSWORD_RULES.text } });
    expect(data.password_rules.text).toMatch(/^At least 10 characters/);
  });

  it('creates the workspace on the Team plan and its owner, signs the owner in with the cookie, then closes', async () => {
    server = await startTestServer({ empty: true });
    const browser = new ConsoleBrowser(server);
    const response = await setUp(browser);
    expect(response.status, await response.clone().text()).toBe(201);
    const { data } = (await response.json()) as { data: { workspace: { id: string; name: string; plan: string; plan_status: string }; user: { id: string; email: string; role: string }; csrf_token: string } };
    expect(data.workspace).toMatchObject({ name: 'Acme Marketing', plan: 'team', plan_status: 'active' });
    expect(data.user).toMatchObject({ email: 'owner@acme.example', role: 'owner' });
    const session = response.headers.getSetCookie().map(parseSetCookie).find((cookie) => cookie.name === 'qrflow_session')!;
    expect(session.value).toMatch(/^qrs_/);
    expect(session.attributes).toMatchObject({ httponly: true, samesite: 'Strict', path: '/' });
    expect(JSON.stringify(data)).not.toContain(session.value);
    browser.csrfToken = data.csrf_token;

    // signed in: the console can go on (a key needs the CSRF token from the answer)
    const me = (await (await browser.request('GET', '/api/v1/me')).json()) as { data: { user: { role: string }; workspace: { id: string } } };
    expect(me.data).toMatchObject({ user: { role: 'owner' }, workspace: { id: data.workspace.id } });
    const key = await browser.request('POST', '/api/v1/keys', { body: { name: 'First-Key', password: owner.password } });
    expect(key.status).toBe(201);

    // and the form is gone
    expect((await status(server)).needs_setup).toBe(false);
    const again = await setUp(new ConsoleBrowser(server), { ...owner, workspace_name: 'Second', email: 'second@acme.example' });
    const body = await expectError(again, 403, 'signup_closed');
    expect(body.error.message).toMatch(/QRFLOW_SIGNUP=open/);
    expect(await server.running.store.all('workspaces')).toHaveLength(1);

    // the owner can sign in again with the password set here
    expect((await new ConsoleBrowser(server).login('owner@acme.example', owner.password)).status).toBe(200);
  });

  it('answers 403 signup_closed on a server whose workspace the CLI made', async () => {
    server = await startTestServer();
    expect(await status(server)).toMatchObject({ needs_setup: false, signup: 'closed' });
    await expectError(await setUp(new ConsoleBrowser(server)), 403, 'signup_closed');
  });

  it('creates only one workspace when two first runs race', async () => {
    server = await startTestServer({ empty: true });
    const [first, second] = [new ConsoleBrowser(server), new ConsoleBrowser(server)];
    await Promise.all([first.fetchCsrfToken(), second.fetchCsrfToken()]);
    const responses = await Promise.all([
      first.request('POST', '/api/v1/setup', { body: owner }),
      second.request('POST', '/api/v1/setup', { body: { ...owner, workspace_name: 'Rival', email: 'rival@acme.example' } }),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 403]);
    expect(await server.running.store.all('workspaces')).toHaveLength(1);
  });

  it('needs the CSRF token and a same-origin Origin: 403 csrf_failed, and nothing is created', async () => {
    server = await startTestServer({ empty: true });
    const browser = new ConsoleBrowser(server);
    await expectError(await setUp(browser, owner, { csrf: false }), 403, 'csrf_failed');
    await browser.fetchCsrfToken();
    await expectError(await setUp(browser, owner, { csrf: true, origin: 'https://evil.example' }), 403, 'csrf_failed');
    await expectError(await setUp(browser, owner, { csrf: 'wrong.token' }), 403, 'csrf_failed');
    expect((await status(server)).needs_setup).toBe(true);
    expect((await setUp(browser, owner, { csrf: true })).status).toBe(201);
  });

  it.each([
    ['a short password', { ...owner, password: 'short' }, 'password'],
    ['an invalid email', { ...owner, email: 'not-an-email' }, 'email'],
    ['an empty workspace name', { ...owner, workspace_name: '  ' }, 'workspace_name'],
    ['a workspace name over 80 characters', { ...owner, workspace_name: 'x'.repeat(81) }, 'workspace_name'],
    ['an unknown field', { ...owner, plan: 'enterprise' }, 'plan'],
  ])('answers 400 with a detail for %s, and stays open', async (_case, body, field) => {
    server = await startTestServer({ empty: true });
    const error = await expectError(await setUp(new ConsoleBrowser(server), body), 400, 'validation_error');
    expect(error.error.details?.map((d) => d.field)).toContain(field);
    expect((await status(server)).needs_setup).toBe(true);
  });
});

describe('open sign-up (QRFLOW_SIGNUP=open)', () => {
  it('lets anyone create another workspace, on QRFLOW_DEFAULT_PLAN, as its owner', async () => {
    server = await startTestServer({ env: { QRFLOW_SIGNUP: 'open', QRFLOW_DEFAULT_PLAN: 'business' } });
    expect(await status(server)).toMatchObject({ needs_setup: false, signup: 'open' });
    const browser = new ConsoleBrowser(server);
    const response = await setUp(browser, { workspace_name: 'Newcomer', email: 'new@newcomer.example', password: 'another long passphrase' });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: { workspace: { id: string; plan: string }; user: { role: string } } };
    expect(data.workspace.plan).toBe('business');
    expect(data.user.role).toBe('owner');
    // the newcomer sees their own workspace, not the first one
    const me = (await (await browser.request('GET', '/api/v1/me')).json()) as { data: { workspace: { id: string } } };
    expect(me.data.workspace.id).toBe(data.workspace.id);
    expect(me.data.workspace.id).not.toBe(server.workspace.id);
    // the rules of workspace creation still hold
    await expectError(await setUp(new ConsoleBrowser(server), { workspace_name: 'Newcomer', email: 'other@newcomer.example', password: 'another long passphrase' }), 409, 'workspace_exists');
    await expectError(await setUp(new ConsoleBrowser(server), { workspace_name: 'Other', email: 'new@newcomer.example', password: 'another long passphrase' }), 409, 'user_exists');
  });

  it('limits workspace creation per address: 429 setup_rate_limited', async () => {
    server = await startTestServer({ env: { QRFLOW_SIGNUP: 'open' } });
    const browser = new ConsoleBrowser(server);
    await browser.fetchCsrfToken();
    // invalid bodies are cheap to send and count all the same
    for (let attempt = 0; attempt < SETUP_LIMITS.perIp; attempt++) {
      expect((await browser.request('POST', '/api/v1/setup', { body: { ...owner, password: 'short' } })).status).toBe(400);
    }
    const limited = await browser.request('POST', '/api/v1/setup', { body: owner });
    await expectError(limited, 429, 'setup_rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses to start with a QRFLOW_DEFAULT_PLAN that is not a plan', async () => {
    await expect(startTestServer({ env: { QRFLOW_DEFAULT_PLAN: 'platinum' } })).rejects.toThrow(/QRFLOW_DEFAULT_PLAN is "platinum"/);
  });
});
