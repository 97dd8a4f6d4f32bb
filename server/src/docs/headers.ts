import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { RESPONSE_HEADERS, type ResponseHeaderName } from '../http/answers.js';

interface HeaderDoc {
  description: string;
  schema: Record<string, unknown>;
}

/** What each response header means; where each is sent comes from the middleware and the routes (docs/operations.ts). */
const HEADER_DOCS: Record<ResponseHeaderName, HeaderDoc> = {
  'X-Request-Id': {
    description: 'The id of this request (yours when you sent a safe `X-Request-Id`, 8 to 64 of `A-Z a-z 0-9 . _ -`); also `request_id` in error bodies. Quote it to support.',
    schema: { type: 'string', minLength: 8, maxLength: 64, example: 'req_8fK2mP0aZx91QaLm' },
  },
  RateLimit: {
    description:
      'The state of each limit that applies, IETF draft-8 style: `"minute"; r=<remaining>; t=<seconds to reset>` for the per-minute limit, then `"month"; r=…; t=…` for the monthly API calls.',
    schema: { type: 'string', maxLength: 200, example: '"minute"; r=119; t=60, "month"; r=49812; t=1209600' },
  },
  'RateLimit-Policy': {
    description: 'The limits that apply, IETF draft-8 style: `"minute"; q=<requests>; w=60; pk=<partition key>` and `"month"; q=<API calls>; w=<seconds in the month>`.',
    schema: { type: 'string', maxLength: 200, example: '"minute"; q=120; w=60; pk=:ZGVtbw==:, "month"; q=50000; w=2592000' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying (at least 1).',
    schema: { type: 'integer', minimum: 1, maximum: 2_678_400, example: 42 },
  },
  ETag: {
    description: 'The image\'s entity tag: send it back as `If-None-Match` to get a 304 (no body, no image credit).',
    schema: { type: 'string', maxLength: 100, example: '"5d41402abc4b2a76b9719d911017c592"' },
  },
  'Cache-Control': {
    description: 'How long the answer may be cached (`no-store` for secrets, sessions, probes and previews).',
    schema: { type: 'string', maxLength: 100, example: 'no-store' },
  },
  'Content-Disposition': {
    description: 'The image as an inline file with a name (`<id>.png`, `qr.svg`).',
    schema: { type: 'string', maxLength: 200, example: 'inline; filename="qr.png"' },
  },
  'QR-Preview': {
    description: 'Present when the image is a watermarked preview (no usable key): why.',
    schema: {
      type: 'string',
      enum: ['missing_key', 'malformed_api_key', 'invalid_key', 'api_key_paused', 'api_key_revoked', 'api_key_expired', 'plan_upgrade_required', 'subscription_inactive', 'insufficient_scope'],
    },
  },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` and body (nothing new was created).',
    schema: { type: 'string', enum: ['true'] },
  },
  'Set-Cookie': {
    description: 'The console\'s HttpOnly cookies: `qrflow_session` (the session) and `qrflow_csrf` (the CSRF double-submit token), or their removal on logout.',
    schema: { type: 'string', maxLength: 4096 },
  },
  Location: {
    description: 'Where the short link leads: the code\'s destination_url.',
    schema: { type: 'string', format: 'uri', maxLength: 2048 },
  },
  Vary: {
    description: 'Previews and keyed images differ by `Authorization`.',
    schema: { type: 'string', maxLength: 100, example: 'Authorization' },
  },
  'X-Content-Type-Options': {
    description: 'Always `nosniff`: the image is never read as another type.',
    schema: { type: 'string', enum: ['nosniff'] },
  },
  'Content-Security-Policy': {
    description: 'SVG images may not load or run anything.',
    schema: { type: 'string', maxLength: 200, example: "default-src 'none'; style-src 'unsafe-inline'" },
  },
  'X-Robots-Tag': {
    description: 'Short-link pages are not for search engines.',
    schema: { type: 'string', enum: ['noindex'] },
  },
};

/** Registers every header once under components/headers. */
export function registerHeaders(registry: OpenAPIRegistry): void {
  for (const name of RESPONSE_HEADERS) registry.registerComponent('headers', name, { ...HEADER_DOCS[name] } as Record<`x-${string}`, unknown> & HeaderDoc);
}

/** `{ name: { $ref } }` for a response's headers, each once; X-Request-Id first (every API answer has it; short links' have not). */
export function headerRefs(names: Iterable<ResponseHeaderName>, withRequestId = true): Record<string, { $ref: string }> {
  const ordered = [...new Set<ResponseHeaderName>([...(withRequestId ? (['X-Request-Id'] as const) : []), ...names])];
  return Object.fromEntries(ordered.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}
