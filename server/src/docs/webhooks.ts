import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { EVENT_TYPES } from '../events/service.js';
import type { ScanData } from '../events/feed.js';
import { QrSchema } from '../qr/schemas.js';
import { SIGNATURE_HEADER } from '../webhooks/signature.js';
import { USER_AGENT } from '../webhooks/sender.js';
import { TEST_EVENT_TYPE } from '../webhooks/test-event.js';
import { DATA_MODES } from '../test-mode/mode.js';

/** The scan object of `qr.scanned` (events/feed.ts builds it). */
const ScanDataSchema = z
  .object({
    id: z.string().meta({ example: 'scn_1042' }),
    qr_id: z.string(),
    qr_name: z.string().nullable(),
    scanned_at: z.string(),
    country: z.string().meta({ description: 'ISO 3166-1 alpha-2, or `unknown`' }),
    device: z.string(),
    os: z.string(),
    browser: z.string(),
    referrer: z.string(),
    is_bot: z.boolean(),
    region: z.string().nullable().meta({ description: 'Region (state, province) of the visitor, from GeoIP; null when unknown' }),
    city: z.string().nullable().meta({ description: 'City of the visitor, from GeoIP; null when unknown' }),
    variant: z.number().int().nullable().meta({ description: 'Index of the A/B variant the scan was sent to; null for a code without variants' }),
  })
  .meta({ id: 'ScanEventData' });

/** What `webhook.test` carries (webhooks/test-event.ts). */
const TestEventData = z
  .object({
    webhook_id: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    mode: z.enum(DATA_MODES),
    message: z.string(),
  })
  .meta({ id: 'TestEventData' });

// the schema and the object the feed sends must not drift apart
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const scanDataMatches: Same<z.infer<typeof ScanDataSchema>, ScanData> = true;
void scanDataMatches;

const DATA_BY_TYPE: Record<(typeof EVENT_TYPES)[number] | typeof TEST_EVENT_TYPE, { summary: string; data: z.ZodType; operationId: string }> = {
  'qr.created': { summary: 'A QR code was created', data: QrSchema, operationId: 'onQrCreated' },
  'qr.updated': { summary: 'A QR code was changed (the code as it is now)', data: QrSchema, operationId: 'onQrUpdated' },
  'qr.deleted': { summary: 'A QR code was deleted (the code as it was)', data: QrSchema, operationId: 'onQrDeleted' },
  'qr.scanned': { summary: 'A QR code was scanned (bots left out)', data: ScanDataSchema, operationId: 'onQrScanned' },
  [TEST_EVENT_TYPE]: { summary: 'A test sent by POST /api/v1/webhooks/{id}/test; it describes no change', data: TestEventData, operationId: 'onWebhookTest' },
};

const DeliveryHeaders = z.object({
  [SIGNATURE_HEADER.toLowerCase()]: z
    .string()
    .max(200)
    .meta({ description: '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: check it with the subscription\'s secret, and refuse old `t`.' }),
  'qrflow-event-id': z.string().max(64).meta({ description: 'The event id (the same event may come twice: deduplicate on it)' }),
  'qrflow-event-type': z.string().max(64),
  'user-agent': z.string().max(64).meta({ example: USER_AGENT }),
});

/** OpenAPI 3.1's top-level `webhooks`: one entry per event type the server sends to subscriptions. */
export function registerWebhooks(registry: OpenAPIRegistry): void {
  for (const [type, { summary, data, operationId }] of Object.entries(DATA_BY_TYPE)) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId,
      tags: ['Webhooks'],
      summary,
      description:
        'POSTed as JSON to each active subscription to this event type (`webhook.test`: to the one tested). A 2xx answer within 10 s delivers it; ' +
        '410 removes the subscription; 408, 425, 429, 5xx and network errors are retried with backoff; any other answer drops the event. ' +
        'A subscription failing for 72 hours is disabled.',
      security: [],
      request: {
        headers: DeliveryHeaders,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                id: z.string().meta({ example: 'evt_3kT9aQ2mZ0pL1x' }),
                type: z.literal(type),
                created_at: z.string(),
                data,
              }),
            },
          },
        },
      },
      responses: {
        200: { description: 'Delivered (any 2xx)' },
        410: { description: 'The receiver is gone: the subscription is removed' },
      },
    });
  }
}
