import type { Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, segment } from './common/api.js';

export type QrImageFormat = 'png' | 'svg' | 'pdf';

export const IMAGE_CONTENT_TYPES: Record<QrImageFormat, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

export type QrImageRequest = {
  qr_id: string;
  format: QrImageFormat;
  /** Pixels, for PNG and SVG. */
  size: number;
  /** Millimetres, for PDF; the server's default when absent. */
  size_mm?: number;
  filename: string;
};

/**
 * Downloads a QR code image (PNG, SVG or PDF) and hands it to Zapier's file storage. It runs only when a later step uses the
 * file, so a Zap that never attaches the image spends no image credit.
 */
export async function downloadQrImage(z: ZObject, bundle: Bundle): Promise<string> {
  const { qr_id: qrId, format, size, size_mm: sizeMm, filename } = bundle.inputData as QrImageRequest;
  const contentType = IMAGE_CONTENT_TYPES[format] ?? IMAGE_CONTENT_TYPES.png;
  // A PDF is sized for print in millimetres; pixels mean nothing to it.
  const params: Record<string, string | number> = format === 'pdf' ? (sizeMm ? { format, size_mm: sizeMm } : { format }) : { format, size };
  const response = await z.request({
    url: apiUrl(bundle, `/qr/${segment(qrId)}/image`),
    params,
    headers: { Accept: contentType },
    raw: true,
  });
  const image = await response.buffer();
  return z.stashFile(image, image.length, filename, contentType);
}

export default {
  downloadQrImage,
};
