import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { newId } from '../random.js';
import type { DeliveryRecord, EventPayload, EventRecord, WebhookRecord } from '../store/records.js';
import type { Op, ReadScope } from '../store/store.js';
import { DATA_MODES, partitionId } from '../test-mode/mode.js';

export const EVENT_TYPES = ['qr.created', 'qr.updated', 'qr.deleted', 'qr.scanned'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Events kept for the feed: the last 30 days, and at most this many per workspace. */
export const EVENT_RETENTION_MS = 30 * 24 * 3600_000;
export const EVENTS_PER_WORKSPACE = 10_000;
/**
 * Deliveries waiting for one subscription at most. A receiver that is down while thousands of scans a minute
 * arrive would otherwise grow the store without bound; past this, new events are not queued for it (they stay
 * in the events feed, and the subscription is disabled after 3 days of failures anyway).
 */
export const MAX_QUEUED_DELIVERIES = 10_000;

/** What deliveryOps remembers across the events of one commit: subscriptions per workspace, queued deliveries per subscription. */
export interface DeliveryBatch {
  hooks: Map<string, WebhookRecord[]>;
  queued: Map<string, number>;
}

export function newDeliveryBatch(): DeliveryBatch {
  return { hooks: new Map(), queued: new Map() };
}

export function payloadOf(event: EventRecord | EventPayload): EventPayload {
  return { id: event.id, type: event.type, created_at: event.created_at, data: event.data };
}

/** Records events and queues their webhook deliveries in the same commit as the change they describe. */
export class EventService {
  /** When each full subscription was last warned about (ms), so a flood of events logs one line a minute. */
  private readonly warnedFull = new Map<string, number>();

  constructor(private readonly ctx: Context) {}

  /**
   * Ops that queue one delivery per active subscription of the workspace to this event type. `reads`: the request's,
   * so that the subscriptions may come from memory (CoherentReads). `batch`: for many events committed together (a
   * batch of scans), each workspace's subscriptions read once and each subscription's queue counted once, then kept
   * up to date with the deliveries already queued in the batch, so that the cap holds within the batch too.
   */
  async deliveryOps(workspaceId: string, event: EventPayload, reads?: ReadScope, batch?: DeliveryBatch): Promise<Op[]> {
    let hooks = batch?.hooks.get(workspaceId);
    if (!hooks) {
      hooks = await this.ctx.store.findMany('webhooks', 'workspace_id', workspaceId, reads);
      batch?.hooks.set(workspaceId, hooks);
    }
    const now = this.ctx.clock.now();
    const ops: Op[] = [];
    for (const hook of hooks) {
      if (hook.status !== 'active' || !hook.events.includes(event.type)) continue;
      let queued = batch?.queued.get(hook.id);
      if (queued === undefined) queued = await this.ctx.store.countMany('deliveries', 'webhook_id', hook.id);
      if (queued < MAX_QUEUED_DELIVERIES) {
        const delivery: DeliveryRecord = { id: newId('dlv'), workspace_id: workspaceId, webhook_id: hook.id, event, attempts: 0, next_attempt_at: now, created_at: iso(now) };
        ops.push({ collection: 'deliveries', put: delivery });
        queued++;
      } else if (now - (this.warnedFull.get(hook.id) ?? -Infinity) >= 60_000) {
        this.warnedFull.set(hook.id, now);
        this.ctx.logger.warn({ webhook_id: hook.id, queued: MAX_QUEUED_DELIVERIES }, 'webhook queue full: new events are not queued for this subscription');
      }
      batch?.queued.set(hook.id, queued);
    }
    return ops;
  }

  /** Drops stored events older than 30 days, and the oldest beyond 10,000 per workspace. */
  async sweep(): Promise<number> {
    const cutoff = iso(this.ctx.clock.now() - EVENT_RETENTION_MS);
    let dropped = 0;
    // the test partition of each workspace keeps its own events (see test-mode/mode.ts)
    const partitions = (await this.ctx.store.all('workspaces')).flatMap((workspace) => DATA_MODES.map((mode) => partitionId(workspace.id, mode)));
    for (const partition of partitions) {
      const count = await this.ctx.store.countByWorkspace('events', partition);
      if (count === 0) continue;
      const excess = Math.max(0, count - EVENTS_PER_WORKSPACE);
      const oldest = await this.ctx.store.listPage('events', partition, { order: 'oldest', limit: Math.min(count, excess + 1000) });
      const doomed = oldest.items.filter((event, i) => i < excess || event.created_at < cutoff);
      if (doomed.length === 0) continue;
      dropped += doomed.length;
      this.ctx.store.commitSoon(doomed.map((event) => ({ collection: 'events', delete: event.id }) as Op));
    }
    return dropped;
  }

  /** The event and the ops that store it and queue its deliveries (`reads`: as in deliveryOps). */
  async record(workspaceId: string, type: EventType, data: unknown, reads?: ReadScope): Promise<{ event: EventPayload; ops: Op[] }> {
    const record: EventRecord = { id: newId('evt'), workspace_id: workspaceId, type, created_at: iso(this.ctx.clock.now()), data };
    const event = payloadOf(record);
    return { event, ops: [{ collection: 'events', put: record }, ...(await this.deliveryOps(workspaceId, event, reads))] };
  }
}
