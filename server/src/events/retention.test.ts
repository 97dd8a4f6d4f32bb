import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.cleanup();
  srv = undefined;
});

describe('retention sweeps', () => {
  it('drops stored events older than 30 days and keeps newer ones', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    srv = await startTestServer({ clock });
    const { secret } = await srv.createKey();
    const create = (name: string) => srv!.request('POST', '/api/v1/qr', { token: secret, body: { name, destination_url: 'https://example.com/' } });
    expect((await create('old')).status).toBe(201);
    clock.advance(31 * 24 * 3600_000);
    expect((await create('new')).status).toBe(201);
    const dropped = await srv.running.app.services.events.sweep();
    expect(dropped).toBe(1);
    const feed = (await (await srv.request('GET', '/api/v1/events?type=qr.created', { token: secret })).json()) as { data: Array<{ data: { name: string } }> };
    expect(feed.data.map((event) => event.data.name)).toEqual(['new']);
  });

  it('forgets expired sessions, which then answer 401', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    srv = await startTestServer({ clock });
    const token = await srv.login();
    expect((await srv.request('GET', '/api/v1/keys', { token })).status).toBe(200);
    clock.advance(8 * 24 * 3600_000);
    expect(await srv.running.app.services.sessions.sweep()).toBe(1);
    const response = await srv.request('GET', '/api/v1/keys', { token });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_session');
  });
});
