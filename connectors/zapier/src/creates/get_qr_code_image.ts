import { defineCreate, defineInputFields, type CreatePerform, type InferInputData } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type QrCode } from '../common/api.js';
import { qrIdInputField } from '../common/qr-fields.js';
import { downloadQrImage, type QrImageRequest } from '../hydrators.js';

const inputFields = defineInputFields([
  qrIdInputField,
  {
    key: 'format',
    label: 'Format',
    type: 'string',
    required: true,
    default: 'png',
    choices: { png: 'PNG (for email, chat, documents)', svg: 'SVG (for print, scales without blur)' },
    helpText: 'The image format.',
  },
  {
    key: 'size',
    label: 'Size (Pixels)',
    type: 'integer',
    required: false,
    default: '512',
    helpText: 'Width and height of a PNG in pixels, from 64 to 2048. Defaults to 512.',
  },

]);

export interface QrImage {
  id: string;
  name: string;
  short_url: string | null;
  format: 'png' | 'svg';
  size: number;
  content_type: string;
  filename: string;
  file: string;
}

const perform = (async (z, bundle) => {
  const format = bundle.inputData.format === 'svg' ? 'svg' : 'png';
  const size = clampSize(bundle.inputData.size);
  // Fetching the code first fails this step (not a later one) when the code is gone, and names the file.
  const response = await z.request<Envelope<QrCode>>({ url: apiUrl(bundle, `/qr/${segment(bundle.inputData.qr_id)}`) });
  const code = response.data.data;
  const filename = `${slug(code.name) || code.id}.${format}`;
  const request: QrImageRequest = { qr_id: code.id, format, size, filename };
  return {
    id: code.id,
    name: code.name,
    short_url: code.short_url,
    format,
    size,
    content_type: format === 'svg' ? 'image/svg+xml' : 'image/png',
    filename,
    file: z.dehydrateFile(downloadQrImage, request),
  };
}) satisfies CreatePerform<InferInputData<typeof inputFields>, QrImage>;

function clampSize(value: unknown): number {
  const size = Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(size)) return 512;
  return Math.min(2048, Math.max(64, size));
}

function slug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/[\s_]+/g, '-')
    .toLowerCase()
    .slice(0, 80);
}

export default defineCreate({
  key: 'get_qr_code_image',
  noun: 'QR Code Image',
  display: {
    label: 'Get QR Code Image',
    description: 'Gets a QR code as a PNG or SVG file that later steps can attach, upload or print.',
  },
  operation: {
    inputFields,
    perform,
    sample: {
      id: 'qr_8fK2mP0aZx91',
      name: 'Spring flyer',
      short_url: 'https://qr.example.com/r/aB3dE9x',
      format: 'png',
      size: 512,
      content_type: 'image/png',
      filename: 'spring-flyer.png',
      file: 'SAMPLE FILE',
    },
    outputFields: [
      { key: 'id', label: 'QR Code ID', type: 'string' },
      { key: 'name', label: 'Name', type: 'string' },
      { key: 'short_url', label: 'Short URL', type: 'string' },
      { key: 'format', label: 'Format', type: 'string' },
      { key: 'size', label: 'Size (Pixels)', type: 'integer' },
      { key: 'content_type', label: 'Content Type', type: 'string' },
      { key: 'filename', label: 'File Name', type: 'string' },
      { key: 'file', label: 'Image File', type: 'file' },
    ],
  },
});
