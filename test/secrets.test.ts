import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Every file under a directory, recursively. */
function filesUnder(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

describe('secrets at rest and in logs', () => {
  let server: TestServer;

  afterAll(async () => {
    await server.cleanup();
  });

  it('never writes a key secret, session token or password to the data files or the logs', async () => {
    server = await startTestServer();
    const secrets = new Map<string, string>(); // value -> what it is
    const json = async <T>(response: Response): Promise<T> => {
      expect(response.status).toBeLessThan(300);
      return ((await response.json()) as { data: T }).data;
    };

    // passwords: the owner's, a member's, and wrong guesses
    secrets.set(server.ownerPassword, 'owner password');
    const memberPassword = 'member-password-xyz-1';
    const workspace = (await server.running.store.get('workspaces', server.workspace.id))!;
    await server.running.app.services.workspaces.addMember(workspace, { email: 'member@example.test', password: memberPassword, role: 'admin' });
    secrets.set(memberPassword, 'member password');
    const wrongPassword = 'wrong-password-guess-42';
    secrets.set(wrongPassword, 'wrong password');
    expect((await server.request('POST', '/api/v1/auth/login', { body: { email: server.ownerEmail, password: wrongPassword } })).status).toBe(401);
    expect((await server.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.test', password: wrongPassword } })).status).toBe(401);

    // sessions, one of them ended
    const ownerSession = await server.login();
    const memberSession = await server.login('member@example.test', memberPassword);
    const endedSession = await server.login();
    secrets.set(ownerSession, 'owner session');
    secrets.set(memberSession, 'member session');
    secrets.set(endedSession, 'ended session');
    expect((await server.request('POST', '/api/v1/auth/logout', { token: endedSession })).status).toBe(200);

    // keys: through the helper, through the API (with the password again), one renewed
    const helperKey = await server.createKey({ name: 'Helper-Key' });
    secrets.set(helperKey.secret, 'key from the helper');
    const apiKey = await json<{ id: string; secret: string }>(await server.request('POST', '/api/v1/keys', { token: ownerSession, body: { name: 'Api-Key', password: server.ownerPassword } }));
    secrets.set(apiKey.secret, 'key from the API');
    const adminKey = await json<{ id: string; secret: string }>(await server.request('POST', '/api/v1/keys', { token: memberSession, body: { name: 'Admin-Key', password: memberPassword } }));
    secrets.set(adminKey.secret, 'key created by the admin');
    const renewed = await json<{ secret: string }>(await server.request('POST', `/api/v1/keys/${apiKey.id}/renew`, { token: ownerSession }));
    secrets.set(renewed.secret, 'renewed key');

    // use them all, including in query strings and on failing requests
    for (const secret of [helperKey.secret, adminKey.secret, renewed.secret]) {
      expect((await server.request('GET', '/api/v1/me', { token: secret })).status).toBe(200);
      expect((await server.request('GET', `/api/v1/me?api_key=${secret}`, { token: secret })).status).toBe(200);
      // a route with a strict query answers 400, and is logged all the same
      expect((await server.request('GET', `/api/v1/qr?limit=5&api_key=${secret}&token=${secret}`, { token: secret })).status).toBe(400);
      expect((await server.request('GET', `/nowhere?api_key=${secret}`)).status).toBe(404);
    }
    expect((await server.request('GET', '/api/v1/me', { token: apiKey.secret })).status).toBe(401); // the renewed-away secret
    expect((await server.request('GET', `/api/v1/keys?token=${ownerSession}`, { token: ownerSession })).status).toBe(200);
    expect((await server.request('GET', '/api/v1/me', { token: endedSession })).status).toBe(401);
    expect((await server.request('GET', `/api/v1/me?password=${encodeURIComponent(server.ownerPassword)}&secret=${memberSession}`, { token: memberSession })).status).toBe(200);
    // a malformed login body carrying a password
    expect((await server.request('POST', '/api/v1/auth/login', { body: `{"email":"${server.ownerEmail}","password":"${server.ownerPassword}"` })).status).toBe(400);

    // the logs were written: the redaction is what keeps the secrets out
    const logs = server.logs();
    expect(logs).toContain('api_key=[redacted]');
    expect(logs).toContain('token=[redacted]');
    expect(logs.split('\n').filter(Boolean).length).toBeGreaterThan(20);

    const dataDir = server.dataDir;
    await server.stop();
    const files = filesUnder(dataDir);
    expect(files).toContain(server.dataFile);
    const stored = files.map((file) => ({ file, text: fs.readFileSync(file, 'latin1') }));
    // the data is there: keys by prefix and hash, the members by email
    const allStored = stored.map((entry) => entry.text).join('\n');
    expect(allStored).toContain(renewed.secret.slice(0, 12));
    expect(allStored).toContain('member@example.test');

    const found: string[] = [];
    for (const [secret, what] of secrets) {
      // the full value, and the part after any prefix (in case a prefix were stripped before writing)
      const needles = [secret, secret.replace(/^(qr_live_|qrs_)/, '')];
      for (const needle of needles) {
        for (const { file, text } of stored) if (text.includes(needle)) found.push(`${what} in ${path.basename(file)}`);
        if (logs.includes(needle)) found.push(`${what} in the logs`);
      }
    }
    expect(found).toEqual([]);
  });
});
