import { z } from 'zod';
import { dataWorkspace } from '../test-mode/mode.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, Pagination } from '../http/schemas.js';
import { decodeCursor, encodeCursor, type Position } from '../http/cursor.js';
import { ValidationError } from '../errors.js';
import { iso } from '../clock.js';
import type { Context } from '../context.js';
import type { ScanStorage } from '../store/scans.js';
import type { EventPayload } from '../store/records.js';
import { EVENT_TYPES, payloadOf } from './service.js';
import { scanEvent } from './feed.js';

export const EventSchema = z
  .object({
    id: z.string().meta({ example: 'evt_3kT9aQ2mZ0pL1x' }),
    type: z.enum(EVENT_TYPES),
    created_at: z.string(),
    data: z.record(z.string(), z.unknown()).meta({ description: 'The QR code (qr.* events) or the scan (qr.scanned)' }),
  })
  .meta({ id: 'Event' });

const FeedQuery = z
  .object({
    type: z.enum(EVENT_TYPES).optional(),
    after: z.string().min(1).max(64).optional().meta({ description: 'Only events newer than this event id or ISO-8601 time (for polling)' }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

const SCAN_EVENT = /^evt_scan_(\d{1,12})$/;

/**
 * Feed order: time, then id. Scan events of the same millisecond compare by their number, the order the scan log
 * yields them in ("evt_scan_11" after "evt_scan_8"); as text, a page could end at 11 and skip 8 for good. Every scan id
 * still sorts on the same side of any stored id as it does as text, so stored events page the same either way.
 */
function compare(a: Position, b: Position): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  const scanA = SCAN_EVENT.exec(a.id);
  const scanB = scanA && SCAN_EVENT.exec(b.id);
  if (scanA && scanB) return Number(scanA[1]) - Number(scanB[1]);
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The events feed: stored qr.created/updated/deleted events merged with scan events from the scan log, newest first. */
export function eventRoutes(ctx: Context, scans: ScanStorage): AnyRoute[] {
  async function positionOf(workspaceId: string, after: string): Promise<Position> {
    const scan = SCAN_EVENT.exec(after);
    if (scan) {
      const record = await scans.get(Number(scan[1]));
      if (record && record.workspaceId === workspaceId) return { created_at: iso(record.time), id: after };
    } else if (after.startsWith('evt_')) {
      const event = await ctx.store.get('events', after);
      if (event && event.workspace_id === workspaceId) return { created_at: event.created_at, id: event.id };
    } else if (/^\d{4}-\d{2}-\d{2}/.test(after) && !Number.isNaN(Date.parse(after))) {
      return { created_at: new Date(Date.parse(after)).toISOString(), id: '\uffff' };
    }
    throw new ValidationError('after must be an event id of this workspace or an ISO-8601 time.', [{ field: 'after', message: 'unknown event id or invalid time' }]);
  }

  async function scanEvents(workspaceId: string, limit: number, before: Position | undefined, after: Position | undefined): Promise<EventPayload[]> {
    const out: EventPayload[] = [];
    const maxTime = before ? Date.parse(before.created_at) : Infinity;
    const minTime = after ? Date.parse(after.created_at) : -Infinity;
    for await (const scan of scans.newestOfWorkspace(workspaceId, maxTime, minTime)) {
      const i = scan.id;
      const position = { created_at: iso(scan.time), id: `evt_scan_${i}` };
      if (before && compare(position, before) >= 0) continue;
      if (after && compare(position, after) <= 0) continue;
      out.push(scanEvent(i, scan, null));
      if (out.length === limit) break;
    }
    return out;
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/events',
      operationId: 'listEvents',
      tag: 'Events',
      summary: 'The events feed, newest first',
      description: 'The same event objects that webhooks deliver, for clients that poll (e.g. Zapier performList, n8n polling). Bot scans are left out. Events are kept 30 days (at most 10,000 stored events per workspace; scans are kept for good).',
      auth: 'key_or_session',
      scope: 'qr:read',
      query: FeedQuery,
      responses: { 200: { description: 'A page of events', schema: z.object({ data: z.array(EventSchema), pagination: Pagination }).meta({ id: 'EventPage' }) } },
      handler: async (req, res, { query }) => {
        const workspace = dataWorkspace(req.auth!);
        const before = query.cursor ? decodeCursor(query.cursor) : undefined;
        const after = query.after ? await positionOf(workspace.id, query.after) : undefined;
        const want = query.limit + 1;
        const stored =
          query.type === 'qr.scanned'
            ? []
            : (await ctx.store.listPage('events', workspace.id, { limit: want, before, after, filter: query.type ? (e) => e.type === query.type : undefined })).items.map(payloadOf);
        const scanned = query.type === undefined || query.type === 'qr.scanned' ? await scanEvents(workspace.id, want, before, after) : [];
        const merged = [...stored, ...scanned].sort((a, b) => compare(b, a)).slice(0, want);
        // scan events carry their code's current name
        for (const event of merged) {
          if (event.type === 'qr.scanned') {
            const data = event.data as { qr_id: string; qr_name: string | null };
            data.qr_name = (await ctx.store.get('qrcodes', data.qr_id))?.name ?? null;
          }
        }
        const hasMore = merged.length > query.limit;
        const page = merged.slice(0, query.limit);
        const last = page[page.length - 1];
        res.json({ data: page, pagination: { limit: query.limit, has_more: hasMore, next_cursor: hasMore && last ? encodeCursor(last) : null } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/events/types',
      operationId: 'listEventTypes',
      tag: 'Events',
      summary: 'The event types webhooks can subscribe to',
      auth: 'key_or_session',
      responses: { 200: { description: 'Event types', schema: envelope(z.array(z.enum(EVENT_TYPES))) } },
      handler: (_req, res) => {
        res.json({ data: EVENT_TYPES });
      },
    }),
  ] as AnyRoute[];
}
