import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import type { Context } from '../context.js';
import { monthBounds, type UsageMeter } from './meter.js';
import { DATA_MODES } from '../test-mode/mode.js';

const Usage = z
  .object({
    period: z.object({ start: z.string(), end: z.string() }),
    api_calls: z.object({ used: z.number().int(), limit: z.number().int() }),
    image_credits: z.object({ used: z.number().int(), limit: z.number().int() }),
    rate_limit: z.object({ per_minute: z.number().int() }),
    keys: z.array(z.object({ id: z.string(), name: z.string(), prefix: z.string(), api_calls: z.number().int(), mode: z.enum(DATA_MODES).meta({ description: 'test keys are not metered: their api_calls stay 0' }) })),
  })
  .meta({ id: 'Usage' });

export function usageRoutes(ctx: Context, meter: UsageMeter): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/usage',
      operationId: 'getUsage',
      tag: 'Usage',
      summary: "This month's API calls and image credits: used and limit, with the split by key",
      description: 'Months are calendar months in UTC. Only requests made with live API keys count as API calls; test-mode keys (`qr_test_…`) use no API calls or image credits (the per-minute limit still applies).',
      auth: 'key_or_session',
      responses: { 200: { description: 'Usage', schema: envelope(Usage) } },
      handler: async (req, res) => {
        const { workspace, plan } = req.auth!;
        const usage = await meter.usage(workspace.id);
        const keys = await ctx.store.findMany('keys', 'workspace_id', workspace.id);
        const { start, end } = monthBounds(ctx.clock.now());
        res.json({
          data: {
            period: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
            api_calls: { used: usage.api_calls, limit: plan.monthly_api_calls },
            image_credits: { used: usage.image_credits, limit: plan.monthly_image_credits },
            rate_limit: { per_minute: plan.requests_per_minute },
            keys: keys
              .sort((a, b) => (usage.by_key[b.id] ?? 0) - (usage.by_key[a.id] ?? 0) || (a.created_at < b.created_at ? -1 : 1))
              .map((key) => ({ id: key.id, name: key.name, prefix: key.prefix, api_calls: usage.by_key[key.id] ?? 0, mode: key.mode ?? 'live' })),
          },
        });
      },
    }),
  ] as AnyRoute[];
}
