import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module shared with the render worker, without type declarations
import { buildScene, logoZoneSide, LOGO_AREA_SHARE } from './scene.mjs';

type Command = [string, ...number[]];
interface Scene {
  width: number;
  height: number;
  symbolSize: number;
  margin: number;
  logoZone: number;
  items: Array<{ kind: string; color?: string; commands?: Command[]; x?: number; y?: number; size?: number }>;
}
const scene = (task: Record<string, unknown>): Scene =>
  buildScene({ text: 'https://qr.example.com/r/aB3dE9x', errorCorrection: 'M', margin: 4, foreground: '#000000', background: '#ffffff', ...task }) as Scene;

describe('the logo zone', () => {
  it('for every QR version: at most 20 % of the symbol, centred on the grid, clear of finders, timing and the lower-right alignment pattern', () => {
    for (let version = 1; version <= 40; version++) {
      const size = 17 + 4 * version;
      const side = logoZoneSide(size) as number;
      expect(side * side).toBeLessThanOrEqual(LOGO_AREA_SHARE * size * size);
      expect((size - side) % 2).toBe(0);
      // 9 modules from each edge: finder (7) + separator (1) + the timing row/column's neighbour, and the alignment pattern at size - 7 ± 2
      if (side > 0) expect((size - side) / 2).toBeGreaterThanOrEqual(9);
    }
    expect(logoZoneSide(33)).toBe(13);
  });

  it('a logo raises error correction to H and clears no module of a finder pattern', () => {
    const withLogo = scene({ logo: { contentType: 'image/png', bytes: new Uint8Array() } });
    expect(withLogo.symbolSize).toBe(QRCode.create('https://qr.example.com/r/aB3dE9x', { errorCorrectionLevel: 'H' }).modules.size);
    const logo = withLogo.items.find((item) => item.kind === 'logo')!;
    // one module of quiet zone inside the cleared square on each side
    expect(logo.size).toBe(withLogo.logoZone - 2);
    expect(logo.x).toBe(withLogo.margin + (withLogo.symbolSize - withLogo.logoZone) / 2 + 1);
    // no dark module is drawn inside the logo's square
    const modules = withLogo.items.filter((item) => item.kind === 'path' && item.color === '#000000').flatMap((item) => item.commands!);
    const inside = modules.filter(([op, x, y]) => op === 'M' && x! > logo.x! && x! < logo.x! + logo.size! && y! > logo.y! && y! < logo.y! + logo.size!);
    expect(inside).toEqual([]);
    expect(scene({}).symbolSize).toBe(QRCode.create('https://qr.example.com/r/aB3dE9x', { errorCorrectionLevel: 'M' }).modules.size);
  });

  it('a frame adds a band under the code and keeps two modules of quiet zone inside it', () => {
    const framed = scene({ margin: 0, frame: { text: 'Scan me', color: '#1e3a8a', text_color: '#ffffff' } });
    expect(framed.margin).toBe(2);
    expect(framed.height).toBeGreaterThan(framed.width);
    expect(framed.items.some((item) => item.color === '#1e3a8a')).toBe(true);
    // the call to action is outlines (curves), in its colour
    expect(framed.items.find((item) => item.color === '#ffffff' && item.commands!.some(([op]) => op === 'C'))).toBeDefined();
  });
});
