import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { bump, DAY_MS, dimensionValue, MAX_VARIANT, storedVariant, emptyBreakdowns, periodIndex, UNKNOWN, QUARTER_HOUR_MS, SCAN_DIMENSIONS, VisitorDays, type Scan, type ScanDimension, type ScanStorage, type ScanTally, type ScanTallyQuery, type StoredScan, ORPHAN_REASONS, type OrphanCount, type OrphanQuery, type OrphanReason } from '../scans.js';
import { storableText } from './schema.js';
import { translate } from './postgres-store.js';

export interface PostgresScansOptions {
  /** How long appended scans may wait before their batch is written (ms). */
  maxDelayMs?: number;
  /** A batch this large is written at once. */
  maxBatch?: number;
}

interface Waiting {
  scans: Array<Scan & { id?: number }>;
  resolve: (ids: number[]) => void;
  reject: (error: Error) => void;
}

const SCAN_COLUMNS = 'id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot, variant, region, city';

/** A scan's breakdown values, as `dimensionValue` gives them (a null one is left out), for the day roll-ups. */
const DIMENSION_VALUES = `(VALUES ('country', country), ('device', device), ('os', os), ('browser', browser), ('referrer', referrer), ('variant', variant::text), ('region', coalesce(region, '${UNKNOWN}')), ('city', coalesce(city, '${UNKNOWN}'))) AS x(dimension, value)`;

/** Quarter hours in a UTC day. */
const QUARTERS_A_DAY = DAY_MS / QUARTER_HOUR_MS;

/**
 * What a batch's visitor-day upsert (its RETURNING rows, `visitor_days`) changes in `scan_visitor_quarters`: each
 * row counts +1 in the `firsts` of its first quarter hour and the `lasts` of its last, for humans alone (with_bots
 * false) and for every scan (with_bots true); the span it had before (`was_…`, set by an update) counts -1. One
 * small aggregate per column (a hash of a few groups each) rather than one sort of eight rows per visitor-day.
 */
const VISITOR_DAY_DELTAS = (
  [
    ['human_first', false, 'firsts', 1],
    ['human_last', false, 'lasts', 1],
    ['any_first', true, 'firsts', 1],
    ['any_last', true, 'lasts', 1],
    ['was_human_first', false, 'firsts', -1],
    ['was_human_last', false, 'lasts', -1],
    ['was_any_first', true, 'firsts', -1],
    ['was_any_last', true, 'lasts', -1],
  ] as const
)
  .map(([column, withBots, counted, sign]) => {
    const n = `${sign === 1 ? '' : '-'}count(*)`;
    return `SELECT qr_id, day::bigint * ${QUARTERS_A_DAY} + ${column} AS quarter, ${withBots} AS with_bots, ${counted === 'firsts' ? n : '0'} AS firsts, ${counted === 'lasts' ? n : '0'} AS lasts FROM visitor_days WHERE ${column} IS NOT NULL GROUP BY 1, 2`;
  })
  .join('\n    UNION ALL ');

/** Fills the (empty) visitor-day roll-ups from `scans`, as batch writes would have (also migration 0008's backfill). */
export const REBUILD_VISITOR_DAYS = [
  `INSERT INTO scan_visitor_days (qr_id, day, visitor, human_first, human_last, any_first, any_last)
   SELECT qr_id, day, visitor, min(q) FILTER (WHERE NOT bot), max(q) FILTER (WHERE NOT bot), min(q), max(q)
   FROM (SELECT qr_id, visitor, bot, div(ms, ${DAY_MS})::integer AS day, (div(ms, ${QUARTER_HOUR_MS}) - div(ms, ${DAY_MS}) * ${DAY_MS / QUARTER_HOUR_MS})::smallint AS q
         FROM (SELECT qr_id, visitor, bot, (extract(epoch FROM scanned_at) * 1000)::bigint AS ms FROM scans) AS s) AS t
   GROUP BY qr_id, day, visitor`,
  `INSERT INTO scan_visitor_quarters (qr_id, quarter, with_bots, firsts, lasts)
   SELECT qr_id, day::bigint * ${DAY_MS / QUARTER_HOUR_MS} + x.q, x.with_bots, sum(x.firsts), sum(x.lasts) FROM scan_visitor_days
     CROSS JOIN LATERAL (VALUES (false, human_first, 1, 0), (false, human_last, 0, 1), (true, any_first, 1, 0), (true, any_last, 0, 1)) AS x(with_bots, q, firsts, lasts)
     WHERE x.q IS NOT NULL
   GROUP BY 1, 2, 3`,
];

/**
 * A batch of scans and its roll-ups are written in one transaction, so the roll-ups always match the scans. Scans
 * already present (a rerun of `migrate-store`) are left out and not counted twice. Groups are written in key order,
 * so two processes updating the same roll-up rows lock them in the same order.
 *
 * Visitor-days: `scan_visitor_days` keeps, per code, UTC day and visitor hash, the first and last quarter hour of the
 * day it was seen in (humans only, and all scans). Its upsert returns the new span and, for a row it changed, the
 * old one (copied into `was_…` by the update itself, so two processes' batches meeting on a row count right: the
 * update applies to the row as the other one left it); `scan_visitor_quarters` adds the difference.
 */
/** The roll-ups' upserts, from the groups each `source` gives (in key order: see above). */
function rollupUpserts(source: { quarters: string; visitorDays: string; dayValues: string; totals: string }): string {
  return `quarters AS (
  INSERT INTO scan_quarters AS q (qr_id, quarter, bot, scans)
  ${source.quarters}
  ON CONFLICT (qr_id, quarter, bot) DO UPDATE SET scans = q.scans + excluded.scans
  RETURNING 1
), visitor_days AS (
  INSERT INTO scan_visitor_days AS v (qr_id, day, visitor, human_first, human_last, any_first, any_last)
  ${source.visitorDays}
  ON CONFLICT (qr_id, day, visitor) DO UPDATE SET
    was_human_first = v.human_first, was_human_last = v.human_last, was_any_first = v.any_first, was_any_last = v.any_last,
    human_first = least(v.human_first, excluded.human_first), human_last = greatest(v.human_last, excluded.human_last),
    any_first = least(v.any_first, excluded.any_first), any_last = greatest(v.any_last, excluded.any_last)
  WHERE excluded.any_first < v.any_first OR excluded.any_last > v.any_last OR excluded.human_first < v.human_first OR excluded.human_last > v.human_last
    OR (v.human_first IS NULL AND excluded.human_first IS NOT NULL)
  RETURNING qr_id, day, human_first, human_last, any_first, any_last, was_human_first, was_human_last, was_any_first, was_any_last
), visitor_quarters AS (
  INSERT INTO scan_visitor_quarters AS w (qr_id, quarter, with_bots, firsts, lasts)
  SELECT qr_id, quarter, with_bots, sum(firsts), sum(lasts) FROM (${VISITOR_DAY_DELTAS}) AS deltas
  GROUP BY 1, 2, 3 HAVING sum(firsts) <> 0 OR sum(lasts) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (qr_id, quarter, with_bots) DO UPDATE SET firsts = w.firsts + excluded.firsts, lasts = w.lasts + excluded.lasts
  RETURNING 1
), day_values AS (
  INSERT INTO scan_day_values AS d (qr_id, day, bot, dimension, value, scans)
  ${source.dayValues}
  ON CONFLICT (qr_id, day, bot, dimension, value) DO UPDATE SET scans = d.scans + excluded.scans
  RETURNING 1
), totals AS (
  INSERT INTO scan_totals AS t (qr_id, humans, bots)
  ${source.totals}
  ON CONFLICT (qr_id) DO UPDATE SET humans = t.humans + excluded.humans, bots = t.bots + excluded.bots
  RETURNING 1
)`;
}

/**
 * A batch's roll-ups: the scans themselves are copied in by COPY, and the roll-ups' groups, counted by the writer
 * (groupParams), come as arrays $1 to $20: far less work for PostgreSQL than grouping the batch's rows once per
 * roll-up and breakdown.
 */
const ROLLUPS_OF_BATCH = `
WITH ${rollupUpserts({
  quarters: 'SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::integer[]) AS g(qr_id, quarter, bot, scans) ORDER BY qr_id, quarter, bot',
  visitorDays: 'SELECT * FROM unnest($5::text[], $6::integer[], $7::integer[], $8::smallint[], $9::smallint[], $10::smallint[], $11::smallint[]) AS g(qr_id, day, visitor, hf, hl, af, al) ORDER BY qr_id, day, visitor',
  dayValues: 'SELECT * FROM unnest($12::text[], $13::integer[], $14::boolean[], $15::text[], $16::text[], $17::integer[]) AS g(qr_id, day, bot, dimension, value, scans) ORDER BY qr_id, day, bot, dimension, value',
  totals: 'SELECT * FROM unnest($18::text[], $19::integer[], $20::integer[]) AS g(qr_id, humans, bots) ORDER BY qr_id',
})}
SELECT 1`;

/** A text as a field of COPY's text format: backslash, tab, newline and carriage return escaped. */
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
function copyField(text: string): string {
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : text;
}

/**
 * Times as ISO text for COPY, the text up to the second made once per second seen (a batch's scans are mostly a few
 * seconds apart): toISOString for every scan was half of the batch writer's time.
 */
class IsoTimes {
  private second = NaN;
  private prefix = '';

  of(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, -4);
    }
    const milli = ms - second * 1000;
    return `${this.prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
}

/** Month partitions are named scans_pYYYYMM and hold [first of the month, first of the next), UTC. */
function monthOf(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** A time in each month from `first`'s to `last`'s (a batch's scans: mostly one month). */
function monthsBetween(first: number, last: number): number[] {
  if (!(first <= last)) return [];
  const times = [first];
  const date = new Date(first);
  for (let month = date.getUTCMonth() + 1; ; month++) {
    const start = Date.UTC(date.getUTCFullYear(), month, 1);
    if (start > last) break;
    times.push(start);
  }
  return times;
}

function numberArray<T>(rows: T[], value: (row: T) => number): string {
  return `{${rows.map(value).join(',')}}`;
}

/**
 * Text columns as PostgreSQL array literals (`{"a","b"}`, NULL for null), built here rather than by the driver's
 * per-element escaping; a value repeated across columns and rows is made storable and quoted once.
 */
class ArrayLiteral {
  private readonly stored = new Map<string, string>();
  private readonly quoted = new Map<string, string>();
  private readonly copied = new Map<string, string>();

  /** The text as PostgreSQL stores it (storableText), worked out once per distinct value. */
  storable(text: string): string {
    let stored = this.stored.get(text);
    if (stored === undefined) this.stored.set(text, (stored = storableText(text)));
    return stored;
  }

  /** The text as a field of COPY's text format, worked out once per distinct value. */
  copy(text: string): string {
    let field = this.copied.get(text);
    if (field === undefined) this.copied.set(text, (field = copyField(this.storable(text))));
    return field;
  }

  of<T>(rows: T[], value: (row: T) => string | null): string {
    const parts = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const text = value(rows[i] as T);
      if (text === null) {
        parts[i] = 'NULL';
        continue;
      }
      let quoted = this.quoted.get(text);
      if (quoted === undefined) {
        quoted = `"${this.storable(text).replace(/[\\"]/g, '\\$&')}"`;
        this.quoted.set(text, quoted);
      }
      parts[i] = quoted;
    }
    return `{${parts.join(',')}}`;
  }
}

const nullableArray = <T,>(rows: T[], value: (row: T) => number | null) => `{${rows.map((row) => value(row) ?? 'NULL').join(',')}}`;
const booleanArray = <T,>(rows: T[], value: (row: T) => boolean) => `{${rows.map((row) => (value(row) ? 't' : 'f')).join(',')}}`;

/** A variant's breakdown value, for each variant kept. */
const VARIANT_TEXTS = Array.from({ length: MAX_VARIANT + 1 }, (_, n) => String(n));

/**
 * A batch's roll-up groups, counted as rebuildRollups groups them in SQL (the same storable texts, quarter hours, UTC
 * days and breakdown values, DIMENSION_VALUES' included), as the arrays $1 to $20 of ROLLUPS_OF_BATCH.
 */
function groupParams(scans: Scan[], texts: ArrayLiteral): string[] {
  const text = (value: string) => texts.storable(value);
  const quarters = new Map<string, { qrId: string; quarter: number; bot: boolean; scans: number }>();
  type Span = { qrId: string; day: number; visitor: number; humanFirst: number | null; humanLast: number | null; anyFirst: number; anyLast: number };
  /** Per code and UTC day, the span of each visitor hash. */
  const visitorDays = new Map<string, Map<number, Span>>();
  /** Per code, UTC day and bot: the scans, and per breakdown (in SCAN_DIMENSIONS' order) the scans of each value. */
  const days = new Map<string, { qrId: string; day: number; bot: boolean; scans: number; values: Array<Map<string, { scans: number }>> }>();
  // a batch comes in runs of one code and second (groupOrder): each group a scan counts in is most often the
  // previous scan's, so it is taken again without a key made and looked up, and so is each breakdown value's count
  let quarterGroup: { qrId: string; quarter: number; bot: boolean; scans: number } | undefined;
  let visitorGroup: Map<number, Span> | undefined;
  let dayGroup: { qrId: string; day: number; bot: boolean; scans: number; values: Array<Map<string, { scans: number }>> } | undefined;
  let last: Scan | undefined;
  let lastQrId = '';
  let lastQuarter = NaN;
  let lastDay = NaN;
  const lastValues = new Array<string | undefined>(SCAN_DIMENSIONS.length);
  const lastCounts = new Array<{ scans: number } | undefined>(SCAN_DIMENSIONS.length);
  const countValue = (i: number, raw: string) => {
    if (raw === lastValues[i]) {
      (lastCounts[i] as { scans: number }).scans++;
      return;
    }
    const value = text(raw);
    const counts = (dayGroup as { values: Array<Map<string, { scans: number }>> }).values[i] as Map<string, { scans: number }>;
    let counted = counts.get(value);
    if (!counted) counts.set(value, (counted = { scans: 0 }));
    counted.scans++;
    lastValues[i] = raw;
    lastCounts[i] = counted;
  };
  for (const scan of scans) {
    const quarter = Math.floor(scan.time / QUARTER_HOUR_MS);
    const day = Math.floor(scan.time / DAY_MS);
    const ofDay = quarter - day * QUARTERS_A_DAY;
    const visitor = scan.visitor | 0;
    const bot = scan.bot;
    const sameCode = last !== undefined && scan.qrId === last.qrId;
    const qrId = sameCode ? lastQrId : text(scan.qrId);
    if (!(sameCode && quarter === lastQuarter && bot === (last as Scan).bot)) {
      const quarterKey = `${qrId}\0${quarter}\0${bot}`;
      quarterGroup = quarters.get(quarterKey);
      if (!quarterGroup) quarters.set(quarterKey, (quarterGroup = { qrId, quarter, bot, scans: 0 }));
    }
    (quarterGroup as { scans: number }).scans++;
    if (!(sameCode && day === lastDay)) {
      const visitorKey = `${qrId}\0${day}`;
      visitorGroup = visitorDays.get(visitorKey);
      if (!visitorGroup) visitorDays.set(visitorKey, (visitorGroup = new Map()));
    }
    const span = (visitorGroup as Map<number, Span>).get(visitor);
    if (!span) (visitorGroup as Map<number, Span>).set(visitor, { qrId, day, visitor, humanFirst: bot ? null : ofDay, humanLast: bot ? null : ofDay, anyFirst: ofDay, anyLast: ofDay });
    else {
      if (ofDay < span.anyFirst) span.anyFirst = ofDay;
      if (ofDay > span.anyLast) span.anyLast = ofDay;
      if (!bot) {
        if (span.humanFirst === null || ofDay < span.humanFirst) span.humanFirst = ofDay;
        if (span.humanLast === null || ofDay > span.humanLast) span.humanLast = ofDay;
      }
    }
    if (!(sameCode && day === lastDay && bot === (last as Scan).bot)) {
      const dayKey = `${qrId}\0${day}\0${bot}`;
      dayGroup = days.get(dayKey);
      if (!dayGroup) days.set(dayKey, (dayGroup = { qrId, day, bot, scans: 0, values: SCAN_DIMENSIONS.map(() => new Map<string, { scans: number }>()) }));
      lastValues.fill(undefined);
    }
    (dayGroup as { scans: number }).scans++;
    // in SCAN_DIMENSIONS' order, as DIMENSION_VALUES: a scan without a variant is in no variant; no region or city
    // counts as unknown
    countValue(0, scan.country);
    countValue(1, scan.device);
    countValue(2, scan.os);
    countValue(3, scan.browser);
    countValue(4, scan.referrer);
    const variant = storedVariant(scan.variant);
    if (variant !== null) countValue(5, VARIANT_TEXTS[variant] as string);
    countValue(6, scan.region === null || scan.region === undefined ? UNKNOWN : scan.region);
    countValue(7, scan.city === null || scan.city === undefined ? UNKNOWN : scan.city);
    last = scan;
    lastQrId = qrId;
    lastQuarter = quarter;
    lastDay = day;
  }
  const dayValues: Array<{ qrId: string; day: number; bot: boolean; dimension: string; value: string; scans: number }> = [];
  const totals = new Map<string, { qrId: string; humans: number; bots: number }>();
  for (const group of days.values()) {
    group.values.forEach((counts, i) => {
      for (const [value, { scans }] of counts) dayValues.push({ qrId: group.qrId, day: group.day, bot: group.bot, dimension: SCAN_DIMENSIONS[i] as string, value, scans });
    });
    let total = totals.get(group.qrId);
    if (!total) totals.set(group.qrId, (total = { qrId: group.qrId, humans: 0, bots: 0 }));
    total[group.bot ? 'bots' : 'humans'] += group.scans;
  }
  const q = [...quarters.values()];
  const v = [...visitorDays.values()].flatMap((spans) => [...spans.values()]);
  const d = dayValues;
  const t = [...totals.values()];
  return [
    texts.of(q, (g) => g.qrId), numberArray(q, (g) => g.quarter), booleanArray(q, (g) => g.bot), numberArray(q, (g) => g.scans),
    texts.of(v, (g) => g.qrId), numberArray(v, (g) => g.day), numberArray(v, (g) => g.visitor),
    nullableArray(v, (g) => g.humanFirst), nullableArray(v, (g) => g.humanLast), numberArray(v, (g) => g.anyFirst), numberArray(v, (g) => g.anyLast),
    texts.of(d, (g) => g.qrId), numberArray(d, (g) => g.day), booleanArray(d, (g) => g.bot), texts.of(d, (g) => g.dimension), texts.of(d, (g) => g.value), numberArray(d, (g) => g.scans),
    texts.of(t, (g) => g.qrId), numberArray(t, (g) => g.humans), numberArray(t, (g) => g.bots),
  ];
}

function partitionBounds(month: string): { name: string; from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { name: `scans_p${month.replace('-', '')}`, from: `${month}-01 00:00:00+00`, to: `${next} 00:00:00+00` };
}

interface ScanRow {
  id: string;
  scanned_at: Date;
  qr_id: string;
  workspace_id: string;
  visitor: number;
  country: string;
  device: string;
  os: string;
  browser: string;
  referrer: string;
  bot: boolean;
  variant: number | null;
  region: string | null;
  city: string | null;
}

function fromRow(row: ScanRow): StoredScan {
  return {
    id: Number(row.id),
    time: row.scanned_at.getTime(),
    qrId: row.qr_id,
    workspaceId: row.workspace_id,
    visitor: row.visitor >>> 0,
    country: row.country,
    device: row.device,
    os: row.os,
    browser: row.browser,
    referrer: row.referrer,
    bot: row.bot,
    variant: row.variant,
    region: row.region,
    city: row.city,
  };
}

/** A pack holds at most this many scans: a pack holding an id starts at most PACK_MAX - 1 below it (lookups by id are bounded so). */
const PACK_MAX = 5000;
/** Scans of one code and second fewer than this are rows of their own: for one or two, a pack's arrays cost more than rows. */
const PACK_MIN = 3;

const second = (time: number) => Math.floor(time / 1000);

/**
 * The order a batch of new scans takes its ids in: grouped by code, workspace and second (each group in append
 * order, the groups in the order of their first scan), so that the ids of each pack are consecutive.
 */
function groupOrder(scans: Scan[]): number[] {
  const groups = new Map<string, number[]>();
  let group: number[] | undefined;
  let previous: Scan | undefined;
  for (let i = 0; i < scans.length; i++) {
    const scan = scans[i] as Scan;
    // a scan of the previous one's group (the usual case: a busy code's scans come together) needs no key
    if (!(previous && scan.qrId === previous.qrId && scan.workspaceId === previous.workspaceId && second(scan.time) === second(previous.time))) {
      const key = `${scan.qrId}\0${scan.workspaceId}\0${second(scan.time)}`;
      group = groups.get(key);
      if (!group) groups.set(key, (group = []));
    }
    (group as number[]).push(i);
    previous = scan;
  }
  return groups.size === 1 ? (group as number[]) : [...groups.values()].flat();
}

/**
 * Where a batch's scans go (ids[k] is scans[k]'s): each run of consecutive ids of one code, workspace and second,
 * PACK_MIN to PACK_MAX long, is a pack (its start and end in `scans`); the other scans are rows.
 */
function layout(scans: Scan[], ids: number[]): { rows: number[]; packs: Array<[number, number]> } {
  const rows: number[] = [];
  const packs: Array<[number, number]> = [];
  let start = 0;
  const close = (end: number) => {
    if (end - start >= PACK_MIN) packs.push([start, end]);
    else for (let k = start; k < end; k++) rows.push(k);
    start = end;
  };
  for (let k = 1; k < scans.length; k++) {
    const scan = scans[k] as Scan;
    const head = scans[start] as Scan;
    const continues = ids[k] === (ids[k - 1] as number) + 1 && k - start < PACK_MAX && scan.qrId === head.qrId && scan.workspaceId === head.workspaceId && second(scan.time) === second(head.time);
    if (!continues) close(k);
  }
  if (scans.length > 0) close(scans.length);
  return { rows, packs };
}

const PACK_COLUMNS = 'first_id, at, qr_id, workspace_id, n, humans, ms, visitors, countries, devices, oss, browsers, referrers, bots, variants, regions, cities';

/**
 * Writes a batch of scans (ids[k] is scans[k]'s) in the caller's transaction: rows and packs by COPY, then the
 * roll-ups from the groups counted here.
 */
async function writeBatch(client: pg.PoolClient, scans: Scan[], ids: number[]): Promise<void> {
  const texts = new ArrayLiteral();
  const times = new IsoTimes();
  const { rows, packs } = layout(scans, ids);
  if (rows.length > 0) {
    const lines = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const k = rows[i] as number;
      const s = scans[k] as Scan;
      const variant = storedVariant(s.variant);
      const region = s.region === null || s.region === undefined ? '\\N' : texts.copy(s.region);
      const city = s.city === null || s.city === undefined ? '\\N' : texts.copy(s.city);
      lines[i] =
        `${ids[k]}\t${times.of(s.time)}\t${texts.copy(s.qrId)}\t${texts.copy(s.workspaceId)}\t${s.visitor | 0}\t${texts.copy(s.country)}\t` +
        `${texts.copy(s.device)}\t${texts.copy(s.os)}\t${texts.copy(s.browser)}\t${texts.copy(s.referrer)}\t${s.bot ? 't' : 'f'}\t${variant === null ? '\\N' : variant}\t${region}\t${city}`;
    }
    await pipeline(Readable.from([`${lines.join('\n')}\n`]), client.query(copyFrom(`COPY scan_rows (${SCAN_COLUMNS}) FROM STDIN`)));
  }
  if (packs.length > 0) {
    const lines = packs.map(([start, end]) => {
      const pack = scans.slice(start, end);
      const head = pack[0] as Scan;
      const at = second(head.time) * 1000;
      const humans = pack.reduce((n, s) => (s.bot ? n : n + 1), 0);
      // array literals, then escaped as COPY text fields
      const column = (value: (s: Scan) => string | null) => copyField(texts.of(pack, value));
      return [
        ids[start],
        times.of(at),
        texts.copy(head.qrId),
        texts.copy(head.workspaceId),
        pack.length,
        humans,
        numberArray(pack, (s) => s.time - at),
        numberArray(pack, (s) => s.visitor | 0),
        column((s) => s.country),
        column((s) => s.device),
        column((s) => s.os),
        column((s) => s.browser),
        column((s) => s.referrer),
        booleanArray(pack, (s) => s.bot),
        nullableArray(pack, (s) => storedVariant(s.variant)),
        column((s) => s.region ?? null),
        column((s) => s.city ?? null),
      ].join('\t');
    });
    await pipeline(Readable.from([`${lines.join('\n')}\n`]), client.query(copyFrom(`COPY scan_packs (${PACK_COLUMNS}) FROM STDIN`)));
  }
  await client.query(ROLLUPS_OF_BATCH, groupParams(scans, texts));
}

/** The ids from $1 to $2 (inclusive) that are stored, as rows or in packs. */
const PRESENT_IDS = `SELECT id FROM scan_rows WHERE id BETWEEN $1 AND $2
UNION ALL
SELECT generate_series(greatest(first_id, $1), least(first_id + n - 1, $2)) FROM scan_packs WHERE first_id > $1::bigint - ${PACK_MAX} AND first_id <= $2 AND first_id + n > $1`;

/** A pack's scans, one row each (its arrays unnested), from `source` (a table or subquery) as `p`. */
const unnested = (source = 'scan_packs') =>
  `${source} p CROSS JOIN LATERAL unnest(p.ms, p.visitors, p.countries, p.devices, p.oss, p.browsers, p.referrers, p.bots, p.variants, p.regions, p.cities)
     WITH ORDINALITY AS u(ms, visitor, country, device, os, browser, referrer, bot, variant, region, city, i)`;

/** Each scan column as read from an unnested pack. */
const PACKED: Record<string, string> = {
  id: 'p.first_id + u.i - 1',
  scanned_at: "p.at + u.ms * interval '1 millisecond'",
  qr_id: 'p.qr_id',
  workspace_id: 'p.workspace_id',
  visitor: 'u.visitor',
  country: 'u.country',
  device: 'u.device',
  os: 'u.os',
  browser: 'u.browser',
  referrer: 'u.referrer',
  bot: 'u.bot',
  variant: 'u.variant',
  region: 'u.region',
  city: 'u.city',
};
const packedColumns = (columns: string) =>
  columns
    .split(', ')
    .map((column) => `${PACKED[column] as string} AS ${column}`)
    .join(', ');

interface ScanFilter {
  qrId?: string;
  workspaceId?: string;
  humansOnly: boolean;
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
}

/**
 * The scans meeting `filter`, rows and packed ones alike, as `columns` (names of `scans`' columns, ", "-separated);
 * its parameters are pushed on `params`. Packs are found by their second (`at`), then their scans filtered one by one.
 */
function selectScans(columns: string, filter: ScanFilter, params: unknown[]): string {
  const rows: string[] = [];
  const packs: string[] = [];
  if (filter.qrId !== undefined) {
    const $ = `$${params.push(storableText(filter.qrId))}`;
    rows.push(`qr_id = ${$}`);
    packs.push(`p.qr_id = ${$}`);
  }
  if (filter.workspaceId !== undefined) {
    const $ = `$${params.push(storableText(filter.workspaceId))}`;
    rows.push(`workspace_id = ${$}`);
    packs.push(`p.workspace_id = ${$}`);
  }
  if (filter.humansOnly) {
    rows.push('NOT bot');
    packs.push('p.humans > 0', 'NOT u.bot');
  }
  if (filter.from !== undefined && Number.isFinite(filter.from)) {
    const $ = `$${params.push(new Date(filter.from).toISOString())}::timestamptz`;
    rows.push(`scanned_at >= ${$}`);
    packs.push(`p.at >= date_trunc('second', ${$})`, `${PACKED.scanned_at} >= ${$}`);
  }
  if (filter.to !== undefined && Number.isFinite(filter.to)) {
    const $ = `$${params.push(new Date(filter.to).toISOString())}::timestamptz`;
    rows.push(`scanned_at < ${$}`);
    packs.push(`p.at < ${$}`, `${PACKED.scanned_at} < ${$}`);
  }
  const where = (conditions: string[]) => (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '');
  return `SELECT ${columns} FROM scan_rows${where(rows)} UNION ALL SELECT ${packedColumns(columns)} FROM ${unnested()}${where(packs)}`;
}

/** The highest scan id stored (null if none): blocks never overlap, so a pack's last id is the highest of any pack up to it. */
const MAX_ID = `SELECT greatest((SELECT max(id) FROM scan_rows), (SELECT first_id + n - 1 FROM scan_packs ORDER BY first_id DESC LIMIT 1)) AS id`;

/**
 * Scans in PostgreSQL, partitioned by month and written in batches by COPY (at most `maxDelayMs` after the append),
 * with roll-ups updated in the same transaction. A batch's scans of one code within one second (PACK_MIN or more)
 * are one row of `scan_packs` holding a column array each; the others are rows of `scan_rows`. The view `scans`
 * shows both as one row a scan.
 * Analytics read whole UTC days from the roll-ups and only the partial days at either end of a range from `scans`.
 */
export class PostgresScans implements ScanStorage {
  private waiting: Waiting[] = [];
  private waitingScans = 0;
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly partitions = new Set<string>();
  private closed = false;
  private readonly maxBatch: number;

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresScansOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 5000;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), options.maxDelayMs ?? 250);
    this.timer.unref();
  }

  /** A query on the pool; a lost connection or a database that does not answer rejects as StoreUnavailableError (a 503, not a 500). */
  private async query<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params);
    } catch (error) {
      throw translate(error);
    }
  }

  append(scans: Scan[]): Promise<number[]> {
    if (this.closed) return Promise.reject(new Error('The scan storage is closed.'));
    if (scans.length === 0) return Promise.resolve([]);
    return new Promise<number[]>((resolve, reject) => {
      this.waiting.push({ scans, resolve, reject });
      this.waitingScans += scans.length;
      if (this.waitingScans >= this.maxBatch) void this.flush().catch(() => undefined);
    });
  }

  /**
   * Copies scans with their ids (from another storage, in id order): present ones are skipped, and new scans get ids
   * after the copied ones. Returns how many were new.
   */
  async importScans(scans: StoredScan[]): Promise<number> {
    if (scans.length === 0) return 0;
    return (await this.write(scans)).inserted;
  }

  flush(): Promise<void> {
    if (this.writing) return this.writing.then(() => this.flush());
    if (this.waiting.length === 0) return Promise.resolve();
    const batch = this.waiting;
    this.waiting = [];
    this.waitingScans = 0;
    this.writing = (async () => {
      const scans = batch.flatMap((w) => w.scans);
      try {
        const { ids } = await this.write(scans);
        let n = 0;
        for (const w of batch) {
          w.resolve(ids.slice(n, n + w.scans.length));
          n += w.scans.length;
        }
      } catch (error) {
        // a lost connection becomes StoreUnavailableError: the recorder keeps such a batch and writes it again later
        const translated = translate(error) as Error;
        for (const w of batch) w.reject(translated);
        throw translated;
      }
    })().finally(() => (this.writing = undefined));
    return this.writing;
  }

  /** Makes the month partitions holding these times, if missing (writes do this themselves). */
  async ensurePartitions(times: Iterable<number>): Promise<void> {
    const missing = new Set<string>();
    for (const time of times) {
      const month = monthOf(time);
      if (!this.partitions.has(month)) missing.add(month);
    }
    if (missing.size === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // processes making the same partition at once take turns (CREATE ... IF NOT EXISTS alone can still collide)
      await client.query(`SELECT pg_advisory_xact_lock(${0x7172666c6f78})`);
      for (const month of missing) {
        const { name, from, to } = partitionBounds(month);
        await client.query(`CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF scan_rows FOR VALUES FROM ('${from}') TO ('${to}')`);
        await client.query(`CREATE TABLE IF NOT EXISTS "${name.replace(/^scans_p/, 'scan_packs_p')}" PARTITION OF scan_packs FOR VALUES FROM ('${from}') TO ('${to}')`);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    for (const month of missing) this.partitions.add(month);
  }

  /**
   * Writes scans with their roll-ups: those that carry an id with it (present ones skipped), the others with new
   * ids. Returns how many were not there yet, and every scan's id in order.
   */
  private async write(scans: Array<Scan & { id?: number }>): Promise<{ inserted: number; ids: number[] }> {
    let first = Infinity;
    let last = -Infinity;
    for (const scan of scans) {
      if (scan.time < first) first = scan.time;
      if (scan.time > last) last = scan.time;
    }
    // this month's and next month's partitions exist before they are needed
    const now = Date.now();
    await this.ensurePartitions([...monthsBetween(first, last), now, now + 31 * DAY_MS]);
    const imported = scans.some((s) => s.id !== undefined);
    for (let attempt = 1; ; attempt++) {
      try {
        return imported ? await this.writeImported(scans as StoredScan[]) : await this.writeNew(scans);
      } catch (error) {
        // two processes' batches touching the same roll-up rows: PostgreSQL aborts one; it is rerun whole
        if ((error as { code?: string }).code !== '40P01' || attempt === 3) throw error;
      }
    }
  }

  /**
   * New scans: a block of ids drawn (outside the batch's transaction, so that writers never wait on each other's
   * commit for it), handed out group by group of groupOrder so that each pack's are consecutive; then the batch.
   */
  private async writeNew(scans: Scan[]): Promise<{ inserted: number; ids: number[] }> {
    const { rows } = await this.query<{ first: string }>(`UPDATE scan_ids SET next_id = next_id + $1 RETURNING next_id - $1 AS first`, [scans.length]);
    if (!rows[0]) throw new Error('The scan id counter (scan_ids) is empty.');
    const first = Number(rows[0].first);
    const order = groupOrder(scans);
    const ids = new Array<number>(scans.length);
    const ordered = new Array<Scan>(scans.length);
    const orderedIds = new Array<number>(scans.length);
    for (let k = 0; k < order.length; k++) {
      const index = order[k] as number;
      ids[index] = first + k;
      ordered[k] = scans[index] as Scan;
      orderedIds[k] = first + k;
    }
    await this.transaction((client) => writeBatch(client, ordered, orderedIds));
    return { inserted: scans.length, ids };
  }

  /** Imported scans (in id order): those present are left out (in the same transaction), and the id counter moves past the last. */
  private async writeImported(scans: StoredScan[]): Promise<{ inserted: number; ids: number[] }> {
    let low = Infinity;
    let high = -Infinity;
    for (const scan of scans) {
      if (scan.id < low) low = scan.id;
      if (scan.id > high) high = scan.id;
    }
    let inserted = 0;
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>(PRESENT_IDS, [low, high]);
      const present = new Set(rows.map((row) => Number(row.id)));
      const fresh = scans.filter((scan) => !present.has(scan.id));
      if (fresh.length > 0) await writeBatch(client, fresh, fresh.map((scan) => scan.id));
      await client.query(`UPDATE scan_ids SET next_id = greatest(next_id, $1::bigint + 1)`, [high]);
      inserted = fresh.length;
    });
    return { inserted, ids: scans.map((scan) => scan.id) };
  }

  /** Runs `work` in a transaction on a connection of its own; a failed statement rolls back everything it wrote. */
  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw translate(error);
    } finally {
      client.release(broken);
    }
  }

  /**
   * Recomputes every roll-up from the scans themselves, in one transaction (for scans loaded into the table
   * directly, e.g. by COPY, or roll-ups in doubt). The same grouping as a batch write.
   */
  async rebuildRollups(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('TRUNCATE scan_quarters, scan_day_values, scan_totals, scan_visitor_days, scan_visitor_quarters');
      const quarter = `div((extract(epoch FROM scanned_at) * 1000)::bigint, ${QUARTER_HOUR_MS})`;
      const day = `div((extract(epoch FROM scanned_at) * 1000)::bigint, ${DAY_MS})::integer`;
      await client.query(`INSERT INTO scan_quarters (qr_id, quarter, bot, scans) SELECT qr_id, ${quarter}, bot, count(*) FROM scans GROUP BY 1, 2, 3`);
      for (const statement of REBUILD_VISITOR_DAYS) await client.query(statement);
      await client.query(
        `INSERT INTO scan_day_values (qr_id, day, bot, dimension, value, scans)
         SELECT qr_id, ${day}, bot, x.dimension, x.value, count(*) FROM scans
           CROSS JOIN LATERAL ${DIMENSION_VALUES} WHERE x.value IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5`,
      );
      await client.query(`INSERT INTO scan_totals (qr_id, humans, bots) SELECT qr_id, count(*) FILTER (WHERE NOT bot), count(*) FILTER (WHERE bot) FROM scans GROUP BY qr_id`);
      await client.query(`UPDATE scan_ids SET next_id = greatest(next_id, coalesce((${MAX_ID}), -1) + 1)`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async humanCount(qrId: string): Promise<number> {
    const { rows } = await this.query<{ humans: string }>(`SELECT humans FROM scan_totals WHERE qr_id = $1`, [storableText(qrId)]);
    return Number(rows[0]?.humans ?? 0);
  }

  /**
   * Whole UTC days come from the roll-ups, the partial days at either end of the range from `scans`. Scans per period
   * are summed from `scan_quarters`. Visitor-days per period from `scan_visitor_quarters`: the periods cut a UTC day
   * into segments; a visitor-day is in the day's first segment (ending at quarter x) iff its first quarter is before
   * x, and in its last segment (starting at x) iff its last quarter is x or later, so the first segment sums the
   * `firsts` of its quarters and the last the `lasts`; a day in one segment sums its `firsts`. A segment in the
   * middle of a UTC day (a period starting and ending within one UTC day: a local day of 23 h or less that starts
   * and ends inside a UTC day, or `periodStarts` given so) cannot be told from first and last quarters: such days
   * are counted from their scans.
   */
  async tally(query: ScanTallyQuery): Promise<ScanTally> {
    const qrId = storableText(query.qrId);
    const starts = query.periodStarts;
    const periods = starts.map(() => ({ scans: 0, unique: 0 }));
    const breakdowns = emptyBreakdowns();
    const firstDay = Math.ceil(query.from / DAY_MS);
    const endDay = Math.floor(query.to / DAY_MS);
    const rolled = firstDay < endDay;
    const edges: Array<[number, number]> = rolled
      ? [
          [query.from, firstDay * DAY_MS],
          [endDay * DAY_MS, query.to],
        ].filter(([a, b]) => (a as number) < (b as number)) as Array<[number, number]>
      : [[query.from, query.to]];
    // UTC days of the rolled range holding a middle segment
    const middleDays = new Set<number>();
    for (let k = 1; k < starts.length; k++) {
      const start = starts[k] as number;
      const end = starts[k + 1] ?? query.to;
      const day = Math.floor(start / DAY_MS);
      if (start > day * DAY_MS && end < (day + 1) * DAY_MS && start < end && day >= firstDay && day < endDay) middleDays.add(day);
    }
    const bots = query.includeBots ? '' : ' AND NOT bot';
    const humansOnly = !query.includeBots;
    const rawQueries = edges.map(([from, to]) => {
      const params: unknown[] = [];
      const text = selectScans('scanned_at, visitor, country, device, os, browser, referrer, variant, region, city', { qrId: query.qrId, humansOnly, from, to }, params);
      return this.query<Omit<ScanRow, 'id' | 'qr_id' | 'workspace_id' | 'bot'>>(text, params);
    });
    const middleQueries = [...middleDays].map((day) => {
      const params: unknown[] = [];
      const text = selectScans('scanned_at, visitor', { qrId: query.qrId, humansOnly, from: day * DAY_MS, to: (day + 1) * DAY_MS }, params);
      return this.query<{ scanned_at: Date; visitor: number }>(text, params);
    });
    // period starts in quarter hours (the first one, `from`, rounded down: it is at or before the rolled days)
    const thresholds = starts.map((start) => Math.floor(start / QUARTER_HOUR_MS));
    const fromQuarter = firstDay * QUARTERS_A_DAY;
    const toQuarter = endDay * QUARTERS_A_DAY;
    const quarterQuery = rolled
      ? this.query<{ k: number; scans: string }>(
          `SELECT width_bucket(quarter, $2::bigint[]) AS k, sum(scans) AS scans FROM scan_quarters WHERE qr_id = $1 AND quarter >= $3 AND quarter < $4${bots} GROUP BY k`,
          [qrId, thresholds, fromQuarter, toQuarter],
        )
      : undefined;
    const visitorQuery = rolled
      ? this.query<{ k: number; visitors: string; whole: string }>(
          `SELECT k, sum(CASE WHEN day = ANY($6::bigint[]) THEN 0 WHEN ($2::bigint[])[k] <= day * ${QUARTERS_A_DAY} THEN firsts ELSE lasts END) AS visitors, sum(firsts) AS whole
           FROM (SELECT width_bucket(quarter, $2::bigint[]) AS k, div(quarter, ${QUARTERS_A_DAY}) AS day, firsts, lasts FROM scan_visitor_quarters
                 WHERE qr_id = $1 AND with_bots = $5 AND quarter >= $3 AND quarter < $4) AS v
           GROUP BY k`,
          [qrId, thresholds, fromQuarter, toQuarter, query.includeBots, [...middleDays]],
        )
      : undefined;
    const dayQuery = rolled
      ? this.query<{ dimension: ScanDimension; value: string; scans: string }>(
          `SELECT dimension, value, sum(scans) AS scans FROM scan_day_values WHERE qr_id = $1 AND day >= $2 AND day < $3${bots} GROUP BY dimension, value`,
          [qrId, firstDay, endDay],
        )
      : undefined;
    const [raws, middles, quarters, visitors, days] = await Promise.all([Promise.all(rawQueries), Promise.all(middleQueries), quarterQuery, visitorQuery, dayQuery]);
    let total = 0;
    let unique = 0;
    // the edges are UTC days (or parts of them) of their own: their visitor-days add to the rolled ones'
    const edgeVisitors = new VisitorDays();
    for (const { rows } of raws) {
      for (const row of rows) {
        total++;
        const time = row.scanned_at.getTime();
        const k = periodIndex(starts, time);
        const period = periods[k];
        if (period) period.scans++;
        edgeVisitors.add(time, k, row.visitor >>> 0);
        for (const dimension of SCAN_DIMENSIONS) {
          const value = dimensionValue(row, dimension);
          if (value !== null) bump(breakdowns[dimension], value);
        }
      }
    }
    edgeVisitors.addTo(periods);
    unique += edgeVisitors.total;
    const middleVisitors = new VisitorDays();
    for (const { rows } of middles) {
      for (const row of rows) {
        const time = row.scanned_at.getTime();
        middleVisitors.add(time, periodIndex(starts, time), row.visitor >>> 0);
      }
    }
    middleVisitors.addTo(periods);
    // width_bucket counts from 1
    for (const row of quarters?.rows ?? []) {
      const scans = Number(row.scans);
      total += scans;
      const period = periods[row.k - 1];
      if (period) period.scans += scans;
    }
    for (const row of visitors?.rows ?? []) {
      unique += Number(row.whole);
      const period = periods[row.k - 1];
      if (period) period.unique += Number(row.visitors);
    }
    for (const row of days?.rows ?? []) bump(breakdowns[row.dimension], row.value, Number(row.scans));
    return { total, unique, periods, breakdowns };
  }

  /**
   * Newest first, a window of time at a time: the newest scan before the window's end (rows and packs, from their
   * indexes) says where the next window ends, and the window widens while it finds few scans and narrows when it
   * finds many. Each window's scans are read whole and sorted, so that scans of one millisecond come by id.
   */
  async *newestOfWorkspace(workspaceId: string, maxTime: number, minTime: number): AsyncIterable<StoredScan> {
    const workspace = storableText(workspaceId);
    // exclusive
    let end = Number.isFinite(maxTime) ? maxTime + 1 : Infinity;
    let width = 60_000;
    for (;;) {
      const bound = Number.isFinite(end) ? new Date(end).toISOString() : 'infinity';
      const { rows: newest } = await this.query<{ time: Date | null }>(
        `SELECT greatest((SELECT max(scanned_at) FROM scan_rows WHERE workspace_id = $1 AND NOT bot AND scanned_at < $2::timestamptz),
                         (SELECT max(at) FROM scan_packs WHERE workspace_id = $1 AND humans > 0 AND at < $2::timestamptz)) AS time`,
        [workspace, bound],
      );
      const time = newest[0]?.time?.getTime();
      if (time === undefined || time < minTime) return;
      const start = Math.max(minTime, time - width);
      const params: unknown[] = [];
      const text = selectScans(SCAN_COLUMNS, { workspaceId, humansOnly: true, from: start, to: end }, params);
      const { rows } = await this.query<ScanRow>(`${text} ORDER BY scanned_at DESC, id DESC`, params);
      for (const row of rows) yield fromRow(row);
      if (start <= minTime) return;
      end = start;
      if (rows.length < 200) width = Math.min(width * 10, 400 * DAY_MS);
      else if (rows.length > 5000) width = Math.max(100, Math.floor(width / 10));
    }
  }

  async get(id: number): Promise<StoredScan | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const { rows } = await this.query<ScanRow>(
      `SELECT ${SCAN_COLUMNS} FROM scan_rows WHERE id = $1
       UNION ALL
       SELECT ${packedColumns(SCAN_COLUMNS)} FROM ${unnested(`(SELECT * FROM scan_packs WHERE first_id <= $1 AND first_id > $1::bigint - ${PACK_MAX} AND first_id + n > $1)`)}
       WHERE p.first_id + u.i - 1 = $1`,
      [id],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /** In id order: the first `batchSize` rows and the first `batchSize` packs from `next` hold the first `batchSize` scans. */
  async *export(fromId: number, batchSize: number): AsyncIterable<StoredScan[]> {
    let next = fromId;
    for (;;) {
      const { rows } = await this.query<ScanRow>(
        `SELECT * FROM (
           (SELECT ${SCAN_COLUMNS} FROM scan_rows WHERE id >= $1 ORDER BY id LIMIT $2)
           UNION ALL
           SELECT ${packedColumns(SCAN_COLUMNS)} FROM ${unnested(`(SELECT * FROM scan_packs WHERE first_id > $1::bigint - ${PACK_MAX} AND first_id + n > $1 ORDER BY first_id LIMIT $2)`)}
           WHERE p.first_id + u.i - 1 >= $1
         ) AS s ORDER BY id LIMIT $2`,
        [next, batchSize],
      );
      if (rows.length === 0) return;
      const batch = rows.map(fromRow);
      yield batch;
      next = (batch[batch.length - 1] as StoredScan).id + 1;
    }
  }

  /** The highest scan id, if any scan is kept. */
  async maxId(): Promise<number | undefined> {
    const { rows } = await this.query<{ id: string | null }>(MAX_ID);
    return rows[0]?.id == null ? undefined : Number(rows[0].id);
  }

  async count(): Promise<number> {
    const { rows } = await this.query<{ count: string }>(`SELECT (SELECT count(*) FROM scan_rows) + (SELECT coalesce(sum(n), 0) FROM scan_packs) AS count`);
    return Number(rows[0]?.count ?? 0);
  }

  async daySalt(day: number, candidate: Buffer): Promise<Buffer> {
    // a row another process is inserting at the same moment is not in this statement's snapshot: asked again then
    for (let attempt = 1; ; attempt++) {
      const { rows } = await this.query<{ salt: Buffer }>(
        `WITH fresh AS (INSERT INTO scan_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING RETURNING salt),
              gone AS (DELETE FROM scan_salts WHERE day < $1 - 1)
         SELECT salt FROM fresh UNION ALL SELECT salt FROM scan_salts WHERE day = $1`,
        [day, candidate],
      );
      if (rows[0]) return rows[0].salt;
      if (attempt === 3) throw new Error(`The visitor salt of day ${day} could not be read.`);
    }
  }

  async addOrphans(counts: OrphanCount[]): Promise<void> {
    const valid = counts.filter((c) => Number.isSafeInteger(c.day) && (ORPHAN_REASONS as readonly string[]).includes(c.reason) && c.humans + c.bots > 0);
    if (valid.length === 0) return;
    // summed per key first: one row may appear once in an INSERT ... ON CONFLICT DO UPDATE
    const merged = new Map<string, OrphanCount>();
    for (const c of valid) {
      const key = JSON.stringify([c.workspaceId ?? '', c.day, c.reason]);
      const seen = merged.get(key);
      if (seen) {
        seen.humans += c.humans;
        seen.bots += c.bots;
      } else merged.set(key, { ...c });
    }
    const rows = [...merged.values()].sort((a, b) => ((a.workspaceId ?? '') < (b.workspaceId ?? '') ? -1 : (a.workspaceId ?? '') > (b.workspaceId ?? '') ? 1 : a.day - b.day || (a.reason < b.reason ? -1 : 1)));
    try {
      await this.query(
        `INSERT INTO scan_orphans AS o (scope, day, reason, humans, bots)
         SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::bigint[])
         ON CONFLICT (scope, day, reason) DO UPDATE SET humans = o.humans + excluded.humans, bots = o.bots + excluded.bots`,
        [rows.map((c) => storableText(c.workspaceId ?? '')), rows.map((c) => c.day), rows.map((c) => c.reason), rows.map((c) => c.humans), rows.map((c) => c.bots)],
      );
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Sets orphan counts copied from another storage (`qrflow migrate-store`): each (scope, day, reason) takes the
   * given numbers, so a rerun changes nothing. Returns how many rows were new or different.
   */
  async importOrphans(counts: OrphanCount[]): Promise<number> {
    if (counts.length === 0) return 0;
    const { rows } = await this.query<{ changed: number }>(
      `WITH changed AS (
         INSERT INTO scan_orphans AS o (scope, day, reason, humans, bots)
         SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::bigint[])
         ON CONFLICT (scope, day, reason) DO UPDATE SET humans = excluded.humans, bots = excluded.bots
           WHERE o.humans <> excluded.humans OR o.bots <> excluded.bots
         RETURNING 1)
       SELECT count(*)::integer AS changed FROM changed`,
      [counts.map((c) => storableText(c.workspaceId ?? '')), counts.map((c) => c.day), counts.map((c) => c.reason), counts.map((c) => c.humans), counts.map((c) => c.bots)],
    );
    return rows[0]?.changed ?? 0;
  }

  /** Every orphan count (to check a copy). */
  async exportOrphans(): Promise<OrphanCount[]> {
    const { rows } = await this.query<{ scope: string; day: number; reason: OrphanReason; humans: string; bots: string }>(`SELECT scope, day, reason, humans, bots FROM scan_orphans`);
    return rows.map((row) => ({ workspaceId: row.scope === '' ? null : row.scope, day: row.day, reason: row.reason, humans: Number(row.humans), bots: Number(row.bots) }));
  }

  async orphans(query: OrphanQuery): Promise<Map<OrphanReason, number>> {
    const counted = query.includeBots ? 'humans + bots' : 'humans';
    const { rows } = await this.query<{ reason: OrphanReason; scans: string }>(
      `SELECT reason, sum(${counted}) AS scans FROM scan_orphans WHERE scope = $1 AND day >= $2 AND day < $3 GROUP BY reason`,
      [storableText(query.workspaceId ?? ''), query.fromDay, query.toDay],
    );
    const out = new Map<OrphanReason, number>();
    for (const row of rows) if (Number(row.scans) > 0) out.set(row.reason, Number(row.scans));
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }
}
