import { z } from 'zod';
import { dataWorkspace } from '../test-mode/mode.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import type { WebhookRecord } from '../store/records.js';
import type { WebhookService } from './service.js';
import { TEST_EVENT_TIMEOUT_MS, type TestEventResult } from './test-event.js';
import { CreatedWebhookSchema, CreateWebhookBody, DeliveryAttemptSchema, MAX_WEBHOOKS_PER_WORKSPACE, TestDeliverySchema, WebhookSchema } from './schemas.js';

/** Webhook subscriptions and their delivery logs; every route needs the webhooks:write scope. */
export function webhookRoutes(webhooks: WebhookService, sendTest: (hook: WebhookRecord) => Promise<TestEventResult>): AnyRoute[] {
  const tag = 'Webhooks';
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/webhooks',
      operationId: 'createWebhook',
      tag,
      summary: 'Subscribe a URL to events',
      description:
        `Events are POSTed as JSON \`{id, type, created_at, data}\` with a \`QRflow-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>\` header. ` +
        `The secret is returned only here. \`target_url\` and a single \`event\` are accepted as aliases (Zapier REST hooks). ` +
        `The URL must reach the public internet unless the server runs with QRFLOW_WEBHOOK_ALLOW_PRIVATE=true. At most ${MAX_WEBHOOKS_PER_WORKSPACE} per workspace.`,
      auth: 'key_or_session',
      scope: 'webhooks:write',
      body: CreateWebhookBody,
      responses: {
        201: { description: 'The subscription with its signing secret (shown once)', schema: envelope(CreatedWebhookSchema) },
        403: { description: `The workspace already has ${MAX_WEBHOOKS_PER_WORKSPACE} webhooks`, codes: ['webhook_limit_reached'] },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json({ data: await webhooks.create(dataWorkspace(req.auth!), body) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks',
      operationId: 'listWebhooks',
      tag,
      summary: 'List webhook subscriptions, newest first',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      responses: { 200: { description: 'The subscriptions (without secrets)', schema: envelope(z.array(WebhookSchema)) } },
      handler: async (req, res) => {
        res.json({ data: await webhooks.list(dataWorkspace(req.auth!)) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks/:id',
      operationId: 'getWebhook',
      tag,
      summary: 'Get a webhook subscription',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'The subscription (without its secret)', schema: envelope(WebhookSchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: webhooks.view(await webhooks.find(dataWorkspace(req.auth!), params.id)) });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/webhooks/:id',
      operationId: 'deleteWebhook',
      tag,
      summary: 'Delete a webhook subscription',
      description: 'Its queued deliveries are dropped with it.',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'Deleted', schema: envelope(z.object({ id: z.string(), deleted: z.literal(true) })) } },
      handler: async (req, res, { params }) => {
        await webhooks.remove(dataWorkspace(req.auth!), params.id);
        res.json({ data: { id: params.id, deleted: true } });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/webhooks/:id/test',
      operationId: 'testWebhook',
      tag,
      summary: 'Send a test event to the receiver now',
      description:
        'POSTs a signed `webhook.test` event (same headers and signature as real deliveries; `data` names the subscription) ' +
        `and answers with the outcome once the receiver answers, or after at most ${TEST_EVENT_TIMEOUT_MS / 1000} s. The attempt is added to the delivery log; ` +
        'nothing else changes (no retry, and neither a failure nor a 410 affects the subscription). Disabled subscriptions can be tested too.',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'The outcome of the test send', schema: envelope(TestDeliverySchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await sendTest(await webhooks.find(dataWorkspace(req.auth!), params.id)) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks/:id/deliveries',
      operationId: 'listWebhookDeliveries',
      tag,
      summary: 'The last 100 delivery attempts, newest first',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'Delivery attempts', schema: envelope(z.array(DeliveryAttemptSchema)) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await webhooks.deliveries(dataWorkspace(req.auth!), params.id) });
      },
    }),
  ] as AnyRoute[];
}
