import { VisitorSet } from './visitor-set.js';

/** One scan, as recorded. Raw IPs are never kept. */
export interface Scan {
  time: number;
  qrId: string;
  workspaceId: string;
  /** Salted (daily, UTC) hash of the visitor, 32 bits unsigned. */
  visitor: number;
  country: string;
  device: string;
  os: string;
  browser: string;
  referrer: string;
  bot: boolean;
  /** The A/B variant the scan was sent to (its index in the code's `variants`), or null for a code without a split. */
  variant: number | null;
  /** Region (state, province...) and city of the visitor's address, where the GeoIP database knows them. */
  region: string | null;
  city: string | null;
}

/** A scan with the id its storage gave it (the number in `evt_scan_N` and `scn_N`). */
export interface StoredScan extends Scan {
  id: number;
}

/** The breakdown dimensions analytics report, by the Scan field they count. */
export const SCAN_DIMENSIONS = ['country', 'device', 'os', 'browser', 'referrer', 'variant', 'region', 'city'] as const;
export type ScanDimension = (typeof SCAN_DIMENSIONS)[number];

/** The highest variant index kept (the embedded log holds n + 1 in a byte); any other value is kept as null. */
export const MAX_VARIANT = 253;

/** A scan's variant as storage keeps it: an integer 0..MAX_VARIANT, else null. */
export function storedVariant(variant: number | null | undefined): number | null {
  return typeof variant === 'number' && Number.isInteger(variant) && variant >= 0 && variant <= MAX_VARIANT ? variant : null;
}

/** Breakdown value of a scan without a region or city (as countries say it). */
export const UNKNOWN = 'unknown';

/**
 * The value a scan counts under in a breakdown, or null when it is not counted there: a scan without a variant is in
 * no variant's count; a scan without a region or city counts as "unknown", as one without a country does.
 */
export function dimensionValue(scan: Pick<Scan, ScanDimension>, dimension: ScanDimension): string | null {
  if (dimension === 'variant') return scan.variant === null || scan.variant === undefined ? null : String(scan.variant);
  if (dimension === 'region' || dimension === 'city') return scan[dimension] || UNKNOWN;
  return scan[dimension];
}

export interface ScanTallyQuery {
  qrId: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  includeBots: boolean;
  /**
   * Where each period of the series starts, ascending, epoch ms: period k holds the scans with
   * periodStarts[k] <= time < periodStarts[k + 1] (the last one up to `to`). The first is `from`; the others lie on
   * quarter hours (UTC), as every local midnight does, since every time zone's offset is a whole number of
   * quarter hours. Two equal starts make an empty period.
   */
  periodStarts: number[];
}

/** Scans per value of each dimension (e.g. country "FR" → 12). */
export type ScanBreakdowns = Record<ScanDimension, Map<string, number>>;

/**
 * A code's scans in a range. "Unique" counts visitor-days: distinct (UTC day, visitor hash) pairs. A visitor's hash
 * is salted per UTC day, so the same person on two days is two hashes anyway; counting pairs also keeps two
 * people whose hashes collide on different days apart, and lets PostgreSQL answer from per-day roll-ups.
 */
export interface ScanTally {
  total: number;
  unique: number;
  /** Per period of `periodStarts`, in order. */
  periods: Array<{ scans: number; unique: number }>;
  breakdowns: ScanBreakdowns;
}

/** Why a scan reached no destination: the code is unknown, paused, outside its window, past its limit, or deleted. */
export const ORPHAN_REASONS = ['unknown', 'paused', 'expired', 'limit_reached', 'deleted'] as const;
export type OrphanReason = (typeof ORPHAN_REASONS)[number];

/** Orphan scans to add: of one UTC day (days since the epoch), scope and reason. */
export interface OrphanCount {
  day: number;
  /** The workspace (partition) of the code, or null for the server (a code nobody holds). */
  workspaceId: string | null;
  reason: OrphanReason;
  humans: number;
  bots: number;
}

export interface OrphanQuery {
  workspaceId: string | null;
  /** Inclusive, UTC day number. */
  fromDay: number;
  /** Exclusive, UTC day number. */
  toDay: number;
  includeBots: boolean;
}

export const QUARTER_HOUR_MS = 15 * 60_000;
export const DAY_MS = 24 * 3600_000;

/**
 * Where scans are kept: the embedded scan log or PostgreSQL. Appends are batched by the storage; `flush` makes
 * what was appended durable and visible to every reader; `close` flushes.
 */
export interface ScanStorage {
  /**
   * Records scans; resolves with their ids, in order, once they are durable (the embedded log shows them to this
   * process at once; PostgreSQL writes them in a batch at most `maxDelayMs` later, or at `flush`).
   */
  append(scans: Scan[]): Promise<number[]>;
  /** Writes everything appended so far now. */
  flush(): Promise<void>;
  /** Non-bot scans of a code, ever. */
  humanCount(qrId: string): Promise<number>;
  /** A code's scans with from <= time < to: totals, visitor-days, per period and broken down. */
  tally(query: ScanTallyQuery): Promise<ScanTally>;
  /** A workspace's non-bot scans with minTime <= time <= maxTime, newest first (time, then id, descending). */
  newestOfWorkspace(workspaceId: string, maxTime: number, minTime: number): AsyncIterable<StoredScan>;
  /** One scan by id. */
  get(id: number): Promise<StoredScan | undefined>;
  /** Every scan in id order, for `qrflow migrate-store`: those with id >= `fromId`, in batches. */
  export(fromId: number, batchSize: number): AsyncIterable<StoredScan[]>;
  /** How many scans are kept. */
  count(): Promise<number>;
  /**
   * The visitor-hash salt of a UTC day (days since the epoch): the stored one, or else `candidate`, stored now
   * (insert-if-absent, so every process on the storage hashes a day's visitors alike). Deletes the salts of days
   * before `day - 1`: asking for tomorrow's destroys yesterday's, so its hashes can no longer be linked to anyone.
   */
  daySalt(day: number, candidate: Buffer): Promise<Buffer>;
  /** Adds orphan scan counts, durably. */
  addOrphans(counts: OrphanCount[]): Promise<void>;
  /** Orphan scans of a scope in a range of days, by reason (reasons without any are absent). */
  orphans(query: OrphanQuery): Promise<Map<OrphanReason, number>>;
  close(): Promise<void>;
}

/** An empty breakdown set. */
export function emptyBreakdowns(): ScanBreakdowns {
  return { country: new Map(), device: new Map(), os: new Map(), browser: new Map(), referrer: new Map(), variant: new Map(), region: new Map(), city: new Map() };
}

/** Adds `n` to a breakdown map. */
export function bump(map: Map<string, number>, value: string, n = 1): void {
  map.set(value, (map.get(value) ?? 0) + n);
}

/** The period of `periodStarts` holding `time` (the last start <= time; 0 before the first). */
export function periodIndex(periodStarts: readonly number[], time: number): number {
  let low = 0;
  let high = periodStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if ((periodStarts[mid] as number) <= time) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** More periods than any tally has (a range is at most 732 days); day * PERIOD_KEYS + period stays a safe integer. */
const PERIOD_KEYS = 2 ** 21;

/**
 * Counts visitor-days (distinct UTC day and visitor hash) of single scans, for the whole and per period. A period's
 * count is the sum over the days it touches of the distinct hashes of that day seen in it.
 */
export class VisitorDays {
  private readonly byDay = new Map<number, VisitorSet>();
  /** Per (day, period): key day * PERIOD_KEYS + period. */
  private readonly byDayPeriod = new Map<number, VisitorSet>();
  private lastDay = NaN;
  private lastDaySet: VisitorSet | undefined;
  private lastKey = NaN;
  private lastKeySet: VisitorSet | undefined;

  add(time: number, period: number, visitor: number): void {
    const day = Math.floor(time / DAY_MS);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.lastDaySet = this.byDay.get(day);
      if (!this.lastDaySet) this.byDay.set(day, (this.lastDaySet = new VisitorSet()));
    }
    (this.lastDaySet as VisitorSet).add(visitor);
    const key = day * PERIOD_KEYS + period;
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastKeySet = this.byDayPeriod.get(key);
      if (!this.lastKeySet) this.byDayPeriod.set(key, (this.lastKeySet = new VisitorSet()));
    }
    (this.lastKeySet as VisitorSet).add(visitor);
  }

  /** Visitor-days over everything added. */
  get total(): number {
    let n = 0;
    for (const set of this.byDay.values()) n += set.size;
    return n;
  }

  /** Adds each period's visitor-days to `periods[k].unique`. */
  addTo(periods: Array<{ unique: number }>): void {
    for (const [key, set] of this.byDayPeriod) {
      const period = periods[((key % PERIOD_KEYS) + PERIOD_KEYS) % PERIOD_KEYS];
      if (period) period.unique += set.size;
    }
  }
}
