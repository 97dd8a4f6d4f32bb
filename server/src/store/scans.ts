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
}

/** A scan with the id its storage gave it (the number in `evt_scan_N` and `scn_N`). */
export interface StoredScan extends Scan {
  id: number;
}

/** The breakdown dimensions analytics report, by the Scan field they count. */
export const SCAN_DIMENSIONS = ['country', 'device', 'os', 'browser', 'referrer'] as const;
export type ScanDimension = (typeof SCAN_DIMENSIONS)[number];

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
  close(): Promise<void>;
}

/** An empty breakdown set. */
export function emptyBreakdowns(): ScanBreakdowns {
  return { country: new Map(), device: new Map(), os: new Map(), browser: new Map(), referrer: new Map() };
}

/** Adds `n` to a breakdown map. */
export function bump(map: Map<string, number>, value: string, n = 1): void {
  map.set(value, (map.get(value) ?? 0) + n);
}
