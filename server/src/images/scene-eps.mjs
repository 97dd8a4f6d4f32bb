// Writes a scene (scene.mjs) as Encapsulated PostScript by hand: a small text format, every shape a filled path and
// every colour given exactly as its 0-255 components divided by 255. A logo is a 256 px RGB image.
import { number } from './scene-svg.mjs';
import { POINTS_PER_MM } from './scene-pdf.mjs';
import { logoRgb } from './logo-raster.mjs';

const LOGO_PIXELS = 256;

function setColor(hex) {
  const value = Number.parseInt(hex.slice(1, 7), 16);
  return `${(value >> 16) & 255} 255 div ${(value >> 8) & 255} 255 div ${value & 255} 255 div setrgbcolor`;
}

function pathOps(commands) {
  const lines = ['newpath'];
  for (const [op, ...args] of commands) {
    const coords = args.map(number).join(' ');
    if (op === 'M') lines.push(`${coords} m`);
    else if (op === 'L') lines.push(`${coords} l`);
    else if (op === 'C') lines.push(`${coords} c`);
    else lines.push('h');
  }
  return lines.join('\n');
}

/** The scene as EPS text, `widthMm` wide (the height follows the scene's proportions). */
export function sceneToEps(scene, widthMm, logo, background) {
  const width = widthMm * POINTS_PER_MM;
  const height = (width * scene.height) / scene.width;
  const scale = width / scene.width;
  const out = [
    '%!PS-Adobe-3.0 EPSF-3.0',
    `%%BoundingBox: 0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
    `%%HiResBoundingBox: 0 0 ${width.toFixed(4)} ${height.toFixed(4)}`,
    '%%Title: QR code',
    '%%Creator: qrflow',
    '%%LanguageLevel: 2',
    '%%EndComments',
    'save',
    '/m {moveto} bind def /l {lineto} bind def /c {curveto} bind def /h {closepath} bind def',
    // module units, y down as in the scene
    `0 ${height.toFixed(4)} translate ${scale.toFixed(6)} ${(-scale).toFixed(6)} scale`,
  ];
  for (const item of scene.items) {
    if (item.kind === 'logo') {
      if (!logo) continue;
      const image = logoRgb(logo, LOGO_PIXELS, background);
      const hex = image.rgb.toString('hex').replace(/(.{128})/g, '$1\n');
      out.push(
        'gsave',
        `${number(item.x)} ${number(item.y)} translate ${number(item.size)} ${number(item.size)} scale`,
        '/DeviceRGB setcolorspace',
        `<< /ImageType 1 /Width ${image.width} /Height ${image.height} /BitsPerComponent 8 /Decode [0 1 0 1 0 1] /ImageMatrix [${image.width} 0 0 ${image.height} 0 0] /DataSource currentfile /ASCIIHexDecode filter >> image`,
        `${hex}>`,
        'grestore',
      );
    } else if (item.commands.length > 0) {
      out.push(setColor(item.color), pathOps(item.commands), item.rule === 'evenodd' ? 'eofill' : 'fill');
    }
  }
  out.push('restore', 'showpage', '%%EOF', '');
  return Buffer.from(out.join('\n'), 'latin1');
}
