import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from '../qr/schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json } from '../../../test/helpers/qr.js';

const POINTS_PER_MM = 72 / 25.4;
let srv: TestServer;
let key: string;
let otherKey: string;

interface ParsedPdf {
  text: string;
  mediaBoxes: number[][];
  /** Every content stream, inflated. */
  content: string;
}

/** Reads a PDF back: its page sizes (MediaBox) and its content streams, inflated where they are deflated. */
function parsePdf(bytes: Buffer): ParsedPdf {
  const text = bytes.toString('latin1');
  expect(text.startsWith('%PDF-')).toBe(true);
  expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
  const mediaBoxes = [...text.matchAll(/\/MediaBox \[([^\]]+)\]/g)].map((match) => match[1]!.trim().split(/\s+/).map(Number));
  const streams: string[] = [];
  // each stream's dictionary: from its object's start, never across another object
  for (const match of text.matchAll(/\d+ 0 obj\s*<<((?:(?!endobj)[\s\S])*?)>>\s*stream\r?\n/g)) {
    const dictionary = match[1]!;
    if (/\/Subtype\s*\/Image/.test(dictionary)) continue;
    const length = Number(/\/Length (\d+)/.exec(dictionary)?.[1]);
    const start = match.index! + match[0].length;
    const raw = bytes.subarray(start, start + length);
    streams.push(/\/FlateDecode/.test(dictionary) ? inflateSync(raw).toString('latin1') : raw.toString('latin1'));
  }
  return { text, mediaBoxes, content: streams.join('\n') };
}

/** The fill colours a PDF content stream sets (`r g b rg` or, as pdfkit writes them, `/DeviceRGB cs r g b scn`), as #rrggbb. */
function pdfFillColours(content: string): Set<string> {
  return new Set(
    [...content.matchAll(/([\d.]+) ([\d.]+) ([\d.]+) (?:rg|scn)\b/g)].map((match) => `#${[1, 2, 3].map((index) => Math.round(Number(match[index]) * 255).toString(16).padStart(2, '0')).join('')}`),
  );
}

/** The colours an EPS sets, written as exact fractions of 255. */
function epsColours(text: string): Set<string> {
  return new Set([...text.matchAll(/(\d+) 255 div (\d+) 255 div (\d+) 255 div setrgbcolor/g)].map((match) => `#${[1, 2, 3].map((index) => Number(match[index]).toString(16).padStart(2, '0')).join('')}`));
}

async function creditsUsed(): Promise<number> {
  return (await json<{ data: { image_credits: { used: number } } }>(await srv.request('GET', '/api/v1/usage', { token: key }))).data.image_credits.used;
}

async function fetchImage(qr: QrView, query: string, token = key): Promise<Response> {
  return srv.request('GET', `/api/v1/qr/${qr.id}/image?${query}`, { token });
}

beforeAll(async () => {
  // a fixed clock: image credits are counted per UTC month
  srv = await startTestServer({ clock: new ManualClock() });
  key = (await srv.createKey()).secret;
  otherKey = (await srv.createKey({ workspace: (await srv.createWorkspace('Print shop')).workspace })).secret;
});
afterAll(async () => srv?.cleanup());

describe('format=pdf', () => {
  it('is a one-page vector PDF size_mm wide, in the exact colours of the style', async () => {
    const qr = await createQr(srv, key, { name: 'Poster', destination_url: 'https://example.com/poster', style: { foreground: '#1e3a8a', background: '#fffbeb', module_shape: 'rounded' } });
    const response = await fetchImage(qr, 'format=pdf&size_mm=80');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(`inline; filename="${qr.id}.pdf"`);
    const pdf = parsePdf(Buffer.from(await response.arrayBuffer()));
    expect(pdf.mediaBoxes).toHaveLength(1);
    const [x0, y0, width, height] = pdf.mediaBoxes[0]!;
    expect([x0, y0]).toEqual([0, 0]);
    expect(width).toBeCloseTo(80 * POINTS_PER_MM, 2);
    expect(height).toBeCloseTo(80 * POINTS_PER_MM, 2);
    // vector: paths built with moveto/lineto/curveto and filled, no image of the code
    expect(pdf.content).toMatch(/[\d.]+ [\d.]+ m\b/);
    expect(pdf.content).toMatch(/ c\b/);
    expect(pdf.content).toMatch(/\bf\b/);
    expect(pdf.text).not.toContain('/Subtype /Image');
    expect(pdfFillColours(pdf.content)).toEqual(new Set(['#1e3a8a', '#fffbeb']));
  });

  it('defaults to 50 mm, is taller with a frame, and embeds a logo as an image', async () => {
    const qr = await createQr(srv, key, { name: 'Framed print', destination_url: 'https://example.com/framed', style: { frame: { text: 'Scan me', color: '#166534', text_color: '#fef9c3' } } });
    const png = new PNG({ width: 16, height: 16 });
    png.data.fill(200);
    const logo = await fetch(`${srv.baseUrl}/api/v1/qr/${qr.id}/logo`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'image/png' }, body: new Uint8Array(PNG.sync.write(png)) });
    expect(logo.status).toBe(200);
    const pdf = parsePdf(Buffer.from(await (await fetchImage(qr, 'format=pdf')).arrayBuffer()));
    const [, , width, height] = pdf.mediaBoxes[0]!;
    expect(width).toBeCloseTo(50 * POINTS_PER_MM, 2);
    expect(height!).toBeGreaterThan(width! * 1.1);
    expect(pdf.text).toContain('/Subtype /Image');
    expect(pdfFillColours(pdf.content)).toEqual(new Set(['#000000', '#ffffff', '#166534', '#fef9c3']));
  });
});

describe('format=eps', () => {
  it('is an EPS whose BoundingBox is size_mm in points, colours as exact fractions of 255', async () => {
    const qr = await createQr(srv, key, { name: 'Sticker', destination_url: 'https://example.com/sticker', style: { foreground: '#7c2d12', background: '#ecfeff', finder_shape: 'dots' } });
    const response = await fetchImage(qr, 'format=eps&size_mm=25.4');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/postscript');
    const eps = await response.text();
    expect(eps.startsWith('%!PS-Adobe-3.0 EPSF-3.0\n')).toBe(true);
    // 25.4 mm is one inch: 72 points
    expect(eps).toMatch(/^%%BoundingBox: 0 0 72 72$/m);
    expect(eps).toMatch(/^%%HiResBoundingBox: 0 0 72\.0000 72\.0000$/m);
    expect(epsColours(eps)).toEqual(new Set(['#7c2d12', '#ecfeff']));
    expect(eps).toMatch(/ c\n/);
    expect(eps).toContain('eofill');
    expect(eps.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('rounds the BoundingBox up to whole points', async () => {
    const qr = await createQr(srv, key, { name: 'Big sticker', destination_url: 'https://example.com/big' });
    const eps = await (await fetchImage(qr, 'format=eps&size_mm=500')).text();
    expect(eps).toContain(`%%BoundingBox: 0 0 ${Math.ceil(500 * POINTS_PER_MM)} ${Math.ceil(500 * POINTS_PER_MM)}`);
  });
});

describe('print sizes, credits and isolation', () => {
  it('refuses size_mm outside 10 to 500, and size_mm with png or svg', async () => {
    const qr = await createQr(srv, key, { name: 'Bounds', destination_url: 'https://example.com/bounds' });
    for (const query of ['format=pdf&size_mm=9', 'format=eps&size_mm=501', 'format=pdf&size_mm=abc', 'format=png&size_mm=50', 'format=tiff']) {
      await expectError(await fetchImage(qr, query), 400, 'validation_error');
    }
    await expectError(await srv.request('GET', '/api/v1/generate?data=x&format=svg&size_mm=20', { token: key }), 400, 'validation_error');
  });

  it('each PDF or EPS rendered costs one image credit, like PNG and SVG; a cached repeat none', async () => {
    const qr = await createQr(srv, key, { name: 'Credits', destination_url: 'https://example.com/credits' });
    const before = await creditsUsed();
    expect((await fetchImage(qr, 'format=pdf&size_mm=30')).status).toBe(200);
    expect(await creditsUsed()).toBe(before + 1);
    expect((await fetchImage(qr, 'format=eps&size_mm=30')).status).toBe(200);
    expect(await creditsUsed()).toBe(before + 2);
    const again = await fetchImage(qr, 'format=pdf&size_mm=30');
    expect(again.status).toBe(200);
    expect(await creditsUsed()).toBe(before + 2);
    // another size is another image
    expect((await fetchImage(qr, 'format=pdf&size_mm=31')).status).toBe(200);
    expect(await creditsUsed()).toBe(before + 3);
    // and generate counts the same way
    expect((await srv.request('GET', '/api/v1/generate?data=print-me&format=eps', { token: key })).headers.get('content-type')).toBe('application/postscript');
    expect(await creditsUsed()).toBe(before + 4);
  });

  it("another workspace's code is a 404 in every format", async () => {
    const qr = await createQr(srv, key, { name: 'Private print', destination_url: 'https://example.com/private' });
    for (const query of ['format=pdf', 'format=eps&size_mm=20']) await expectError(await fetchImage(qr, query, otherKey), 404, 'not_found');
  });

  it('a keyless PDF preview from generate is watermarked in red, costs nothing, and is not cached by the browser', async () => {
    const before = await creditsUsed();
    const response = await srv.request('GET', '/api/v1/generate?data=https%3A%2F%2Fexample.com%2Fpreview&format=pdf&size_mm=40');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('qr-preview')).toBe('missing_key');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const pdf = parsePdf(Buffer.from(await response.arrayBuffer()));
    expect(pdf.mediaBoxes[0]![2]).toBeCloseTo(40 * POINTS_PER_MM, 2);
    expect(pdfFillColours(pdf.content)).toContain('#dc2626');
    expect(await creditsUsed()).toBe(before);
  });
});
