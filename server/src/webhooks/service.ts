import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { NotFoundError, PermissionError, ValidationError } from '../errors.js';
import { newId, randomBase62 } from '../random.js';
import type { WebhookRecord, WorkspaceRecord } from '../store/records.js';
import type { Op } from '../store/store.js';
import { MAX_WEBHOOKS_PER_WORKSPACE, type CreateWebhookBody, type Webhook } from './schemas.js';
import { assertPublicHost, ForbiddenAddressError } from './ssrf.js';
import { modeOfPartition } from '../test-mode/mode.js';

/** Subscriptions: create (with the one-time secret), list, read, delete, and the delivery log. */
export class WebhookService {
  constructor(private readonly ctx: Context) {}

  view(hook: WebhookRecord): Webhook {
    return { id: hook.id, url: hook.url, events: hook.events as Webhook['events'], status: hook.status, disabled_reason: hook.disabled_reason, created_at: hook.created_at, mode: modeOfPartition(hook.workspace_id) };
  }

  async create(workspace: WorkspaceRecord, body: CreateWebhookBody): Promise<Webhook & { secret: string }> {
    const field = body.url !== undefined ? 'url' : 'target_url';
    const url = (body.url ?? body.target_url) as string;
    const events = [...new Set(body.events ?? [body.event as NonNullable<CreateWebhookBody['event']>])];
    const existing = await this.ctx.store.findMany('webhooks', 'workspace_id', workspace.id);
    if (existing.length >= MAX_WEBHOOKS_PER_WORKSPACE) {
      throw new PermissionError('webhook_limit_reached', `A workspace can have ${MAX_WEBHOOKS_PER_WORKSPACE} webhooks and this one has ${existing.length}. Delete one you no longer need.`);
    }
    if (!this.ctx.config.webhookAllowPrivate) {
      try {
        await assertPublicHost(new URL(url).hostname);
      } catch (error) {
        if (!(error instanceof ForbiddenAddressError)) throw error;
        const message = `must reach the public internet: ${error.message} (set QRFLOW_WEBHOOK_ALLOW_PRIVATE=true to allow private receivers)`;
        throw new ValidationError(`The webhook URL is not allowed: ${message}`, [{ field, message }]);
      }
    }
    const hook: WebhookRecord = {
      id: newId('wh'),
      workspace_id: workspace.id,
      url,
      events,
      secret: `whsec_${randomBase62(32)}`,
      status: 'active',
      disabled_reason: null,
      failing_since: null,
      created_at: iso(this.ctx.clock.now()),
    };
    await this.ctx.store.commit([{ collection: 'webhooks', put: hook }]);
    return { ...this.view(hook), secret: hook.secret };
  }

  /** The workspace's subscriptions, newest first. */
  async list(workspace: WorkspaceRecord): Promise<Webhook[]> {
    const hooks = await this.ctx.store.findMany('webhooks', 'workspace_id', workspace.id);
    return hooks.sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1)).map((hook) => this.view(hook));
  }

  /** The subscription, or a 404 when it does not exist or belongs to another workspace. */
  async find(workspace: WorkspaceRecord, id: string): Promise<WebhookRecord> {
    const hook = await this.ctx.store.get('webhooks', id);
    if (!hook || hook.workspace_id !== workspace.id) throw new NotFoundError('webhook');
    return hook;
  }

  /** Deletes the subscription with its queued deliveries and its delivery log. */
  async remove(workspace: WorkspaceRecord, id: string): Promise<void> {
    const hook = await this.find(workspace, id);
    await this.ctx.store.commit(await removalOps(this.ctx, hook.id));
  }

  /** The last attempts, newest first. */
  async deliveries(workspace: WorkspaceRecord, id: string) {
    const hook = await this.find(workspace, id);
    const log = await this.ctx.store.get('delivery_logs', hook.id);
    return [...(log?.entries ?? [])].reverse();
  }
}

/** Ops that delete a subscription, its queued deliveries and its log. */
export async function removalOps(ctx: Context, webhookId: string): Promise<Op[]> {
  const queued = await ctx.store.findMany('deliveries', 'webhook_id', webhookId);
  return [
    { collection: 'webhooks', delete: webhookId },
    { collection: 'delivery_logs', delete: webhookId },
    ...queued.map((delivery) => ({ collection: 'deliveries', delete: delivery.id }) as Op),
  ];
}
