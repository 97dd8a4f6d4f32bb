import type { Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, segment } from './common/api.js';

export type QrImageRequest = {
  qr_id: string;
  format: 'png' | 'svg';
  size: number;
  filename: string;
};

/**
 * Downloads a QR code image and hands it to Zapier's file storage. It runs only when a later step uses the
 * file, so a Zap that never attaches the image spends no image credit.
 */
export async function downloadQrImage(z: ZObject, bundle: Bundle): Promise<string> {
  const { qr_id: qrId, format, size, filename } = bundle.inputData as QrImageRequest;
  const response = await z.request({
    url: apiUrl(bundle, `/qr/${segment(qrId)}/image`),
    params: { format, size },
    headers: { Accept: format === 'svg' ? 'image/svg+xml' : 'image/png' },
    raw: true,
  });
  const image = await response.buffer();
  return z.stashFile(image, image.length, filename, format === 'svg' ? 'image/svg+xml' : 'image/png');
}

export default {
  downloadQrImage,
};
