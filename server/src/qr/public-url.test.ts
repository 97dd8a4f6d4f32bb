import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, json } from '../../../test/helpers/qr.js';

// No QRFLOW_PUBLIC_URL and PORT=0: short links must name the port the server really listens on.
let srv: TestServer;
let token: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = (await srv.createKey()).secret;
});

afterAll(() => srv.cleanup());

describe('the public URL without QRFLOW_PUBLIC_URL', () => {
  it('builds short links and the OpenAPI server from the address actually bound', async () => {
    const port = new URL(srv.baseUrl).port;
    expect(port).not.toBe('0');
    const qr = await createQr(srv, token, { name: 'Port', type: 'url', mode: 'dynamic', destination_url: 'https://example.org/landing' });
    expect(qr.short_url).toBe(`${srv.baseUrl}/r/${qr.short_code}`);

    const followed = await fetch(qr.short_url as string, { redirect: 'manual' });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toBe('https://example.org/landing');

    const openapi = await json<{ servers: { url: string }[] }>(await srv.request('GET', '/openapi.json'));
    expect(openapi.servers[0]?.url).toBe(srv.baseUrl);
  });
});
