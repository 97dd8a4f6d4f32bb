import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { sendJsonText } from '../http/express-compat.js';
import { envelope, IdParams } from '../http/schemas.js';
import type { AnalyticsService } from '../analytics/service.js';
import { CONTENT_TYPES, type ImageRenderer, type RenderOptions } from '../images/renderer.js';
import type { ImageCredits } from '../images/credits.js';
import { encodedPayload } from './payload.js';
import { dataWorkspace } from '../test-mode/mode.js';
import type { QrService } from './service.js';
import { CreateQrBody, DEFAULT_SIZE_MM, IdempotencyHeaders, ImageQuery, ListQrQuery, QrPage, QrSchema, UpdateQrBody } from './schemas.js';
import { effectiveErrorCorrection } from './service.js';
import type { LogoService } from './logo.js';
import { AnalyticsQuerySchema, AnalyticsSchema } from '../analytics/schemas.js';
import { ImageBytes } from '../images/schemas.js';

export function qrRoutes(qr: QrService, renderer: ImageRenderer, analytics: AnalyticsService, credits: ImageCredits, logos: LogoService): AnyRoute[] {
  const tag = 'QR codes';
  const update = (method: 'put' | 'patch') =>
    defineRoute({
      method,
      path: '/api/v1/qr/:id',
      operationId: method === 'put' ? 'updateQrCodeByPut' : 'updateQrCode',
      tag,
      summary: method === 'put' ? 'Update a QR code (same as PATCH: only the fields given change)' : 'Update a QR code',
      description: 'Change name, destination_url, status, tags, style, or the content of a static code. type, mode and short_code cannot change.',
      auth: 'key_or_session',
      scope: 'qr:write',
      params: IdParams,
      body: UpdateQrBody,
      responses: { 200: { description: 'The updated code', schema: envelope(QrSchema) } },
      handler: async (req, res, { params, body }) => {
        res.json({ data: await qr.update(dataWorkspace(req.auth!), params.id, body, req.scope?.reads) });
      },
    });
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/qr',
      operationId: 'listQrCodes',
      tag,
      summary: 'List QR codes, newest first',
      description: 'Cursor-paginated: pass `next_cursor` as `cursor` for the next page.',
      auth: 'key_or_session',
      scope: 'qr:read',
      query: ListQrQuery,
      responses: { 200: { description: 'A page of codes', schema: QrPage } },
      handler: async (req, res, { query }) => {
        const page = await qr.list(dataWorkspace(req.auth!), query);
        // the bytes res.json would send for { data: page.items, pagination }, the codes' part already made
        sendJsonText(res, `{"data":${page.json},"pagination":${JSON.stringify({ limit: query.limit, has_more: page.hasMore, next_cursor: page.nextCursor })}}`);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/qr',
      operationId: 'createQrCode',
      tag,
      summary: 'Create a QR code',
      description: 'Dynamic codes (type url) encode a short link whose destination can change later; static codes encode their content. Send an `Idempotency-Key` header to make retries safe.',
      auth: 'key_or_session',
      scope: 'qr:write',
      body: CreateQrBody,
      headers: IdempotencyHeaders,
      responses: {
        201: { description: 'The new code (or, with `Idempotent-Replayed: true`, the one an earlier request with the same Idempotency-Key made)', schema: envelope(QrSchema), headers: ['Idempotent-Replayed'] },
        400: { description: 'Idempotency-Key longer than 255 characters', codes: ['validation_error'] },
        403: { description: 'The plan\'s QR code limit is reached', codes: ['qr_limit_reached'] },
        409: { description: 'Idempotency-Key reused with a different body, or its first request is still being processed', codes: ['idempotency_conflict', 'idempotency_in_progress'] },
      },
      handler: async (req, res, { body }) => {
        const key = req.get('idempotency-key');
        if (key !== undefined && (key.length < 1 || key.length > 255)) {
          res.status(400).json({ error: { code: 'validation_error', message: 'Idempotency-Key must be 1 to 255 characters.', details: [{ field: 'Idempotency-Key', message: '1 to 255 characters' }] }, request_id: req.requestId });
          return;
        }
        const { qr: created, replayed } = await qr.create(dataWorkspace(req.auth!), req.auth!.plan, body, key, req.scope?.reads);
        if (replayed) res.setHeader('Idempotent-Replayed', 'true');
        res.status(201).json({ data: created });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/qr/:id',
      operationId: 'getQrCode',
      tag,
      summary: 'Get a QR code',
      auth: 'key_or_session',
      scope: 'qr:read',
      params: IdParams,
      responses: { 200: { description: 'The code', schema: envelope(QrSchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await qr.view(await qr.find(dataWorkspace(req.auth!), params.id, req.scope?.reads)) });
      },
    }),
    update('put'),
    update('patch'),
    defineRoute({
      method: 'delete',
      path: '/api/v1/qr/:id',
      operationId: 'deleteQrCode',
      tag,
      summary: 'Delete a QR code',
      description: 'Its short link then answers 410 Gone; its short code is never reused.',
      auth: 'key_or_session',
      scope: 'qr:write',
      params: IdParams,
      responses: { 200: { description: 'Deleted', schema: envelope(z.object({ id: z.string(), deleted: z.literal(true) })) } },
      handler: async (req, res, { params }) => {
        await qr.delete(dataWorkspace(req.auth!), params.id, req.scope?.reads);
        res.json({ data: { id: params.id, deleted: true } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/qr/:id/image',
      operationId: 'getQrCodeImage',
      tag,
      summary: 'Get the QR image (PNG, SVG, PDF or EPS)',
      description: [
        'The code drawn in its style (colours, margin, module and finder shapes, frame) and with its logo. `format=png` and `svg` take `size` in pixels; `format=pdf` (vector, one page) and `format=eps` (vector) take `size_mm` (10 to 500, default 50) for print: the page is that wide, and as tall (taller with a frame), in the exact colours of the style.',
        '',
        'Each generated image uses one image credit, whatever its format; identical repeated requests come from a cache (with an ETag) and use none.',
      ].join('\n'),
      auth: 'key_or_session',
      scope: 'qr:read',
      params: IdParams,
      query: ImageQuery,
      responses: {
        200: {
          description: 'The image: PNG, or SVG, PDF or EPS with `format=svg`, `pdf` or `eps`',
          schema: ImageBytes,
          contentTypes: Object.values(CONTENT_TYPES),
          headers: ['ETag', 'Cache-Control', 'Content-Disposition'],
        },
        304: { description: 'Not modified (If-None-Match matched): no body, no image credit', headers: ['ETag'] },
        429: { description: 'The month\'s image credits are used up (cached images stay available)', codes: ['image_credits_exhausted'], headers: ['Retry-After'] },
      },
      handler: async (req, res, { params, query }) => {
        const record = await qr.find(dataWorkspace(req.auth!), params.id, req.scope?.reads);
        const options: RenderOptions = {
          text: encodedPayload(record, qr.shortUrl(record.short_code, record.domain)),
          format: query.format,
          size: query.size,
          sizeMm: query.size_mm ?? DEFAULT_SIZE_MM,
          foreground: record.style.foreground,
          background: record.style.background,
          margin: record.style.margin,
          errorCorrection: effectiveErrorCorrection(record),
          moduleShape: record.style.module_shape ?? 'square',
          finderShape: record.style.finder_shape ?? 'square',
          frame: record.style.frame ?? null,
          logo: logos.forRender(record),
        };
        const cached = renderer.cached(options);
        if (cached && req.get('if-none-match') === cached.etag) {
          res.status(304).setHeader('ETag', cached.etag).end();
          return;
        }
        // the credit is checked and taken when the render starts, so concurrent requests cannot overspend the month
        const image =
          cached ??
          (await renderer.render(options, () => credits.take(req.auth!)));
        res.setHeader('Content-Type', image.contentType);
        res.setHeader('ETag', image.etag);
        res.setHeader('Cache-Control', 'private, max-age=300');
        res.setHeader('Content-Disposition', `inline; filename="${record.id}.${query.format}"`);
        res.send(image.bytes);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/qr/:id/analytics',
      operationId: 'getQrCodeAnalytics',
      tag: 'Analytics',
      summary: 'Scan analytics of a QR code',
      description: 'Totals, unique visitors (a visitor is counted once per UTC day: the salt that hashes visitors changes daily), a zero-filled time series in the given time zone, and breakdowns. Bots and link previews are left out unless include_bots=true.',
      auth: 'key_or_session',
      scope: 'analytics:read',
      params: IdParams,
      query: AnalyticsQuerySchema,
      responses: { 200: { description: 'The analytics', schema: envelope(AnalyticsSchema) } },
      handler: async (req, res, { params, query }) => {
        const record = await qr.find(dataWorkspace(req.auth!), params.id, req.scope?.reads);
        res.json({ data: await analytics.compute(record.id, query) });
      },
    }),
  ] as AnyRoute[];
}
