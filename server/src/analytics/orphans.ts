import type { Clock } from '../clock.js';
import { ValidationError } from '../errors.js';
import { DAY_MS, ORPHAN_REASONS, type OrphanReason, type ScanStorage } from '../store/scans.js';
import { MAX_RANGE_DAYS } from './service.js';

export interface OrphanQueryInput {
  from?: string | undefined;
  to?: string | undefined;
  include_bots: boolean;
}

export interface OrphanAnalytics {
  from: string;
  to: string;
  include_bots: boolean;
  total: number;
  by_reason: Array<{ value: OrphanReason; scans: number }>;
}

function parseTime(value: string, field: string): number {
  const time = Date.parse(value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new ValidationError(`${field} must be an ISO-8601 date or date-time.`, [{ field, message: 'invalid date' }]);
  return time;
}

/**
 * Orphan scans (of unknown, paused, expired, limit-reached and deleted codes) of a workspace, by reason. They are
 * counted per UTC day: every day the range touches counts whole.
 */
export class OrphanService {
  constructor(private readonly scans: ScanStorage, private readonly clock: Clock) {}

  /** `workspaceId` is the caller's partition (its test partition in test mode), or null for the server's count. */
  async compute(workspaceId: string | null, query: OrphanQueryInput): Promise<OrphanAnalytics> {
    const to = query.to ? parseTime(query.to, 'to') : this.clock.now();
    const from = query.from ? parseTime(query.from, 'from') : to - 30 * DAY_MS;
    if (from > to) throw new ValidationError('from must be before to.', [{ field: 'from', message: 'after to' }]);
    if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new ValidationError(`The range may span at most ${MAX_RANGE_DAYS} days.`, [{ field: 'from', message: `range over ${MAX_RANGE_DAYS} days` }]);
    const fromDay = Math.floor(from / DAY_MS);
    const toDay = Math.max(fromDay + 1, Math.ceil(to / DAY_MS));
    const counts = await this.scans.orphans({ workspaceId, fromDay, toDay, includeBots: query.include_bots });
    const byReason = ORPHAN_REASONS.filter((reason) => counts.has(reason))
      .map((reason) => ({ value: reason, scans: counts.get(reason) as number }))
      .sort((a, b) => b.scans - a.scans || (a.value < b.value ? -1 : 1));
    return {
      from: new Date(fromDay * DAY_MS).toISOString(),
      to: new Date(toDay * DAY_MS).toISOString(),
      include_bots: query.include_bots,
      total: byReason.reduce((sum, entry) => sum + entry.scans, 0),
      by_reason: byReason,
    };
  }
}
