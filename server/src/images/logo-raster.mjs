// Logos as pixels, for the formats that embed them as images (PDF for SVG logos, EPS for both).
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { logoUri } from './scene-svg.mjs';

/**
 * The logo as a square PNG of `pixels` pixels, fitted and centred (transparent around it, or on `background`).
 * resvg draws it from an SVG <image> of its data: URI, so PNG and SVG logos go the same way.
 */
export function rasteriseLogo(logo, pixels, background) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${pixels}" height="${pixels}" viewBox="0 0 ${pixels} ${pixels}"><image x="0" y="0" width="${pixels}" height="${pixels}" preserveAspectRatio="xMidYMid meet" xlink:href="${logoUri(logo)}"/></svg>`;
  return new Resvg(svg, { fitTo: { mode: 'width', value: pixels }, font: { loadSystemFonts: false }, ...(background ? { background } : {}) }).render().asPng();
}

/** The logo's pixels as RGB rows on `background` (#rrggbb), `pixels` square. */
export function logoRgb(logo, pixels, background) {
  const png = PNG.sync.read(rasteriseLogo(logo, pixels, background));
  const rgb = Buffer.alloc(png.width * png.height * 3);
  for (let source = 0, target = 0; source < png.data.length; source += 4, target += 3) {
    rgb[target] = png.data[source];
    rgb[target + 1] = png.data[source + 1];
    rgb[target + 2] = png.data[source + 2];
  }
  return { width: png.width, height: png.height, rgb };
}
