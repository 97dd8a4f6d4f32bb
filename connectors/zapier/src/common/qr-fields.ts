import type { PlainInputField, PlainOutputField } from 'zapier-platform-core';

import type { QrCode, QrType } from './api.js';
import { smartOutputFields, smartSample } from './smart-fields.js';

export const QR_TYPES = ['url', 'text', 'email', 'phone', 'sms', 'wifi', 'vcard'] as const satisfies readonly QrType[];

/** A stand-in QR code for samples: what `GET /api/v1/qr/:id` returns. */
export const qrCodeSample: QrCode = {
  id: 'qr_8fK2mP0aZx91',
  name: 'Spring flyer',
  type: 'url',
  mode: 'dynamic',
  destination_url: 'https://example.com/spring',
  content: null,
  short_code: 'aB3dE9x',
  short_url: 'https://qr.example.com/r/aB3dE9x',
  domain: null,
  status: 'active',
  tags: ['spring'],
  style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
  logo: null,
  created_at: '2026-11-23T10:00:00.000Z',
  updated_at: '2026-11-23T10:00:00.000Z',
  scan_count: 0,
  ...smartSample,
};

export const qrCodeOutputFields = [
  { key: 'id', label: 'QR Code ID', type: 'string' },
  { key: 'name', label: 'Name', type: 'string' },
  { key: 'type', label: 'Type', type: 'string' },
  { key: 'mode', label: 'Mode', type: 'string' },
  { key: 'destination_url', label: 'Destination URL', type: 'string' },
  { key: 'short_code', label: 'Short Code', type: 'string' },
  { key: 'short_url', label: 'Short URL', type: 'string' },
  { key: 'domain', label: 'Custom Domain', type: 'string' },
  { key: 'status', label: 'Status', type: 'string' },
  { key: 'tags', label: 'Tags', type: 'string', list: true },
  { key: 'style__foreground', label: 'Foreground Color', type: 'string' },
  { key: 'style__background', label: 'Background Color', type: 'string' },
  { key: 'style__margin', label: 'Margin', type: 'integer' },
  { key: 'style__error_correction', label: 'Error Correction Level', type: 'string' },
  { key: 'logo__content_type', label: 'Logo Type', type: 'string' },
  { key: 'logo__bytes', label: 'Logo Size (Bytes)', type: 'integer' },
  { key: 'created_at', label: 'Created At', type: 'datetime' },
  { key: 'updated_at', label: 'Updated At', type: 'datetime' },
  { key: 'scan_count', label: 'Scan Count', type: 'integer' },
  ...smartOutputFields,
] satisfies PlainOutputField[];

interface ContentField {
  key: string;
  apiKey: string;
  label: string;
  helpText: string;
  required?: boolean;
  type?: 'string' | 'text' | 'boolean';
  choices?: Record<string, string>;
}

/** The type-specific fields of each non-URL QR type, and where each lands in the API's `content` object. */
const CONTENT_FIELDS: Record<Exclude<QrType, 'url'>, ContentField[]> = {
  text: [{ key: 'text', apiKey: 'text', label: 'Text', type: 'text', required: true, helpText: 'The text a scan shows.' }],
  email: [
    { key: 'email_to', apiKey: 'to', label: 'Email To', required: true, helpText: 'The address the scan opens a new email to.' },
    { key: 'email_subject', apiKey: 'subject', label: 'Email Subject', helpText: 'Optional subject line to prefill.' },
    { key: 'email_body', apiKey: 'body', label: 'Email Body', type: 'text', helpText: 'Optional message to prefill.' },
  ],
  phone: [
    { key: 'phone_number', apiKey: 'number', label: 'Phone Number', required: true, helpText: 'The number a scan dials, with country code, e.g. +15551234567.' },
  ],
  sms: [
    { key: 'sms_number', apiKey: 'number', label: 'SMS Number', required: true, helpText: 'The number a scan texts, with country code, e.g. +15551234567.' },
    { key: 'sms_message', apiKey: 'message', label: 'SMS Message', type: 'text', helpText: 'Optional message to prefill.' },
  ],
  wifi: [
    { key: 'wifi_ssid', apiKey: 'ssid', label: 'Wi-Fi Network Name (SSID)', required: true, helpText: 'The network a scan joins.' },
    { key: 'wifi_password', apiKey: 'password', label: 'Wi-Fi Password', helpText: 'Leave empty for an open network.' },
    {
      key: 'wifi_encryption',
      apiKey: 'encryption',
      label: 'Wi-Fi Encryption',
      helpText: 'The security of the network. Defaults to WPA.',
      choices: { WPA: 'WPA/WPA2/WPA3', WEP: 'WEP', nopass: 'None (open network)' },
    },
    { key: 'wifi_hidden', apiKey: 'hidden', label: 'Hidden Network', type: 'boolean', helpText: 'Yes if the network does not broadcast its name.' },
  ],
  vcard: [
    { key: 'vcard_first_name', apiKey: 'first_name', label: 'Contact First Name', required: true, helpText: 'The contact card’s first name.' },
    { key: 'vcard_last_name', apiKey: 'last_name', label: 'Contact Last Name', helpText: 'The contact card’s last name.' },
    { key: 'vcard_organization', apiKey: 'organization', label: 'Contact Organization', helpText: 'The contact’s company or organization.' },
    { key: 'vcard_title', apiKey: 'title', label: 'Contact Job Title', helpText: 'The contact’s job title, e.g. "Head of Marketing".' },
    { key: 'vcard_phone', apiKey: 'phone', label: 'Contact Phone', helpText: 'The contact’s phone number, with country code.' },
    { key: 'vcard_email', apiKey: 'email', label: 'Contact Email', helpText: 'The contact’s email address.' },
    { key: 'vcard_url', apiKey: 'url', label: 'Contact Website', helpText: 'The contact’s website, starting with https://.' },
    { key: 'vcard_address', apiKey: 'address', label: 'Contact Address', type: 'text', helpText: 'The contact’s postal address, on one or more lines.' },
  ],
};

/** The input fields for one QR type's content; on update every field is optional. */
export function contentInputFields(type: unknown, { forUpdate = false } = {}): PlainInputField[] {
  const fields = isContentType(type) ? CONTENT_FIELDS[type] : [];
  return fields.map(({ apiKey: _apiKey, required, ...field }) => ({
    ...field,
    type: field.type ?? 'string',
    required: forUpdate ? false : (required ?? false),
    ...(forUpdate ? { helpText: `${field.helpText} Leave empty to keep the current value.` } : {}),
  }));
}

/** Builds the API `content` object for a type from the input data; undefined when no content field was given. */
export function buildContent(type: unknown, inputData: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!isContentType(type)) return undefined;
  const content: Record<string, unknown> = {};
  for (const field of CONTENT_FIELDS[type]) {
    const value = inputData[field.key];
    if (value === undefined || value === null || value === '') continue;
    content[field.apiKey] = field.type === 'boolean' ? toBoolean(value) : value;
  }
  return Object.keys(content).length ? content : undefined;
}

/** True when the input carries any type-specific content field, whatever the type. */
export function hasContentInput(inputData: Record<string, unknown>): boolean {
  return Object.values(CONTENT_FIELDS).some((fields) => fields.some((field) => present(inputData[field.key])));
}

function isContentType(type: unknown): type is Exclude<QrType, 'url'> {
  return typeof type === 'string' && type in CONTENT_FIELDS;
}

export const styleInputFields = [
  {
    key: 'style_foreground',
    label: 'Foreground Color',
    type: 'string',
    helpText: 'Hex color of the modules, e.g. `#000000`. Keep strong contrast with the background so phones can read the code.',
  },
  { key: 'style_background', label: 'Background Color', type: 'string', helpText: 'Hex color of the background, e.g. `#ffffff`.' },
  { key: 'style_margin', label: 'Margin', type: 'integer', helpText: 'Quiet zone around the code, in modules (the server’s default is 4).' },
  {
    key: 'style_error_correction',
    label: 'Error Correction Level',
    type: 'string',
    helpText: 'How much damage the code survives: L 7%, M 15% (default), Q 25%, H 30%. Higher levels make denser codes.',
    choices: { L: 'L (7%)', M: 'M (15%)', Q: 'Q (25%)', H: 'H (30%)' },
  },
] as const satisfies PlainInputField[];

/** Builds the API `style` object from the style inputs; undefined when none was given. */
export function buildStyle(inputData: Record<string, unknown>): Record<string, unknown> | undefined {
  const style: Record<string, unknown> = {};
  if (present(inputData.style_foreground)) style.foreground = inputData.style_foreground;
  if (present(inputData.style_background)) style.background = inputData.style_background;
  if (present(inputData.style_margin)) style.margin = Number(inputData.style_margin);
  if (present(inputData.style_error_correction)) style.error_correction = inputData.style_error_correction;
  return Object.keys(style).length ? style : undefined;
}

/** Zapier hands list fields over as arrays, but a mapped value can arrive as one comma-separated string. */
export function toTags(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const items = Array.isArray(value) ? value : String(value).split(',');
  const tags = items.map((item) => String(item).trim()).filter(Boolean);
  return tags.length ? tags : undefined;
}

export function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return ['true', 'yes', '1', 'on'].includes(String(value).trim().toLowerCase());
}

/** The dropdown every action that works on one existing code uses. */
export const qrIdInputField = {
  key: 'qr_id',
  label: 'QR Code',
  type: 'string',
  required: true,
  dynamic: 'qr_code_list.id.name',
  helpText: 'Pick a QR code, or map a QR code ID (it starts with `qr_`) from an earlier step.',
} as const satisfies PlainInputField;

/** The custom-domain dropdown (verified domains of the workspace, from the hidden Domain List trigger). */
export const domainInputField = {
  key: 'domain',
  label: 'Custom Domain',
  type: 'string',
  required: false,
  dynamic: 'domain_list.hostname.hostname',
  helpText:
    'Dynamic codes only: serve the short link on one of your verified domains (`https://go.example.com/aB3dE9x`). ' +
    'Leave empty for the server’s default address. Add domains in qrflow first.',
} as const satisfies PlainInputField;

/** The logo file input of Create and Update QR Code. */
export const logoInputField = {
  key: 'logo',
  label: 'Logo',
  type: 'file',
  required: false,
  helpText:
    'A PNG or SVG file (at most 256 KB) to put in the middle of the code, e.g. mapped from an earlier step. ' +
    'The code switches to the highest error correction so it still scans.',
} as const satisfies PlainInputField;
