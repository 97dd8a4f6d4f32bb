import { ValidationError } from '../errors.js';
import type { Clock } from '../clock.js';
import { QUARTER_HOUR_MS, SCAN_DIMENSIONS, type ScanStorage } from '../store/scans.js';

export type Interval = 'day' | 'week' | 'month';
const DAY_MS = 24 * 3600_000;
/** Longest range one request may ask for. */
export const MAX_RANGE_DAYS = 2 * 366;

export interface AnalyticsQuery {
  from?: string | undefined;
  to?: string | undefined;
  interval: Interval;
  tz: string;
  include_bots: boolean;
}

export interface Breakdown {
  value: string;
  scans: number;
}

export interface Analytics {
  qr_id: string;
  from: string;
  to: string;
  interval: Interval;
  tz: string;
  include_bots: boolean;
  total_scans: number;
  unique_scans: number;
  timeseries: Array<{ period: string; scans: number; unique_scans: number }>;
  countries: Breakdown[];
  devices: Breakdown[];
  os: Breakdown[];
  browsers: Breakdown[];
  referrers: Breakdown[];
  variants: Breakdown[];
  regions: Breakdown[];
  cities: Breakdown[];
}

function parseTime(value: string, field: string): number {
  const time = Date.parse(value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new ValidationError(`${field} must be an ISO-8601 date or date-time.`, [{ field, message: 'invalid date' }]);
  return time;
}

/** Local calendar date (YYYY-MM-DD) of an instant in a time zone, cached per quarter hour (every zone offset is a multiple of 15 minutes). */
function localDates(tz: string): (time: number) => string {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const cache = new Map<number, string>();
  return (time) => {
    const bucket = Math.floor(time / QUARTER_HOUR_MS);
    let date = cache.get(bucket);
    if (date === undefined) {
      date = format.format(bucket * QUARTER_HOUR_MS);
      cache.set(bucket, date);
    }
    return date;
  };
}

/** The period a local date falls in: the date itself, the Monday of its ISO week, or its month. */
function periodOf(date: string, interval: Interval): string {
  if (interval === 'day') return date;
  if (interval === 'month') return date.slice(0, 7);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const utc = Date.UTC(y, m - 1, d);
  const weekday = (new Date(utc).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(utc - weekday * DAY_MS).toISOString().slice(0, 10);
}

/** Every period from the one holding `first` to the one holding `last`, in order (calendar arithmetic, no time zone needed). */
function periodsBetween(first: string, last: string, interval: Interval): string[] {
  const out: string[] = [];
  const start = periodOf(first, interval);
  const end = periodOf(last, interval);
  if (interval === 'month') {
    let [y, m] = start.split('-').map(Number) as [number, number];
    for (;;) {
      const key = `${y}-${String(m).padStart(2, '0')}`;
      out.push(key);
      if (key >= end) break;
      m++;
      if (m === 13) {
        m = 1;
        y++;
      }
    }
    return out;
  }
  const step = interval === 'week' ? 7 * DAY_MS : DAY_MS;
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  for (let t = Date.UTC(y, m - 1, d); ; t += step) {
    const key = new Date(t).toISOString().slice(0, 10);
    out.push(key);
    if (key >= end) break;
  }
  return out;
}

/** The longest period of each interval, in quarter hours, with a day to spare (DST, a skipped date). */
const LONGEST_QUARTERS: Record<Interval, number> = { day: 3 * 96, week: 9 * 96, month: 33 * 96 };

/**
 * Where each period (`labels`, consecutive) starts within [from, to): `from` for the first, then the first quarter
 * hour whose local period is the next label or later, found by binary search from the previous start (local dates
 * never go backwards in time, and change only on quarter hours).
 */
function startsOf(labels: string[], from: number, to: number, periodAt: (time: number) => string, interval: Interval): number[] {
  const starts = [from];
  const lastQuarter = Math.ceil(to / QUARTER_HOUR_MS);
  let low = Math.floor(from / QUARTER_HOUR_MS) + 1;
  for (let k = 1; k < labels.length; k++) {
    const label = labels[k] as string;
    let high = Math.min(lastQuarter, low + LONGEST_QUARTERS[interval]);
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (periodAt(mid * QUARTER_HOUR_MS) >= label) high = mid;
      else low = mid + 1;
    }
    starts.push(Math.min(low * QUARTER_HOUR_MS, to));
  }
  return starts;
}

function top(counts: Map<string, number>): Breakdown[] {
  return [...counts]
    .map(([value, scans]) => ({ value, scans }))
    .sort((a, b) => b.scans - a.scans || (a.value < b.value ? -1 : 1));
}

/** Scan analytics of one code: totals, unique visitors, a zero-filled time series in the caller's time zone, and breakdowns. */
export class AnalyticsService {
  constructor(private readonly scans: ScanStorage, private readonly clock: Clock) {}

  async compute(qrId: string, query: AnalyticsQuery): Promise<Analytics> {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: query.tz });
    } catch {
      throw new ValidationError(`Unknown time zone "${query.tz}". Use an IANA name such as Europe/Paris or UTC.`, [{ field: 'tz', message: 'unknown time zone' }]);
    }
    const to = query.to ? parseTime(query.to, 'to') : this.clock.now();
    const from = query.from ? parseTime(query.from, 'from') : to - 30 * DAY_MS;
    if (from > to) throw new ValidationError('from must be before to.', [{ field: 'from', message: 'after to' }]);
    if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new ValidationError(`The range may span at most ${MAX_RANGE_DAYS} days.`, [{ field: 'from', message: `range over ${MAX_RANGE_DAYS} days` }]);

    const dateOf = localDates(query.tz);
    const labels = periodsBetween(dateOf(from), dateOf(Math.max(from, to - 1)), query.interval);
    const periodStarts = startsOf(labels, from, to, (time) => periodOf(dateOf(time), query.interval), query.interval);
    const tally = await this.scans.tally({ qrId, from, to, includeBots: query.include_bots, periodStarts });
    const breakdowns = tally.breakdowns;
    const [countries, devices, os, browsers, referrers, variants, regions, cities] = SCAN_DIMENSIONS.map((dimension) => top(breakdowns[dimension]));
    return {
      qr_id: qrId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      interval: query.interval,
      tz: query.tz,
      include_bots: query.include_bots,
      total_scans: tally.total,
      unique_scans: tally.unique,
      timeseries: labels.map((period, k) => ({ period, scans: tally.periods[k]?.scans ?? 0, unique_scans: tally.periods[k]?.unique ?? 0 })),
      countries: countries as Breakdown[],
      devices: devices as Breakdown[],
      os: os as Breakdown[],
      browsers: browsers as Breakdown[],
      referrers: referrers as Breakdown[],
      variants: variants as Breakdown[],
      regions: regions as Breakdown[],
      cities: cities as Breakdown[],
    };
  }
}
