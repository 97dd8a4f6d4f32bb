// Checks an uploaded logo before it is stored (in the render workers: parsing is CPU work). A PNG must be a real,
// decodable PNG of bounded dimensions. An SVG is sanitised with DOMPurify (in jsdom): no scripts, no event handlers,
// no <foreignObject>, no references outside the document (href only to `#…` or a data: raster image, no CSS url() to
// anything else, no @import); what cannot be made safe, or is not an SVG at all, is refused.
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { SIGNATURE } from './png-encoder.mjs';

/** The largest width or height of a PNG logo, in pixels. */
export const MAX_LOGO_PIXELS = 2048;
const SAFE_DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*$/i;
const URL_REFERENCE = /url\(\s*(['"]?)([^'")]*)\1\s*\)/gi;

/** Thrown for a logo that is refused; its message is sent to the client. */
export class LogoRejected extends Error {}

let purifier;
let serializer;

async function loadPurifier() {
  if (!purifier) {
    const [{ JSDOM }, { default: createDOMPurify }] = await Promise.all([import('jsdom'), import('dompurify')]);
    const { window } = new JSDOM('');
    purifier = createDOMPurify(window);
    serializer = new window.XMLSerializer();
    purifier.addHook('uponSanitizeAttribute', (_node, data) => {
      const name = data.attrName.toLowerCase();
      const value = data.attrValue.trim();
      if (name.startsWith('on')) data.keepAttr = false;
      else if ((name === 'href' || name === 'xlink:href' || name.endsWith(':href')) && !(value.startsWith('#') || SAFE_DATA_IMAGE.test(value))) data.keepAttr = false;
      else if (hasExternalUrl(value)) data.keepAttr = false;
    });
    purifier.addHook('uponSanitizeElement', (node, data) => {
      // <style> stays only when none of its rules reaches outside the document
      if (data.tagName === 'style' && (hasExternalUrl(node.textContent ?? '') || /@import/i.test(node.textContent ?? ''))) node.parentNode?.removeChild(node);
    });
  }
  return purifier;
}

/** Whether CSS or an attribute value has a url() pointing anywhere but a fragment of the document. */
function hasExternalUrl(text) {
  for (const match of text.matchAll(URL_REFERENCE)) if (!match[2].trim().startsWith('#')) return true;
  return /url\(/i.test(text.replace(URL_REFERENCE, '')) || /expression\s*\(/i.test(text);
}

/** A PNG logo as it is, when it is one; refused otherwise. */
export function checkPng(bytes) {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new LogoRejected('The body is not a PNG image (its first bytes are not the PNG signature and header).');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width < 1 || height < 1 || width > MAX_LOGO_PIXELS || height > MAX_LOGO_PIXELS) throw new LogoRejected(`The PNG is ${width}×${height} pixels; a logo may be at most ${MAX_LOGO_PIXELS}×${MAX_LOGO_PIXELS}.`);
  try {
    PNG.sync.read(bytes);
  } catch (error) {
    throw new LogoRejected(`The PNG cannot be decoded (${error instanceof Error ? error.message : 'corrupt data'}).`);
  }
  return { bytes, contentType: 'image/png', width, height, removed: 0 };
}

/** An SVG logo, sanitised; refused when it is not an SVG document or nothing drawable is left. */
export async function checkSvg(bytes) {
  const text = bytes.toString('utf8');
  if (!/<svg[\s>]/i.test(text)) throw new LogoRejected('The body is not an SVG image (no <svg> element).');
  const purify = await loadPurifier();
  const root = purify.sanitize(text, {
    USE_PROFILES: { svg: true, svgFilters: true },
    // <use> is kept: the href hook lets it point only inside the document
    ADD_TAGS: ['use'],
    FORBID_TAGS: ['foreignObject', 'script', 'iframe', 'embed', 'object', 'audio', 'video', 'a'],
    FORBID_ATTR: ['xml:base'],
    RETURN_DOM: true,
  });
  const svg = root.querySelector('svg');
  if (!svg) throw new LogoRejected('Nothing of the SVG is left once scripts and external references are removed.');
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const clean = serializer.serializeToString(svg);
  let rendered;
  try {
    rendered = new Resvg(clean, { font: { loadSystemFonts: false } });
  } catch (error) {
    throw new LogoRejected(`The SVG cannot be drawn (${error instanceof Error ? error.message.slice(0, 200) : 'invalid'}).`);
  }
  if (!(rendered.width > 0 && rendered.height > 0)) throw new LogoRejected('The SVG has no size (give it a viewBox or width and height).');
  return { bytes: Buffer.from(clean, 'utf8'), contentType: 'image/svg+xml', width: Math.round(rendered.width), height: Math.round(rendered.height), removed: purify.removed.length };
}
