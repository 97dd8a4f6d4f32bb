/**
 * The Zapier app against a real qrflow server (no nock): connect, create, find, list, subscribe the REST hooks,
 * update (and receive qr.updated), image, scan (and receive qr.scanned), analytics, unsubscribe, delete.
 *
 * Zapier's own services are the one thing that cannot be real here: z.cursor and z.stashFile call Zapier's
 * RPC API and file storage. A small local HTTP server plays both (core reads ZAPIER_BASE_ENDPOINT once, at
 * import time, so the app is imported only after it is listening).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './helpers/server.js';

const helperExists = fs.existsSync(new URL('./helpers/server.ts', import.meta.url));

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP server on 127.0.0.1:0 that records what it receives and answers with `respond`. */
async function listen(respond: (request: Received, url: string) => { status: number; body?: unknown }) {
  const received: (Received & { url: string })[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) };
      received.push(entry);
      const { status, body } = respond(entry, entry.url);
      if (body === undefined) {
        response.writeHead(status).end();
      } else {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Stands in for Zapier's RPC (cursor store, upload slots) and its file storage. */
async function startFakeZapier() {
  const cursors = new Map<string, string>();
  let origin = '';
  const fake = await listen((request, url) => {
    if (url === '/platform/rpc/cli') {
      const { id, method, params, storeKey } = JSON.parse(request.body.toString('utf8')) as {
        id: string;
        method: string;
        params: string[];
        storeKey: string;
      };
      if (method === 'get_cursor') return { status: 200, body: { id, result: cursors.get(storeKey) ?? null } };
      if (method === 'set_cursor') {
        cursors.set(storeKey, String(params[0]));
        return { status: 200, body: { id, result: null } };
      }
      if (method === 'get_presigned_upload_post_data') {
        return { status: 200, body: { id, result: { url: `${origin}/upload/`, fields: { key: 'stash/qr-image' } } } };
      }
      return { status: 200, body: { id, error: `unexpected RPC ${method}` } };
    }
    if (url === '/upload/') return { status: 204 };
    return { status: 404 };
  });
  origin = fake.url;
  return fake;
}

/** The file part of a multipart/form-data upload. */
function uploadedFile(upload: Received): { filename: string; contentType: string; bytes: Buffer } {
  const boundary = /boundary=(.+)$/.exec(String(upload.headers['content-type']))?.[1];
  if (!boundary) throw new Error('not a multipart upload');
  const parts = upload.body.toString('latin1').split(`--${boundary}`);
  const file = parts.find((part) => part.includes('name="file"'));
  if (!file) throw new Error('no file part in the upload');
  const headerEnd = file.indexOf('\r\n\r\n');
  const head = file.slice(0, headerEnd);
  return {
    filename: /filename="([^"]+)"/.exec(head)?.[1] ?? '',
    contentType: /Content-Type: (\S+)/i.exec(head)?.[1] ?? '',
    bytes: Buffer.from(file.slice(headerEnd + 4, file.length - 2), 'latin1'),
  };
}

/** A GET with a Host header of our choosing (fetch cannot set Host), for links on a custom domain. */
function getWithHost(baseUrl: string, host: string, urlPath: string): Promise<{ status: number; location: string | undefined }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path: urlPath, method: 'GET', headers: { host } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!helperExists)('Zapier app against a real qrflow server', () => {
  let srv: TestServer;
  let fakeZapier: Awaited<ReturnType<typeof startFakeZapier>>;
  let receiver: Awaited<ReturnType<typeof listen>>;
  let harness: typeof import('../connectors/zapier/src/test-support/app.js');
  let authData: { base_url: string; api_key: string };
  let run: (typeof harness)['run'];
  let app: (typeof harness)['app'];
  const savedEnv = { ...process.env };

  // State handed from one step to the next, in order.
  let code: { id: string; name: string; short_code: string; short_url: string; destination_url: string };
  let subscription: { id: string; secret: string };
  let updatedSubscription: { id: string; secret: string };

  beforeAll(async () => {
    fakeZapier = await startFakeZapier();
    receiver = await listen(() => ({ status: 200, body: { status: 'ok' } }));
    process.env.ZAPIER_BASE_ENDPOINT = fakeZapier.url;
    process.env.ZAPIER_DEPLOY_KEY = 'e2e-deploy-key';
    const { startTestServer } = await import('./helpers/server.js');
    // Custom domains are verified at once here: their DNS check has its own tests in server/src/domains/.
    srv = await startTestServer({ env: { QRFLOW_DOMAIN_VERIFICATION: 'off' } });
    const key = await srv.createKey({ name: 'Zapier-Integration' });
    harness = await import('../connectors/zapier/src/test-support/app.js');
    ({ run, app } = harness);
    authData = { base_url: `${srv.baseUrl}/`, api_key: key.secret };
  });

  afterAll(async () => {
    process.env = savedEnv;
    await srv?.cleanup();
    await receiver?.close();
    await fakeZapier?.close();
  });

  it('connects: the auth test reads /api/v1/me and labels the connection without the key', async () => {
    const identity = await run(app.authentication.test, { authData });
    expect(identity).toMatchObject({ key: { name: 'Zapier-Integration' } });
    const label = await run<string>(app.authentication.connectionLabel, { authData, inputData: identity });
    expect(label).toContain('Zapier-Integration');
    expect(label).not.toContain('(test mode)');
    expect(label).not.toContain(authData.api_key);
  });

  it('labels a connection made with a test-mode key "(test mode)", and that key sees only test data', async () => {
    const { secret } = await srv.running.app.services.keys.create(srv.workspace, { name: 'Zapier-Sandbox', mode: 'test' }, 'test');
    const testAuth = { ...authData, api_key: secret };
    const identity = await run<{ mode: string; key: { mode: string } }>(app.authentication.test, { authData: testAuth });
    expect(identity).toMatchObject({ mode: 'test', key: { name: 'Zapier-Sandbox', mode: 'test' } });
    const label = await run<string>(app.authentication.connectionLabel, { authData: testAuth, inputData: identity });
    expect(label).toBe(`${srv.workspace.name} (key: Zapier-Sandbox) (test mode)`);
    expect(label).not.toContain(secret);
    // the test partition is empty, whatever the live side holds
    expect(await run<unknown[]>(app.triggers.qr_code_list.operation.perform, { authData: testAuth, inputData: {} })).toEqual([]);
  });

  it('rejects a wrong key with an auth error carrying the server’s message', async () => {
    const wrong = { ...authData, api_key: `qr_live_${'x'.repeat(32)}` };
    await expect(run(app.authentication.test, { authData: wrong })).rejects.toMatchObject({ name: 'ExpiredAuthError' });
  });

  it('creates a dynamic code, and a retried step (same input) returns the same code', async () => {
    const inputData = { name: 'E2E Spring flyer', type: 'url', destination_url: 'https://example.com/spring', tags: ['e2e'] };
    code = await run(app.creates.create_qr_code.operation.perform, { authData, inputData });
    expect(code).toMatchObject({ name: 'E2E Spring flyer', mode: 'dynamic', destination_url: 'https://example.com/spring' });
    expect(code.short_code).toBeTruthy();
    const retried = await run(app.creates.create_qr_code.operation.perform, { authData, inputData });
    expect(retried.id).toBe(code.id);
  });

  it('creates a static Wi-Fi code from the type-specific fields and edits one of them in place', async () => {
    const wifi = await run(app.creates.create_qr_code.operation.perform, {
      authData,
      inputData: { name: 'E2E Guest Wi-Fi', type: 'wifi', wifi_ssid: 'Guests', wifi_password: 'hunter22', wifi_encryption: 'WPA' },
    });
    expect(wifi).toMatchObject({ type: 'wifi', mode: 'static', short_code: null, content: { ssid: 'Guests', password: 'hunter22', encryption: 'WPA' } });
    const edited = await run(app.creates.update_qr_code.operation.perform, {
      authData,
      inputData: { qr_id: wifi.id, wifi_password: 'correct-horse' },
    });
    expect(edited.content).toMatchObject({ ssid: 'Guests', password: 'correct-horse', encryption: 'WPA' });
    await run(app.creates.delete_qr_code.operation.perform, { authData, inputData: { qr_id: wifi.id } });
  });

  it('shows the invalid fields when the server rejects a create', async () => {
    await expect(
      run(app.creates.create_qr_code.operation.perform, {
        authData,
        inputData: { name: 'Broken', type: 'url', destination_url: 'not a url', idempotency_key: 'e2e-broken' },
      }),
    ).rejects.toThrow(/destination_url/);
  });

  it('finds the code by name and by ID', async () => {
    const byName = await run(app.searches.find_qr_code.operation.perform, { authData, inputData: { name: 'e2e spring FLYER' } });
    expect(byName.map((found: { id: string }) => found.id)).toEqual([code.id]);
    const byId = await run(app.searches.find_qr_code.operation.perform, { authData, inputData: { id: code.id } });
    expect(byId).toHaveLength(1);
    expect(await run(app.searches.find_qr_code.operation.perform, { authData, inputData: { id: 'qr_doesnotexist1' } })).toEqual([]);
  });

  it('lists the code first in the New QR Code trigger and in the dropdown', async () => {
    const polled = await run(app.triggers.new_qr_code.operation.perform, { authData, meta: { page: 0 } });
    expect(polled[0]?.id).toBe(code.id);
    const dropdown = await run(app.triggers.qr_code_list.operation.perform, { authData, meta: { page: 0, isFillingDynamicDropdown: true } });
    expect(dropdown.map((item: { id: string }) => item.id)).toContain(code.id);
  });

  it('subscribes the QR Code Scanned and QR Code Updated hooks to a receiver', async () => {
    subscription = await run(app.triggers.qr_code_scanned.operation.performSubscribe!, {
      authData,
      targetUrl: `${receiver.url}/hooks/scanned`,
    });
    expect(subscription.id).toMatch(/^wh_/);
    expect(subscription.secret).toMatch(/^whsec_/);
    updatedSubscription = await run(app.triggers.qr_code_updated.operation.performSubscribe!, {
      authData,
      targetUrl: `${receiver.url}/hooks/updated`,
    });
    expect(updatedSubscription.id).not.toBe(subscription.id);
  });

  it('updates the destination of the code, and the QR Code Updated hook delivers the new state', async () => {
    const updated = await run(app.creates.update_qr_code.operation.perform, {
      authData,
      inputData: { qr_id: code.id, destination_url: 'https://example.com/summer' },
    });
    expect(updated).toMatchObject({ id: code.id, destination_url: 'https://example.com/summer' });

    const delivery = await waitFor(() => receiver.received.find((entry) => entry.url === '/hooks/updated' && entry.method === 'POST'), 'the qr.updated delivery');
    const rawBody = delivery.body.toString('utf8');
    const items = await run(app.triggers.qr_code_updated.operation.perform, {
      authData,
      subscribeData: updatedSubscription,
      cleanedRequest: JSON.parse(rawBody),
      rawRequest: { method: 'POST', content: rawBody, headers: { 'Http-Qrflow-Signature': String(delivery.headers['qrflow-signature']) } },
    });
    expect(items).toEqual([expect.objectContaining({ id: code.id, destination_url: 'https://example.com/summer' })]);
    const listed = await run(app.triggers.qr_code_updated.operation.performList!, { authData });
    expect(listed[0]).toMatchObject({ id: code.id, destination_url: 'https://example.com/summer' });
  });

  it('gets the image as a file that holds a QR code of the short URL', async () => {
    const image = await run(app.creates.get_qr_code_image.operation.perform, {
      authData,
      inputData: { qr_id: code.id, format: 'png', size: 256 },
    });
    expect(image).toMatchObject({ id: code.id, format: 'png', size: 256, filename: 'e2e-spring-flyer.png' });
    const pointer = JSON.parse(/^hydrate\|\|\|(.*)\|\|\|hydrate$/.exec(image.file)?.[1] ?? '{}') as { bundle: Record<string, unknown> };

    const uploadsBefore = fakeZapier.received.filter((entry) => entry.url === '/upload/').length;
    const url = await run<string>(app.hydrators.downloadQrImage, { authData, inputData: pointer.bundle });
    expect(url).toBe(`${fakeZapier.url}/upload/stash/qr-image`);
    const uploads = fakeZapier.received.filter((entry) => entry.url === '/upload/');
    expect(uploads).toHaveLength(uploadsBefore + 1);

    const file = uploadedFile(uploads.at(-1)!);
    expect(file).toMatchObject({ filename: 'e2e-spring-flyer.png', contentType: 'image/png' });
    const png = PNG.sync.read(file.bytes);
    expect(png.width).toBe(256);
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(code.short_url);
  });

  it('a scan of the short link reaches the hook, and the trigger turns the signed delivery into the scan', async () => {
    const redirect = await fetch(`${srv.baseUrl}/r/${code.short_code}`, {
      redirect: 'manual',
      headers: {
        'user-agent':
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      },
    });
    expect(redirect.status).toBeGreaterThanOrEqual(300);
    expect(redirect.status).toBeLessThan(400);
    expect(redirect.headers.get('location')).toBe('https://example.com/summer');

    const delivery = await waitFor(
      () => receiver.received.find((entry) => entry.url === '/hooks/scanned' && entry.method === 'POST'),
      'the qr.scanned webhook delivery',
    );
    const rawBody = delivery.body.toString('utf8');
    const scans = await run(app.triggers.qr_code_scanned.operation.perform, {
      authData,
      subscribeData: subscription,
      cleanedRequest: JSON.parse(rawBody),
      rawRequest: {
        method: 'POST',
        content: rawBody,
        headers: { 'Http-Qrflow-Signature': String(delivery.headers['qrflow-signature']) },
      },
    });
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatchObject({ qr_id: code.id, is_bot: false });

    // performList (the events feed) gives the same object the hook delivered.
    const listed = await run(app.triggers.qr_code_scanned.operation.performList!, { authData });
    expect(listed.find((scan: { id: string }) => scan.id === scans[0].id)).toEqual(scans[0]);

    // A delivery signed with another secret is dropped.
    const forged = await run(app.triggers.qr_code_scanned.operation.perform, {
      authData,
      subscribeData: { ...subscription, secret: 'whsec_not_the_secret' },
      cleanedRequest: JSON.parse(rawBody),
      rawRequest: { method: 'POST', content: rawBody, headers: { 'Http-Qrflow-Signature': String(delivery.headers['qrflow-signature']) } },
    });
    expect(forged).toEqual([]);
  });

  it('counts the scan in the analytics', async () => {
    const analytics = await run(app.creates.get_qr_code_analytics.operation.perform, { authData, inputData: { qr_id: code.id } });
    expect(analytics).toMatchObject({ qr_id: code.id });
    expect(analytics.total_scans).toBeGreaterThanOrEqual(1);
  });

  it('unsubscribes both hooks: the webhooks are gone from the server', async () => {
    const result = await run(app.triggers.qr_code_scanned.operation.performUnsubscribe!, { authData, subscribeData: subscription });
    expect(result).toMatchObject({ id: subscription.id, deleted: true });
    await run(app.triggers.qr_code_updated.operation.performUnsubscribe!, { authData, subscribeData: updatedSubscription });
    const list = await srv.request('GET', '/api/v1/webhooks', { token: authData.api_key });
    const { data } = (await list.json()) as { data: { id: string }[] };
    expect(data.map((hook) => hook.id)).not.toContain(subscription.id);
    expect(data.map((hook) => hook.id)).not.toContain(updatedSubscription.id);
  });

  it('offers the workspace’s custom domains in the dropdown and creates a code whose short link is on one', async () => {
    const manager = await srv.createKey({ name: 'Domain-Admin', scopes: ['qr:read', 'qr:write', 'domains:write'] });
    const added = await srv.request('POST', '/api/v1/domains', { token: manager.secret, body: { hostname: 'go.zapier-e2e.com' } });
    expect(added.status, await added.clone().text()).toBe(201);

    const dropdown = await run<{ hostname: string }[]>(app.triggers.domain_list.operation.perform, { authData, meta: { isFillingDynamicDropdown: true } });
    expect(dropdown.map((domain) => domain.hostname)).toEqual(['go.zapier-e2e.com']);

    const onDomain = await run(app.creates.create_qr_code.operation.perform, {
      authData,
      inputData: { name: 'E2E on a domain', type: 'url', destination_url: 'https://example.com/branded', domain: 'go.zapier-e2e.com' },
    });
    expect(onDomain).toMatchObject({ domain: 'go.zapier-e2e.com', short_url: `https://go.zapier-e2e.com/${onDomain.short_code}` });
    const redirect = await getWithHost(srv.baseUrl, 'go.zapier-e2e.com', `/${onDomain.short_code}`);
    expect(redirect).toMatchObject({ status: 302, location: 'https://example.com/branded' });

    await expect(
      run(app.creates.create_qr_code.operation.perform, {
        authData,
        inputData: { name: 'E2E unknown domain', type: 'url', destination_url: 'https://example.com/x', domain: 'not-ours.example.com' },
      }),
    ).rejects.toThrow(/domain/);
  });

  it('creates 150 codes in bulk (two calls), reports the bad line, and a retried step creates nothing new', async () => {
    const codes = Array.from({ length: 150 }, (_, n) => ({ code_name: `E2E bulk ${n}`, code_destination_url: n === 120 ? 'not a url' : `https://example.com/bulk/${n}` }));
    const inputData = { codes, tags: ['e2e-bulk'], domain: 'go.zapier-e2e.com' };
    const result = await run(app.creates.create_qr_codes_bulk.operation.perform, { authData, inputData });
    expect(result).toMatchObject({ total: 150, created: 149, failed: 1 });
    expect(result.codes[120]).toMatchObject({ index: 120, ok: false, status: 400, name: 'E2E bulk 120', error_code: 'validation_error' });
    expect(result.codes[120].error_message).toMatch(/destination_url/);
    expect(result.codes[149]).toMatchObject({ index: 149, ok: true, name: 'E2E bulk 149' });
    expect(result.short_urls.every((url: string) => url.startsWith('https://go.zapier-e2e.com/'))).toBe(true);

    const retried = await run(app.creates.create_qr_codes_bulk.operation.perform, { authData, inputData });
    expect(retried.created_ids).toEqual(result.created_ids);
    const listed = await srv.request('GET', '/api/v1/qr?tag=e2e-bulk&limit=100', { token: authData.api_key });
    const page = (await listed.json()) as { data: unknown[]; pagination: { next_cursor: string | null } };
    const next = await srv.request('GET', `/api/v1/qr?tag=e2e-bulk&limit=100&cursor=${page.pagination.next_cursor}`, { token: authData.api_key });
    expect(page.data.length + ((await next.json()) as { data: unknown[] }).data.length).toBe(149);
  });

  it('smart codes: rules from the simple form, UTM, a scan limit and a password on create and update, and the variants breakdown', async () => {
    const smart = await run(app.creates.create_qr_code.operation.perform, {
      authData,
      inputData: {
        name: 'E2E smart',
        type: 'url',
        destination_url: 'https://example.com/desk',
        rules: [{ rule_condition: 'device', rule_values: 'mobile', rule_url: 'https://example.com/mobile' }],
        utm_source: 'flyer',
        max_scans: 100,
        valid_until: '2099-01-01T00:00:00Z',
      },
    });
    expect(smart).toMatchObject({
      redirect_rules: [{ url: 'https://example.com/mobile', conditions: [{ type: 'device', in: ['mobile'] }] }],
      utm: { source: 'flyer' },
      max_scans: 100,
      valid_until: '2099-01-01T00:00:00.000Z',
      state: 'live',
      password_protected: false,
    });
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const scan = await fetch(`${srv.baseUrl}/r/${smart.short_code}`, { redirect: 'manual', headers: { 'user-agent': iphone } });
    expect(scan.headers.get('location')).toBe('https://example.com/mobile?utm_source=flyer');

    const locked = await run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: smart.id, password: 'open-sesame-42' } });
    expect(locked.password_protected).toBe(true);
    expect(JSON.stringify(locked)).not.toContain('open-sesame-42');
    const unlocked = await run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: smart.id, remove_settings: ['password', 'utm', 'max_scans'] } });
    expect(unlocked).toMatchObject({ password_protected: false, utm: null, max_scans: null });

    const analytics = await run(app.creates.get_qr_code_analytics.operation.perform, { authData, inputData: { qr_id: smart.id } });
    expect(analytics.variants).toEqual([]);
    expect(Array.isArray(analytics.regions) && Array.isArray(analytics.cities)).toBe(true);
  });

  it('puts a logo file on a code (the image still decodes) and gets the code as a PDF file', async () => {
    const logo = new PNG({ width: 32, height: 32 });
    logo.data.fill(0xcc);
    const logoBytes = PNG.sync.write(logo);
    const files = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(logoBytes));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const branded = await run(app.creates.create_qr_code.operation.perform, {
        authData,
        inputData: { name: 'E2E branded', type: 'url', destination_url: 'https://example.com/brand', logo: `http://127.0.0.1:${(files.address() as AddressInfo).port}/logo.png` },
      });
      expect(branded.logo).toMatchObject({ content_type: 'image/png' });

      const uploadsBefore = fakeZapier.received.filter((entry) => entry.url === '/upload/').length;
      const image = await run(app.creates.get_qr_code_image.operation.perform, { authData, inputData: { qr_id: branded.id, format: 'png', size: 512 } });
      const pointer = JSON.parse(/^hydrate\|\|\|(.*)\|\|\|hydrate$/.exec(image.file)?.[1] ?? '{}') as { bundle: Record<string, unknown> };
      await run(app.hydrators.downloadQrImage, { authData, inputData: pointer.bundle });
      const png = PNG.sync.read(uploadedFile(fakeZapier.received.filter((entry) => entry.url === '/upload/').at(-1)!).bytes);
      expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(branded.short_url);

      const pdf = await run(app.creates.get_qr_code_image.operation.perform, { authData, inputData: { qr_id: branded.id, format: 'pdf', size_mm: 40 } });
      expect(pdf).toMatchObject({ format: 'pdf', size_mm: 40, content_type: 'application/pdf', filename: 'e2e-branded.pdf' });
      const pdfPointer = JSON.parse(/^hydrate\|\|\|(.*)\|\|\|hydrate$/.exec(pdf.file)?.[1] ?? '{}') as { bundle: Record<string, unknown> };
      await run(app.hydrators.downloadQrImage, { authData, inputData: pdfPointer.bundle });
      const uploads = fakeZapier.received.filter((entry) => entry.url === '/upload/');
      expect(uploads).toHaveLength(uploadsBefore + 2);
      const file = uploadedFile(uploads.at(-1)!);
      expect(file).toMatchObject({ filename: 'e2e-branded.pdf', contentType: 'application/pdf' });
      expect(file.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');

      const plain = await run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: branded.id, remove_logo: true } });
      expect(plain.logo).toBeNull();
    } finally {
      files.close();
    }
  });

  it('deletes the code', async () => {
    const result = await run(app.creates.delete_qr_code.operation.perform, { authData, inputData: { qr_id: code.id } });
    expect(result).toEqual({ id: code.id, deleted: true });
    expect(await run(app.searches.find_qr_code.operation.perform, { authData, inputData: { id: code.id } })).toEqual([]);
  });
});
