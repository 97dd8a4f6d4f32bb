import { z } from 'zod';
import type { Context } from '../context.js';
import { UnavailableError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';

const Alive = z.object({ status: z.literal('alive') }).meta({ id: 'Alive' });
const Check = z.object({ status: z.enum(['ok', 'failing', 'not_configured']), message: z.string().optional() });
const Ready = z
  .object({
    status: z.enum(['ready', 'degraded']).describe('`degraded`: Redis does not answer; the process serves with per-minute limits open (see checks.redis)'),
    store: z.enum(['embedded', 'postgres']),
    checks: z.object({ store: Check, redis: Check }),
  })
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
      summary: 'Readiness: the store answers (and Redis, or degraded)',
      description:
        'Checks the store (PostgreSQL when QRFLOW_DATABASE_URL is set: reachable, and migrated, since the process migrates before it listens; otherwise the embedded store is open) and, when QRFLOW_REDIS_URL is set, Redis. 200 `ready` when all answer; 200 `degraded` when only Redis does not (the process still serves, with per-minute limits open, so a load balancer should keep it: taking every process out because Redis is down would turn a degraded limiter into an outage); 503 `not_ready` (with `Retry-After`) when the store does not answer. For a load balancer\'s health check.',
      auth: 'none',
      responses: {
        200: { description: 'Ready', schema: envelope(Ready), headers: ['Cache-Control'] },
        503: { description: 'The store does not answer', codes: ['not_ready'], headers: ['Cache-Control', 'Retry-After'] },
      },
      handler: async (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        const [store, redisCheck] = await Promise.all([check(ctx.store), check(redis)]);
        if (store.status === 'failing') {
          throw new UnavailableError('not_ready', `Not ready: store (${store.message}).`, {
            details: [{ field: 'store', message: store.message ?? 'failing' }],
            headers: { 'Retry-After': '5' },
          });
        }
        res.json({ data: { status: redisCheck.status === 'failing' ? 'degraded' : 'ready', store: ctx.config.databaseUrl ? 'postgres' : 'embedded', checks: { store, redis: redisCheck } } });
      },
    }),
  ];
}
