import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';

const Me = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string(), plan: z.string(), plan_status: z.enum(['active', 'expired']) }),
    key: z.object({ id: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()) }).nullable(),
    user: z.object({ id: z.string(), email: z.string(), role: z.enum(['owner', 'admin', 'member']) }).nullable(),
  })
  .meta({ id: 'Me' });

export function meRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/me',
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
            key: key ? { id: key.id, name: key.name, prefix: key.prefix, scopes: key.scopes } : null,
            user,
          },
        });
      },
    }),
  ] as AnyRoute[];
}
