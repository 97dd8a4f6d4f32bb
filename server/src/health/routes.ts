import { z } from 'zod';
import type { Context } from '../context.js';
import { UnavailableError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';

const Alive = z.object({ status: z.literal('alive') }).meta({ id: 'Alive' });
const Check = z.object({ status: z.enum(['ok', 'failing', 'not_configured']), message: z.string().optional() });
const Ready = z
  .object({ status: z.literal('ready'), store: z.enum(['embedded', 'postgres']), checks: z.object({ store: Check, redis: Check }) })
  .meta({ id: 'Ready' });

/** A readiness check gives up after this long, so a hung dependency answers 503 rather than hanging the probe. */
const CHECK_TIMEOUT_MS = 2000;

export interface Pinger {
  ping(): Promise<void>;
}

async function check(target: Pinger | undefined): Promise<z.infer<typeof Check>> {
  if (!target) return { status: 'not_configured' };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      target.ping(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'failing', message: (error as Error).message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /healthz` (the process answers) and `GET /readyz` (its store, migrated, and Redis when configured, answer). */
export function healthRoutes(ctx: Context, redis: Pinger | undefined): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'getLiveness',
      tag: 'Health',
      summary: 'Liveness: the process answers',
      description: 'Always 200 while the process runs and serves HTTP; checks nothing else. For a process supervisor or a load balancer\'s liveness probe.',
      auth: 'none',
      responses: { 200: { description: 'Alive', schema: envelope(Alive), headers: ['Cache-Control'] } },
      handler: (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json({ data: { status: 'alive' } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'getReadiness',
      tag: 'Health',
      summary: 'Readiness: the store and Redis answer',
      description:
        'Checks the store (PostgreSQL when QRFLOW_DATABASE_URL is set: reachable, and migrated, since the process migrates before it listens; otherwise the embedded store is open) and, when QRFLOW_RATE_LIMIT_REDIS_URL is set, Redis. 200 when all answer; 503 `not_ready` (with `Retry-After`) naming the failing checks otherwise. For a load balancer\'s health check.',
      auth: 'none',
      responses: {
        200: { description: 'Ready', schema: envelope(Ready), headers: ['Cache-Control'] },
        503: { description: 'A dependency does not answer', codes: ['not_ready'], headers: ['Cache-Control', 'Retry-After'] },
      },
      handler: async (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        const [store, redisCheck] = await Promise.all([check(ctx.store), check(redis)]);
        const failing = Object.entries({ store, redis: redisCheck }).filter(([, result]) => result.status === 'failing');
        if (failing.length > 0) {
          throw new UnavailableError('not_ready', `Not ready: ${failing.map(([name, result]) => `${name} (${result.message})`).join('; ')}.`, {
            details: failing.map(([field, result]) => ({ field, message: result.message ?? 'failing' })),
            headers: { 'Retry-After': '5' },
          });
        }
        res.json({ data: { status: 'ready', store: ctx.config.databaseUrl ? 'postgres' : 'embedded', checks: { store, redis: redisCheck } } });
      },
    }),
  ];
}
