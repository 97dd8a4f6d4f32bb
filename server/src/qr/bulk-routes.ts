import { defineRoute, type AnyRoute } from '../http/route.js';
import { ValidationError } from '../errors.js';
import { BulkCreateBody, BulkCreateQuery, BulkDeleteBody, BulkResults, BulkUpdateBody, MAX_BULK_ITEMS, MAX_TAG_MATCHES, type BulkService } from './bulk.js';
import { IdempotencyHeaders } from './schemas.js';

/** Bulk create, update and delete of QR codes: per-item results, each item counted as one API call. */
export function bulkRoutes(bulk: BulkService): AnyRoute[] {
  const tag = 'QR codes';
  const perItem = 'Answers 200 with one result per item, in order: `{index, status, data}` or `{index, status, error}`, the status being what the item would have had as a single call. The good items are committed together, with one event (and webhook delivery) per code. Each item counts as one API call; items beyond the month\'s allowance answer 429 monthly_quota_exceeded.';
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/qr/bulk',
      tag,
      summary: `Create up to ${MAX_BULK_ITEMS} QR codes`,
      operationId: 'bulkCreateQrCodes',
      description: `${perItem} Items count against the plan's code limit in order: once it is reached, each later valid item answers 403 qr_limit_reached. An \`Idempotency-Key\` makes the whole call safe to retry: a retry within 24 hours answers the first call's results (codes as they are now) and creates nothing. \`?dry_run=true\` checks the items and creates nothing (for a preview before an import).`,
      auth: 'key_or_session',
      scope: 'qr:write',
      query: BulkCreateQuery,
      body: BulkCreateBody,
      headers: IdempotencyHeaders,
      responses: { 200: { description: 'Per-item results', schema: BulkResults }, 409: { description: 'Idempotency-Key reused with a different body' } },
      handler: async (req, res, { body, query }) => {
        const key = req.get('idempotency-key');
        if (key !== undefined && (key.length < 1 || key.length > 255)) throw new ValidationError('Idempotency-Key must be 1 to 255 characters.', [{ field: 'Idempotency-Key', message: '1 to 255 characters' }]);
        const { results, replayed } = await bulk.create(req.auth!, body, key, query.dry_run === 'true');
        if (replayed) res.setHeader('Idempotent-Replayed', 'true');
        res.json({ data: results });
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/v1/qr/bulk',
      tag,
      summary: 'Update many QR codes at once',
      operationId: 'bulkUpdateQrCodes',
      description: `Applies \`set\` (the fields of PATCH /api/v1/qr/:id, \`domain\` included) to up to ${MAX_BULK_ITEMS} \`ids\`, or to every code with \`tag\` (at most ${MAX_TAG_MATCHES}; newest first). ${perItem}`,
      auth: 'key_or_session',
      scope: 'qr:write',
      body: BulkUpdateBody,
      responses: { 200: { description: 'Per-item results', schema: BulkResults } },
      handler: async (req, res, { body }) => {
        res.json({ data: await bulk.update(req.auth!, body) });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/qr/bulk',
      tag,
      summary: `Delete up to ${MAX_BULK_ITEMS} QR codes`,
      operationId: 'bulkDeleteQrCodes',
      description: `Their short links then answer 410 Gone. ${perItem}`,
      auth: 'key_or_session',
      scope: 'qr:write',
      body: BulkDeleteBody,
      responses: { 200: { description: 'Per-item results', schema: BulkResults } },
      handler: async (req, res, { body }) => {
        res.json({ data: await bulk.delete(req.auth!, body) });
      },
    }),
  ] as AnyRoute[];
}
