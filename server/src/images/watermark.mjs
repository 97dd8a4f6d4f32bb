// The "PREVIEW" watermark for images requested without a valid key (GET /api/v1/generate). It must do two things:
// say PREVIEW where a person sees it, and stop scanners from reading the code underneath. The three finder
// patterns (what every decoder locates a code by) are covered with solid red squares, red diagonal stripes cross
// about a quarter of the data modules (beyond what error correction repairs), and PREVIEW is written on a white band
// across the middle. Same geometry as the unwatermarked image, so it shows what the paid image will look like.
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { chunk, SIGNATURE } from './png-encoder.mjs';

const RED = '#dc2626';
const WHITE = '#ffffff';

function rgb(hex) {
  const value = Number.parseInt(hex.slice(1, 7), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

// 5x7 bitmap font for the letters of PREVIEW
const GLYPHS = {
  P: ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  V: ['10001', '10001', '10001', '10001', '10001', '01010', '00100'],
  I: ['11111', '00100', '00100', '00100', '00100', '00100', '11111'],
  W: ['10001', '10001', '10001', '10101', '10101', '10101', '01010'],
};
const WORD = 'PREVIEW';

// palette indices of the 2-bit PNG
const LIGHT = 0;
const DARK = 1;
const STAMP = 2; // red
const BAND = 3; // white

/**
 * A watermarked PNG of `text`: the same pixels as the unwatermarked image (qrcode's scale and margin rule, as in
 * png-encoder.mjs) painted into a 2-bit palette raster, then stamped. ~20x faster than painting RGBA through pngjs,
 * which matters because previews are served without a key.
 */
function png(text, options) {
  const qr = QRCode.create(text, { errorCorrectionLevel: options.errorCorrectionLevel });
  const size = qr.modules.size;
  const data = qr.modules.data;
  const margin = options.margin;
  const modules = size + margin * 2;
  const width = options.width;
  const scale = width && width >= 21 && width >= modules ? width / modules : 4;
  const pixels = Math.floor(modules * scale);
  const scaledMargin = margin * scale;
  const raster = new Uint8Array(pixels * pixels);
  const moduleAt = (p) => (p >= scaledMargin && p < pixels - scaledMargin ? Math.floor((p - scaledMargin) / scale) : -1);
  for (let y = 0; y < pixels; y++) {
    const row = moduleAt(y);
    if (row < 0) continue;
    for (let x = 0; x < pixels; x++) {
      const col = moduleAt(x);
      if (col >= 0 && data[row * size + col]) raster[y * pixels + x] = DARK;
    }
  }
  const fill = (x0, y0, w, h, colour) => {
    const x1 = Math.min(pixels, Math.ceil(x0 + w));
    const y1 = Math.min(pixels, Math.ceil(y0 + h));
    for (let y = Math.max(0, Math.floor(y0)); y < y1; y++) raster.fill(colour, y * pixels + Math.max(0, Math.floor(x0)), y * pixels + x1);
  };
  // the finder patterns (7x7 modules) and their separators, plus one module more on each side
  const block = 10 * scale;
  const near = scaledMargin - scale;
  const far = scaledMargin + (size - 9) * scale;
  for (const [x, y] of [[near, near], [far, near], [near, far]]) fill(x, y, block, block, STAMP);
  // diagonal stripes: a quarter of every diagonal, about two modules wide
  const stripe = Math.max(2, Math.round(Math.max(pixels / 40, scale * 1.5)));
  const period = stripe * 4;
  for (let y = 0; y < pixels; y++) {
    const offset = y * pixels;
    for (let x = 0; x < pixels; x++) if ((x + y) % period < stripe) raster[offset + x] = STAMP;
  }
  // PREVIEW in red on a white band across the middle
  const letter = Math.max(1, Math.floor(pixels / (WORD.length * 6 + 4)));
  const bandHeight = letter * 11;
  const bandTop = Math.floor(pixels / 2 - bandHeight / 2);
  fill(0, bandTop, pixels, bandHeight, BAND);
  let cursor = Math.floor((pixels - WORD.length * 6 * letter + letter) / 2);
  for (const character of WORD) {
    const glyph = GLYPHS[character];
    for (let gy = 0; gy < 7; gy++) {
      for (let gx = 0; gx < 5; gx++) if (glyph[gy][gx] === '1') fill(cursor + gx * letter, bandTop + 2 * letter + gy * letter, letter, letter, STAMP);
    }
    cursor += 6 * letter;
  }
  return encodePalette(raster, pixels, [options.color.light, options.color.dark, RED, WHITE]);
}

/** A square 2-bit palette PNG from one palette index a pixel. */
function encodePalette(raster, pixels, colours) {
  const stride = 1 + Math.ceil(pixels / 4);
  const raw = Buffer.alloc(stride * pixels);
  for (let y = 0; y < pixels; y++) {
    const offset = y * stride + 1;
    const source = y * pixels;
    for (let x = 0; x < pixels; x++) raw[offset + (x >> 2)] |= raster[source + x] << (6 - 2 * (x & 3));
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(pixels, 0);
  header.writeUInt32BE(pixels, 4);
  header[8] = 2; // bit depth
  header[9] = 3; // colour type: palette
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(colours.flatMap((hex) => rgb(hex.slice(0, 7))))),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Stamps an SVG from qrcode's renderer. The overlay is drawn in the document's own viewBox units (one unit per
 * module), so the finder squares land on the finders whatever the code's version or the image's size.
 */
function svg(markup, margin) {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(markup);
  if (!viewBox) throw new Error('unexpected SVG from the QR renderer (no viewBox)');
  const total = Number(viewBox[1]);
  const size = total - margin * 2;
  const near = margin - 1;
  const far = margin + size - 9;
  const finders = [[near, near], [far, near], [near, far]].map(([x, y]) => `<rect x="${x}" y="${y}" width="10" height="10"/>`).join('');
  const stripeWidth = Math.max(1.5, total / 40);
  const period = stripeWidth * 4 * Math.SQRT2; // the same share of each diagonal as the PNG's stripes
  const stripes = [];
  for (let offset = -total; offset < total; offset += period) stripes.push(`<line x1="${offset.toFixed(2)}" y1="0" x2="${(offset + total).toFixed(2)}" y2="${total}"/>`);
  const bandHeight = total / 6;
  const overlay =
    `<g id="qrflow-preview-watermark">` +
    `<g stroke="${RED}" stroke-width="${stripeWidth.toFixed(2)}">${stripes.join('')}</g>` +
    `<g fill="${RED}">${finders}</g>` +
    `<rect x="0" y="${(total / 2 - bandHeight / 2).toFixed(2)}" width="${total}" height="${bandHeight.toFixed(2)}" fill="${WHITE}"/>` +
    `<text x="${total / 2}" y="${total / 2}" font-family="Arial, Helvetica, sans-serif" font-weight="700" font-size="${(bandHeight * 0.7).toFixed(2)}" textLength="${(total * 0.8).toFixed(2)}" lengthAdjust="spacingAndGlyphs" fill="${RED}" text-anchor="middle" dominant-baseline="central">PREVIEW</text>` +
    `</g>`;
  return markup.replace(/<\/svg>\s*$/, `${overlay}</svg>\n`);
}

export const applyPreviewWatermark = { png, svg };
