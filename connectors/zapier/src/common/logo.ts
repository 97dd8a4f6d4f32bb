import type { Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type QrCode } from './api.js';

/** The server's limit for a logo body. */
export const MAX_LOGO_BYTES = 256 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** image/png or image/svg+xml by the file's own bytes (a file URL's Content-Type is often application/octet-stream). */
export function logoContentType(bytes: Buffer): 'image/png' | 'image/svg+xml' | undefined {
  if (bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return 'image/png';
  const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<') && /<svg[\s>]/i.test(bytes.subarray(0, 64 * 1024).toString('utf8'))) return 'image/svg+xml';
  return undefined;
}

/**
 * Downloads the file Zapier hands over for a file field (a URL to its storage or to the source app) and puts it
 * on the code as its logo with `PUT /api/v1/qr/:id/logo`. Answers the code as it is afterwards.
 */
export async function uploadLogo(z: ZObject, bundle: Bundle, qrId: string, file: unknown): Promise<QrCode> {
  const url = String(file ?? '').trim();
  if (!/^https?:\/\//i.test(url)) {
    throw new z.errors.Error('Logo must be a file (a PNG or SVG) from an earlier step, or a link to one.', 'invalid_logo', 400);
  }
  const download = await z.request({ url, raw: true, headers: { Accept: 'image/png, image/svg+xml, */*' } });
  const bytes = await download.buffer();
  if (bytes.length > MAX_LOGO_BYTES) {
    throw new z.errors.Error(`The logo is ${Math.ceil(bytes.length / 1024)} KB; qrflow takes at most 256 KB. Use a smaller PNG or an SVG.`, 'invalid_logo', 400);
  }
  const contentType = logoContentType(bytes);
  if (!contentType) throw new z.errors.Error('The logo must be a PNG or SVG file.', 'invalid_logo', 400);
  const response = await z.request<Envelope<QrCode>>({
    method: 'PUT',
    url: apiUrl(bundle, `/qr/${segment(qrId)}/logo`),
    headers: { 'Content-Type': contentType },
    body: bytes,
  });
  return codeOrFetch(z, bundle, qrId, response.data);
}

/** Takes the logo off a code (`DELETE /api/v1/qr/:id/logo`); answers the code as it is afterwards. */
export async function removeLogo(z: ZObject, bundle: Bundle, qrId: string): Promise<QrCode> {
  const response = await z.request<Envelope<QrCode>>({ method: 'DELETE', url: apiUrl(bundle, `/qr/${segment(qrId)}/logo`) });
  return codeOrFetch(z, bundle, qrId, response.data);
}

// The logo routes answer the code; should one answer only a receipt, the step still returns the full code.
async function codeOrFetch(z: ZObject, bundle: Bundle, qrId: string, answer: unknown): Promise<QrCode> {
  const data = (answer as Partial<Envelope<Partial<QrCode>>> | undefined)?.data;
  if (data && data.id === qrId && typeof data.name === 'string' && 'short_url' in data) return data as QrCode;
  const response = await z.request<Envelope<QrCode>>({ url: apiUrl(bundle, `/qr/${segment(qrId)}`) });
  return response.data.data;
}
