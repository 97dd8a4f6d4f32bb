// Renders QR images off the main thread, and checks uploaded logos. Plain JavaScript so it runs in a worker without a
// TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { Resvg } from '@resvg/resvg-js';
import QRCode from 'qrcode';
import { encodeQrPng } from './png-encoder.mjs';
import { applyPreviewWatermark } from './watermark.mjs';
import { buildScene } from './scene.mjs';
import { sceneToSvg } from './scene-svg.mjs';
import { sceneToPdf } from './scene-pdf.mjs';
import { sceneToEps } from './scene-eps.mjs';
import { checkPng, checkSvg, LogoRejected } from './logo-check.mjs';

/** Whether the task needs only what qrcode draws: square modules and finders, no frame, no logo, a pixel format. */
function isPlain(task) {
  return (task.format === 'png' || task.format === 'svg') && (task.moduleShape ?? 'square') === 'square' && (task.finderShape ?? 'square') === 'square' && !task.frame && !task.logo;
}

async function renderPlain(task) {
  const options = {
    width: task.size,
    margin: task.margin,
    errorCorrectionLevel: task.errorCorrection,
    color: { dark: `${task.foreground}ff`, light: `${task.background}ff` },
  };
  if (task.format === 'svg') {
    const svg = await QRCode.toString(task.text, { ...options, type: 'svg' });
    return Buffer.from(task.watermark ? applyPreviewWatermark.svg(svg, task.margin) : svg, 'utf8');
  }
  if (task.watermark) return applyPreviewWatermark.png(task.text, options);
  // same pixels as QRCode.toBuffer, encoded as a 1-bit palette PNG (~25x faster than its RGBA rows through pngjs)
  const qr = QRCode.create(task.text, { errorCorrectionLevel: task.errorCorrection });
  return encodeQrPng(qr, { width: task.size, margin: task.margin, dark: task.foreground, light: task.background });
}

/** Styled codes and print formats: one scene, written in the format asked for. */
async function renderScene(task) {
  const scene = buildScene(task);
  const logo = task.logo ? { contentType: task.logo.contentType, bytes: Buffer.from(task.logo.bytes) } : undefined;
  if (task.format === 'pdf') return sceneToPdf(scene, task.sizeMm, logo);
  if (task.format === 'eps') return sceneToEps(scene, task.sizeMm, logo, task.background);
  const svg = sceneToSvg(scene, task.size, logo);
  if (task.format === 'svg') return Buffer.from(svg, 'utf8');
  return new Resvg(svg, { fitTo: { mode: 'width', value: task.size }, font: { loadSystemFonts: false } }).render().asPng();
}

function reply(id, bytes, extra = {}) {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  parentPort.postMessage({ id, bytes: copy, ...extra }, [copy.buffer]);
}

parentPort.on('message', async (task) => {
  try {
    if (task.kind === 'logo') {
      const input = Buffer.from(task.bytes);
      const checked = task.contentType === 'image/png' ? checkPng(input) : await checkSvg(input);
      reply(task.id, checked.bytes, { logo: { contentType: checked.contentType, width: checked.width, height: checked.height, removed: checked.removed } });
      return;
    }
    reply(task.id, isPlain(task) ? await renderPlain(task) : await renderScene(task));
  } catch (error) {
    const message = String(error && error.message ? error.message : error);
    parentPort.postMessage({ id: task.id, error: message, rejected: error instanceof LogoRejected });
  }
});
