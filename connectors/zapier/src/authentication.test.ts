import { describe, expect, it } from 'vitest';

import { API_KEY, app, api, run, authData, serverError, useNock } from './test-support/harness.js';

useNock();

const identity = {
  workspace: { id: 'ws_1', name: 'Acme Marketing', plan: 'team', plan_status: 'active' },
  key: { id: 'key_1', name: 'Zapier-Integration', prefix: 'qr_live_AbCd', scopes: ['qr:read', 'qr:write'] },
  user: null,
};

describe('authentication', () => {
  it('tests the connection with GET /api/v1/me', async () => {
    api().get('/api/v1/me').reply(200, { data: identity });
    const result = await run(app.authentication.test, { authData });
    expect(result).toEqual(identity);
  });

  it('accepts a base URL with a trailing slash or the /api/v1 suffix', async () => {
    api().get('/api/v1/me').twice().reply(200, { data: identity });
    await run(app.authentication.test, { authData: { ...authData, base_url: 'https://qr.example.com/' } });
    await run(app.authentication.test, { authData: { ...authData, base_url: ' https://qr.example.com/api/v1/ ' } });
  });

  it('refuses a plain-http server address before sending the key anywhere', async () => {
    await expect(
      run(app.authentication.test, { authData: { ...authData, base_url: 'http://qr.example.com' } }),
    ).rejects.toThrow(/must start with https:\/\//);
  });

  it('reports a rejected key with the server’s message', async () => {
    api().get('/api/v1/me').reply(401, serverError('api_key_revoked', 'This API key was revoked.'));
    await expect(run(app.authentication.test, { authData })).rejects.toThrow(/This API key was revoked\./);
  });

  it('labels the connection with the workspace and key names, never the key', async () => {
    const label = await run(app.authentication.connectionLabel, { authData, inputData: identity });
    expect(label).toBe('Acme Marketing (key: Zapier-Integration)');
    expect(label).not.toContain(API_KEY);
    expect(label).not.toContain('qr_live_');
  });

  it('labels a test-mode connection "(test mode)"', async () => {
    const testIdentity = { ...identity, key: { ...identity.key, name: 'Zapier-Sandbox', prefix: 'qr_test_AbCd', mode: 'test' }, mode: 'test' };
    const label = await run(app.authentication.connectionLabel, { authData, inputData: testIdentity });
    expect(label).toBe('Acme Marketing (key: Zapier-Sandbox) (test mode)');
    const live = await run(app.authentication.connectionLabel, { authData, inputData: { ...identity, mode: 'live' } });
    expect(live).toBe('Acme Marketing (key: Zapier-Integration)');
  });

  it('asks for a password-type API key and an https server URL, each with help text', () => {
    const fields = app.authentication.fields ?? [];
    expect(fields.map((field) => field.key).sort()).toEqual(['api_key', 'base_url']);
    const apiKey = fields.find((field) => field.key === 'api_key');
    expect(apiKey?.type).toBe('password');
    expect(apiKey?.helpText).toMatch(/API Settings/);
    expect(apiKey?.helpText).toMatch(/npx qrflow keys create/);
    expect(apiKey?.helpText).toMatch(/Zapier-Integration/);
    expect(fields.find((field) => field.key === 'base_url')?.helpText).toMatch(/https/);
  });
});
