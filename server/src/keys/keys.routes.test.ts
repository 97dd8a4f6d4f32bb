import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import { ManualClock } from '../clock.js';
import type { WorkspaceRecord } from '../store/records.js';
import { isWellFormedKey } from './key-format.js';
import type { KeyView } from './service.js';
import { ACTIVITY_LIMIT } from './activity.js';

const HOUR = 3600_000;
type KeyWithSecret = KeyView & { secret: string };

describe('API key management endpoints', () => {
  const clock = new ManualClock();
  let server: TestServer;
  let owner: string;

  beforeAll(async () => {
    server = await startTestServer({ clock });
    owner = await server.login();
  });
  afterAll(async () => {
    await server.cleanup();
  });

  async function createKey(body: Record<string, unknown> = {}, token = owner): Promise<KeyWithSecret> {
    const response = await server.request('POST', '/api/v1/keys', { token, body: { name: 'Zapier-Integration', password: server.ownerPassword, ...body } });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: KeyWithSecret }).data;
  }

  async function listKeys(token = owner): Promise<KeyView[]> {
    const response = await server.request('GET', '/api/v1/keys', { token });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: KeyView[] }).data;
  }

  const me = (secret: string) => server.request('GET', '/api/v1/me', { token: secret });

  describe('creating and listing', () => {
    it('creates a key with all scopes by default and returns its secret once', async () => {
      const key = await createKey({ name: 'Make-Integration' });
      expect(isWellFormedKey(key.secret)).toBe(true);
      expect(key).toMatchObject({
        name: 'Make-Integration',
        prefix: key.secret.slice(0, 12),
        scopes: ['qr:read', 'qr:write', 'analytics:read', 'webhooks:write', 'domains:write'],
        status: 'active',
        expires_at: null,
        created_at: new Date(clock.now()).toISOString(),
        last_used_at: null,
        revoked_at: null,
        renewals_last_24h: 0,
      });
      expect(key.id).toMatch(/^key_/);
      expect(key.created_by).toMatch(/^usr_/);
      expect(key).not.toHaveProperty('hash');
      expect((await me(key.secret)).status).toBe(200);
    });

    it('never shows a secret or hash again in the list', async () => {
      const key = await createKey();
      const response = await server.request('GET', '/api/v1/keys', { token: owner });
      const text = await response.text();
      expect(text).not.toContain(key.secret);
      expect(text).not.toContain(key.secret.slice(12));
      const listed = (JSON.parse(text) as { data: Array<Record<string, unknown>> }).data;
      const entry = listed.find((k) => k.id === key.id);
      expect(entry).toMatchObject({ id: key.id, prefix: key.prefix, status: 'active' });
      for (const item of listed) {
        expect(item).not.toHaveProperty('secret');
        expect(item).not.toHaveProperty('hash');
      }
    });

    it('lists the workspace\'s keys newest first', async () => {
      const first = await createKey({ name: 'Older' });
      clock.advance(1000);
      const second = await createKey({ name: 'Newer' });
      const ids = (await listKeys()).map((k) => k.id);
      expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
      expect(ids[0]).toBe(second.id);
    });

    it('creates a key with chosen scopes and an expiry', async () => {
      const expiresAt = new Date(clock.now() + 30 * 24 * HOUR).toISOString();
      const key = await createKey({ scopes: ['qr:read', 'analytics:read'], expires_at: expiresAt });
      expect(key.scopes).toEqual(['qr:read', 'analytics:read']);
      expect(key.expires_at).toBe(expiresAt);
    });

    it('asks for the caller\'s password: missing is 400, wrong is 401 invalid_password, and no key is made', async () => {
      const before = (await listKeys()).length;
      const missing = await server.request('POST', '/api/v1/keys', { token: owner, body: { name: 'No-Password' } });
      const missingBody = await expectError(missing, 400, 'validation_error');
      expect(missingBody.error.details?.map((d) => d.field)).toContain('password');

      const wrong = await server.request('POST', '/api/v1/keys', { token: owner, body: { name: 'Wrong-Password', password: 'not-my-password' } });
      const wrongBody = await expectError(wrong, 401, 'invalid_password');
      expect(wrongBody.error.message).toMatch(/password is incorrect/);
      expect((await listKeys()).length).toBe(before);
    });

    it.each([
      ['an empty name', { name: '   ' }, 'name'],
      ['a name over 64 characters', { name: 'x'.repeat(65) }, 'name'],
      ['an unknown scope', { scopes: ['qr:admin'] }, 'scopes.0'],
      ['no scopes', { scopes: [] }, 'scopes'],
      ['an expiry in the past', { expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      ['an expiry that is not a date', { expires_at: 'next tuesday' }, 'expires_at'],
      ['an unknown field', { owner: 'me' }, 'owner'],
    ])('answers 400 with a detail for %s', async (_case, body, field) => {
      const response = await server.request('POST', '/api/v1/keys', { token: owner, body: { name: 'Valid-Name', password: server.ownerPassword, ...body } });
      const error = await expectError(response, 400, 'validation_error');
      expect(error.error.details?.map((d) => d.field)).toContain(field);
    });
  });

  describe('who created a key', () => {
    it('names the creator by email in the answers and the list, and null for a key made with the CLI', async () => {
      const key = await createKey({ name: 'Created-By-Owner' });
      expect(key.created_by_email).toBe(server.ownerEmail);
      const cli = await server.running.app.services.keys.create(server.workspace, { name: 'Made-By-CLI' }, 'cli');
      expect(cli.key.created_by_email).toBeNull();
      const listed = await listKeys();
      expect(listed.find((k) => k.id === key.id)?.created_by_email).toBe(server.ownerEmail);
      expect(listed.find((k) => k.id === cli.key.id)?.created_by_email).toBeNull();
      const paused = await server.request('POST', `/api/v1/keys/${key.id}/pause`, { token: owner });
      expect(((await paused.json()) as { data: KeyView }).data.created_by_email).toBe(server.ownerEmail);
      const renewed = await server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner, body: {} });
      expect(((await renewed.json()) as { data: KeyView }).data.created_by_email).toBe(server.ownerEmail);
    });

    it('points the key errors to the console page that exists: API settings (/settings/api)', async () => {
      const key = await createKey({ name: 'Paused-For-Message' });
      await server.request('POST', `/api/v1/keys/${key.id}/pause`, { token: owner });
      const body = await expectError(await me(key.secret), 401, 'api_key_paused');
      expect(body.error.message).toBe('This API key is paused. Resume it in API settings (/settings/api).');
      await server.request('DELETE', `/api/v1/keys/${key.id}`, { token: owner });
      expect((await expectError(await me(key.secret), 401, 'api_key_revoked')).error.message).toContain('API settings (/settings/api)');
    });
  });

  describe('pausing, resuming and revoking', () => {
    it('pauses a key (401 api_key_paused) and resumes it', async () => {
      const key = await createKey();
      const paused = await server.request('POST', `/api/v1/keys/${key.id}/pause`, { token: owner });
      expect(paused.status).toBe(200);
      const pausedKey = ((await paused.json()) as { data: KeyView }).data;
      expect(pausedKey.status).toBe('paused');
      expect(pausedKey).not.toHaveProperty('secret');
      await expectError(await me(key.secret), 401, 'api_key_paused');
      expect((await listKeys()).find((k) => k.id === key.id)?.status).toBe('paused');

      const resumed = await server.request('POST', `/api/v1/keys/${key.id}/resume`, { token: owner });
      expect(resumed.status).toBe(200);
      expect(((await resumed.json()) as { data: KeyView }).data.status).toBe('active');
      expect((await me(key.secret)).status).toBe(200);
    });

    it('revokes a key irreversibly: it stays listed as revoked and answers 401 api_key_revoked', async () => {
      const key = await createKey();
      const response = await server.request('DELETE', `/api/v1/keys/${key.id}`, { token: owner });
      expect(response.status).toBe(200);
      const revoked = ((await response.json()) as { data: KeyView }).data;
      expect(revoked).toMatchObject({ id: key.id, status: 'revoked', revoked_at: new Date(clock.now()).toISOString() });

      await expectError(await me(key.secret), 401, 'api_key_revoked');
      expect((await listKeys()).find((k) => k.id === key.id)?.status).toBe('revoked');
      // no way back
      await expectError(await server.request('POST', `/api/v1/keys/${key.id}/resume`, { token: owner }), 409, 'key_revoked');
      await expectError(await server.request('POST', `/api/v1/keys/${key.id}/pause`, { token: owner }), 409, 'key_revoked');
      await expectError(await server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner }), 409, 'key_revoked');
      await expectError(await me(key.secret), 401, 'api_key_revoked');
      // revoking again changes nothing
      const again = await server.request('DELETE', `/api/v1/keys/${key.id}`, { token: owner });
      expect(((await again.json()) as { data: KeyView }).data.revoked_at).toBe(revoked.revoked_at);
    });
  });

  describe('renewing', () => {
    it('returns a new secret that works while the old one answers 401 at once', async () => {
      const key = await createKey();
      expect((await me(key.secret)).status).toBe(200);
      const response = await server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner });
      expect(response.status).toBe(200);
      const renewed = ((await response.json()) as { data: KeyWithSecret }).data;
      expect(isWellFormedKey(renewed.secret)).toBe(true);
      expect(renewed.secret).not.toBe(key.secret);
      expect(renewed).toMatchObject({ id: key.id, name: key.name, prefix: renewed.secret.slice(0, 12), status: 'active', renewals_last_24h: 1 });

      await expectError(await me(key.secret), 401, 'invalid_api_key');
      const meResponse = await me(renewed.secret);
      expect(meResponse.status).toBe(200);
      expect(((await meResponse.json()) as { data: { key: { id: string } } }).data.key.id).toBe(key.id);
      // the list shows the new prefix and still no secret
      const listed = (await listKeys()).find((k) => k.id === key.id);
      expect(listed?.prefix).toBe(renewed.prefix);
      expect(listed).not.toHaveProperty('secret');
    });

    it('answers the sixth renewal within 24 hours with 429 renew_limit_exceeded and Retry-After, and allows it once 24 hours have passed', async () => {
      const key = await createKey();
      const renew = () => server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner });
      const firstRenewalAt = clock.now();
      let secret = key.secret;
      for (let n = 1; n <= 5; n++) {
        const response = await renew();
        expect(response.status).toBe(200);
        const data = ((await response.json()) as { data: KeyWithSecret }).data;
        expect(data.renewals_last_24h).toBe(n);
        secret = data.secret;
        clock.advance(HOUR);
      }
      // now five hours after the first renewal
      const limited = await renew();
      const body = await expectError(limited, 429, 'renew_limit_exceeded');
      expect(Number(limited.headers.get('retry-after'))).toBe((firstRenewalAt + 24 * HOUR - clock.now()) / 1000);
      expect(body.error.message).toMatch(/5 times in 24 hours/);
      // the refused renewal left the current secret working
      expect((await me(secret)).status).toBe(200);

      clock.set(firstRenewalAt + 24 * HOUR);
      const response = await renew();
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: KeyView }).data.renewals_last_24h).toBe(5);
    });

    it('renews an expired key when given a new expiry, and asks for one otherwise', async () => {
      const key = await createKey({ expires_at: new Date(clock.now() + HOUR).toISOString() });
      clock.advance(HOUR);
      await expectError(await me(key.secret), 401, 'api_key_expired');
      const withoutExpiry = await expectError(await server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner, body: {} }), 400, 'validation_error');
      expect(withoutExpiry.error.details?.map((d) => d.field)).toEqual(['expires_at']);

      const response = await server.request('POST', `/api/v1/keys/${key.id}/renew`, { token: owner, body: { expires_at: null } });
      expect(response.status).toBe(200);
      const renewed = ((await response.json()) as { data: KeyWithSecret }).data;
      expect(renewed).toMatchObject({ status: 'active', expires_at: null });
      expect((await me(renewed.secret)).status).toBe(200);
    });
  });

  describe('activity and last use', () => {
    it('lists a key\'s last requests, newest first, with time, method, path, status and client IP', async () => {
      const key = await createKey();
      expect((await me(key.secret)).status).toBe(200);
      expect((await server.request('GET', '/api/v1/qr/qr_doesnotexist?x=1', { token: key.secret })).status).toBe(404);

      const response = await server.request('GET', `/api/v1/keys/${key.id}/activity`, { token: owner });
      expect(response.status).toBe(200);
      const entries = ((await response.json()) as { data: Array<{ time: string; method: string; path: string; status: number; ip: string }> }).data;
      expect(entries).toHaveLength(2);
      expect(entries[0]).toMatchObject({ method: 'GET', path: '/api/v1/qr/qr_doesnotexist', status: 404, time: new Date(clock.now()).toISOString() });
      expect(entries[1]).toMatchObject({ method: 'GET', path: '/api/v1/me', status: 200 });
      for (const entry of entries) expect(entry.ip).toMatch(/127\.0\.0\.1$/);
    });

    it('keeps at most the last 100 requests', async () => {
      const key = await createKey();
      for (let batch = 0; batch < 3; batch++) {
        await Promise.all(Array.from({ length: 35 }, async () => expect((await me(key.secret)).status).toBe(200)));
      }
      expect((await server.request('GET', '/api/v1/qr/qr_last', { token: key.secret })).status).toBe(404);
      const response = await server.request('GET', `/api/v1/keys/${key.id}/activity`, { token: owner });
      const entries = ((await response.json()) as { data: Array<{ path: string }> }).data;
      expect(entries).toHaveLength(ACTIVITY_LIMIT);
      expect(entries[0]?.path).toBe('/api/v1/qr/qr_last');
    });

    it('has no activity for a key never used', async () => {
      const key = await createKey();
      const response = await server.request('GET', `/api/v1/keys/${key.id}/activity`, { token: owner });
      expect(((await response.json()) as { data: unknown[] }).data).toEqual([]);
    });

    it('sets last_used_at when a key is used, to within a minute', async () => {
      const key = await createKey();
      const usedAt = clock.now();
      expect((await me(key.secret)).status).toBe(200);
      const lastUsed = async () => (await listKeys()).find((k) => k.id === key.id)?.last_used_at;
      expect(await lastUsed()).toBe(new Date(usedAt).toISOString());

      clock.advance(30_000);
      expect((await me(key.secret)).status).toBe(200);
      expect(await lastUsed()).toBe(new Date(usedAt).toISOString());

      clock.advance(31_000);
      expect((await me(key.secret)).status).toBe(200);
      expect(await lastUsed()).toBe(new Date(clock.now()).toISOString());
    });
  });

  describe('who may manage keys', () => {
    let memberToken: string;
    let adminToken: string;

    beforeAll(async () => {
      const { workspaces } = server.running.app.services;
      const workspace = (await server.running.store.get('workspaces', server.workspace.id)) as WorkspaceRecord;
      await workspaces.addMember(workspace, { email: 'member@example.test', password: 'member-password-1', role: 'member' });
      await workspaces.addMember(workspace, { email: 'admin@example.test', password: 'admin-password-1', role: 'admin' });
      memberToken = await server.login('member@example.test', 'member-password-1');
      adminToken = await server.login('admin@example.test', 'admin-password-1');
    });

    it('answers 403 forbidden_role to a member on every key endpoint', async () => {
      const key = await createKey();
      const calls: Array<[string, string]> = [
        ['GET', '/api/v1/keys'],
        ['POST', '/api/v1/keys'],
        ['POST', `/api/v1/keys/${key.id}/pause`],
        ['POST', `/api/v1/keys/${key.id}/resume`],
        ['POST', `/api/v1/keys/${key.id}/renew`],
        ['DELETE', `/api/v1/keys/${key.id}`],
        ['GET', `/api/v1/keys/${key.id}/activity`],
      ];
      for (const [method, path] of calls) {
        const body = method === 'POST' && path === '/api/v1/keys' ? { name: 'Sneaky', password: 'member-password-1' } : undefined;
        const error = await expectError(await server.request(method, path, { token: memberToken, body }), 403, 'forbidden_role');
        expect(error.error.message).toMatch(/owner/);
      }
      // and nothing changed
      expect((await listKeys()).find((k) => k.id === key.id)?.status).toBe('active');
      expect((await me(key.secret)).status).toBe(200);
    });

    it('lets an admin manage keys, with the admin\'s own password', async () => {
      expect((await listKeys(adminToken)).length).toBeGreaterThan(0);
      await expectError(await server.request('POST', '/api/v1/keys', { token: adminToken, body: { name: 'By-Admin', password: server.ownerPassword } }), 401, 'invalid_password');
      const response = await server.request('POST', '/api/v1/keys', { token: adminToken, body: { name: 'By-Admin', password: 'admin-password-1' } });
      expect(response.status).toBe(201);
    });

    it('answers 401 session_required to an API key on every key endpoint', async () => {
      const key = await createKey();
      for (const [method, path] of [['GET', '/api/v1/keys'], ['POST', '/api/v1/keys'], ['POST', `/api/v1/keys/${key.id}/renew`], ['DELETE', `/api/v1/keys/${key.id}`], ['GET', `/api/v1/keys/${key.id}/activity`]] as const) {
        const error = await expectError(await server.request(method, path, { token: key.secret }), 401, 'session_required');
        expect(error.error.message).toMatch(/log in/);
      }
      expect((await me(key.secret)).status).toBe(200);
    });

    it('answers 401 without credentials', async () => {
      await expectError(await server.request('GET', '/api/v1/keys'), 401, 'missing_authorization');
    });

    it('answers 404 for another workspace\'s key, and leaves that key alone', async () => {
      const other = await server.createWorkspace('Other');
      const foreign = await server.createKey({ workspace: other.workspace });
      for (const [method, path] of [
        ['POST', `/api/v1/keys/${foreign.id}/pause`],
        ['POST', `/api/v1/keys/${foreign.id}/resume`],
        ['POST', `/api/v1/keys/${foreign.id}/renew`],
        ['DELETE', `/api/v1/keys/${foreign.id}`],
        ['GET', `/api/v1/keys/${foreign.id}/activity`],
      ] as const) {
        await expectError(await server.request(method, path, { token: owner }), 404, 'not_found');
      }
      expect((await listKeys()).map((k) => k.id)).not.toContain(foreign.id);
      expect((await me(foreign.secret)).status).toBe(200);
      // and the other workspace's owner sees only their own keys
      const otherToken = await server.login(other.email, other.password);
      expect((await listKeys(otherToken)).map((k) => k.id)).toEqual([foreign.id]);
    });

    it('answers 404 for a key id that does not exist', async () => {
      await expectError(await server.request('POST', '/api/v1/keys/key_nope/pause', { token: owner }), 404, 'not_found');
    });
  });
});

describe('the plan\'s key limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ plan: 'team' });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it('answers 403 key_limit_reached at the plan\'s max keys, and revoking one makes room', async () => {
    const token = await server.login();
    const create = (name: string) => server.request('POST', '/api/v1/keys', { token, body: { name, password: server.ownerPassword } });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const response = await create(`Key-${n}`);
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { data: KeyView }).data.id);
    }
    const error = await expectError(await create('Key-6'), 403, 'key_limit_reached');
    expect(error.error.message).toMatch(/Team plan allows 5 API keys/);

    expect((await server.request('DELETE', `/api/v1/keys/${ids[0]}`, { token })).status).toBe(200);
    expect((await create('Key-6')).status).toBe(201);
    await expectError(await create('Key-7'), 403, 'key_limit_reached');
  });
});
