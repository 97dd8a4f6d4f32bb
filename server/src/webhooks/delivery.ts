import { iso } from '../clock.js';
import type { Context } from '../context.js';
import type { DeliveryLogRecord, DeliveryRecord, WebhookRecord } from '../store/records.js';
import type { JobQueue } from '../store/job-queue.js';
import type { Op } from '../store/store.js';
import { DueQueue } from './due-queue.js';
import type { QueuedDeliveries } from './queued-deliveries.js';
import { send, USER_AGENT, type SendResult } from './sender.js';
import { removalOps } from './service.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Wait after the 1st, 2nd, ... failed attempt. 11 attempts over about 70 hours; after the last one the
 * delivery is given up.
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [30 * SECOND, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 24 * HOUR];

export interface DeliveryOptions {
  /** Delays before each retry (ms); its length + 1 is the number of attempts. */
  schedule: readonly number[];
  /** Per attempt: connect, send, and the receiver's answer. */
  timeoutMs: number;
  /** Attempts in flight at once, over all subscriptions. */
  concurrency: number;
  /** Attempts in flight at once to one subscription, so a dead receiver cannot take every slot. */
  perWebhook: number;
  /** How often the due queue is checked against the clock (ms of real time). */
  pollMs: number;
  /** A subscription failing without a success for this long is disabled. */
  disableAfterMs: number;
  /** Attempts kept in each subscription's delivery log. */
  logLimit: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  schedule: DEFAULT_RETRY_SCHEDULE,
  timeoutMs: 10 * SECOND,
  concurrency: 16,
  perWebhook: 4,
  pollMs: 500,
  disableAfterMs: 72 * HOUR,
  logLimit: 100,
};

type Outcome = 'delivered' | 'retry' | 'drop' | 'gone';

/**
 * How a receiver's answer is handled: 2xx delivered; 410 removes the subscription; network errors,
 * timeouts, refused addresses, 408, 425, 429 and 5xx are retried; any other answer (3xx, 4xx) means the
 * receiver will not take this event, so it is dropped without retry. Every failure counts towards disabling.
 */
export function outcomeOf(result: Pick<SendResult, 'statusCode'>): Outcome {
  const status = result.statusCode;
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  if (status >= 500 || status === 408 || status === 425 || status === 429) return 'retry';
  return 'drop';
}

/**
 * The background worker that delivers queued events. It keeps the due times in memory (loaded from the
 * store at start, fed by every commit that queues a delivery), sends with bounded concurrency off the
 * request path, and commits each attempt's result durably before it is forgotten. Delivery is
 * at-least-once: a receiver's 2xx lost in a crash before the commit means one more send of the same event id.
 */
export class DeliveryWorker {
  readonly options: DeliveryOptions;
  private readonly queue = new DueQueue();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perWebhook = new Map<string, number>();
  /** Deliveries waiting for a free slot of their subscription. */
  private readonly waiting = new Map<string, DeliveryRecord['id'][]>();
  /** Serialises the read-modify-write of each subscription's log and status. */
  private readonly locks = new Map<string, Promise<void>>();
  private abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private running = false;
  private wake: NodeJS.Immediate | undefined;
  private reconciler: NodeJS.Timeout | undefined;

  /**
   * Without `jobs` (the embedded store) the due times are kept here in memory. With `jobs` (PostgreSQL: a queue
   * shared by every process) each attempt is a job: taken by one process at a time, run again elsewhere if its
   * process dies, and the next attempt queued as a job of its own at the retry schedule's time.
   */
  constructor(
    private readonly ctx: Context,
    private readonly queued: QueuedDeliveries,
    options: Partial<DeliveryOptions> = {},
    private readonly jobs?: JobQueue,
  ) {
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
  }

  /** Changes options of a worker (tests use short timeouts). */
  configure(options: Partial<DeliveryOptions>): void {
    Object.assign(this.options, options);
  }

  /** Loads the queued deliveries from the store and starts sending. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    if (this.jobs) return this.startJobs(this.jobs);
    this.unlisten = this.queued.listen((delivery) => this.enqueue(delivery));
    for (const delivery of await this.ctx.store.all('deliveries')) this.enqueue(delivery);
    this.timer = setInterval(() => this.pump(), this.options.pollMs);
    this.timer.unref();
    this.pump();
  }

  /**
   * Stops sending. Attempts in flight get `graceMs` to finish and be recorded (a receiver that already answered
   * is then not sent the event again after a restart); those still running are cut short and stay queued.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.running = false;
    this.unlisten?.();
    clearInterval(this.reconciler);
    if (this.jobs) {
      // attempts still running after the grace are cut short; their jobs are run again (here after a restart, or elsewhere)
      const timer = setTimeout(() => this.abort.abort(), graceMs);
      await this.jobs.stop(graceMs);
      clearTimeout(timer);
      this.abort.abort();
      return;
    }
    clearInterval(this.timer);
    if (this.wake) clearImmediate(this.wake);
    const settled = Promise.allSettled([...this.inFlight.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.abort.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Deliveries known to the worker (queued or in flight). */
  get pending(): number {
    return this.queue.size + this.inFlight.size + [...this.waiting.values()].reduce((sum, ids) => sum + ids.length, 0);
  }

  private enqueue(delivery: DeliveryRecord): void {
    if (this.inFlight.has(delivery.id)) return;
    this.queue.push({ id: delivery.id, webhookId: delivery.webhook_id, at: delivery.next_attempt_at });
    if (this.running && delivery.next_attempt_at <= this.ctx.clock.now()) this.wake ??= setImmediate(() => ((this.wake = undefined), this.pump()));
  }

  /** Starts every due attempt that has a free slot. */
  private pump(): void {
    if (!this.running) return;
    const now = this.ctx.clock.now();
    while (this.inFlight.size < this.options.concurrency) {
      const entry = this.queue.popDue(now);
      if (!entry) return;
      if (this.inFlight.has(entry.id)) continue;
      if ((this.perWebhook.get(entry.webhookId) ?? 0) >= this.options.perWebhook) {
        const list = this.waiting.get(entry.webhookId) ?? [];
        list.push(entry.id);
        this.waiting.set(entry.webhookId, list);
        continue;
      }
      this.launch(entry.id, entry.webhookId);
    }
  }

  private launch(id: string, webhookId: string): void {
    this.perWebhook.set(webhookId, (this.perWebhook.get(webhookId) ?? 0) + 1);
    const attempt = this.attempt(id)
      .catch((error: unknown) => {
        this.ctx.logger.error({ err: error, delivery_id: id, webhook_id: webhookId }, 'webhook delivery failed unexpectedly');
        // keep it queued: it is retried at the next poll rather than lost
        if (this.running) this.queue.push({ id, webhookId, at: this.ctx.clock.now() + this.options.pollMs });
      })
      .finally(() => {
        this.inFlight.delete(id);
        const left = (this.perWebhook.get(webhookId) ?? 1) - 1;
        if (left > 0) this.perWebhook.set(webhookId, left);
        else this.perWebhook.delete(webhookId);
        // those that waited for this subscription's slot go back in line, still due
        const waiting = this.waiting.get(webhookId);
        if (waiting?.length) {
          this.waiting.delete(webhookId);
          for (const waitingId of waiting) this.queue.push({ id: waitingId, webhookId, at: this.ctx.clock.now() });
        }
        this.pump();
      });
    this.inFlight.set(id, attempt);
  }

  /** How often every queued delivery is checked to have its job (one may be missing after a crash between commits). */
  static readonly RECONCILE_MS = 30_000;

  /** The job of a delivery's next attempt; its key makes sending it again harmless. */
  private async sendJob(jobs: JobQueue, delivery: Pick<DeliveryRecord, 'id' | 'attempts' | 'next_attempt_at'>): Promise<void> {
    await jobs.send({ key: `delivery:${delivery.id}:${delivery.attempts}`, data: { id: delivery.id, attempts: delivery.attempts }, runAt: delivery.next_attempt_at });
  }

  private async startJobs(jobs: JobQueue): Promise<void> {
    const logFailure = (error: unknown) => this.ctx.logger.warn({ reason: (error as Error).message }, 'webhook delivery job not queued yet: the next check queues it');
    // a job still running after the attempt's timeout and a margin belongs to a dead process
    await jobs.start({ expireSeconds: Math.ceil(this.options.timeoutMs / 1000) + 20, retrySeconds: 5 });
    // a delivery committed by this process gets its job at once; one missed (a crash, the database lost) at the next check
    this.unlisten = this.queued.listen((delivery) => void this.sendJob(jobs, delivery).catch(logFailure));
    const reconcile = async () => {
      for (const delivery of await this.ctx.store.all('deliveries')) await this.sendJob(jobs, delivery);
    };
    await reconcile();
    this.reconciler = setInterval(() => void reconcile().catch(logFailure), DeliveryWorker.RECONCILE_MS);
    this.reconciler.unref();
    await jobs.work((data) => this.runJob(jobs, String(data.id), Number(data.attempts)), Math.min(this.options.concurrency, this.options.perWebhook));
  }

  /** One attempt as a job; throwing has the job run again (after a few seconds, by whichever process takes it). */
  private async runJob(jobs: JobQueue, id: string, attempts: number): Promise<void> {
    if (!this.running) throw new Error('the delivery worker is stopping');
    const delivery = await this.ctx.store.get('deliveries', id);
    // delivered, dropped or removed since; or a later attempt, which has a job of its own
    if (!delivery || delivery.attempts !== attempts) return;
    // never before its time by this process's clock (the queue keeps real time; a test clock may differ)
    if (delivery.next_attempt_at > this.ctx.clock.now()) throw new Error('not due yet');
    const inFlight = this.deliver(delivery);
    this.inFlight.set(id, inFlight.then(() => undefined, () => undefined));
    try {
      const retryAt = await inFlight;
      if (retryAt === undefined) throw new Error('the attempt was cut short by a stop');
      if (retryAt !== null) await this.sendJob(jobs, { id, attempts: attempts + 1, next_attempt_at: retryAt });
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async attempt(id: string): Promise<void> {
    const delivery = await this.ctx.store.get('deliveries', id);
    if (!delivery) return;
    if (delivery.next_attempt_at > this.ctx.clock.now()) {
      this.queue.push({ id, webhookId: delivery.webhook_id, at: delivery.next_attempt_at });
      return;
    }
    const retryAt = await this.deliver(delivery);
    if (retryAt !== null && retryAt !== undefined && this.running) this.queue.push({ id, webhookId: delivery.webhook_id, at: retryAt });
  }

  /**
   * Sends a due delivery once and records the outcome: returns the time of the next attempt, null when there is
   * none (delivered, dropped, given up, subscription gone), or undefined when a stop cut the attempt short.
   */
  private async deliver(delivery: DeliveryRecord): Promise<number | null | undefined> {
    const id = delivery.id;
    const now = this.ctx.clock.now();
    const hook = await this.ctx.store.get('webhooks', delivery.webhook_id);
    if (!hook || hook.status !== 'active') {
      await this.ctx.store.commit([{ collection: 'deliveries', delete: id }]);
      return null;
    }
    const body = JSON.stringify(delivery.event);
    const result = await send({
      url: hook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(hook.secret, body, now / 1000),
        'qrflow-event-id': delivery.event.id,
        'qrflow-event-type': delivery.event.type,
      },
      timeoutMs: this.options.timeoutMs,
      guard: !this.ctx.config.webhookAllowPrivate,
      signal: this.abort.signal,
    });
    if (result.aborted) return undefined;
    return this.withLock(hook.id, () => this.settle(delivery, result, now));
  }

  /** Records the attempt and applies its outcome in one durable commit; returns the retry time, if any. */
  private async settle(delivery: DeliveryRecord, result: SendResult, attemptedAt: number): Promise<number | null> {
    const hook = await this.ctx.store.get('webhooks', delivery.webhook_id);
    if (!hook) return null; // deleted while the attempt was in flight: its deliveries went with it
    const now = this.ctx.clock.now();
    const log = (await this.ctx.store.get('delivery_logs', hook.id)) ?? { id: hook.id, workspace_id: hook.workspace_id, entries: [] };
    const entry = { event_id: delivery.event.id, attempted_at: iso(attemptedAt), status_code: result.statusCode, duration_ms: result.durationMs, error: result.error };
    const entries = [...log.entries, entry].slice(-this.options.logLimit);
    const logOp: Op = { collection: 'delivery_logs', put: { ...log, entries } satisfies DeliveryLogRecord };
    const outcome = outcomeOf(result);
    const context = { webhook_id: hook.id, event_id: delivery.event.id, status_code: result.statusCode, attempt: delivery.attempts + 1 };

    if (outcome === 'delivered') {
      const ops: Op[] = [logOp, { collection: 'deliveries', delete: delivery.id }];
      if (hook.failing_since !== null) ops.push({ collection: 'webhooks', put: { ...hook, failing_since: null } });
      await this.ctx.store.commit(ops);
      return null;
    }
    if (outcome === 'gone') {
      this.ctx.logger.info(context, 'webhook receiver answered 410 Gone: subscription removed');
      await this.ctx.store.commit(await removalOps(this.ctx, hook.id));
      return null;
    }

    const failingSince = hook.failing_since ?? attemptedAt;
    if (now - failingSince >= this.options.disableAfterMs) {
      const days = Math.round((now - failingSince) / (24 * HOUR));
      const reason = `Disabled on ${iso(now)}: every delivery failed for ${days} days since ${iso(failingSince)} (last: ${result.error ?? `HTTP ${result.statusCode}`}). Fix the receiver and create a new subscription.`;
      this.ctx.logger.warn(context, 'webhook disabled after failing for days');
      const queued = await this.ctx.store.findMany('deliveries', 'webhook_id', hook.id);
      await this.ctx.store.commit([
        logOp,
        { collection: 'webhooks', put: { ...hook, status: 'disabled', disabled_reason: reason, failing_since: failingSince } satisfies WebhookRecord },
        ...queued.map((queuedDelivery) => ({ collection: 'deliveries', delete: queuedDelivery.id }) as Op),
      ]);
      for (const queuedDelivery of queued) this.queue.delete(queuedDelivery.id);
      return null;
    }

    const hookOp: Op[] = hook.failing_since === null ? [{ collection: 'webhooks', put: { ...hook, failing_since: failingSince } }] : [];
    const attempts = delivery.attempts + 1;
    const delay = this.options.schedule[attempts - 1];
    if (outcome === 'drop' || delay === undefined) {
      this.ctx.logger.warn(context, outcome === 'drop' ? 'webhook receiver refused the event: not retried' : 'webhook delivery given up after the last retry');
      await this.ctx.store.commit([logOp, ...hookOp, { collection: 'deliveries', delete: delivery.id }]);
      return null;
    }
    const nextAttemptAt = now + delay;
    await this.ctx.store.commit([logOp, ...hookOp, { collection: 'deliveries', put: { ...delivery, attempts, next_attempt_at: nextAttemptAt } }]);
    return nextAttemptAt;
  }

  /** Appends one attempt to a subscription's delivery log, serialised with the worker's own writes to it. */
  recordAttempt(hook: WebhookRecord, entry: DeliveryLogRecord['entries'][number]): Promise<void> {
    return this.withLock(hook.id, async () => {
      if (!(await this.ctx.store.get('webhooks', hook.id))) return; // deleted meanwhile: its log went with it
      const log = (await this.ctx.store.get('delivery_logs', hook.id)) ?? { id: hook.id, workspace_id: hook.workspace_id, entries: [] };
      await this.ctx.store.commit([{ collection: 'delivery_logs', put: { ...log, entries: [...log.entries, entry].slice(-this.options.logLimit) } }]);
    });
  }

  private async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return result;
  }
}
