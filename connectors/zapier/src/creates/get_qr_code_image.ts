import { defineCreate, defineInputFields, type CreatePerform, type InferInputData } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type QrCode } from '../common/api.js';
import { qrIdInputField } from '../common/qr-fields.js';
import { downloadQrImage, IMAGE_CONTENT_TYPES, type QrImageFormat, type QrImageRequest } from '../hydrators.js';

const inputFields = defineInputFields([
  qrIdInputField,
  {
    key: 'format',
    label: 'Format',
    type: 'string',
    required: true,
    default: 'png',
    choices: {
      png: 'PNG (for email, chat, documents)',
      svg: 'SVG (for the web and design tools, scales without blur)',
      pdf: 'PDF (for print shops, vector, sized in millimetres)',
    },
    helpText: 'The image format.',
  },
  {
    key: 'size',
    label: 'Size (Pixels)',
    type: 'integer',
    required: false,
    default: '512',
    helpText: 'Width and height of a PNG or SVG in pixels, from 64 to 2048. Defaults to 512.',
  },
  {
    key: 'size_mm',
    label: 'Print Size (Millimetres)',
    type: 'integer',
    required: false,
    helpText: 'PDF only: width and height of the printed code in millimetres, from 10 to 500. Leave empty for the server’s default.',
  },

]);

export interface QrImage {
  id: string;
  name: string;
  short_url: string | null;
  format: QrImageFormat;
  size: number;
  size_mm: number | null;
  content_type: string;
  filename: string;
  file: string;
}

const perform = (async (z, bundle) => {
  const requested = String(bundle.inputData.format ?? 'png');
  const format: QrImageFormat = requested === 'svg' || requested === 'pdf' ? requested : 'png';
  const size = clampSize(bundle.inputData.size);
  const sizeMm = format === 'pdf' ? clampMillimetres(bundle.inputData.size_mm) : undefined;
  // Fetching the code first fails this step (not a later one) when the code is gone, and names the file.
  const response = await z.request<Envelope<QrCode>>({ url: apiUrl(bundle, `/qr/${segment(bundle.inputData.qr_id)}`) });
  const code = response.data.data;
  const filename = `${slug(code.name) || code.id}.${format}`;
  const request: QrImageRequest = { qr_id: code.id, format, size, filename, ...(sizeMm ? { size_mm: sizeMm } : {}) };
  return {
    id: code.id,
    name: code.name,
    short_url: code.short_url,
    format,
    size,
    size_mm: sizeMm ?? null,
    content_type: IMAGE_CONTENT_TYPES[format],
    filename,
    file: z.dehydrateFile(downloadQrImage, request),
  };
}) satisfies CreatePerform<InferInputData<typeof inputFields>, QrImage>;

function clampSize(value: unknown): number {
  const size = Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(size)) return 512;
  return Math.min(2048, Math.max(64, size));
}

function clampMillimetres(value: unknown): number | undefined {
  const size = Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(size)) return undefined;
  return Math.min(500, Math.max(10, size));
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
    description: 'Gets a QR code as a PNG, SVG or PDF file that later steps can attach, upload or send to print.',
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
      size_mm: null,
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
      { key: 'size_mm', label: 'Print Size (Millimetres)', type: 'integer' },
      { key: 'content_type', label: 'Content Type', type: 'string' },
      { key: 'filename', label: 'File Name', type: 'string' },
      { key: 'file', label: 'Image File', type: 'file' },
    ],
  },
});
