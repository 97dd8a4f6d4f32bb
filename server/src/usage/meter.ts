import type { RequestHandler } from 'express';
import type { Auth } from '../auth/auth.js';
import type { Context } from '../context.js';
import { RateLimitError } from '../errors.js';
import type { ImageCredits } from '../images/credits.js';
import type { UsageRecord } from '../store/records.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** Start and end (exclusive) of the UTC calendar month holding `time`. */
export function monthBounds(time: number): { start: number; end: number } {
  const date = new Date(time);
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/**
 * Monthly allowances of API calls and image credits, per workspace and UTC month (test mode uses neither). Counters live in memory and
 * are written about once a second (never a disk write per request); a kill -9 loses at most that second, in the
 * customer's favour.
 */
export class UsageMeter implements ImageCredits {
  private readonly counters = new Map<string, UsageRecord>();
  private readonly dirty = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: Context) {
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  /** Loads a workspace's counters for the current month (once; later calls are synchronous in effect). */
  async load(workspaceId: string): Promise<UsageRecord> {
    const id = `${workspaceId}:${this.monthAt(this.ctx.clock.now()).name}`;
    let record = this.counters.get(id);
    if (record) return record;
    const stored = await this.ctx.store.get('usage', id);
    record = this.counters.get(id) ?? stored ?? { id, workspace_id: workspaceId, month: id.slice(-7), api_calls: 0, image_credits: 0, by_key: {} };
    this.counters.set(id, record);
    return record;
  }

  /** The current UTC month, recomputed only when the clock leaves it (this runs on every API request). */
  private month = { name: '', start: 0, end: 0 };

  private monthAt(now: number): { name: string; start: number; end: number } {
    if (now < this.month.start || now >= this.month.end) this.month = { name: monthOf(now), ...monthBounds(now) };
    return this.month;
  }

  private current(workspaceId: string): UsageRecord | undefined {
    return this.counters.get(`${workspaceId}:${this.monthAt(this.ctx.clock.now()).name}`);
  }

  private resetMessage(): { seconds: number; when: string } {
    const now = this.ctx.clock.now();
    const { end } = this.monthAt(now);
    return { seconds: (end - now) / 1000, when: new Date(end).toISOString() };
  }

  /**
   * Counts an API-key request against the month, or throws 429 monthly_quota_exceeded. Synchronous once the
   * workspace's counters are loaded (every request after its first of the month).
   */
  middleware(): RequestHandler {
    const handler: RequestHandler = (req, res, next) => {
      const auth = req.auth as Auth;
      const record = this.current(auth.workspace.id);
      if (record) {
        this.count(auth, record, res);
        next();
        return;
      }
      this.load(auth.workspace.id)
        .then((loaded) => {
          this.count(auth, loaded, res);
          next();
        })
        .catch(next);
    };
    return describeMiddleware(handler, { sets: ['RateLimit', 'RateLimit-Policy'], answers: [tooManyRequests(['monthly_quota_exceeded'], "The plan's monthly API calls are used up")] });
  }

  private count(auth: Auth, record: UsageRecord, res: Parameters<RequestHandler>[1]): void {
    const limit = auth.plan.monthly_api_calls;
    // test-mode keys are not metered: trying an integration costs none of the month's allowance
    if (auth.key && auth.mode !== 'test') {
      if (record.api_calls >= limit) {
        const reset = this.resetMessage();
        this.setHeaders(res, auth, record);
        throw new RateLimitError('monthly_quota_exceeded', `This workspace has used all ${limit} API calls of its ${auth.plan.name} plan this month. The allowance resets at ${reset.when}; upgrade the plan to raise it.`, reset.seconds);
      }
      record.api_calls++;
      record.by_key[auth.key.id] = (record.by_key[auth.key.id] ?? 0) + 1;
      this.dirty.add(record.id);
    }
    this.setHeaders(res, auth, record);
  }

  /** Adds the month to the IETF RateLimit headers set by the per-minute limiter, in the same draft-8 style. */
  private setHeaders(res: Parameters<RequestHandler>[1], auth: Auth, record: UsageRecord): void {
    const limit = auth.plan.monthly_api_calls;
    const remaining = Math.max(0, limit - record.api_calls);
    const now = this.ctx.clock.now();
    const month = this.monthAt(now);
    const reset = Math.ceil((month.end - now) / 1000);
    const window = Math.round((month.end - month.start) / 1000);
    const policy = res.getHeader('RateLimit-Policy');
    const state = res.getHeader('RateLimit');
    const monthPolicy = `"month"; q=${limit}; w=${window}`;
    const monthState = `"month"; r=${remaining}; t=${reset}`;
    res.setHeader('RateLimit-Policy', policy ? `${String(policy)}, ${monthPolicy}` : monthPolicy);
    res.setHeader('RateLimit', state ? `${String(state)}, ${monthState}` : monthState);
  }

  assertAvailable(auth: Auth): void {
    if (auth.mode === 'test') return;
    const record = this.current(auth.workspace.id);
    const used = record?.image_credits ?? 0;
    if (used >= auth.plan.monthly_image_credits) {
      const reset = this.resetMessage();
      throw new RateLimitError('image_credits_exhausted', `This workspace has used all ${auth.plan.monthly_image_credits} image credits of its ${auth.plan.name} plan this month. They reset at ${reset.when}; upgrade the plan for more. Cached images stay available.`, reset.seconds);
    }
  }

  charge(auth: Auth): void {
    if (auth.mode === 'test') return;
    const record = this.current(auth.workspace.id);
    if (!record) return;
    record.image_credits++;
    this.dirty.add(record.id);
  }

  /** Month usage of a workspace, with the split by key. */
  async usage(workspaceId: string): Promise<UsageRecord> {
    return { ...(await this.load(workspaceId)) };
  }

  /**
   * Writes the counters changed since the last flush as one fsynced transaction. It runs once a second whatever the
   * request rate, so counting costs no disk write per request, and (unlike commitSoon, which waits for the store's
   * own lazy timer, up to a second more) a kill -9 loses at most the last second of counts.
   */
  flush(): Promise<void> {
    if (this.dirty.size === 0) return Promise.resolve();
    const ops = [...this.dirty].flatMap((id) => {
      const record = this.counters.get(id);
      return record ? [{ collection: 'usage' as const, put: { ...record, by_key: { ...record.by_key } } }] : [];
    });
    this.dirty.clear();
    // forget past months once written
    const month = this.monthAt(this.ctx.clock.now()).name;
    for (const [id, record] of this.counters) if (record.month !== month) this.counters.delete(id);
    return this.ctx.store.commit(ops).catch((error: unknown) => {
      this.ctx.logger.error({ err: error }, 'writing usage counters failed');
    });
  }

  /** Stops the timer and writes what is counted (the store, still open, finishes the write before it closes). */
  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}
