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
}

/**
 * Receives a code's scans in a range as groups: `scans` scans at `time` whose distinct visitor hashes are
 * `visitors`. Every scan of a group lies in the same quarter hour (UTC) as `time`, which is all the analytics need,
 * since every time zone's offset is a whole number of quarter hours: a group is one scan, or one roll-up row.
 * `visitors` is only valid during the call.
 */
export type ScanGroupSink = (time: number, scans: number, visitors: ArrayLike<number>) => void;

/** Scans per value of each dimension (e.g. country "FR" → 12). */
export type ScanBreakdowns = Record<ScanDimension, Map<string, number>>;

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
  /** Feeds a code's scans with from <= time < to to `sink` as groups and returns its breakdowns and total. */
  tally(query: ScanTallyQuery, sink: ScanGroupSink): Promise<{ total: number; breakdowns: ScanBreakdowns }>;
  /** A workspace's non-bot scans with minTime <= time <= maxTime, newest first (time, then id, descending). */
  newestOfWorkspace(workspaceId: string, maxTime: number, minTime: number): AsyncIterable<StoredScan>;
  /** One scan by id. */
  get(id: number): Promise<StoredScan | undefined>;
  /** Every scan in id order, for `qrflow migrate-store`: those with id >= `fromId`, in batches. */
  export(fromId: number, batchSize: number): AsyncIterable<StoredScan[]>;
  /** How many scans are kept. */
  count(): Promise<number>;
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
