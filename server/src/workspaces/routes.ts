import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import { DATA_MODES } from '../test-mode/mode.js';

const Me = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string(), plan: z.string(), plan_status: z.enum(['active', 'expired']) }),
    key: z.object({ id: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()), mode: z.enum(DATA_MODES) }).nullable(),
    user: z.object({ id: z.string(), email: z.string(), role: z.enum(['owner', 'admin', 'member']) }).nullable(),
    mode: z.enum(DATA_MODES).meta({ description: 'The data this request sees: a key\'s own mode, or for a session the QR-Mode header (default live)' }),
  })
  .meta({ id: 'Me' });

export function meRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/me',
      operationId: 'getMe',
      tag: 'Account',
      summary: 'Who am I: the workspace and the key (or user) of this request',
      description: 'Integrations call this to test a connection.',
      auth: 'key_or_session',
      responses: { 200: { description: 'The caller', schema: envelope(Me) } },
      handler: (req, res) => {
        const { workspace, key, user } = req.auth!;
        res.json({
          data: {
            workspace: { id: workspace.id, name: workspace.name, plan: workspace.plan, plan_status: workspace.plan_status },
            key: key ? { id: key.id, name: key.name, prefix: key.prefix, scopes: key.scopes, mode: key.mode ?? 'live' } : null,
            user,
            mode: req.auth!.mode,
          },
        });
      },
    }),
  ] as AnyRoute[];
}
