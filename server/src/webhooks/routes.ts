import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import type { WebhookService } from './service.js';
import { CreatedWebhookSchema, CreateWebhookBody, DeliveryAttemptSchema, MAX_WEBHOOKS_PER_WORKSPACE, WebhookSchema } from './schemas.js';

/** Webhook subscriptions and their delivery logs; every route needs the webhooks:write scope. */
export function webhookRoutes(webhooks: WebhookService): AnyRoute[] {
  const tag = 'Webhooks';
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/webhooks',
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
        403: { description: 'Missing scope, or the workspace already has the maximum number of webhooks (webhook_limit_reached)' },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json({ data: await webhooks.create(req.auth!.workspace, body) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks',
      tag,
      summary: 'List webhook subscriptions, newest first',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      responses: { 200: { description: 'The subscriptions (without secrets)', schema: envelope(z.array(WebhookSchema)) } },
      handler: async (req, res) => {
        res.json({ data: await webhooks.list(req.auth!.workspace) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks/:id',
      tag,
      summary: 'Get a webhook subscription',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'The subscription (without its secret)', schema: envelope(WebhookSchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: webhooks.view(await webhooks.find(req.auth!.workspace, params.id)) });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/webhooks/:id',
      tag,
      summary: 'Delete a webhook subscription',
      description: 'Its queued deliveries are dropped with it.',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'Deleted', schema: envelope(z.object({ id: z.string(), deleted: z.literal(true) })) } },
      handler: async (req, res, { params }) => {
        await webhooks.remove(req.auth!.workspace, params.id);
        res.json({ data: { id: params.id, deleted: true } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/webhooks/:id/deliveries',
      tag,
      summary: 'The last 100 delivery attempts, newest first',
      auth: 'key_or_session',
      scope: 'webhooks:write',
      params: IdParams,
      responses: { 200: { description: 'Delivery attempts', schema: envelope(z.array(DeliveryAttemptSchema)) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await webhooks.deliveries(req.auth!.workspace, params.id) });
      },
    }),
  ] as AnyRoute[];
}
