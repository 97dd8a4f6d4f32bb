import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json } from '../../../test/helpers/qr.js';

// jsqr is CommonJS; its module.exports and .default are the same function, which TypeScript (NodeNext) sees as .default
const jsQR = jsQRModule.default;
const PUBLIC_URL = 'https://qr.example.test';
let srv: TestServer;
let token: string;
let plansDir: string;

beforeAll(async () => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-plans-'));
  const plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(
    plansFile,
    JSON.stringify({ two_images: { name: 'Two images', api_access: true, requests_per_minute: 600, monthly_api_calls: 10_000, monthly_image_credits: 2, max_qr_codes: 100, max_api_keys: 5 } }),
  );
  // a fixed clock: image credits are counted per UTC month, and a month ending mid-test would reset them
  srv = await startTestServer({ clock: new ManualClock(), env: { QRFLOW_PUBLIC_URL: PUBLIC_URL, QRFLOW_PLANS_FILE: plansFile } });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
  fs.rmSync(plansDir, { recursive: true, force: true });
});

const image = (qr: QrView, query = '', headers: Record<string, string> = {}, key = token) => srv.request('GET', `/api/v1/qr/${qr.id}/image${query}`, { token: key, headers });

/** Decodes a PNG response with jsQR; returns the decoded text and the image. */
async function decodePng(response: Response): Promise<{ text: string | undefined; png: PNG }> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
  return { text: code?.data, png };
}

/** The RGB colour of a pixel, as #rrggbb. */
function pixel(png: PNG, x: number, y: number): string {
  const offset = (png.width * y + x) * 4;
  return `#${[0, 1, 2].map((channel) => (png.data[offset + channel] as number).toString(16).padStart(2, '0')).join('')}`;
}

async function creditsUsed(key = token): Promise<number> {
  const usage = await json<{ data: { image_credits: { used: number } } }>(await srv.request('GET', '/api/v1/usage', { token: key }));
  return usage.data.image_credits.used;
}

describe('QR images', () => {
  it('renders a PNG of a dynamic code that decodes to its short link', async () => {
    const qr = await createQr(srv, token, { name: 'Decode me', destination_url: 'https://example.com/far/away' });
    const response = await image(qr);
    expect(response.headers.get('content-disposition')).toBe(`inline; filename="${qr.id}.png"`);
    const { text, png } = await decodePng(response);
    expect(text).toBe(`${PUBLIC_URL}/r/${qr.short_code}`);
    expect(text).toBe(qr.short_url);
    expect(png.width).toBe(512);
    expect(png.height).toBe(512);
  });

  it.each([
    ['wifi', { ssid: 'Cafe Guest', password: 'espresso;42' }, 'WIFI:T:WPA;S:Cafe Guest;P:espresso\\;42;;'],
    ['text', { text: 'Table 12: ask for the daily special' }, 'Table 12: ask for the daily special'],
    ['phone', { number: '+1 (555) 010-9999' }, 'tel:+15550109999'],
    ['sms', { number: '+44 7700 900123', message: 'JOIN' }, 'SMSTO:+447700900123:JOIN'],
    ['email', { to: 'sales@example.com', subject: 'A quote' }, 'mailto:sales@example.com?subject=A%20quote'],
    ['vcard', { first_name: 'Ada', last_name: 'Lovelace', phone: '+442079460000' }, 'BEGIN:VCARD\nVERSION:3.0\nN:Lovelace;Ada;;;\nFN:Ada Lovelace\nTEL:+442079460000\nEND:VCARD'],
  ])('renders a static %s code that decodes to its content', async (type, content, expected) => {
    const qr = await createQr(srv, token, { name: `Static ${type}`, type, mode: 'static', content });
    expect((await decodePng(await image(qr, '?size=400'))).text).toBe(expected);
  });

  it('renders and decodes the largest static content level H holds (1273 bytes, a version 40 code)', async () => {
    const text = 'x'.repeat(1273);
    const qr = await createQr(srv, token, { name: 'Largest', type: 'text', mode: 'static', content: { text }, style: { error_correction: 'H', margin: 4 } });
    // jsQR needs ~8 px a module to read a 177-module code
    expect((await decodePng(await image(qr, '?size=1500'))).text).toBe(text);
    expect((await image(qr, '?format=svg')).status).toBe(200);
  });

  it('renders a static url code that decodes to the destination itself', async () => {
    const qr = await createQr(srv, token, { name: 'Static url', mode: 'static', destination_url: 'https://example.com/printed' });
    expect((await decodePng(await image(qr))).text).toBe('https://example.com/printed');
  });

  it("uses the code's colours and still decodes", async () => {
    const qr = await createQr(srv, token, { name: 'Brand colours', destination_url: 'https://example.com/', style: { foreground: '#1a237e', background: '#fff8e1', margin: 2, error_correction: 'H' } });
    const { text, png } = await decodePng(await image(qr, '?size=256'));
    expect(text).toBe(qr.short_url);
    expect(pixel(png, 0, 0)).toBe('#fff8e1');
    const colours = new Set<string>();
    for (let y = 0; y < png.height; y += 4) for (let x = 0; x < png.width; x += 4) colours.add(pixel(png, x, y));
    expect(colours).toContain('#1a237e');
  });

  it('renders an SVG document for format=svg', async () => {
    const qr = await createQr(srv, token, { name: 'Vector', destination_url: 'https://example.com/', style: { foreground: '#112233' } });
    const response = await image(qr, '?format=svg&size=300');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('image/svg+xml');
    expect(response.headers.get('content-disposition')).toBe(`inline; filename="${qr.id}.svg"`);
    const svg = await response.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* width="300" height="300"/);
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
    expect(svg).toContain('#112233');
    expect(svg).toMatch(/<path [^>]*d="M/);
  });

  it('accepts sizes 64 and 2048 and answers 400 for 63, 2049 and non-numbers', async () => {
    const qr = await createQr(srv, token, { name: 'Sizes', destination_url: 'https://example.com/' });
    const small = await decodePng(await image(qr, '?size=64'));
    expect(small.png.width).toBe(64);
    const large = await image(qr, '?size=2048');
    expect(large.status).toBe(200);
    expect(PNG.sync.read(Buffer.from(await large.arrayBuffer())).width).toBe(2048);
    for (const size of ['63', '2049', 'big', '-1']) {
      const body = await expectError(await image(qr, `?size=${size}`), 400, 'validation_error');
      expect(body.error.details?.map((detail) => detail.field)).toEqual(['size']);
    }
  });

  it('answers 400 for an unknown format or query field', async () => {
    const qr = await createQr(srv, token, { name: 'Formats', destination_url: 'https://example.com/' });
    expect((await expectError(await image(qr, '?format=tiff'), 400)).error.details?.map((detail) => detail.field)).toEqual(['format']);
    await expectError(await image(qr, '?colour=red'), 400);
  });

  it('sends an ETag and answers 304 to If-None-Match with it', async () => {
    const qr = await createQr(srv, token, { name: 'Etag', destination_url: 'https://example.com/' });
    const first = await image(qr, '?size=128');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await image(qr, '?size=128', { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect((await image(qr, '?size=128', { 'if-none-match': '"something-else"' })).status).toBe(200);
    expect((await image(qr, '?size=256')).headers.get('etag')).not.toBe(etag);
    expect((await image(qr, '?size=128&format=svg')).headers.get('etag')).not.toBe(etag);
  });
});

describe('image credits', () => {
  let key: string;
  beforeAll(async () => {
    const own = await srv.createWorkspace('Image credits');
    key = (await srv.createKey({ workspace: own.workspace })).secret;
  });

  it('uses one credit for repeated identical requests, including concurrent ones and 304s', async () => {
    const qr = await createQr(srv, key, { name: 'Credits', destination_url: 'https://example.com/' });
    const before = await creditsUsed(key);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => image(qr, '?size=200', {}, key)));
    expect(concurrent.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = await Promise.all(concurrent.map(async (response) => Buffer.from(await response.arrayBuffer())));
    expect(bodies.every((body) => body.equals(bodies[0] as Buffer))).toBe(true);
    const repeat = await image(qr, '?size=200', {}, key);
    expect(repeat.status).toBe(200);
    await image(qr, '?size=200', { 'if-none-match': repeat.headers.get('etag')! }, key);
    expect(await creditsUsed(key)).toBe(before + 1);
  });

  it('uses a credit for each distinct image: another size, format or style', async () => {
    const qr = await createQr(srv, key, { name: 'Variants', destination_url: 'https://example.com/' });
    const before = await creditsUsed(key);
    await image(qr, '?size=200', {}, key);
    await image(qr, '?size=300', {}, key);
    await image(qr, '?size=200&format=svg', {}, key);
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token: key, body: { style: { foreground: '#333333' } } });
    await image(qr, '?size=200', {}, key);
    expect(await creditsUsed(key)).toBe(before + 4);
  });

  it('keeps serving a dynamic code from the cache when only its destination changes (the image encodes the short link)', async () => {
    const qr = await createQr(srv, key, { name: 'Moving target', destination_url: 'https://example.com/a' });
    const first = await image(qr, '?size=180', {}, key);
    const before = await creditsUsed(key);
    await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token: key, body: { destination_url: 'https://example.com/b' } });
    const second = await image(qr, '?size=180', {}, key);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await creditsUsed(key)).toBe(before);
  });

  it('answers 429 image_credits_exhausted when the month is used up, but still serves cached images', async () => {
    const small = await srv.createWorkspace('Two images');
    await srv.running.app.services.workspaces.setPlan(small.workspace, 'two_images');
    const smallKey = (await srv.createKey({ workspace: small.workspace })).secret;
    const qr = await createQr(srv, smallKey, { name: 'Few images', destination_url: 'https://example.com/' });
    expect((await image(qr, '?size=100', {}, smallKey)).status).toBe(200);
    expect((await image(qr, '?size=110', {}, smallKey)).status).toBe(200);
    await expectError(await image(qr, '?size=120', {}, smallKey), 429, 'image_credits_exhausted');
    expect((await image(qr, '?size=100', {}, smallKey)).status).toBe(200);
    expect(await creditsUsed(smallKey)).toBe(2);
  });

  it('does not let concurrent requests for different images overspend the month', async () => {
    const small = await srv.createWorkspace('Two images concurrent');
    await srv.running.app.services.workspaces.setPlan(small.workspace, 'two_images');
    const smallKey = (await srv.createKey({ workspace: small.workspace })).secret;
    const qr = await createQr(srv, smallKey, { name: 'Burst', destination_url: 'https://example.com/' });
    const responses = await Promise.all([100, 110, 120, 130, 140, 150].map((size) => image(qr, `?size=${size}`, {}, smallKey)));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    expect(await creditsUsed(smallKey)).toBe(2);
  });
});
