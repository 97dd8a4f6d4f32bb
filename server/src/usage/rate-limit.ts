import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options, type Store as RateLimitStore } from 'express-rate-limit';
import type { Auth } from '../auth/auth.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { RateLimitError } from '../errors.js';

/** While Redis does not answer, one warning per this long (each request would otherwise log one). */
const REDIS_WARN_EVERY_MS = 10_000;

/**
 * A Redis store for several server processes sharing limits, when QRFLOW_RATE_LIMIT_REDIS_URL is set. It fails
 * open: while Redis does not answer (down at start, or lost later) requests are let through unlimited with a warning
 * in the log at most every 10 s, commands fail at once rather than queue (no hang), the client reconnects with
 * backoff, and the limits apply again as soon as Redis answers. /readyz reports Redis meanwhile.
 */
export async function redisRateLimitStore(config: Config, logger?: Pick<Logger, 'warn' | 'info'>): Promise<(RateLimitStore & { close(): Promise<void> }) | undefined> {
  if (!config.rateLimitRedisUrl) return undefined;
  const { createClient } = await import('redis');
  const { RedisStore } = await import('rate-limit-redis');
  let lastWarning = 0;
  let failing = false;
  const warn = (error: unknown) => {
    failing = true;
    const now = Date.now();
    if (now - lastWarning < REDIS_WARN_EVERY_MS) return;
    lastWarning = now;
    logger?.warn({ reason: (error as Error)?.message?.slice(0, 200) }, 'Redis does not answer: per-minute rate limits are not enforced until it does (fail open)');
  };
  const client = createClient({
    url: config.rateLimitRedisUrl,
    // a command while disconnected fails at once (the request goes through unlimited) instead of waiting in a queue
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  });
  // without a listener a lost connection would be thrown as an uncaught error
  client.on('error', warn);
  client.on('ready', () => {
    if (failing) logger?.info({}, 'Redis answers again: per-minute rate limits are enforced');
    failing = false;
  });
  // waited for up to 2 s: a server starts (and serves, unlimited) while Redis is down, and connects when it comes
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.connect().catch(warn), new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
  clearTimeout(timer);

  /** Re-loads the Lua scripts after a failure: a load that failed while Redis was down would otherwise fail for good. */
  class FailOpenRedisStore extends RedisStore {
    override async init(options: Options): Promise<void> {
      try {
        await super.init(options);
      } catch (error) {
        warn(error);
      }
    }
    override async increment(key: string) {
      try {
        return await super.increment(key);
      } catch (error) {
        this.incrementScriptSha = this.loadIncrementScript();
        this.incrementScriptSha.catch(() => undefined);
        warn(error);
        throw error;
      }
    }
    async close(): Promise<void> {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    }
  }
  return new FailOpenRedisStore({ prefix: 'qrflow:rl:', sendCommand: (...args: string[]) => client.sendCommand(args) });
}

/** The per-minute limit of the workspace's plan, shared by all its keys, with IETF draft-8 RateLimit headers. */
export function perMinuteLimiter(store?: RateLimitStore): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: (req) => (req.auth as Auth).plan.requests_per_minute,
    keyGenerator: (req) => (req.auth as Auth).workspace.id,
    identifier: 'minute',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // the configuration checks run on every request (one of them keeps a Map per request); the tests cover it
    validate: false,
    ...(store ? { store } : {}),
    // a store error (Redis down) lets the request through; the store logs the warning itself
    passOnStoreError: true,
    logger: { warn: () => undefined, error: () => undefined },
    handler: (req, res) => {
      const retryAfter = Number(res.getHeader('Retry-After') ?? 60);
      const plan = (req.auth as Auth).plan;
      throw new RateLimitError('rate_limited', `Too many requests: the ${plan.name} plan allows ${plan.requests_per_minute} per minute for the whole workspace. Retry after ${retryAfter} seconds.`, retryAfter);
    },
  });
}

/** Requests a minute one client IP (an IPv6 /56) may make to GET /api/v1/generate without a valid key. */
export const PREVIEW_LIMIT_PER_MINUTE = 60;

/**
 * Bounds the watermarked previews GET /api/v1/generate serves without a valid key, per client IP, so unauthenticated
 * callers cannot keep the render workers busy (or guess keys quickly). In memory, per server process.
 */
export function previewLimiter(limit = PREVIEW_LIMIT_PER_MINUTE): RequestHandler {
  return rateLimit({
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
  });
}
