import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store as RateLimitStore } from 'express-rate-limit';
import type { Auth } from '../auth/auth.js';
import type { Config } from '../config.js';
import { RateLimitError } from '../errors.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';

/** A Redis store for several server processes sharing limits, when QRFLOW_RATE_LIMIT_REDIS_URL is set. */
export async function redisRateLimitStore(config: Config): Promise<RateLimitStore | undefined> {
  if (!config.rateLimitRedisUrl) return undefined;
  const { createClient } = await import('redis');
  const { RedisStore } = await import('rate-limit-redis');
  const client = createClient({ url: config.rateLimitRedisUrl });
  await client.connect();
  return new RedisStore({ prefix: 'qrflow:rl:', sendCommand: (...args: string[]) => client.sendCommand(args) });
}

/** The per-minute limit of the workspace's plan, shared by all its keys, with IETF draft-8 RateLimit headers. */
export function perMinuteLimiter(store?: RateLimitStore): RequestHandler {
  return describeMiddleware(rateLimit({
    windowMs: 60_000,
    limit: (req) => (req.auth as Auth).plan.requests_per_minute,
    keyGenerator: (req) => (req.auth as Auth).workspace.id,
    identifier: 'minute',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // the configuration checks run on every request (one of them keeps a Map per request); the tests cover it
    validate: false,
    ...(store ? { store } : {}),
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
