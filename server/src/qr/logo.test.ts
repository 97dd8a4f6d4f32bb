import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QrView } from './schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json } from '../../../test/helpers/qr.js';

let srv: TestServer;
let key: string;
let readOnlyKey: string;
let otherKey: string;
let testKey: string;

/** A solid-colour PNG of the given size. */
function solidPng(width: number, height: number, rgb: [number, number, number] = [225, 29, 72]): Buffer {
  const png = new PNG({ width, height });
  for (let offset = 0; offset < png.data.length; offset += 4) png.data.set([...rgb, 255], offset);
  return PNG.sync.write(png);
}

const putLogo = (id: string, body: Buffer | string, contentType: string, token = key) =>
  fetch(`${srv.baseUrl}/api/v1/qr/${id}/logo`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) });

/** The stored logo's bytes, as the store keeps them. */
async function storedLogo(id: string): Promise<string | undefined> {
  const record = await srv.running.app.ctx.store.get('logos', id);
  return record ? Buffer.from(record.data, 'base64').toString('utf8') : undefined;
}

beforeAll(async () => {
  srv = await startTestServer();
  key = (await srv.createKey()).secret;
  readOnlyKey = (await srv.createKey({ name: 'Read only', scopes: ['qr:read'] })).secret;
  const other = await srv.createWorkspace('Other workspace');
  otherKey = (await srv.createKey({ workspace: other.workspace })).secret;
  testKey = (await srv.running.app.services.keys.create(srv.workspace, { name: 'Sandbox', mode: 'test' }, 'test')).secret;
});

afterAll(async () => {
  await srv?.cleanup();
});

describe('PUT /api/v1/qr/:id/logo', () => {
  it('stores a PNG logo: the code answers its logo, raised to error correction H in its images', async () => {
    const qr = await createQr(srv, key, { name: 'Branded', destination_url: 'https://example.com/brand' });
    expect(qr.logo).toBeNull();
    const logo = solidPng(64, 64);
    const response = await putLogo(qr.id, logo, 'image/png');
    expect(response.status).toBe(200);
    const { data } = await json<{ data: QrView }>(response);
    expect(data.logo).toEqual({ content_type: 'image/png', bytes: logo.length, updated_at: expect.any(String) });
    expect(((await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${qr.id}`, { token: key }))).data).logo).toEqual(data.logo);
    // the SVG of the image embeds the logo and has the module count of error correction H
    const svg = await (await srv.request('GET', `/api/v1/qr/${qr.id}/image?format=svg`, { token: key })).text();
    expect(svg).toContain(`data:image/png;base64,${logo.toString('base64')}`);

    const removed = await srv.request('DELETE', `/api/v1/qr/${qr.id}/logo`, { token: key });
    expect(removed.status).toBe(200);
    expect((await json<{ data: QrView }>(removed)).data.logo).toBeNull();
    expect(await storedLogo(qr.id)).toBeUndefined();
    expect(await (await srv.request('GET', `/api/v1/qr/${qr.id}/image?format=svg`, { token: key })).text()).not.toContain('data:image/png');
  });

  it('deleting the code deletes its logo', async () => {
    const qr = await createQr(srv, key, { name: 'Short-lived', destination_url: 'https://example.com/gone' });
    expect((await putLogo(qr.id, solidPng(20, 20), 'image/png')).status).toBe(200);
    expect(await srv.running.app.ctx.store.get('logos', qr.id)).toBeDefined();
    expect((await srv.request('DELETE', `/api/v1/qr/${qr.id}`, { token: key })).status).toBe(200);
    expect(await srv.running.app.ctx.store.get('logos', qr.id)).toBeUndefined();
  });

  it('refuses a body over 256 KB with 413, another media type with 415, and a broken or oversized PNG with 400', async () => {
    const qr = await createQr(srv, key, { name: 'Limits', destination_url: 'https://example.com/limits' });
    const tooBig = Buffer.concat([solidPng(8, 8), Buffer.alloc(256 * 1024)]);
    expect((await expectError(await putLogo(qr.id, tooBig, 'image/png'), 413, 'payload_too_large')).error.message).toContain('256 KB');
    await expectError(await putLogo(qr.id, 'GIF89a...', 'image/gif'), 415, 'unsupported_media_type');
    await expectError(await srv.request('PUT', `/api/v1/qr/${qr.id}/logo`, { token: key, body: { logo: 'x' } }), 415, 'unsupported_media_type');
    await expectError(await putLogo(qr.id, Buffer.from('not a png at all, just text pretending'), 'image/png'), 400, 'invalid_logo');
    // right signature, corrupt data
    const corrupt = solidPng(32, 32);
    corrupt.fill(0, 40, corrupt.length - 12);
    await expectError(await putLogo(qr.id, corrupt, 'image/png'), 400, 'invalid_logo');
    // dimensions are bounded: 4096 px wide compresses to a few KB but would be 64 MB of pixels
    expect((await expectError(await putLogo(qr.id, solidPng(4096, 4), 'image/png'), 400, 'invalid_logo')).error.message).toContain('2048');
    await expectError(await putLogo(qr.id, Buffer.alloc(0), 'image/png'), 400, 'invalid_logo');
    await expectError(await putLogo(qr.id, '<html><body>no svg here</body></html>', 'image/svg+xml'), 400, 'invalid_logo');
    expect(((await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${qr.id}`, { token: key }))).data).logo).toBeNull();
  });

  it('needs qr:write, and answers 404 for another workspace\'s code (nothing stored)', async () => {
    const qr = await createQr(srv, key, { name: 'Mine', destination_url: 'https://example.com/mine' });
    await expectError(await putLogo(qr.id, solidPng(16, 16), 'image/png', readOnlyKey), 403, 'insufficient_scope');
    const foreign = await expectError(await putLogo(qr.id, solidPng(16, 16), 'image/png', otherKey), 404, 'not_found');
    const unknown = await expectError(await putLogo('qr_doesnotexist0', solidPng(16, 16), 'image/png', otherKey), 404, 'not_found');
    expect(foreign.error).toEqual(unknown.error);
    await expectError(await srv.request('DELETE', `/api/v1/qr/${qr.id}/logo`, { token: otherKey }), 404, 'not_found');
    // a test-mode key does not see live codes either
    await expectError(await putLogo(qr.id, solidPng(16, 16), 'image/png', testKey), 404, 'not_found');
    expect(await srv.running.app.ctx.store.get('logos', qr.id)).toBeUndefined();
    // and its own test-mode code takes a logo
    const sandbox = await createQr(srv, testKey, { name: 'Sandbox code', destination_url: 'https://example.com/sandbox' });
    expect((await putLogo(sandbox.id, solidPng(16, 16), 'image/png', testKey)).status).toBe(200);
    await expectError(await putLogo(sandbox.id, solidPng(16, 16), 'image/png', key), 404, 'not_found');
  });

  it('refuses a logo on a static code whose content no longer fits at error correction H', async () => {
    const long = `https://example.com/${'a'.repeat(1800)}`;
    const qr = await createQr(srv, key, { name: 'Long static', mode: 'static', destination_url: long, style: { error_correction: 'L' } });
    const body = await expectError(await putLogo(qr.id, solidPng(16, 16), 'image/png'), 400, 'validation_error');
    expect(body.error.message).toContain('error correction H');
  });
});

describe('SVG logos are sanitised', () => {
  let qr: QrView;
  beforeAll(async () => {
    qr = await createQr(srv, key, { name: 'SVG logo', destination_url: 'https://example.com/svg' });
  });

  it.each([
    ['a <script>', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>fetch("https://evil.example/")</script><circle cx="5" cy="5" r="4"/></svg>', ['<script', 'evil.example']],
    ['an onload handler', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"><rect width="10" height="10" onclick="alert(2)"/></svg>', ['onload', 'onclick', 'alert']],
    ['an external href', '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><image href="https://evil.example/track.png" width="10" height="10"/><use xlink:href="https://evil.example/sprite.svg#a"/><circle cx="5" cy="5" r="4"/></svg>', ['evil.example']],
    ['a javascript: link', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><a href="javascript:alert(1)"><circle cx="5" cy="5" r="4"/></a></svg>', ['javascript:']],
    ['a <foreignObject>', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://evil.example/"></iframe></div></foreignObject><circle cx="5" cy="5" r="4"/></svg>', ['foreignObject', 'iframe', 'evil.example']],
    ['a CSS url()', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><style>circle { fill: url(https://evil.example/p.svg#g) }</style><circle cx="5" cy="5" r="4" style="fill: url(\'https://evil.example/x\')"/><rect width="1" height="1" fill="url(https://evil.example/y)"/></svg>', ['evil.example']],
    ['a CSS @import', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><style>@import "https://evil.example/a.css";</style><circle cx="5" cy="5" r="4"/></svg>', ['@import', 'evil.example']],
  ])('with %s: stored cleaned, the drawing kept', async (_what, svg, forbidden) => {
    const response = await putLogo(qr.id, svg, 'image/svg+xml');
    expect(response.status, await response.clone().text()).toBe(200);
    const stored = await storedLogo(qr.id);
    for (const text of forbidden) expect(stored).not.toContain(text);
    expect(stored).toMatch(/<(circle|rect)/);
    // and what the image embeds is the cleaned logo
    const image = await (await srv.request('GET', `/api/v1/qr/${qr.id}/image?format=svg&size=256`, { token: key })).text();
    const embedded = Buffer.from(/data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(image)![1]!, 'base64').toString('utf8');
    expect(embedded).toBe(stored);
  });

  it('keeps internal references (#ids) and data: raster images', async () => {
    const dataPng = `data:image/png;base64,${solidPng(2, 2).toString('base64')}`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient><circle id="c" cx="5" cy="5" r="4"/></defs><use xlink:href="#c" fill="url(#g)"/><image href="${dataPng}" width="2" height="2"/></svg>`;
    expect((await putLogo(qr.id, svg, 'image/svg+xml')).status).toBe(200);
    const stored = (await storedLogo(qr.id))!;
    expect(stored).toContain('href="#c"');
    expect(stored).toContain('url(#g)');
    expect(stored).toContain(dataPng);
  });

  it('refuses an SVG logo whose nested image is itself an SVG (data:image/svg+xml is not a raster)', async () => {
    const inner = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString('base64');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><image href="data:image/svg+xml;base64,${inner}" width="10" height="10"/><rect width="5" height="5"/></svg>`;
    expect((await putLogo(qr.id, svg, 'image/svg+xml')).status).toBe(200);
    expect(await storedLogo(qr.id)).not.toContain('data:image/svg+xml');
  });

  it('refuses what is only script', async () => {
    await expectError(await putLogo(qr.id, '<script>alert(1)</script><svg', 'image/svg+xml'), 400, 'invalid_logo');
  });
});
