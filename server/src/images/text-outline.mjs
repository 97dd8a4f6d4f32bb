// Text as outlines (filled paths) in one bundled font, DejaVu Sans Bold: every format then shows the same letters
// whether or not the machine that opens the file (or resvg, which rasterises PNGs) has fonts installed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);
let font;

function loadFont() {
  if (!font) {
    const directory = path.dirname(require.resolve('dejavu-fonts-ttf/package.json'));
    font = fontkit.create(readFileSync(path.join(directory, 'ttf', 'DejaVuSans-Bold.ttf')));
  }
  return font;
}

/**
 * The outline of `text` in path commands (M, L, C, Z), scaled to fit `maxWidth` × `maxHeight` (the cap height) and
 * centred on (centerX, centerY), in the caller's y-down units.
 */
export function textOutline(text, { centerX, centerY, maxWidth, maxHeight }) {
  const face = loadFont();
  const run = face.layout(text);
  const advance = run.positions.reduce((sum, position) => sum + position.xAdvance, 0);
  const capHeight = face.capHeight || face.unitsPerEm * 0.73;
  if (advance <= 0) return { commands: [] };
  const scale = Math.min(maxHeight / capHeight, maxWidth / advance);
  const left = centerX - (advance * scale) / 2;
  const baseline = centerY + (capHeight * scale) / 2;
  const commands = [];
  let penX = 0;
  run.glyphs.forEach((glyph, index) => {
    const position = run.positions[index];
    const dx = penX + position.xOffset;
    const dy = position.yOffset;
    const at = (x, y) => [left + (dx + x) * scale, baseline - (dy + y) * scale];
    let current = [0, 0];
    for (const { command, args } of glyph.path.commands) {
      if (command === 'moveTo') {
        current = args;
        commands.push(['M', ...at(args[0], args[1])]);
      } else if (command === 'lineTo') {
        current = args;
        commands.push(['L', ...at(args[0], args[1])]);
      } else if (command === 'quadraticCurveTo') {
        // TrueType curves are quadratic: the same curve as a cubic has control points 2/3 of the way to the quadratic's
        const [qx, qy, x, y] = args;
        const c1 = [current[0] + ((qx - current[0]) * 2) / 3, current[1] + ((qy - current[1]) * 2) / 3];
        const c2 = [x + ((qx - x) * 2) / 3, y + ((qy - y) * 2) / 3];
        commands.push(['C', ...at(c1[0], c1[1]), ...at(c2[0], c2[1]), ...at(x, y)]);
        current = [x, y];
      } else if (command === 'bezierCurveTo') {
        commands.push(['C', ...at(args[0], args[1]), ...at(args[2], args[3]), ...at(args[4], args[5])]);
        current = [args[4], args[5]];
      } else if (command === 'closePath') {
        commands.push(['Z']);
      }
    }
    penX += position.xAdvance;
  });
  return { commands };
}
