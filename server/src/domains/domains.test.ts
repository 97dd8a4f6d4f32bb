import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, USER_AGENTS } from '../../../test/helpers/qr.js';
import type { QrView } from '../qr/schemas.js';
import type { DomainView } from './schemas.js';
import { checkHostname, hostOfHeader } from './hostname.js';

/** The fake DNS: TXT records by name; a name mapped to an Error makes the lookup fail with it. */
const dns = new Map<string, string[][] | Error>();
const resolveTxt = async (name: string): Promise<string[][]> => {
  const answer = dns.get(name);
  if (answer instanceof Error) throw answer;
  if (!answer) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return answer;
};

const PUBLIC_URL = 'https://qr.example.com';
let srv: TestServer;
let token: string;
let plansDir: string;

beforeAll(async () => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-domains-'));
  const plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(plansFile, JSON.stringify({ two_domains: { name: 'Two domains', api_access: true, requests_per_minute: 6000, monthly_api_calls: 100_000, monthly_image_credits: 100, max_qr_codes: 1000, max_api_keys: 20, max_domains: 2 } }));
  srv = await startTestServer({ plan: 'business', resolveTxt, env: { QRFLOW_PUBLIC_URL: PUBLIC_URL, QRFLOW_PLANS_FILE: plansFile } });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv?.cleanup();
  fs.rmSync(plansDir, { recursive: true, force: true });
});

async function addDomain(hostname: string, as = token): Promise<DomainView> {
  const response = await srv.request('POST', '/api/v1/domains', { token: as, body: { hostname } });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return (JSON.parse(text) as { data: DomainView }).data;
}

/** Adds a domain, publishes its TXT record and verifies it. */
async function verifiedDomain(hostname: string, as = token): Promise<DomainView> {
  const domain = await addDomain(hostname, as);
  dns.set(domain.verification.name, [[domain.verification.value]]);
  const response = await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token: as });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await json<{ data: DomainView }>(response)).data;
}

/** A GET with a Host header of our choosing (fetch cannot set Host). */
function getWithHost(host: string, urlPath: string): Promise<{ status: number; location: string | undefined; body: string; type: string | undefined }> {
  const url = new URL(srv.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: urlPath, method: 'GET', headers: { host, 'user-agent': USER_AGENTS.iphone } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hostnames', () => {
  it('accepts public DNS names, lower-cased, in punycode, without a trailing dot', () => {
    expect(checkHostname('Go.Acme.COM.', 'qr.example.com')).toEqual({ hostname: 'go.acme.com' });
    expect(checkHostname('bücher.example.de', 'qr.example.com')).toEqual({ hostname: 'xn--bcher-kva.example.de' });
  });

  it.each(['localhost', 'a.localhost', '127.0.0.1', '[::1]', '::1', '10.0.0.1', 'printer.local', 'db.internal', 'https://go.acme.com', 'go.acme.com:8080', 'go.acme.com/x', 'com', '-bad.acme.com', 'qr.example.com', 'a..b.com', 'x'.repeat(64) + '.com'])(
    'refuses %s',
    (input) => {
      expect(checkHostname(input, 'qr.example.com')).toHaveProperty('problem');
    },
  );

  it('reads the host of a Host header without its port', () => {
    expect(hostOfHeader('Go.Acme.com:443')).toBe('go.acme.com');
    expect(hostOfHeader('[::1]:8080')).toBe('[::1]');
    expect(hostOfHeader('go.acme.com.')).toBe('go.acme.com');
    expect(hostOfHeader(undefined)).toBe('');
  });
});

describe('adding and verifying a domain', () => {
  it('answers the TXT record to publish, pending until verified', async () => {
    const domain = await addDomain('Links.Verify-Right.com');
    expect(domain).toMatchObject({ hostname: 'links.verify-right.com', status: 'pending', verification: { type: 'TXT', name: '_qrflow.links.verify-right.com' }, verified_at: null });
    expect(domain.verification.value).toMatch(/^qrflow-verify=[0-9A-Za-z]{32}$/);
    expect(domain.id).toMatch(/^dom_/);
    const listed = await json<{ data: DomainView[] }>(await srv.request('GET', '/api/v1/domains', { token }));
    expect(listed.data.map((d) => d.id)).toContain(domain.id);
  });

  it('verifies a domain whose TXT record holds its value (among others, split into chunks)', async () => {
    const domain = await addDomain('go.verify-chunks.com');
    const value = domain.verification.value;
    dns.set(domain.verification.name, [['v=spf1 -all'], [value.slice(0, 10), value.slice(10)]]);
    const response = await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token });
    expect(response.status).toBe(200);
    expect((await json<{ data: DomainView }>(response)).data).toMatchObject({ status: 'verified', verified_at: expect.any(String) });
  });

  it('does not verify a wrong TXT value (409 domain_not_verified) and stays pending', async () => {
    const domain = await addDomain('go.verify-wrong.com');
    dns.set(domain.verification.name, [['qrflow-verify=someone-elses-value']]);
    const body = await expectError(await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token }), 409, 'domain_not_verified');
    expect(body.error.message).toContain(domain.verification.value);
    const listed = await json<{ data: DomainView[] }>(await srv.request('GET', '/api/v1/domains', { token }));
    expect(listed.data.find((d) => d.id === domain.id)?.status).toBe('pending');
  });

  it('does not verify without a TXT record (409), and says DNS failed when it cannot be asked (503)', async () => {
    const domain = await addDomain('go.verify-missing.com');
    const missing = await expectError(await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token }), 409, 'domain_not_verified');
    expect(missing.error.message).toContain('no TXT record');
    dns.set(domain.verification.name, Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' }));
    const unavailable = await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token });
    expect(unavailable.headers.get('retry-after')).toBe('60');
    await expectError(unavailable, 503, 'dns_unavailable');
    dns.set(domain.verification.name, [[domain.verification.value]]);
    expect((await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token })).status).toBe(200);
  });

  it('refuses bad hostnames, the server\'s own host, and a hostname already taken (any case)', async () => {
    for (const hostname of ['localhost', '192.168.1.1', 'qr.example.com', 'https://x.com/']) {
      await expectError(await srv.request('POST', '/api/v1/domains', { token, body: { hostname } }), 400);
    }
    await addDomain('go.taken-twice.com');
    await expectError(await srv.request('POST', '/api/v1/domains', { token, body: { hostname: 'GO.taken-twice.com' } }), 409, 'domain_exists');
    const other = await srv.createWorkspace('Domain rival', 'business');
    const otherKey = (await srv.createKey({ workspace: other.workspace })).secret;
    await expectError(await srv.request('POST', '/api/v1/domains', { token: otherKey, body: { hostname: 'go.taken-twice.com' } }), 409, 'domain_taken');
  });

  it("lets another workspace take over a claim left unverified for a week, not a younger one", async () => {
    const squatter = await srv.createWorkspace('Domain squatter', 'business');
    const squatterKey = (await srv.createKey({ workspace: squatter.workspace })).secret;
    const claim = await addDomain('go.squatted.com', squatterKey);
    await expectError(await srv.request('POST', '/api/v1/domains', { token, body: { hostname: 'go.squatted.com' } }), 409, 'domain_taken');
    const record = (await srv.running.store.get('domains', claim.id))!;
    await srv.running.store.commit([{ collection: 'domains', put: { ...record, created_at: new Date(Date.now() - 8 * 24 * 3600_000).toISOString() } }]);
    const mine = await addDomain('go.squatted.com');
    expect(mine.id).not.toBe(claim.id);
    await expectError(await srv.request('POST', `/api/v1/domains/${claim.id}/verify`, { token: squatterKey }), 404);
    expect((await srv.request('DELETE', `/api/v1/domains/${mine.id}`, { token })).status).toBe(200);
  });

  it("keeps workspaces' domains apart: another workspace's domain is a 404", async () => {
    const domain = await addDomain('go.private-domain.com');
    const other = await srv.createWorkspace('Domain stranger', 'business');
    const otherKey = (await srv.createKey({ workspace: other.workspace })).secret;
    await expectError(await srv.request('POST', `/api/v1/domains/${domain.id}/verify`, { token: otherKey }), 404);
    await expectError(await srv.request('DELETE', `/api/v1/domains/${domain.id}`, { token: otherKey }), 404);
    const listed = await json<{ data: DomainView[] }>(await srv.request('GET', '/api/v1/domains', { token: otherKey }));
    expect(listed.data).toEqual([]);
    // nor can its codes name it
    const response = await srv.request('POST', '/api/v1/qr', { token: otherKey, body: { name: 'Squat', destination_url: 'https://example.com/', domain: 'go.private-domain.com' } });
    await expectError(response, 400, 'domain_not_available');
  });

  it('needs the domains:write scope to manage domains, and qr:read to list them', async () => {
    const readOnly = (await srv.createKey({ scopes: ['qr:read', 'qr:write'] })).secret;
    await expectError(await srv.request('POST', '/api/v1/domains', { token: readOnly, body: { hostname: 'go.no-scope.com' } }), 403);
    expect((await srv.request('GET', '/api/v1/domains', { token: readOnly })).status).toBe(200);
  });
});

describe('plan limits on domains', () => {
  it('allows no domain on Free, and the plan\'s number on others (pending ones count)', async () => {
    const free = await srv.createWorkspace('Domain free', 'free');
    const freeSession = await srv.login(free.email, free.password);
    const refused = await expectError(await srv.request('POST', '/api/v1/domains', { token: freeSession, body: { hostname: 'go.free-plan.com' } }), 403, 'domain_limit_reached');
    expect(refused.error.message).toContain('Free');
    const two = await srv.createWorkspace('Domain two', 'two_domains');
    const twoKey = (await srv.createKey({ workspace: two.workspace })).secret;
    await addDomain('a.two-limit.com', twoKey);
    const second = await addDomain('b.two-limit.com', twoKey);
    await expectError(await srv.request('POST', '/api/v1/domains', { token: twoKey, body: { hostname: 'c.two-limit.com' } }), 403, 'domain_limit_reached');
    expect((await srv.request('DELETE', `/api/v1/domains/${second.id}`, { token: twoKey })).status).toBe(200);
    await addDomain('c.two-limit.com', twoKey);
  });
});

describe('codes on custom domains', () => {
  it('serves a code at https://<domain>/<code>, and never through another host or /r/', async () => {
    await verifiedDomain('go.isolation-a.com');
    await verifiedDomain('go.isolation-b.com');
    const qr = await createQr(srv, token, { name: 'On A', destination_url: 'https://example.com/on-a', domain: 'GO.isolation-a.com' });
    expect(qr.domain).toBe('go.isolation-a.com');
    expect(qr.short_url).toBe(`https://go.isolation-a.com/${qr.short_code}`);
    const hit = await getWithHost('go.isolation-a.com', `/${qr.short_code}`);
    expect(hit).toMatchObject({ status: 302, location: 'https://example.com/on-a' });
    // the scan is recorded for the code, as on /r/
    await srv.running.app.services.recorder.drain();
    expect((await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${qr.id}`, { token }))).data.scan_count).toBe(1);
    expect((await getWithHost('GO.ISOLATION-A.COM:443', `/${qr.short_code}?utm=x`)).status).toBe(302);
    expect((await getWithHost('go.isolation-b.com', `/${qr.short_code}`)).status).toBe(404);
    expect((await getWithHost('go.isolation-a.com', `/r/${qr.short_code}`)).status).toBe(404);
    expect((await getWithHost('qr.example.com', `/r/${qr.short_code}`)).status).toBe(404);
    expect((await fetch(`${srv.baseUrl}/r/${qr.short_code}`, { redirect: 'manual' })).status).toBe(404);
    // the API and console are not served on a customer's domain
    const api = await getWithHost('go.isolation-a.com', '/api/v1/me');
    expect(api.status).toBe(404);
    expect(api.type).toContain('text/html');
  });

  it('encodes the custom short link in the image', async () => {
    const qr = (await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token }))).data.find((q) => q.domain === 'go.isolation-a.com') as QrView;
    const image = await srv.request('GET', `/api/v1/qr/${qr.id}/image?format=svg&size=128`, { token });
    expect(image.status).toBe(200);
    // the payload is what the service encodes; the SVG itself is checked by decoding in images tests
    const { encodedPayload } = await import('../qr/payload.js');
    const record = await srv.running.store.get('qrcodes', qr.id);
    expect(encodedPayload(record!, `https://go.isolation-a.com/${qr.short_code}`)).toBe(qr.short_url);
  });

  it('keeps /r/<code> on the default host working as before', async () => {
    const qr = await createQr(srv, token, { name: 'Default host', destination_url: 'https://example.com/default' });
    expect(qr).toMatchObject({ domain: null, short_url: `${PUBLIC_URL}/r/${qr.short_code}` });
    expect((await fetch(`${srv.baseUrl}/r/${qr.short_code}`, { redirect: 'manual' })).headers.get('location')).toBe('https://example.com/default');
  });

  it('answers a 404 page on a named host that is neither the public URL\'s nor a custom domain; addresses are the default host', async () => {
    const qr = await createQr(srv, token, { name: 'Hosts', destination_url: 'https://example.com/hosts' });
    const own = await getWithHost('qr.example.com', `/r/${qr.short_code}`);
    expect(own).toMatchObject({ status: 302, location: 'https://example.com/hosts' });
    for (const address of ['127.0.0.1:8080', 'localhost', '[::1]:8080', '10.0.0.7']) {
      expect((await getWithHost(address, `/r/${qr.short_code}`)).status, address).toBe(302);
    }
    for (const stranger of ['unknown.example.org', 'qr.example.com.evil.test']) {
      const answer = await getWithHost(stranger, `/r/${qr.short_code}`);
      expect(answer.status, stranger).toBe(404);
      expect(answer.type).toMatch(/text\/html/);
      expect(answer.location).toBeUndefined();
    }
  });

  it('answers a 404 page on a domain that is not verified, and refuses codes on it', async () => {
    await addDomain('go.still-pending.com');
    const page = await getWithHost('go.still-pending.com', '/abcdefg');
    expect(page.status).toBe(404);
    expect(page.type).toContain('text/html');
    await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { name: 'Early', destination_url: 'https://example.com/', domain: 'go.still-pending.com' } }), 400, 'domain_not_available');
    await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { name: 'Static', mode: 'static', destination_url: 'https://example.com/', domain: 'go.isolation-a.com' } }), 400);
  });

  it('lets two codes have one short code on two domains, each answering on its own', async () => {
    const first = await createQr(srv, token, { name: 'Twin A', destination_url: 'https://example.com/twin-a', domain: 'go.isolation-a.com' });
    // the same short code on the other domain: a move keeps it when it is free there
    const second = await createQr(srv, token, { name: 'Twin B', destination_url: 'https://example.com/twin-b', domain: 'go.isolation-a.com' });
    const moved = await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${second.id}`, { token, body: { domain: 'go.isolation-b.com' } }));
    expect(moved.data.short_code).toBe(second.short_code);
    // put the twin in place through the store: a code on B with A's first short code
    const record = (await srv.running.store.get('qrcodes', second.id))!;
    await srv.running.store.commit([{ collection: 'qrcodes', put: { ...record, short_code: first.short_code, route_key: `go.isolation-b.com/${first.short_code}` } }]);
    expect((await getWithHost('go.isolation-a.com', `/${first.short_code}`)).location).toBe('https://example.com/twin-a');
    expect((await getWithHost('go.isolation-b.com', `/${first.short_code}`)).location).toBe('https://example.com/twin-b');
    // and the store refuses a second code with the same (domain, short code)
    await expect(srv.running.store.commit([{ collection: 'qrcodes', put: { ...record, id: 'qr_twin_copy', route_key: `go.isolation-b.com/${first.short_code}` } }])).rejects.toThrow();
  });

  it('moves a code to another domain and back to the default host: the old link stops (410)', async () => {
    const qr = await createQr(srv, token, { name: 'Mover', destination_url: 'https://example.com/mover', domain: 'go.isolation-a.com' });
    const moved = (await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { domain: 'go.isolation-b.com' } }))).data;
    expect(moved.short_url).toBe(`https://go.isolation-b.com/${moved.short_code}`);
    expect((await getWithHost('go.isolation-b.com', `/${moved.short_code}`)).status).toBe(302);
    expect((await getWithHost('go.isolation-a.com', `/${qr.short_code}`)).status).toBe(410);
    const home = (await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { domain: null } }))).data;
    expect(home).toMatchObject({ domain: null, short_url: `${PUBLIC_URL}/r/${home.short_code}` });
    expect((await fetch(`${srv.baseUrl}/r/${home.short_code}`, { redirect: 'manual' })).status).toBe(302);
    expect((await getWithHost('go.isolation-b.com', `/${moved.short_code}`)).status).toBe(410);
    // and back to A: its own old link there works again
    const back = (await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { domain: 'go.isolation-a.com' } }))).data;
    expect(back.short_code).toBe(qr.short_code);
    expect((await getWithHost('go.isolation-a.com', `/${qr.short_code}`)).status).toBe(302);
    await expectError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { domain: 'go.still-pending.com' } }), 400, 'domain_not_available');
  });

  it('refuses to remove a domain while codes use it (409), and removes it once they are gone', async () => {
    await verifiedDomain('go.in-use.com');
    const domains = (await json<{ data: DomainView[] }>(await srv.request('GET', '/api/v1/domains', { token }))).data;
    const domain = domains.find((d) => d.hostname === 'go.in-use.com') as DomainView;
    const qr = await createQr(srv, token, { name: 'User', destination_url: 'https://example.com/user', domain: 'go.in-use.com' });
    await expectError(await srv.request('DELETE', `/api/v1/domains/${domain.id}`, { token }), 409, 'domain_in_use');
    expect((await srv.request('DELETE', `/api/v1/qr/${qr.id}`, { token })).status).toBe(200);
    expect((await getWithHost('go.in-use.com', `/${qr.short_code}`)).status).toBe(410);
    expect((await srv.request('DELETE', `/api/v1/domains/${domain.id}`, { token })).status).toBe(200);
    // the host is now unknown: its requests go on to the API as any other host's
    expect((await getWithHost('go.in-use.com', `/${qr.short_code}`)).status).toBe(404);
  });

  it('is shared by test mode: a test key lists the domain and makes test codes on it, apart from live ones', async () => {
    const testKey = (await srv.running.app.services.keys.create(srv.workspace, { name: 'Domain sandbox', mode: 'test' }, 'test')).secret;
    const listed = await json<{ data: DomainView[] }>(await srv.request('GET', '/api/v1/domains', { token: testKey }));
    expect(listed.data.map((d) => d.hostname)).toContain('go.isolation-a.com');
    const qr = await createQr(srv, testKey, { name: 'Test on A', destination_url: 'https://example.com/test-on-a', domain: 'go.isolation-a.com' });
    expect(qr).toMatchObject({ livemode: false, short_url: `https://go.isolation-a.com/${qr.short_code}` });
    expect(qr.short_code).toMatch(/^test/);
    expect((await getWithHost('go.isolation-a.com', `/${qr.short_code}`)).location).toBe('https://example.com/test-on-a');
  });

  it('keeps domains and their codes across a restart', async () => {
    const qr = await createQr(srv, token, { name: 'Durable', destination_url: 'https://example.com/durable', domain: 'go.isolation-b.com' });
    srv = await srv.restart();
    expect((await getWithHost('go.isolation-b.com', `/${qr.short_code}`)).location).toBe('https://example.com/durable');
  });
});

describe('QRFLOW_DOMAIN_VERIFICATION=off', () => {
  it('verifies a domain at once', async () => {
    const single = await startTestServer({ resolveTxt, env: { QRFLOW_DOMAIN_VERIFICATION: 'off' } });
    try {
      const key = (await single.createKey()).secret;
      const response = await single.request('POST', '/api/v1/domains', { token: key, body: { hostname: 'links.single-tenant.com' } });
      expect(response.status).toBe(201);
      expect((await json<{ data: DomainView }>(response)).data.status).toBe('verified');
      expect((await single.request('POST', '/api/v1/qr', { token: key, body: { name: 'x', destination_url: 'https://example.com/', domain: 'links.single-tenant.com' } })).status).toBe(201);
    } finally {
      await single.cleanup();
    }
  });
});
