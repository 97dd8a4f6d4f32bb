import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

// jsqr is CommonJS; its module.exports and .default are the same function, which TypeScript (NodeNext) sees as .default
const jsQR = jsQRModule.default;

function generateUrl(params: Record<string, string | number>): string {
  return `/api/v1/generate?${new URLSearchParams(Object.entries(params).map(([name, value]) => [name, String(value)])).toString()}`;
}

function rgbAt(png: PNG, x: number, y: number): string {
  const offset = (png.width * y + x) * 4;
  return `#${[0, 1, 2].map((channel) => (png.data[offset + channel] as number).toString(16).padStart(2, '0')).join('')}`;
}

function colours(png: PNG): Set<string> {
  const seen = new Set<string>();
  for (let y = 0; y < png.height; y += 3) for (let x = 0; x < png.width; x += 3) seen.add(rgbAt(png, x, y));
  return seen;
}

/** jsQR reads dark-on-light; the colours below are dark enough on light enough for it. */
function decode(png: PNG): string | undefined {
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)?.data;
}

describe('GET /api/v1/generate with a style (foreground, background, margin, error_correction)', () => {
  let srv: TestServer;
  let session: string;
  let key: string;

  beforeAll(async () => {
    srv = await startTestServer();
    session = await srv.login();
    key = (await srv.createKey({ name: 'Styled', scopes: ['qr:read'] })).secret;
  });
  afterAll(async () => srv?.cleanup());

  async function credits(): Promise<number> {
    const response = await srv.request('GET', '/api/v1/usage', { token: session });
    return ((await response.json()) as { data: { image_credits: { used: number } } }).data.image_credits.used;
  }

  it('with a key: the colours, margin and error correction asked for, still decoding to the data', async () => {
    const data = 'https://example.com/styled';
    const response = await srv.request('GET', generateUrl({ data, size: 400, foreground: '#1e3a8a', background: 'fffbeb', margin: 0, error_correction: 'H' }), { token: key });
    expect(response.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect(decode(png)).toBe(data);
    // margin 0: the top-left finder pattern's dark corner is the image's first pixel
    expect(rgbAt(png, 0, 0)).toBe('#1e3a8a');
    expect(colours(png)).toEqual(new Set(['#1e3a8a', '#fffbeb']));

    // error correction H needs more modules than L for the same data: the SVG's viewBox says how many
    const modulesOf = async (level: string) => {
      const svg = await (await srv.request('GET', generateUrl({ data, format: 'svg', error_correction: level, margin: 0 }), { token: key })).text();
      return Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
    };
    expect(await modulesOf('H')).toBe(QRCode.create(data, { errorCorrectionLevel: 'H' }).modules.size);
    expect(await modulesOf('L')).toBe(QRCode.create(data, { errorCorrectionLevel: 'L' }).modules.size);
    expect(await modulesOf('H')).toBeGreaterThan(await modulesOf('L'));
  });

  it('without a key (the console preview): the same style under the watermark, no credit used', async () => {
    const before = await credits();
    const response = await srv.request('GET', generateUrl({ data: 'https://example.com/preview', size: 256, foreground: '#1d4ed8', background: '#f0fdf4', margin: 2 }));
    expect(response.status).toBe(200);
    expect(response.headers.get('qr-preview')).toBe('missing_key');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    const seen = colours(png);
    expect(seen.has('#1d4ed8')).toBe(true);
    expect(seen.has('#f0fdf4')).toBe(true);
    // the default colours are not there: the style was applied, not ignored
    expect(seen.has('#000000')).toBe(false);
    expect(await credits()).toBe(before);

    const svg = await (await srv.request('GET', generateUrl({ data: 'https://example.com/preview', format: 'svg', foreground: '#1d4ed8', background: '#f0fdf4' }))).text();
    expect(svg).toContain('#1d4ed8');
    expect(svg).toContain('#f0fdf4');
    expect(svg).toContain('PREVIEW');
  });

  it.each([
    ['a named colour', { foreground: 'red' }, 'foreground'],
    ['a short hex colour', { background: '#fff' }, 'background'],
    ['margin 17', { margin: 17 }, 'margin'],
    ['margin -1', { margin: -1 }, 'margin'],
    ['error correction X', { error_correction: 'X' }, 'error_correction'],
  ])('refuses %s with 400 validation_error naming the field', async (_name, params: Record<string, string | number>, field) => {
    const response = await srv.request('GET', generateUrl({ data: 'x', ...params }), { token: key });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: Array<{ field: string }> } };
    expect(body.error.code).toBe('validation_error');
    expect(body.error.details.map((detail) => detail.field)).toContain(field);
  });
});
