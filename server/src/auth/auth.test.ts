import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import { ManualClock } from '../clock.js';
import { generateKeySecret } from '../keys/key-format.js';
import type { WorkspaceRecord } from '../store/records.js';
import { LOGIN_LIMITS } from './routes.js';

const HOUR = 3600_000;

describe('API key authentication on the data plane', () => {
  const clock = new ManualClock();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const me = (headers: Record<string, string> = {}) => server.request('GET', '/api/v1/me', { headers });
  const withKey = (secret: string) => me({ authorization: `Bearer ${secret}` });

  it('answers /me with the workspace and the key for a valid key', async () => {
    const { id, secret } = await server.createKey({ name: 'Zapier-Integration', scopes: ['qr:read'] });
    const response = await withKey(secret);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { workspace: { id: string; plan: string }; key: Record<string, unknown>; user: null } };
    expect(body.data.workspace).toMatchObject({ id: server.workspace.id, name: server.workspace.name, plan: 'business' });
    expect(body.data.key).toEqual({ id, name: 'Zapier-Integration', prefix: secret.slice(0, 12), scopes: ['qr:read'], mode: 'live' });
    expect(body.data.user).toBeNull();
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    const { secret } = await server.createKey();
    expect((await me({ authorization: `bearer ${secret}` })).status).toBe(200);
    expect((await me({ authorization: `  BEARER   ${secret}  ` })).status).toBe(200);
  });

  it('answers 401 missing_authorization without an Authorization header', async () => {
    const body = await expectError(await me(), 401, 'missing_authorization');
    expect(body.error.message).toContain('Authorization: Bearer');
  });

  it('answers 401 missing_authorization for an empty Authorization header', async () => {
    await expectError(await me({ authorization: '   ' }), 401, 'missing_authorization');
  });

  it.each([
    ['Bearer and a space', 'Bearer '],
    ['Bearer alone', 'Bearer'],
    ['bearer and spaces', '  bearer    '],
  ])('answers 401 missing_api_key, saying the key is missing, for %s (an unset shell variable)', async (_case, header) => {
    const body = await expectError(await me({ authorization: header }), 401, 'missing_api_key');
    expect(body.error.message).toMatch(/API key is missing/);
    expect(body.error.message).not.toMatch(/Use the Bearer scheme/);
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['a bare key', generateKeySecret()],
    ['Token', `Token ${generateKeySecret()}`],
    ['three words', `Bearer ${generateKeySecret()} extra`],
  ])('answers 401 invalid_authorization_scheme for %s', async (_case, header) => {
    const body = await expectError(await me({ authorization: header }), 401, 'invalid_authorization_scheme');
    expect(body.error.message).toContain('Bearer');
  });

  it.each([
    ['a truncated key', () => generateKeySecret().slice(0, -1)],
    ['a mistyped character', () => {
      const key = generateKeySecret();
      return key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    }],
    ['the wrong prefix', () => `qr_prod_${generateKeySecret().slice(8)}`],
    ['a random word', () => 'hunter2'],
  ])('answers 401 malformed_api_key for %s', async (_case, makeKey) => {
    const body = await expectError(await withKey(makeKey()), 401, 'malformed_api_key');
    expect(body.error.message).toContain('qr_live_');
  });

  it('answers 401 invalid_api_key for a well-formed test-mode key that does not exist', async () => {
    await expectError(await withKey(generateKeySecret('test')), 401, 'invalid_api_key');
  });

  it('answers 401 invalid_api_key for a well-formed key that does not exist', async () => {
    const body = await expectError(await withKey(generateKeySecret()), 401, 'invalid_api_key');
    expect(body.error.message).toMatch(/not recognised/);
    expect(body.error.message).toMatch(/create a new key/i);
  });

  it('answers 401 api_key_paused for a paused key, which works again once resumed', async () => {
    const { id, secret } = await server.createKey();
    await server.running.app.services.keys.pause(server.workspace, id);
    const body = await expectError(await withKey(secret), 401, 'api_key_paused');
    expect(body.error.message).toBe('This API key is paused. Resume it in API settings (/settings/api).');
    await server.running.app.services.keys.resume(server.workspace, id);
    expect((await withKey(secret)).status).toBe(200);
  });

  it('answers 401 api_key_revoked for a revoked key', async () => {
    const { id, secret } = await server.createKey();
    await server.running.app.services.keys.revoke(server.workspace, id);
    const body = await expectError(await withKey(secret), 401, 'api_key_revoked');
    expect(body.error.message).toMatch(/revoked/);
    expect(body.error.message).toMatch(/Create a new key/);
  });

  it('answers 401 api_key_expired once the clock passes the key\'s expiry, not before', async () => {
    const expiresAt = new Date(clock.now() + 2 * HOUR).toISOString();
    const { key, secret } = await server.running.app.services.keys.create(server.workspace, { name: 'Expiring', expires_at: expiresAt }, 'test');
    expect(key.expires_at).toBe(expiresAt);
    clock.advance(2 * HOUR - 1000);
    expect((await withKey(secret)).status).toBe(200);
    clock.advance(1000);
    const body = await expectError(await withKey(secret), 401, 'api_key_expired');
    expect(body.error.message).toMatch(/expired/);
    expect(body.error.message).toMatch(/Renew it/);
  });

  it('gives each 401 its own code', async () => {
    // all the codes above are distinct, so a client can tell the cases apart
    const codes = ['missing_authorization', 'missing_api_key', 'invalid_authorization_scheme', 'malformed_api_key', 'invalid_api_key', 'api_key_paused', 'api_key_revoked', 'api_key_expired'];
    expect(new Set(codes).size).toBe(codes.length);
    const { id, secret } = await server.createKey();
    await server.running.app.services.keys.pause(server.workspace, id);
    const responses = await Promise.all([me(), me({ authorization: 'Bearer ' }), me({ authorization: 'Basic x' }), withKey('qr_live_short'), withKey(generateKeySecret()), withKey(secret)]);
    const seen = await Promise.all(responses.map(async (r) => ((await r.json()) as { error: { code: string } }).error.code));
    expect(seen).toEqual(['missing_authorization', 'missing_api_key', 'invalid_authorization_scheme', 'malformed_api_key', 'invalid_api_key', 'api_key_paused']);
  });
});

describe('plans and scopes on the data plane', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const current = async (workspace: WorkspaceRecord) => (await server.running.store.get('workspaces', workspace.id)) as WorkspaceRecord;

  it('answers 403 plan_upgrade_required for a key of a workspace on the free plan', async () => {
    const { workspace } = await server.createWorkspace('Downgraded', 'team');
    const { secret } = await server.createKey({ workspace });
    expect((await server.request('GET', '/api/v1/me', { token: secret })).status).toBe(200);
    await server.running.app.services.workspaces.setPlan(await current(workspace), 'free');
    const body = await expectError(await server.request('GET', '/api/v1/me', { token: secret }), 403, 'plan_upgrade_required');
    expect(body.error.message).toMatch(/Free plan/);
    expect(body.error.message).toMatch(/Upgrade/);
  });

  it('answers 403 subscription_inactive while the plan is expired, and the same key works again after reactivation', async () => {
    const { workspace } = await server.createWorkspace('Lapsing', 'team');
    const { secret } = await server.createKey({ workspace });
    const { workspaces } = server.running.app.services;
    await workspaces.setPlan(await current(workspace), 'team', 'expired');
    const body = await expectError(await server.request('GET', '/api/v1/me', { token: secret }), 403, 'subscription_inactive');
    expect(body.error.message).toMatch(/expired/);
    expect(body.error.message).toMatch(/Reactivate/);

    await workspaces.setPlan(await current(workspace), 'team', 'active');
    const response = await server.request('GET', '/api/v1/me', { token: secret });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { workspace: { plan_status: string } } }).data.workspace.plan_status).toBe('active');
  });

  it('lets an owner\'s session manage keys even while the plan is expired', async () => {
    const { workspace, email, password } = await server.createWorkspace('Lapsed owner', 'team');
    await server.running.app.services.workspaces.setPlan(await current(workspace), 'team', 'expired');
    const token = await server.login(email, password);
    expect((await server.request('GET', '/api/v1/keys', { token })).status).toBe(200);
  });

  it('answers 403 insufficient_scope for a key without the scope a route needs', async () => {
    // GET /api/v1/qr needs qr:read
    const { secret: analyticsOnly } = await server.createKey({ scopes: ['analytics:read'] });
    const body = await expectError(await server.request('GET', '/api/v1/qr', { token: analyticsOnly }), 403, 'insufficient_scope');
    expect(body.error.message).toContain('"qr:read"');

    const { secret: reader } = await server.createKey({ scopes: ['qr:read'] });
    expect((await server.request('GET', '/api/v1/qr', { token: reader })).status).toBe(200);
    // a read scope does not allow writes
    const write = await server.request('POST', '/api/v1/qr', { token: reader, body: { name: 'x', destination_url: 'https://example.com/' } });
    const writeBody = await expectError(write, 403, 'insufficient_scope');
    expect(writeBody.error.message).toContain('"qr:write"');
  });
});

describe('management sessions', () => {
  const clock = new ManualClock();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const login = (email: string, password: string) => server.request('POST', '/api/v1/auth/login', { body: { email, password } });

  it('logs in with email and password and returns a qrs_ token that expires after the session lifetime', async () => {
    const response = await login(server.ownerEmail, server.ownerPassword);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { token: string; expires_at: string } };
    expect(data.token).toMatch(/^qrs_[0-9A-Za-z]{40}$/);
    expect(data.expires_at).toBe(new Date(clock.now() + 7 * 24 * HOUR).toISOString());

    const meResponse = await server.request('GET', '/api/v1/me', { token: data.token });
    expect(meResponse.status).toBe(200);
    const me = (await meResponse.json()) as { data: { workspace: { id: string }; key: null; user: { email: string; role: string } } };
    expect(me.data.workspace.id).toBe(server.workspace.id);
    expect(me.data.key).toBeNull();
    expect(me.data.user).toMatchObject({ email: server.ownerEmail, role: 'owner' });
  });

  it('treats the email without regard to case', async () => {
    expect((await login(server.ownerEmail.toUpperCase(), server.ownerPassword)).status).toBe(200);
  });

  it('gives a wrong email and a wrong password the same answer', async () => {
    const wrongPassword = await expectError(await login(server.ownerEmail, 'not-the-password'), 401, 'invalid_credentials');
    const wrongEmail = await expectError(await login('nobody@example.test', server.ownerPassword), 401, 'invalid_credentials');
    expect(wrongEmail.error).toEqual(wrongPassword.error);
    expect(wrongEmail.error.message).toBe('The email or password is incorrect.');
  });

  it('answers 400 with details for a login without a password', async () => {
    const body = await expectError(await server.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail } }), 400, 'validation_error');
    expect(body.error.details?.map((d) => d.field)).toContain('password');
  });

  it('ends the session at logout: the token then answers 401', async () => {
    const token = await server.login();
    const response = await server.request('POST', '/api/v1/auth/logout', { token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { logged_out: true } });
    await expectError(await server.request('GET', '/api/v1/me', { token }), 401, 'invalid_session');
    await expectError(await server.request('POST', '/api/v1/auth/logout', { token }), 401, 'invalid_session');
  });

  it('ends only the session that logs out', async () => {
    const first = await server.login();
    const second = await server.login();
    expect((await server.request('POST', '/api/v1/auth/logout', { token: first })).status).toBe(200);
    expect((await server.request('GET', '/api/v1/me', { token: second })).status).toBe(200);
  });

  it('needs a session to log out: an API key answers 401 session_required', async () => {
    const { secret } = await server.createKey();
    await expectError(await server.request('POST', '/api/v1/auth/logout', { token: secret }), 401, 'session_required');
  });

  it('answers 401 invalid_session for a session token that was never issued', async () => {
    await expectError(await server.request('GET', '/api/v1/me', { token: `qrs_${'a'.repeat(40)}` }), 401, 'invalid_session');
    await expectError(await server.request('GET', '/api/v1/me', { token: 'qrs_short' }), 401, 'invalid_session');
  });

  it('answers 401 session_expired once the session lifetime has passed', async () => {
    const token = await server.login();
    clock.advance(7 * 24 * HOUR - 1000);
    expect((await server.request('GET', '/api/v1/keys', { token })).status).toBe(200);
    clock.advance(1000);
    const body = await expectError(await server.request('GET', '/api/v1/keys', { token }), 401, 'session_expired');
    expect(body.error.message).toMatch(/Log in again/);
  });
});

describe('login rate limits', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.cleanup();
    server = undefined;
  });

  const login = (email: string, password: string) => server!.request('POST', '/api/v1/auth/login', { body: { email, password } });

  async function expectLoginRateLimited(response: Response): Promise<void> {
    const body = await expectError(response, 429, 'login_rate_limited');
    expect(body.error.message).toMatch(/Too many login attempts/);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    // the rest of the 15-minute window, not a guess
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(LOGIN_LIMITS.windowMs / 1000);
  }

  it('answers 429 login_rate_limited with Retry-After after repeated failures for one email, even with the right password', async () => {
    server = await startTestServer();
    for (let attempt = 0; attempt < LOGIN_LIMITS.perEmail; attempt++) {
      expect((await login(server.ownerEmail, `wrong-password-${attempt}`)).status).toBe(401);
    }
    await expectLoginRateLimited(await login(server.ownerEmail, 'wrong-again'));
    await expectLoginRateLimited(await login(server.ownerEmail, server.ownerPassword));
    // the same email in another case is the same email
    await expectLoginRateLimited(await login(server.ownerEmail.toUpperCase(), server.ownerPassword));
    // another account from the same IP is not locked out
    const { email, password } = await server.createWorkspace('Neighbour');
    expect((await login(email, password)).status).toBe(200);
  });

  it('does not count successful logins toward the limit', async () => {
    server = await startTestServer();
    for (let attempt = 0; attempt < LOGIN_LIMITS.perEmail + 3; attempt++) {
      expect((await login(server.ownerEmail, server.ownerPassword)).status).toBe(200);
    }
    expect((await login(server.ownerEmail, 'wrong-password')).status).toBe(401);
  });

  it('answers 429 login_rate_limited with Retry-After after repeated failures from one IP across emails', async () => {
    server = await startTestServer();
    const attempts = Array.from({ length: LOGIN_LIMITS.perIp }, (_, n) => login(`guess-${n}@example.test`, 'wrong-password'));
    const statuses = await Promise.all(attempts.map(async (response) => (await response).status));
    expect(statuses.every((status) => status === 401)).toBe(true);
    await expectLoginRateLimited(await login('another-guess@example.test', 'wrong-password'));
    await expectLoginRateLimited(await login(server.ownerEmail, server.ownerPassword));
  });
});
