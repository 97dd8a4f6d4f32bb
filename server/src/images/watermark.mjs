// The "PREVIEW" watermark for images requested without a valid key: visible, and it makes the code unreadable
// by covering the three finder patterns and striping the data area.
import QRCode from 'qrcode';
import { PNG } from 'pngjs';

function hexToRgb(hex) {
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

function png(text, options) {
  const qr = QRCode.create(text, { errorCorrectionLevel: options.errorCorrectionLevel });
  const modules = qr.modules.size;
  const size = options.width;
  const margin = options.margin;
  const scale = size / (modules + margin * 2);
  const image = new PNG({ width: size, height: size, colorType: 2, inputHasAlpha: false });
  const dark = hexToRgb(options.color.dark);
  const light = hexToRgb(options.color.light);
  const red = [220, 38, 38];
  const set = (x, y, rgb) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const offset = (y * size + x) << 2;
    image.data[offset] = rgb[0];
    image.data[offset + 1] = rgb[1];
    image.data[offset + 2] = rgb[2];
    image.data[offset + 3] = 255;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / scale) - margin;
      const my = Math.floor(y / scale) - margin;
      const on = mx >= 0 && my >= 0 && mx < modules && my < modules && qr.modules.get(my, mx);
      set(x, y, on ? dark : light);
    }
  }
  // cover the finder patterns (7x7 modules plus separator) with solid red blocks
  const block = Math.ceil(8 * scale);
  const origin = Math.floor(margin * scale);
  const far = Math.floor((margin + modules - 8) * scale);
  for (const [bx, by] of [[origin, origin], [far, origin], [origin, far]]) {
    for (let y = by; y < by + block; y++) for (let x = bx; x < bx + block; x++) set(x, y, red);
  }
  // diagonal stripes across the data area
  const stripe = Math.max(2, Math.round(size / 40));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (((x + y) % (stripe * 4)) < stripe) set(x, y, red);
    }
  }
  // the word PREVIEW on a white band across the middle
  const word = 'PREVIEW';
  const pixel = Math.max(1, Math.floor(size / (word.length * 6 + 4)));
  const bandHeight = pixel * 11;
  const bandTop = Math.floor(size / 2 - bandHeight / 2);
  for (let y = bandTop; y < bandTop + bandHeight; y++) for (let x = 0; x < size; x++) set(x, y, [255, 255, 255]);
  const textWidth = word.length * 6 * pixel;
  let cursor = Math.floor((size - textWidth) / 2);
  for (const letter of word) {
    const glyph = GLYPHS[letter];
    for (let gy = 0; gy < 7; gy++) {
      for (let gx = 0; gx < 5; gx++) {
        if (glyph[gy][gx] !== '1') continue;
        for (let py = 0; py < pixel; py++) for (let px = 0; px < pixel; px++) set(cursor + gx * pixel + px, bandTop + 2 * pixel + gy * pixel + py, red);
      }
    }
    cursor += 6 * pixel;
  }
  return PNG.sync.write(image, { colorType: 2, filterType: 1 });
}

function svg(markup, size) {
  const block = Math.round(size * 0.3);
  const overlay = `<g fill="#dc2626"><rect x="0" y="0" width="${block}" height="${block}"/><rect x="${size - block}" y="0" width="${block}" height="${block}"/><rect x="0" y="${size - block}" width="${block}" height="${block}"/></g>` +
    `<g stroke="#dc2626" stroke-width="${Math.max(2, size / 40)}">${Array.from({ length: 12 }, (_, i) => `<line x1="${(i - 6) * size / 6}" y1="0" x2="${(i - 6) * size / 6 + size}" y2="${size}"/>`).join('')}</g>` +
    `<rect x="0" y="${size / 2 - size / 12}" width="${size}" height="${size / 6}" fill="#ffffff"/>` +
    `<text x="${size / 2}" y="${size / 2}" font-family="sans-serif" font-weight="700" font-size="${size / 9}" fill="#dc2626" text-anchor="middle" dominant-baseline="middle">PREVIEW</text>`;
  return markup.replace(/<\/svg>\s*$/, `<svg viewBox="0 0 ${size} ${size}" width="100%" height="100%" x="0" y="0" preserveAspectRatio="none">${overlay}</svg></svg>`);
}

export const applyPreviewWatermark = { png, svg };
