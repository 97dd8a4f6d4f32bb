import { randomInt } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Auth } from '../auth/auth.js';
import type { Context } from '../context.js';
import { RateLimitError } from '../errors.js';
import type { ImageCredits } from '../images/credits.js';
import type { SharedRedis } from '../redis/client.js';
import type { UsageRecord } from '../store/records.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';
import type { UpdateOp } from '../store/store.js';
import type { ReadScope, RequestScope } from '../request-scope.js';

/** What rides along on the per-minute limit's Redis call (minuteTurn): the request's write generations (CoherentReads). */
export interface GenerationRider {
  pendingGenerationKeys(scope: ReadScope): string[] | undefined;
  observe(scope: ReadScope, value: string | undefined): void;
}

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** Start and end (exclusive) of the UTC calendar month holding `time`. */
export function monthBounds(time: number): { start: number; end: number } {
  const date = new Date(time);
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

type Counter = 'api_calls' | 'image_credits';

/** Counts made here and not yet written to the store. */
interface Delta {
  workspaceId: string;
  month: string;
  api_calls: number;
  image_credits: number;
  by_key: Record<string, number>;
}

/**
 * Takes one of a month's allowance in Redis, atomically: answers [1, used after] when taken, [0, used] when the
 * allowance is used up, and [-2, 0] when the month's hash is not there (first use, or Redis lost it): the caller
 * then seeds it from the store and asks again.
 */
const TAKE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-2, 0} end
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if used >= tonumber(ARGV[2]) then return {0, used} end
return {1, redis.call('HINCRBY', KEYS[1], ARGV[1], 1)}`;

/**
 * The per-minute limit's count, as rate-limit-redis keeps it (a counter set with the window as its expiry, then
 * incremented: answers {hits, ms to reset}), with the request's monthly API call taken along when KEYS[2] is the
 * month's hash (ARGV[3] = '1') and the minute's limit is not passed — status 1 taken (used after), 0 used up, -2
 * month not in Redis, 2 nothing taken — and the workspace's write generations read from the remaining keys, joined
 * by '/' (a missing one starts at ARGV[6]). One Redis call for all three.
 */
const MINUTE_TURN_SCRIPT = `
local window = tonumber(ARGV[1])
local hits, ttl
local left = redis.call('PTTL', KEYS[1])
if left <= 0 then
  redis.call('SET', KEYS[1], 1, 'PX', window)
  hits, ttl = 1, window
else
  hits, ttl = redis.call('INCR', KEYS[1]), left
end
local first, status, used = 2, 2, 0
if ARGV[3] == '1' then
  first = 3
  if hits <= tonumber(ARGV[2]) then
    if redis.call('EXISTS', KEYS[2]) == 0 then
      status = -2
    else
      used = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
      if used >= tonumber(ARGV[5]) then status = 0 else status, used = 1, redis.call('HINCRBY', KEYS[2], ARGV[4], 1) end
    end
  end
end
local generation = false
if #KEYS >= first then
  local parts = {}
  for i = first, #KEYS do
    local value = redis.call('GET', KEYS[i])
    if not value then
      redis.call('SET', KEYS[i], ARGV[6], 'NX')
      value = redis.call('GET', KEYS[i])
    end
    parts[#parts + 1] = value
  end
  generation = table.concat(parts, '/')
end
return {hits, ttl, status, used, generation}`;

/** Creates the month's hash from the stored counts, unless another process did first; it expires after the month. */
const SEED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'api_calls', ARGV[1], 'image_credits', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
return 1`;

/** How long after its end a month's Redis counters are kept. */
const REDIS_MONTH_GRACE_MS = 35 * 24 * 3600_000;

/**
 * Monthly allowances of API calls and image credits, per workspace and UTC month (test mode uses neither).
 *
 * With Redis (QRFLOW_REDIS_URL) every call takes its unit in Redis with one atomic script, so processes sharing it
 * stop at exactly the limit. Without it (one process, the embedded store) the counts live in memory. Either way
 * the counts made here are added to the stored usage record about once a second as atomic increments (never a
 * disk write per request, and processes never overwrite each other's counts); a kill -9 loses at most that
 * second, in the customer's favour. When Redis fails, calls are counted here and the limit is checked against
 * what this process knows (fail open, with a warn log), until it answers again.
 */
export class UsageMeter implements ImageCredits {
  /** This process's view of each month's record: the stored counts as last read plus the deltas not yet written. */
  private readonly counters = new Map<string, UsageRecord>();
  private readonly loading = new Map<string, Promise<UsageRecord>>();
  private deltas = new Map<string, Delta>();
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;


  constructor(private readonly ctx: Context, private readonly redis?: SharedRedis, private readonly reads?: GenerationRider) {
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  private idOf(workspaceId: string): string {
    return `${workspaceId}:${this.monthAt(this.ctx.clock.now()).name}`;
  }

  /** Loads a workspace's counters for the current month (once; later calls are synchronous in effect). */
  async load(workspaceId: string): Promise<UsageRecord> {
    const id = this.idOf(workspaceId);
    const held = this.counters.get(id);
    if (held) return held;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.ctx.store.get('usage', id).then((stored) => {
        const record = this.counters.get(id) ?? this.withDelta(stored ?? this.empty(id, workspaceId));
        this.counters.set(id, record);
        return record;
      }).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private empty(id: string, workspaceId: string): UsageRecord {
    return { id, workspace_id: workspaceId, month: id.slice(-7), api_calls: 0, image_credits: 0, by_key: {} };
  }

  /** A stored record with what this process counted and has not written yet. */
  private withDelta(stored: UsageRecord): UsageRecord {
    const record = { ...stored, by_key: { ...stored.by_key } };
    const delta = this.deltas.get(stored.id);
    if (delta) {
      record.api_calls += delta.api_calls;
      record.image_credits += delta.image_credits;
      for (const [key, n] of Object.entries(delta.by_key)) record.by_key[key] = (record.by_key[key] ?? 0) + n;
    }
    return record;
  }

  /** The current UTC month, recomputed only when the clock leaves it (this runs on every API request). */
  private month = { name: '', start: 0, end: 0 };

  private monthAt(now: number): { name: string; start: number; end: number } {
    if (now < this.month.start || now >= this.month.end) this.month = { name: monthOf(now), ...monthBounds(now) };
    return this.month;
  }

  private resetMessage(): { seconds: number; when: string } {
    const now = this.ctx.clock.now();
    const { end } = this.monthAt(now);
    return { seconds: (end - now) / 1000, when: new Date(end).toISOString() };
  }

  /** Counts an API-key request against the month, or throws 429 monthly_quota_exceeded. */
  middleware(): RequestHandler {
    const handler: RequestHandler = (req, res, next) => {
      const auth = req.auth as Auth;
      const record = this.counters.get(this.idOf(auth.workspace.id));
      // test-mode keys are not metered: trying an integration costs none of the month's allowance
      const metered = Boolean(auth.key) && auth.mode !== 'test';
      if (record && !(metered && this.redis)) {
        this.countLocally(auth, record, res, metered);
        next();
        return;
      }
      this.countShared(auth, req.scope, res, metered).then(() => next(), next);
    };
    return describeMiddleware(handler, { sets: ['RateLimit', 'RateLimit-Policy'], answers: [tooManyRequests(['monthly_quota_exceeded'], "The plan's monthly API calls are used up")] });
  }

  private async countShared(auth: Auth, scope: RequestScope | undefined, res: Parameters<RequestHandler>[1], metered: boolean): Promise<void> {
    const record = await this.load(auth.workspace.id);
    if (!metered) {
      this.setHeaders(res, auth, record.api_calls);
      return;
    }
    const limit = auth.plan.monthly_api_calls;
    const carried = scope?.allowance;
    if (scope) scope.allowance = undefined;
    const used = carried ? carried.used : await this.takeShared(auth, record, 'api_calls', limit);
    if (used === undefined) {
      this.countLocally(auth, record, res, true);
      return;
    }
    if (used < 0) {
      this.setHeaders(res, auth, limit);
      this.throwQuota(auth);
    }
    this.add(record, auth, 'api_calls');
    res.locals.apiCallTaken = 'shared';
    this.setHeaders(res, auth, used);
  }

  /**
   * Takes one unit in Redis: the count after taking it, -1 when the allowance is used up, or undefined when Redis
   * cannot answer (the caller counts locally).
   */
  private async takeShared(auth: Auth, record: UsageRecord, field: Counter, limit: number): Promise<number | undefined> {
    const redis = this.redis;
    if (!redis) return undefined;
    const key = `${redis.prefix}usage:${record.id}`;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const [status, used] = (await redis.evalScript(TAKE_SCRIPT, [key], [field, String(limit)])) as [number, number];
        if (status === 1) return used;
        if (status === 0) return -1;
        // the month is not in Redis yet: seed it from the store (what every process has written, plus this one's)
        const stored = this.withDelta((await this.ctx.store.get('usage', record.id)) ?? this.empty(record.id, auth.workspace.id));
        const expireAt = this.monthAt(this.ctx.clock.now()).end + REDIS_MONTH_GRACE_MS;
        await redis.sendCommand(['EVAL', SEED_SCRIPT, '1', key, String(stored.api_calls), String(stored.image_credits), String(expireAt)]);
      }
      throw new Error('the month counters could not be created in Redis');
    } catch (error) {
      redis.warn('monthly allowances', error);
      return undefined;
    }
  }

  /**
   * The per-minute limiter's Redis call (perMinuteLimiter's store, inside a request's scope), carrying the
   * request's monthly API call and its write generations along, so that a request makes one Redis round trip for
   * all three. Answers the minute's count and its reset like rate-limit-redis; the API call's outcome waits in the
   * request's scope for the middleware, which takes it itself when the month is not in Redis yet. Throws when
   * Redis fails (the limiter then lets the request pass, and the middleware counts as it would without this).
   */
  async minuteTurn(scope: RequestScope, minuteKey: string, windowMs: number): Promise<{ totalHits: number; resetTime: Date }> {
    const redis = this.redis as SharedRedis;
    const auth = scope.auth as Auth;
    const metered = Boolean(auth.key) && auth.mode !== 'test';
    const record = metered ? await this.load(auth.workspace.id) : undefined;
    const generationKeys = this.reads?.pendingGenerationKeys(scope.reads) ?? [];
    const keys = [minuteKey, ...(record ? [`${redis.prefix}usage:${record.id}`] : []), ...generationKeys];
    const args = [String(windowMs), String(auth.plan.requests_per_minute), record ? '1' : '0', 'api_calls', String(auth.plan.monthly_api_calls), String(randomInt(1, 2 ** 47))];
    const [hits, ttl, status, used, generation] = (await redis.evalScript(MINUTE_TURN_SCRIPT, keys, args)) as [number, number, number, number, string | null];
    if (generationKeys.length) this.reads?.observe(scope.reads, generation ?? undefined);
    if (status === 1 || status === 0) scope.allowance = { used: status === 1 ? used : -1 };
    return { totalHits: hits, resetTime: new Date(Date.now() + ttl) };
  }

  /**
   * Gives back the API call a request took when it turned out not to be allowed after all (its key was paused or
   * revoked meanwhile through another process: see confirmAuth).
   */
  async giveBack(auth: Auth, res: Parameters<RequestHandler>[1]): Promise<void> {
    const taken = res.locals.apiCallTaken as 'shared' | 'local' | undefined;
    if (!taken || !auth.key) return;
    res.locals.apiCallTaken = undefined;
    const id = this.idOf(auth.workspace.id);
    const record = this.counters.get(id);
    if (record) {
      record.api_calls--;
      const byKey = record.by_key[auth.key.id];
      if (byKey) record.by_key[auth.key.id] = byKey - 1;
    }
    let delta = this.deltas.get(id);
    if (!delta) this.deltas.set(id, (delta = { workspaceId: auth.workspace.id, month: id.slice(-7), api_calls: 0, image_credits: 0, by_key: {} }));
    delta.api_calls--;
    delta.by_key[auth.key.id] = (delta.by_key[auth.key.id] ?? 0) - 1;
    if (taken !== 'shared' || !this.redis) return;
    await this.redis.sendCommand(['HINCRBY', `${this.redis.prefix}usage:${id}`, 'api_calls', '-1']).catch((error: unknown) => this.redis?.warn('monthly allowances', error));
  }

  private countLocally(auth: Auth, record: UsageRecord, res: Parameters<RequestHandler>[1], metered: boolean): void {
    if (metered) {
      if (record.api_calls >= auth.plan.monthly_api_calls) {
        this.setHeaders(res, auth, record.api_calls);
        this.throwQuota(auth);
      }
      this.add(record, auth, 'api_calls');
      res.locals.apiCallTaken = 'local';
    }
    this.setHeaders(res, auth, record.api_calls);
  }

  private throwQuota(auth: Auth): never {
    const limit = auth.plan.monthly_api_calls;
    const reset = this.resetMessage();
    throw new RateLimitError('monthly_quota_exceeded', `This workspace has used all ${limit} API calls of its ${auth.plan.name} plan this month. The allowance resets at ${reset.when}; upgrade the plan to raise it.`, reset.seconds);
  }

  /** Counts one unit here: in this process's view and in the delta the next flush adds to the store. */
  private add(record: UsageRecord, auth: Auth, field: Counter): void {
    record[field]++;
    let delta = this.deltas.get(record.id);
    if (!delta) this.deltas.set(record.id, (delta = { workspaceId: record.workspace_id, month: record.month, api_calls: 0, image_credits: 0, by_key: {} }));
    delta[field]++;
    if (field === 'api_calls' && auth.key) {
      record.by_key[auth.key.id] = (record.by_key[auth.key.id] ?? 0) + 1;
      delta.by_key[auth.key.id] = (delta.by_key[auth.key.id] ?? 0) + 1;
    }
  }

  /** Adds the month to the IETF RateLimit headers set by the per-minute limiter, in the same draft-8 style. */
  private setHeaders(res: Parameters<RequestHandler>[1], auth: Auth, used: number): void {
    const limit = auth.plan.monthly_api_calls;
    const remaining = Math.max(0, limit - used);
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

  /**
   * Takes up to `n` more API calls for this request (a bulk call's items beyond the first, which the middleware
   * counted) and answers how many the month's allowance had room for. Test-mode and session requests are not metered.
   */
  async takeCalls(auth: Auth, n: number): Promise<number> {
    if (!auth.key || auth.mode === 'test' || n <= 0) return Math.max(0, n);
    const limit = auth.plan.monthly_api_calls;
    const record = await this.load(auth.workspace.id);
    let granted = 0;
    while (granted < n) {
      const used = await this.takeShared(auth, record, 'api_calls', limit);
      if (used === -1 || (used === undefined && record.api_calls >= limit)) break;
      this.add(record, auth, 'api_calls');
      granted++;
    }
    return granted;
  }

  /** Takes one image credit, or throws 429 image_credits_exhausted. */
  async take(auth: Auth): Promise<void> {
    if (auth.mode === 'test') return;
    const limit = auth.plan.monthly_image_credits;
    const record = await this.load(auth.workspace.id);
    const used = await this.takeShared(auth, record, 'image_credits', limit);
    if (used === -1 || (used === undefined && record.image_credits >= limit)) {
      const reset = this.resetMessage();
      throw new RateLimitError('image_credits_exhausted', `This workspace has used all ${limit} image credits of its ${auth.plan.name} plan this month. They reset at ${reset.when}; upgrade the plan for more. Cached images stay available.`, reset.seconds);
    }
    this.add(record, auth, 'image_credits');
  }

  /** Month usage of a workspace, with the split by key: the stored record, after this process's counts are written. */
  async usage(workspaceId: string): Promise<UsageRecord> {
    await this.flush();
    const id = this.idOf(workspaceId);
    const stored = await this.ctx.store.get('usage', id);
    const record = this.withDelta(stored ?? this.empty(id, workspaceId));
    if (!this.redis) this.counters.set(id, record);
    return { ...record, by_key: { ...record.by_key } };
  }

  /**
   * Adds the counts made since the last flush to the stored records, as atomic increments in one durable commit,
   * then reads the records back so this process also sees what the others counted. Runs once a second whatever
   * the request rate, so counting costs no disk write per request.
   */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      // forget past months
      const month = this.monthAt(this.ctx.clock.now()).name;
      for (const [id, record] of this.counters) if (record.month !== month && !this.deltas.has(id)) this.counters.delete(id);
      if (this.deltas.size === 0) return;
      const batch = this.deltas;
      this.deltas = new Map();
      const ops: UpdateOp[] = [...batch].map(([id, delta]) => {
        const increment: Record<string, number> = { api_calls: delta.api_calls, image_credits: delta.image_credits };
        for (const [key, n] of Object.entries(delta.by_key)) increment[`by_key.${key}`] = n;
        return { collection: 'usage', update: id, ifMissing: this.empty(id, delta.workspaceId), increment };
      });
      try {
        await this.ctx.store.commit(ops);
      } catch (error) {
        // kept for the next flush, added to what was counted since
        for (const [id, delta] of batch) {
          const later = this.deltas.get(id);
          if (later) {
            delta.api_calls += later.api_calls;
            delta.image_credits += later.image_credits;
            for (const [key, n] of Object.entries(later.by_key)) delta.by_key[key] = (delta.by_key[key] ?? 0) + n;
          }
          this.deltas.set(id, delta);
        }
        this.ctx.logger.error({ err: error }, 'writing usage counters failed');
        return;
      }
      // this process's view: the stored counts (every process's) plus what it counted since
      for (const id of batch.keys()) {
        if (!this.counters.has(id)) continue;
        const stored = await this.ctx.store.get('usage', id).catch(() => undefined);
        if (stored) this.counters.set(id, this.withDelta(stored));
      }
    });
    return this.writing;
  }

  /** Stops the timer and writes what is counted (the store, still open, finishes the write before it closes). */
  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}
