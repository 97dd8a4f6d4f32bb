import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options, type Store as RateLimitStore } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { SharedRedis } from '../redis/client.js';
import type { Auth } from '../auth/auth.js';
import { RateLimitError } from '../errors.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';
import type { RequestScope } from '../request-scope.js';

/**
 * Limit counters in Redis (rate-limit-redis), shared by every process, for one limiter: each limiter needs a store
 * of its own (`name` keeps their keys apart). When Redis fails the request passes (the limiter is built with
 * passOnStoreError) with a warn log, and once Redis answers again the scripts are loaded anew.
 */
export function redisLimitStore(redis: SharedRedis, name: string, turn?: { meter: MinuteTurn; scopes: TurnScopes }): RateLimitStore {
  let options: Options | undefined;
  const make = () => new RedisStore({ prefix: `${redis.prefix}rl:${name}:`, sendCommand: (...args: string[]) => redis.sendCommand(args) as never });
  let inner = make();
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      redis.warn(name === 'minute' ? 'per-minute limits' : `${name} limits`, error);
      // a store made while Redis was down holds a failed script load: start afresh for the next request
      inner = make();
      if (options) void Promise.resolve(inner.init(options)).catch(() => undefined);
      throw error;
    }
  };
  return {
    prefix: `${redis.prefix}rl:${name}:`,
    localKeys: false,
    init(given: Options) {
      options = given;
      // a failed script load (Redis down at start) is retried by the first request that fails on it
      void Promise.resolve(inner.init(given)).catch((error: unknown) => redis.warn(name === 'minute' ? 'per-minute limits' : `${name} limits`, error));
    },
    get: (key: string) => guard(() => inner.get(key)),
    increment: (given: string) =>
      guard(() => {
        // an authenticated request's scope, handed over by the key generator: the meter's script then counts the
        // minute, the month and the generations at once
        const { key, scope } = turn ? turn.scopes.take(given) : { key: given, scope: undefined };
        return turn && scope?.auth && options ? turn.meter.minuteTurn(scope, `${redis.prefix}rl:${name}:${key}`, options.windowMs) : inner.increment(key);
      }),
    decrement: (key: string) => guard(() => inner.decrement(key)),
    resetKey: (key: string) => guard(() => inner.resetKey(key)),
  } as RateLimitStore;
}

/** Hands the store errors express-rate-limit reports to the throttled Redis warning (it then lets the request pass). */
export function limiterLogger(redis: SharedRedis | undefined, what: string): { warn(message: unknown): void; error(message: unknown): void } {
  return {
    warn: (message) => redis?.warn(what, message),
    error: (message) => redis?.warn(what, message),
  };
}

/** Counts a request's minute in the same Redis call as its monthly allowance (UsageMeter.minuteTurn). */
export interface MinuteTurn {
  minuteTurn(scope: RequestScope, minuteKey: string, windowMs: number): Promise<{ totalHits: number; resetTime: Date }>;
}

/** Marks a key handed to the limiter's store as carrying a request (see TurnScopes). */
const TURN_MARK = '\u0001';
/** Requests whose limiter call has not reached the store yet, at most (past it, they count the plain way). */
const MAX_PENDING_TURNS = 10_000;

/**
 * Hands each request's scope from the limiter's key generator to its store call: express-rate-limit gives the
 * store only the key, so the key carries a ticket (`workspace id` + mark + number) that `take` redeems. The
 * store is called right after the key generator, so a ticket is redeemed at once.
 */
export class TurnScopes {
  private readonly pending = new Map<string, RequestScope>();
  private next = 0;

  ticket(key: string, scope: RequestScope | undefined): string {
    if (!scope) return key;
    if (this.pending.size >= MAX_PENDING_TURNS) this.pending.clear();
    const ticket = `${key}${TURN_MARK}${(this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER)}`;
    this.pending.set(ticket, scope);
    return ticket;
  }

  take(given: string): { key: string; scope: RequestScope | undefined } {
    const at = given.indexOf(TURN_MARK);
    if (at === -1) return { key: given, scope: undefined };
    const scope = this.pending.get(given);
    this.pending.delete(given);
    return { key: given.slice(0, at), scope };
  }
}

/** The per-minute limit of the workspace's plan, shared by all its keys, with IETF draft-8 RateLimit headers. */
export function perMinuteLimiter(redis?: SharedRedis, meter?: MinuteTurn): RequestHandler {
  const scopes = new TurnScopes();
  const store = redis ? redisLimitStore(redis, 'minute', meter ? { meter, scopes } : undefined) : undefined;
  return describeMiddleware(rateLimit({
    windowMs: 60_000,
    limit: (req) => (req.auth as Auth).plan.requests_per_minute,
    keyGenerator: (req) => (store && meter ? scopes.ticket((req.auth as Auth).workspace.id, req.scope) : (req.auth as Auth).workspace.id),
    identifier: 'minute',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // the configuration checks run on every request (one of them keeps a Map per request); the tests cover it
    validate: false,
    ...(store ? { store, passOnStoreError: true, logger: limiterLogger(redis, 'per-minute limits') } : {}),
    handler: (req, res) => {
      const retryAfter = Number(res.getHeader('Retry-After') ?? 60);
      const plan = (req.auth as Auth).plan;
      throw new RateLimitError('rate_limited', `Too many requests: the ${plan.name} plan allows ${plan.requests_per_minute} per minute for the whole workspace. Retry after ${retryAfter} seconds.`, retryAfter);
    },
  }), { sets: ['RateLimit', 'RateLimit-Policy'], answers: [tooManyRequests(['rate_limited'], "The plan's per-minute limit for the workspace is used up")] });
}

/** Requests a minute one client IP (an IPv6 /56) may make to GET /api/v1/generate without a valid key. */
export const PREVIEW_LIMIT_PER_MINUTE = 60;

/**
 * Bounds the watermarked previews GET /api/v1/generate serves without a valid key, per client IP, so unauthenticated
 * callers cannot keep the render workers busy (or guess keys quickly). In memory, per server process.
 */
export function previewLimiter(limit = PREVIEW_LIMIT_PER_MINUTE): RequestHandler {
  return describeMiddleware(rateLimit({
    windowMs: 60_000,
    limit,
    keyGenerator: (req) => `preview:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    identifier: 'preview',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      const retryAfter = Number(res.getHeader('Retry-After') ?? 60);
      throw new RateLimitError('rate_limited', `Too many preview images from this address: ${limit} a minute are served without a valid API key. Retry after ${retryAfter} seconds, or send a valid key.`, retryAfter);
    },
  }), { sets: ['RateLimit', 'RateLimit-Policy'], answers: [tooManyRequests(['rate_limited'], `More than ${limit} previews a minute from one client IP`)] });
}
