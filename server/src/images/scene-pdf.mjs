// Writes a scene (scene.mjs) as a one-page vector PDF with pdfkit: every module, finder and letter a filled path in
// the exact colours asked for (DeviceRGB); a logo is an image (a PNG as it is, an SVG rasterised at 1024 px).
import PDFDocument from 'pdfkit';
import { pathData } from './scene-svg.mjs';
import { rasteriseLogo } from './logo-raster.mjs';

/** Points (1/72 inch) in a millimetre. */
export const POINTS_PER_MM = 72 / 25.4;
const SVG_LOGO_PIXELS = 1024;

/** The scene as PDF bytes, `widthMm` wide (the height follows the scene's proportions). */
export function sceneToPdf(scene, widthMm, logo) {
  const width = widthMm * POINTS_PER_MM;
  const height = (width * scene.height) / scene.width;
  const doc = new PDFDocument({ size: [width, height], margin: 0, autoFirstPage: true, info: { Title: 'QR code', Creator: 'qrflow', Producer: 'qrflow' } });
  const chunks = [];
  doc.on('data', (chunk) => chunks.push(chunk));
  const done = new Promise((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.save();
  doc.scale(width / scene.width);
  for (const item of scene.items) {
    if (item.kind === 'logo') {
      if (!logo) continue;
      const png = logo.contentType === 'image/png' ? Buffer.from(logo.bytes) : rasteriseLogo(logo, SVG_LOGO_PIXELS);
      doc.image(png, item.x, item.y, { fit: [item.size, item.size], align: 'center', valign: 'center' });
    } else if (item.commands.length > 0) {
      doc.path(pathData(item.commands)).fill(item.color, item.rule === 'evenodd' ? 'even-odd' : 'non-zero');
    }
  }
  doc.restore();
  doc.end();
  return done;
}
