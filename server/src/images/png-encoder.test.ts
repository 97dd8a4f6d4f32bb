import { describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { PNG } from 'pngjs';
// @ts-expect-error plain JavaScript module shared with the render worker, without type declarations
import { encodeQrPng } from './png-encoder.mjs';

describe('encodeQrPng', () => {
  const cases: Array<[string, number, number, 'L' | 'M' | 'Q' | 'H']> = [
    ['http://127.0.0.1:8080/r/AbCdEfG', 512, 4, 'M'],
    ['hello', 64, 0, 'L'],
    ['x'.repeat(1000), 2048, 4, 'H'],
    ['http://a/r/1234567', 100, 2, 'Q'],
    ['width below the symbol size falls back to 4 px a module', 10, 4, 'M'],
    ['an odd width', 333, 3, 'M'],
  ];
  it.each(cases)('draws the same pixels as the qrcode package for %j at %i px, margin %i, level %s', async (text, width, margin, level) => {
    const color = { dark: '#102030ff', light: '#fff8e1ff' };
    const expected = PNG.sync.read(await QRCode.toBuffer(text, { type: 'png', width, margin, errorCorrectionLevel: level, color }));
    const actual = PNG.sync.read(encodeQrPng(QRCode.create(text, { errorCorrectionLevel: level }), { width, margin, dark: '#102030', light: '#fff8e1' }));
    expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
    expect(actual.data.equals(expected.data)).toBe(true);
  });
});
