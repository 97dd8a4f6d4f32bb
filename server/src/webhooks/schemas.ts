import { z } from 'zod';
import { EVENT_TYPES } from '../events/service.js';
import { SafeUrl } from '../qr/schemas.js';
import { DATA_MODES } from '../test-mode/mode.js';

export const MAX_WEBHOOKS_PER_WORKSPACE = 25;

const ReceiverUrl = SafeUrl.meta({ example: 'https://hooks.example.com/qrflow', format: 'uri' });
const EventType = z.enum(EVENT_TYPES);

/** `{url, events}`; Zapier REST hooks send `target_url` and a single `event`, accepted as aliases. */
export const CreateWebhookBody = z
  .object({
    url: ReceiverUrl.optional().meta({ description: 'The receiver: an https (or http) URL on the public internet' }),
    target_url: ReceiverUrl.optional().meta({ description: 'Alias of url (Zapier REST hooks)' }),
    events: z.array(EventType).min(1).max(EVENT_TYPES.length).optional(),
    event: EventType.optional().meta({ description: 'Alias of events with a single type (Zapier REST hooks)' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.url === undefined && body.target_url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'url (or target_url) is required' });
    if (body.url !== undefined && body.target_url !== undefined && body.url !== body.target_url) {
      ctx.addIssue({ code: 'custom', path: ['target_url'], message: 'give url or target_url, not two different URLs' });
    }
    if (body.events === undefined && body.event === undefined) ctx.addIssue({ code: 'custom', path: ['events'], message: 'events (or event) is required' });
    if (body.events !== undefined && body.event !== undefined) ctx.addIssue({ code: 'custom', path: ['event'], message: 'give events or event, not both' });
  })
  .meta({ id: 'CreateWebhook' });
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const WebhookSchema = z
  .object({
    id: z.string().meta({ example: 'wh_4fG7hJ2kL9mN0p' }),
    url: z.string(),
    events: z.array(EventType),
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.string().nullable().meta({ description: 'Why deliveries stopped (e.g. failing for 3 days), or null' }),
    created_at: z.string(),
    mode: z.enum(DATA_MODES).meta({ description: 'test for a subscription made in test mode: it gets only test-mode events' }),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof WebhookSchema>;

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().meta({ example: 'whsec_…', description: 'Signing secret; shown only in this response' }),
}).meta({ id: 'CreatedWebhook' });

export const DeliveryAttemptSchema = z
  .object({
    event_id: z.string(),
    attempted_at: z.string(),
    status_code: z.number().int().nullable().meta({ description: 'The receiver’s HTTP status, or null when no response came (timeout, network error, refused address)' }),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'DeliveryAttempt' });

export const TestDeliverySchema = z
  .object({
    status_code: z.number().int().nullable().meta({ description: 'The receiver’s HTTP status, or null when no response came (timeout, network error, refused address)' }),
    duration_ms: z.number().int(),
    error: z.string().nullable().meta({ description: 'Why it was not delivered (e.g. "HTTP 500: …", "timeout: …"), or null' }),
    delivered: z.boolean().meta({ description: 'true when the receiver answered 2xx' }),
  })
  .meta({ id: 'WebhookTestResult' });
