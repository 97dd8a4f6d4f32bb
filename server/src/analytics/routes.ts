import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import { dataWorkspace } from '../test-mode/mode.js';
import type { OrphanService } from './orphans.js';
import { OrphanAnalyticsSchema, OrphanQuerySchema } from './schemas.js';

/** Workspace-wide analytics (a code's own analytics are under /api/v1/qr/:id/analytics). */
export function analyticsRoutes(orphans: OrphanService): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/analytics/orphans',
      operationId: 'getOrphanScans',
      tag: 'Analytics',
      summary: 'Orphan scans: scans of codes that sent nobody on',
      description:
        'Scans of the workspace\'s paused, deleted, expired (outside `valid_from`/`valid_until`) and limit-reached (past `max_scans`) codes, by reason, counted per UTC day. Scans of short codes that never existed belong to no workspace (the server counts them) and are not in this answer. Bots are left out unless include_bots=true. A test-mode key sees its test codes\' orphan scans.',
      auth: 'key_or_session',
      scope: 'analytics:read',
      query: OrphanQuerySchema,
      responses: { 200: { description: 'Orphan scans by reason', schema: envelope(OrphanAnalyticsSchema) } },
      handler: async (req, res, { query }) => {
        res.json({ data: await orphans.compute(dataWorkspace(req.auth!).id, query) });
      },
    }),
  ] as AnyRoute[];
}
