import { Resvg } from '@resvg/resvg-js';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr } from '../../../test/helpers/qr.js';

// jsqr is CommonJS; its module.exports and .default are the same function, which TypeScript (NodeNext) sees as .default
const jsQR = jsQRModule.default;
const SHAPES = ['square', 'rounded', 'dots'] as const;
const SIZES = [128, 512, 2048] as const;
const FRAME = { text: 'Scan me', color: '#1e3a8a', text_color: '#ffffff' };
const RED = '#e11d48';

let srv: TestServer;
let key: string;

function decode(png: PNG): string | undefined {
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)?.data;
}

function pixel(png: PNG, x: number, y: number): string {
  const offset = (png.width * Math.floor(y) + Math.floor(x)) * 4;
  return `#${[0, 1, 2].map((channel) => (png.data[offset + channel] as number).toString(16).padStart(2, '0')).join('')}`;
}

/** A red PNG logo with a dark square in it: whatever it covers must not matter to the decoder. */
function pngLogo(): Buffer {
  const png = new PNG({ width: 100, height: 100 });
  for (let y = 0; y < 100; y++) {
    for (let x = 0; x < 100; x++) png.data.set(x > 30 && x < 70 && y > 30 && y < 70 ? [0, 0, 0, 255] : [225, 29, 72, 255], (y * 100 + x) * 4);
  }
  return PNG.sync.write(png);
}

const SVG_LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><rect width="40" height="20" rx="4" fill="${RED}"/><circle cx="20" cy="10" r="6" fill="#000"/></svg>`;
const LOGOS = { none: null, png: { type: 'image/png', body: pngLogo() }, svg: { type: 'image/svg+xml', body: Buffer.from(SVG_LOGO) } } as const;

async function fetchPng(qr: QrView, size: number): Promise<PNG> {
  const response = await srv.request('GET', `/api/v1/qr/${qr.id}/image?size=${size}`, { token: key });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return PNG.sync.read(Buffer.from(await response.arrayBuffer()));
}

beforeAll(async () => {
  srv = await startTestServer();
  key = (await srv.createKey()).secret;
});
afterAll(async () => srv?.cleanup());

// every shape and frame without a logo and with a PNG logo; an SVG logo (drawn by the same <image>) with each module shape
const combinations = [
  ...SHAPES.flatMap((moduleShape) => SHAPES.flatMap((finderShape) => [false, true].flatMap((framed) => (['none', 'png'] as const).map((logo) => ({ moduleShape, finderShape, framed, logo }))))),
  ...SHAPES.map((moduleShape, index) => ({ moduleShape, finderShape: SHAPES[(index + 1) % 3]!, framed: index !== 1, logo: 'svg' as const })),
];

describe('every logo, module shape, finder shape and frame decodes at 128, 512 and 2048 px', () => {
  it.each(combinations)('modules $moduleShape, finders $finderShape, frame $framed, logo $logo', async ({ moduleShape, finderShape, framed, logo }) => {
    const qr = await createQr(srv, key, {
      name: `${moduleShape}/${finderShape}/${framed}/${logo}`,
      destination_url: 'https://example.com/branded',
      style: { module_shape: moduleShape, finder_shape: finderShape, foreground: '#111827', ...(framed ? { frame: FRAME } : {}) },
    });
    expect(qr.style).toMatchObject({ module_shape: moduleShape, finder_shape: finderShape, frame: framed ? FRAME : null });
    const upload = LOGOS[logo];
    if (upload) {
      const response = await fetch(`${srv.baseUrl}/api/v1/qr/${qr.id}/logo`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': upload.type }, body: new Uint8Array(upload.body) });
      expect(response.status).toBe(200);
    }
    const images = await Promise.all(SIZES.map((size) => fetchPng(qr, size)));
    images.forEach((png, index) => {
      const size = SIZES[index]!;
      expect(png.width).toBe(size);
      // a frame adds its band under the code: taller than wide
      if (framed) expect(png.height).toBeGreaterThan(png.width);
      else expect(png.height).toBe(png.width);
      expect(decode(png), `${size} px`).toBe(qr.short_url);
    });
    const large = images[2]!;
    if (framed) expect(pixel(large, 2048 * 0.5, large.height - 4)).toBe(FRAME.color);
    // the middle of the code: the logo's red where there is one
    const middle = framed ? large.width / 2 : large.height / 2;
    if (upload) expect([pixel(large, large.width / 2 - 200, middle), pixel(large, large.width / 2 + 200, middle)]).toEqual([RED, RED]);

    // the SVG is the same drawing: rasterised here, it decodes too
    const svg = await (await srv.request('GET', `/api/v1/qr/${qr.id}/image?format=svg&size=512`, { token: key })).text();
    expect(svg).not.toMatch(/<script|<foreignObject/);
    const fromSvg = PNG.sync.read(new Resvg(svg, { fitTo: { mode: 'width', value: 512 }, font: { loadSystemFonts: false } }).render().asPng());
    expect(decode(fromSvg)).toBe(qr.short_url);
  });

  it('generate takes the same shapes and frame as query parameters', async () => {
    for (const [moduleShape, finderShape] of [['dots', 'dots'], ['rounded', 'square'], ['square', 'rounded']] as const) {
      const data = `https://example.com/generated/${moduleShape}-${finderShape}`;
      const params = new URLSearchParams({ data, size: '512', module_shape: moduleShape, finder_shape: finderShape, frame_text: 'Scan me', frame_color: '1e3a8a', frame_text_color: '#ffffff' });
      const response = await srv.request('GET', `/api/v1/generate?${params.toString()}`, { token: key });
      expect(response.status).toBe(200);
      const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
      expect(png.height).toBeGreaterThan(png.width);
      expect(decode(png)).toBe(data);
    }
  });

  it('a keyless preview of a styled code carries the watermark and does not decode', async () => {
    const data = 'https://example.com/styled-preview';
    const response = await srv.request('GET', `/api/v1/generate?${new URLSearchParams({ data, module_shape: 'dots', frame_text: 'Scan me' }).toString()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('qr-preview')).toBe('missing_key');
    expect(decode(PNG.sync.read(Buffer.from(await response.arrayBuffer())))).toBeUndefined();
  });

  it('refuses a frame text over 24 characters, an unknown shape, and frame colours without a frame', async () => {
    const qrResponse = await srv.request('POST', '/api/v1/qr', { token: key, body: { name: 'Long frame', destination_url: 'https://example.com/', style: { frame: { text: 'x'.repeat(25) } } } });
    expect(qrResponse.status).toBe(400);
    expect((await srv.request('POST', '/api/v1/qr', { token: key, body: { name: 'Stars', destination_url: 'https://example.com/', style: { module_shape: 'stars' } } })).status).toBe(400);
    expect((await srv.request('GET', `/api/v1/generate?data=x&frame_color=000000`, { token: key })).status).toBe(400);
    expect((await srv.request('GET', `/api/v1/generate?data=x&frame_text=${'y'.repeat(25)}`, { token: key })).status).toBe(400);
  });

  it('a stored frame can be removed with null, and older codes answer the default shapes', async () => {
    const qr = await createQr(srv, key, { name: 'Framed then not', destination_url: 'https://example.com/f', style: { frame: { text: 'Menu' } } });
    expect(qr.style.frame).toEqual({ text: 'Menu', color: '#000000', text_color: '#ffffff' });
    const response = await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token: key, body: { style: { frame: null, module_shape: 'dots' } } });
    const updated = ((await response.json()) as { data: QrView }).data;
    expect(updated.style).toMatchObject({ frame: null, module_shape: 'dots', finder_shape: 'square' });
    // a record written before shapes existed
    const store = srv.running.app.ctx.store;
    const record = (await store.get('qrcodes', qr.id))!;
    await store.commit([{ collection: 'qrcodes', put: { ...record, style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' }, logo: undefined } }]);
    const old = ((await (await srv.request('GET', `/api/v1/qr/${qr.id}`, { token: key })).json()) as { data: QrView }).data;
    expect(old.style).toEqual({ foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M', module_shape: 'square', finder_shape: 'square', frame: null });
    expect(old.logo).toBeNull();
  });
});
