// The geometry of a styled QR image (module and finder shapes, a frame with a call to action, a logo, the preview
// watermark) as a list of filled paths in module units, which the SVG, PDF and EPS writers draw alike (and PNG through
// the SVG), so the four formats show the same picture. Plain JavaScript: it runs in the render workers.
import QRCode from 'qrcode';
import AlignmentPattern from 'qrcode/lib/core/alignment-pattern.js';
import { textOutline } from './text-outline.mjs';

/** How far a cubic Bézier's control points sit along the tangent to draw a quarter circle. */
const KAPPA = 0.5522847498;
/** The share of the symbol's area (quiet zone around the logo included) that a logo may clear. */
export const LOGO_AREA_SHARE = 0.2;
const RED = '#dc2626';
const WHITE = '#ffffff';

/** Collects path commands: ['M', x, y], ['L', x, y], ['C', x1, y1, x2, y2, x, y], ['Z']. */
class Path {
  constructor() {
    this.commands = [];
  }
  rect(x, y, width, height) {
    this.commands.push(['M', x, y], ['L', x + width, y], ['L', x + width, y + height], ['L', x, y + height], ['Z']);
  }
  roundedRect(x, y, width, height, radius) {
    const r = Math.min(radius, width / 2, height / 2);
    const k = r * (1 - KAPPA);
    const right = x + width;
    const bottom = y + height;
    this.commands.push(
      ['M', x + r, y],
      ['L', right - r, y],
      ['C', right - k, y, right, y + k, right, y + r],
      ['L', right, bottom - r],
      ['C', right, bottom - k, right - k, bottom, right - r, bottom],
      ['L', x + r, bottom],
      ['C', x + k, bottom, x, bottom - k, x, bottom - r],
      ['L', x, y + r],
      ['C', x, y + k, x + k, y, x + r, y],
      ['Z'],
    );
  }
  circle(cx, cy, r) {
    const k = r * KAPPA;
    this.commands.push(
      ['M', cx + r, cy],
      ['C', cx + r, cy + k, cx + k, cy + r, cx, cy + r],
      ['C', cx - k, cy + r, cx - r, cy + k, cx - r, cy],
      ['C', cx - r, cy - k, cx - k, cy - r, cx, cy - r],
      ['C', cx + k, cy - r, cx + r, cy - k, cx + r, cy],
      ['Z'],
    );
  }
  polygon(points) {
    if (points.length < 3) return;
    points.forEach(([x, y], index) => this.commands.push([index === 0 ? 'M' : 'L', x, y]));
    this.commands.push(['Z']);
  }
}

/** A shape of `shape` (square, rounded, dots) filling the box, as finder rings and modules draw it. */
function shapeIn(path, shape, x, y, size, cornerShare) {
  if (shape === 'dots') path.circle(x + size / 2, y + size / 2, size / 2);
  else if (shape === 'rounded') path.roundedRect(x, y, size, size, size * cornerShare);
  else path.rect(x, y, size, size);
}

/**
 * The side, in modules, of the square a logo clears in the middle: at most LOGO_AREA_SHARE of the symbol, of the
 * symbol's parity (so it is centred on the module grid), and clear of the finder patterns, their separators, the
 * timing patterns and the lower-right alignment pattern (9 modules from each edge).
 */
export function logoZoneSide(symbolSize) {
  let side = Math.min(Math.floor(Math.sqrt(LOGO_AREA_SHARE) * symbolSize), symbolSize - 18);
  if ((symbolSize - side) % 2 !== 0) side -= 1;
  return Math.max(0, side);
}

/** Clips a convex polygon to the square [0, size]² (Sutherland–Hodgman). */
function clipToSquare(points, size) {
  const edges = [
    (p) => p[0] >= 0, (p) => p[0] <= size, (p) => p[1] >= 0, (p) => p[1] <= size,
  ];
  const crossings = [
    (a, b) => { const t = (0 - a[0]) / (b[0] - a[0]); return [0, a[1] + t * (b[1] - a[1])]; },
    (a, b) => { const t = (size - a[0]) / (b[0] - a[0]); return [size, a[1] + t * (b[1] - a[1])]; },
    (a, b) => { const t = (0 - a[1]) / (b[1] - a[1]); return [a[0] + t * (b[0] - a[0]), 0]; },
    (a, b) => { const t = (size - a[1]) / (b[1] - a[1]); return [a[0] + t * (b[0] - a[0]), size]; },
  ];
  let output = points;
  edges.forEach((inside, edge) => {
    const input = output;
    output = [];
    input.forEach((current, index) => {
      const previous = input[(index + input.length - 1) % input.length];
      if (inside(current)) {
        if (!inside(previous)) output.push(crossings[edge](previous, current));
        output.push(current);
      } else if (inside(previous)) output.push(crossings[edge](previous, current));
    });
  });
  return output;
}

/** The PREVIEW watermark (as watermark.mjs draws it on plain codes), over the code square of side `total` at (x, y). */
function watermarkItems(x, y, total, margin) {
  const size = total - margin * 2;
  const moved = (points) => points.map(([px, py]) => [px + x, py + y]);
  const stripes = new Path();
  const stripeWidth = Math.max(1.5, total / 40);
  const half = (stripeWidth * Math.SQRT2) / 2;
  const period = stripeWidth * 4 * Math.SQRT2;
  for (let offset = -total; offset < total; offset += period) {
    stripes.polygon(moved(clipToSquare([[offset - half, 0], [offset + half, 0], [offset + total + half, total], [offset + total - half, total]], total)));
  }
  const finders = new Path();
  const near = margin - 1;
  const far = margin + size - 9;
  for (const [fx, fy] of [[near, near], [far, near], [near, far]]) finders.rect(x + Math.max(0, fx), y + Math.max(0, fy), 10, 10);
  const bandHeight = total / 6;
  const band = new Path();
  const bandTop = y + total / 2 - bandHeight / 2;
  band.rect(x, bandTop, total, bandHeight);
  const word = textOutline('PREVIEW', { centerX: x + total / 2, centerY: y + total / 2, maxWidth: total * 0.8, maxHeight: bandHeight * 0.6 });
  return [
    { kind: 'path', color: RED, rule: 'nonzero', commands: stripes.commands },
    { kind: 'path', color: RED, rule: 'nonzero', commands: finders.commands },
    { kind: 'path', color: WHITE, rule: 'nonzero', commands: band.commands },
    { kind: 'path', color: RED, rule: 'nonzero', commands: word.commands },
  ];
}

/**
 * The scene of a render task: `{ width, height, items }` in module units, items drawn in order, each
 * `{ kind: 'path', color, rule, crisp?, commands }` or `{ kind: 'logo', x, y, size }` (the task's logo goes there).
 */
export function buildScene(task) {
  const hasLogo = Boolean(task.logo);
  // a logo hides modules: error correction H restores up to 30 % of the codewords
  const qr = QRCode.create(task.text, { errorCorrectionLevel: hasLogo ? 'H' : task.errorCorrection });
  const n = qr.modules.size;
  const data = qr.modules.data;
  const frame = task.frame ?? null;
  // inside a frame two modules of quiet zone at least, or a dark frame would touch the finder patterns
  const margin = frame ? Math.max(task.margin, 2) : task.margin;
  const inner = n + margin * 2;
  const border = frame ? Math.max(1, inner * 0.05) : 0;
  const band = frame ? inner * 0.2 : 0;
  const width = inner + border * 2;
  const height = inner + border * 2 + band;
  const items = [];

  const backdrop = new Path();
  if (frame) {
    backdrop.roundedRect(0, 0, width, height, border * 1.5);
    items.push({ kind: 'path', color: frame.color, rule: 'nonzero', commands: backdrop.commands });
    const code = new Path();
    code.rect(border, border, inner, inner);
    items.push({ kind: 'path', color: task.background, rule: 'nonzero', crisp: true, commands: code.commands });
  } else {
    backdrop.rect(0, 0, width, height);
    items.push({ kind: 'path', color: task.background, rule: 'nonzero', crisp: true, commands: backdrop.commands });
  }

  const ox = border + margin;
  const oy = border + margin;
  const zone = hasLogo ? logoZoneSide(n) : 0;
  const zoneStart = (n - zone) / 2;
  const inZone = (row, col) => zone > 0 && row >= zoneStart && row < zoneStart + zone && col >= zoneStart && col < zoneStart + zone;
  // alignment patterns are drawn whole, like the finders: decoders look for their solid rings (centres from qrcode)
  const alignments = AlignmentPattern.getPositions(qr.version).filter(
    ([row, col]) => !(zone > 0 && row + 2 >= zoneStart && row - 2 < zoneStart + zone && col + 2 >= zoneStart && col - 2 < zoneStart + zone),
  );
  const inAlignment = (row, col) => alignments.some(([r, c]) => Math.abs(row - r) <= 2 && Math.abs(col - c) <= 2);
  const inFinder = (row, col) => (row < 7 && col < 7) || (row < 7 && col >= n - 7) || (row >= n - 7 && col < 7) || inAlignment(row, col);
  const moduleShape = task.moduleShape ?? 'square';
  const modules = new Path();
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (!data[row * n + col] || inFinder(row, col) || inZone(row, col)) continue;
      if (moduleShape === 'square') {
        // a run of dark modules as one rectangle: fewer path commands, no seams between neighbours
        let end = col + 1;
        while (end < n && data[row * n + end] && !inFinder(row, end) && !inZone(row, end)) end++;
        modules.rect(ox + col, oy + row, end - col, 1);
        col = end - 1;
      } else if (moduleShape === 'dots') {
        modules.circle(ox + col + 0.5, oy + row + 0.5, 0.45);
      } else {
        modules.roundedRect(ox + col, oy + row, 1, 1, 0.35);
      }
    }
  }
  items.push({ kind: 'path', color: task.foreground, rule: 'nonzero', crisp: moduleShape === 'square', commands: modules.commands });

  // finder patterns: a 7-module ring (its hole drawn as a second contour, filled even-odd) and a 3-module eye
  const finderShape = task.finderShape ?? 'square';
  const finders = new Path();
  for (const [row, col] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
    const x = ox + col;
    const y = oy + row;
    shapeIn(finders, finderShape, x, y, 7, 0.28);
    shapeIn(finders, finderShape, x + 1, y + 1, 5, 0.22);
    shapeIn(finders, finderShape, x + 2, y + 2, 3, 0.3);
  }
  for (const [row, col] of alignments) {
    const x = ox + col - 2;
    const y = oy + row - 2;
    shapeIn(finders, finderShape, x, y, 5, 0.28);
    shapeIn(finders, finderShape, x + 1, y + 1, 3, 0.22);
    shapeIn(finders, finderShape, x + 2, y + 2, 1, 0.3);
  }
  items.push({ kind: 'path', color: task.foreground, rule: 'evenodd', crisp: finderShape === 'square', commands: finders.commands });

  if (hasLogo) items.push({ kind: 'logo', x: ox + zoneStart + 1, y: oy + zoneStart + 1, size: zone - 2 });

  if (frame) {
    const text = textOutline(frame.text, { centerX: width / 2, centerY: border + inner + (band + border) / 2, maxWidth: width - border * 4, maxHeight: band * 0.5 });
    items.push({ kind: 'path', color: frame.text_color, rule: 'nonzero', commands: text.commands });
  }
  if (task.watermark) items.push(...watermarkItems(border, border, inner, margin));
  return { width, height, items, symbolSize: n, margin, logoZone: zone };
}
