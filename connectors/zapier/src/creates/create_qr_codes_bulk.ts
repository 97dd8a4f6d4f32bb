import { createHash } from 'node:crypto';

import { defineCreate, defineInputFields, type CreatePerform, type InferInputData, type ZObject } from 'zapier-platform-core';

import { apiUrl, type Envelope, type QrCode } from '../common/api.js';
import { idempotencyKey } from '../common/idempotency.js';
import { buildStyle, domainInputField, present, styleInputFields, toTags } from '../common/qr-fields.js';
import { lineItems } from '../common/smart-fields.js';

/** The server's limit per `POST /api/v1/qr/bulk`. */
export const BULK_CHUNK_SIZE = 100;
const MAX_KEY_LENGTH = 255;

const inputFields = defineInputFields([
  {
    key: 'codes',
    label: 'QR Codes',
    required: true,
    children: [
      {
        key: 'code_name',
        label: 'Code Name',
        type: 'string',
        required: true,
        helpText:
          'One line per code, e.g. mapped from spreadsheet rows or line items of an earlier step; any number of lines (sent 100 at a time). ' +
          'The name to find the code by, e.g. "Store 12 poster".',
      },
      {
        key: 'code_destination_url',
        label: 'Code Destination URL',
        type: 'string',
        required: true,
        helpText: 'Where a scan of this code goes, starting with https://.',
      },
      { key: 'code_tags', label: 'Code Tags', type: 'string', helpText: 'Comma-separated labels for this code only, e.g. `store-12, poster`.' },
    ],
  },
  {
    key: 'mode',
    label: 'Mode',
    type: 'string',
    required: false,
    default: 'dynamic',
    choices: { dynamic: 'Dynamic (editable, counts scans)', static: 'Static (the URL printed in the code)' },
    helpText: 'Applies to every code. Dynamic codes can be re-targeted later and count scans.',
  },
  domainInputField,
  { key: 'tags', label: 'Tags', type: 'string', list: true, required: false, helpText: 'Labels added to every code, e.g. the campaign name.' },
  {
    key: 'status',
    label: 'Status',
    type: 'string',
    required: false,
    choices: { active: 'Active', paused: 'Paused' },
    helpText: 'Applies to every code. Defaults to Active.',
  },
  ...styleInputFields,
  {
    key: 'idempotency_key',
    label: 'Idempotency Key',
    type: 'string',
    required: false,
    helpText:
      'Optional. A value unique to this batch (e.g. the spreadsheet or import ID). A retried step with the same key and lines creates nothing ' +
      'new and returns the first results. Left empty, a hash of the input is used.',
  },
]);

/** One line of the step's output: a created code or the reason a line was refused. */
export interface BulkLineResult {
  index: number;
  status: number;
  ok: boolean;
  id: string | null;
  name: string;
  destination_url: string | null;
  short_url: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface BulkCreateResult {
  id: string;
  total: number;
  created: number;
  failed: number;
  codes: BulkLineResult[];
  created_ids: string[];
  short_urls: string[];
}

type ServerItem =
  | { index: number; status: number; data: QrCode }
  | { index: number; status: number; error: { code: string; message: string; details?: { field: string; message: string }[] } };

/**
 * The Idempotency-Key of one chunk: the step's key (a hash of its whole input, or the mapped key) plus the chunk's
 * position, so a retried step sends each chunk under the key it had the first time and the server replays it.
 */
export function chunkIdempotencyKey(stepKey: string, chunkIndex: number): string {
  const key = `${stepKey}-part${chunkIndex + 1}`;
  return key.length <= MAX_KEY_LENGTH ? key : `zapier-create_qr_codes_bulk-${createHash('sha256').update(key).digest('hex')}`;
}

function itemBodies(z: ZObject, input: Record<string, unknown>): Record<string, unknown>[] {
  const rows = lineItems(input, 'codes', ['code_name', 'code_destination_url', 'code_tags']).filter(
    (row) => present(row.code_name) || present(row.code_destination_url),
  );
  if (!rows.length) throw new z.errors.Error('Give at least one line with a Code Name and a Code Destination URL.', 'invalid_input', 400);
  const sharedTags = toTags(input.tags) ?? [];
  const style = buildStyle(input);
  return rows.map((row) => {
    const tags = [...new Set([...sharedTags, ...(toTags(row.code_tags) ?? [])])];
    return {
      name: row.code_name,
      type: 'url',
      mode: present(input.mode) ? input.mode : 'dynamic',
      destination_url: row.code_destination_url,
      ...(tags.length ? { tags } : {}),
      ...(present(input.status) ? { status: input.status } : {}),
      ...(style ? { style } : {}),
      ...(present(input.domain) ? { domain: String(input.domain).trim() } : {}),
    };
  });
}

function toLine(item: ServerItem, offset: number, body: Record<string, unknown>): BulkLineResult {
  if ('data' in item) {
    return {
      index: offset + item.index,
      status: item.status,
      ok: true,
      id: item.data.id,
      name: item.data.name,
      destination_url: item.data.destination_url,
      short_url: item.data.short_url,
      error_code: null,
      error_message: null,
    };
  }
  const details = item.error.details?.map((detail) => `${detail.field}: ${detail.message}`).join('; ');
  return {
    index: offset + item.index,
    status: item.status,
    ok: false,
    id: null,
    name: String(body.name ?? ''),
    destination_url: typeof body.destination_url === 'string' ? body.destination_url : null,
    short_url: null,
    error_code: item.error.code,
    error_message: details ? `${item.error.message} (${details})` : item.error.message,
  };
}

const QUOTA_CODES = new Set(['monthly_quota_exceeded', 'qr_limit_reached']);

const perform = (async (z, bundle) => {
  const input = bundle.inputData as Record<string, unknown>;
  const bodies = itemBodies(z, input);
  const stepKey = idempotencyKey('create_qr_codes_bulk', bundle);
  const lines: BulkLineResult[] = [];
  for (let offset = 0, chunk = 0; offset < bodies.length; offset += BULK_CHUNK_SIZE, chunk++) {
    const items = bodies.slice(offset, offset + BULK_CHUNK_SIZE);
    const response = await z.request<Envelope<ServerItem[]>>({
      method: 'POST',
      url: apiUrl(bundle, '/qr/bulk'),
      headers: { 'Idempotency-Key': chunkIdempotencyKey(stepKey, chunk) },
      body: { items },
    });
    for (const item of response.data.data) lines.push(toLine(item, offset, items[item.index] ?? {}));
  }
  lines.sort((a, b) => a.index - b.index);

  const created = lines.filter((line) => line.ok);
  if (!created.length) {
    const first = lines[0];
    const summary = `None of the ${lines.length} QR codes was created. Line ${(first?.index ?? 0) + 1}: ${first?.error_message ?? 'refused'}`;
    // A spent allowance will not come back by retrying: halt instead of erroring the Zap over and over.
    if (lines.every((line) => QUOTA_CODES.has(line.error_code ?? ''))) throw new z.errors.HaltedError(summary);
    throw new z.errors.Error(summary, first?.error_code ?? 'bulk_failed', first?.status ?? 400);
  }
  return {
    id: stepKey.replace(/^zapier-create_qr_codes_bulk-/, 'bulk_').slice(0, 80),
    total: lines.length,
    created: created.length,
    failed: lines.length - created.length,
    codes: lines,
    created_ids: created.map((line) => line.id as string),
    short_urls: created.map((line) => line.short_url ?? ''),
  };
}) satisfies CreatePerform<InferInputData<typeof inputFields>, BulkCreateResult>;

export default defineCreate({
  key: 'create_qr_codes_bulk',
  noun: 'QR Codes',
  display: {
    label: 'Create QR Codes (Bulk)',
    description:
      'Creates many dynamic URL codes at once from line items (e.g. spreadsheet rows), 100 per request; returns each line’s code or the reason it was refused.',
  },
  operation: {
    inputFields,
    perform,
    sample: {
      id: 'bulk_3b9f0c1e2d4a5b6c7d8e9f00112233445566778899aabbccddeeff0011223344',
      total: 2,
      created: 1,
      failed: 1,
      codes: [
        {
          index: 0,
          status: 201,
          ok: true,
          id: 'qr_8fK2mP0aZx91',
          name: 'Store 12 poster',
          destination_url: 'https://example.com/store/12',
          short_url: 'https://qr.example.com/r/aB3dE9x',
          error_code: null,
          error_message: null,
        },
        {
          index: 1,
          status: 400,
          ok: false,
          id: null,
          name: 'Store 13 poster',
          destination_url: 'example.com/13',
          short_url: null,
          error_code: 'validation_error',
          error_message: 'The request body is invalid. (destination_url: must be an absolute http or https URL)',
        },
      ],
      created_ids: ['qr_8fK2mP0aZx91'],
      short_urls: ['https://qr.example.com/r/aB3dE9x'],
    },
    outputFields: [
      { key: 'id', label: 'Batch ID', type: 'string' },
      { key: 'total', label: 'Lines', type: 'integer' },
      { key: 'created', label: 'Codes Created', type: 'integer' },
      { key: 'failed', label: 'Lines Refused', type: 'integer' },
      { key: 'codes[]index', label: 'Line Index', type: 'integer' },
      { key: 'codes[]status', label: 'Line Status', type: 'integer' },
      { key: 'codes[]ok', label: 'Line Created', type: 'boolean' },
      { key: 'codes[]id', label: 'QR Code ID', type: 'string' },
      { key: 'codes[]name', label: 'Name', type: 'string' },
      { key: 'codes[]destination_url', label: 'Destination URL', type: 'string' },
      { key: 'codes[]short_url', label: 'Short URL', type: 'string' },
      { key: 'codes[]error_code', label: 'Error Code', type: 'string' },
      { key: 'codes[]error_message', label: 'Error Message', type: 'string' },
      { key: 'created_ids', label: 'Created QR Code IDs', type: 'string', list: true },
      { key: 'short_urls', label: 'Short URLs', type: 'string', list: true },
    ],
  },
});
