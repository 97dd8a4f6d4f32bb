import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsService, type AnalyticsQuery, type Interval } from '../analytics/service.js';
import { EmbeddedScans } from './embedded/scans.js';
import { QUARTER_HOUR_MS, type Scan, type ScanTallyQuery } from './scans.js';
import type { StoreHarness } from './store.contract.js';
import type { Store } from './store.js';

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function scan(time: number, qrId: string, visitor: number, extra: Partial<Scan> = {}): Scan {
  return { time, qrId, workspaceId: 'ws_1', visitor, country: 'FR', device: 'mobile', os: 'iOS', browser: 'Safari', referrer: 'direct', bot: false, variant: null, region: null, city: null, ...extra };
}

/**
 * Scans over two codes from late February to early April 2026: month ends, both DST changes (US 8 March, EU
 * 29 March), visitors drawn from a small pool so that the same hash recurs within and across days, a tenth bots.
 */
export function generatedScans(count: number, seed = 14): Scan[] {
  const random = prng(seed);
  const start = Date.parse('2026-02-25T00:00:00Z');
  const span = Date.parse('2026-04-06T00:00:00Z') - start;
  const pick = <T,>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const times = Array.from({ length: count }, () => start + Math.floor(random() * span)).sort((a, b) => a - b);
  return times.map((time) =>
    scan(time, pick(['qr_a', 'qr_a', 'qr_b']), pick([0, 1, 2, 7, 0x7fffffff, 0x80000000, 0xffffffff, ...Array.from({ length: 300 }, (_, k) => 1000 + k * 7919)]), {
      workspaceId: 'ws_1',
      country: pick(['FR', 'US', 'IN', 'NP', '']),
      device: pick(['mobile', 'desktop', 'tablet']),
      os: pick(['iOS', 'Android', 'Windows']),
      browser: pick(['Safari', 'Chrome', 'Firefox', 'unknown']),
      referrer: pick(['direct', 'example.com', 'news.example', 'unknown']),
      bot: random() < 0.1,
      variant: pick([null, 0, 1, 1, 2, 9]),
      ...pick<Pick<Scan, 'region' | 'city'>>([
        { region: null, city: null },
        { region: 'Bavaria', city: 'Munich' },
        { region: 'Hesse', city: 'Frankfurt am Main' },
        { region: 'California', city: null },
        { region: null, city: 'Vaduz' },
        { region: 'Île-de-France', city: 'Paris' },
      ]),
    }),
  );
}

/**
 * Bursts, as a busy code sees them: 5 to 300 scans of one code a few milliseconds apart (some across a second's end),
 * now and then one of another code or workspace between them, at random moments from late February to early April
 * 2026 (month ends and DST changes among them), a tenth bots. On PostgreSQL a batch's scans of one code and second
 * are packed. In time order, as they arrive.
 */
export function burstScans(count: number, seed = 15): Scan[] {
  const random = prng(seed);
  const start = Date.parse('2026-02-25T00:00:00Z');
  const span = Date.parse('2026-04-06T00:00:00Z') - start;
  const pick = <T,>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const out: Scan[] = [];
  while (out.length < count) {
    let time = start + Math.floor(random() * span);
    if (random() < 0.3) time = Math.floor(time / 1000) * 1000 + 990;
    const code = pick(['qr_a', 'qr_a', 'qr_b']);
    for (let n = 5 + Math.floor(random() * 296); n > 0 && out.length < count; n--) {
      time += Math.floor(random() * 4);
      const other = random() < 0.05;
      out.push(
        scan(time, other ? pick(['qr_a', 'qr_b', 'qr_c']) : code, pick([0, 1, 2, 0xffffffff, ...Array.from({ length: 50 }, (_, k) => 1000 + k * 7919)]), {
          workspaceId: other && random() < 0.5 ? 'ws_2' : 'ws_1',
          country: pick(['FR', 'US', '']),
          device: pick(['mobile', 'desktop']),
          browser: pick(['Safari', 'Chrome', 'say "hi"', 'back\\slash']),
          referrer: pick(['direct', 'news.example', '{a,b}', 'NULL']),
          bot: random() < 0.1,
          variant: pick([null, 0, 1]),
          region: pick([null, 'Bavaria', 'Île-de-France']),
          city: pick([null, 'Paris', 'tab\there']),
        }),
      );
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Ranges, time zones and intervals the adapters must answer identically. */
function queries(): Array<{ qrId: string; query: AnalyticsQuery }> {
  const random = prng(99);
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
  const intervals: Interval[] = ['day', 'week', 'month'];
  const out: Array<{ qrId: string; query: AnalyticsQuery }> = [];
  const base = Date.parse('2026-02-24T00:00:00Z');
  for (let n = 0; n < 42; n++) {
    const tz = zones[n % zones.length] as string;
    const interval = intervals[n % 3] as Interval;
    // whole UTC days, arbitrary milliseconds, and ranges shorter than a day
    const shape = n % 4;
    let from = base + Math.floor(random() * 30) * DAY;
    let to = from + (1 + Math.floor(random() * 20)) * DAY;
    if (shape === 1) from += Math.floor(random() * DAY);
    if (shape >= 1) to -= Math.floor(random() * DAY);
    if (shape === 3) to = from + Math.floor(random() * 20 * HOUR);
    out.push({ qrId: n % 5 === 0 ? 'qr_b' : 'qr_a', query: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), interval, tz, include_bots: n % 2 === 0 } });
  }
  // the whole span, and an unknown code
  out.push({ qrId: 'qr_a', query: { from: '2026-02-01', to: '2026-05-01', interval: 'day', tz: 'Europe/Paris', include_bots: false } });
  out.push({ qrId: 'qr_none', query: { from: '2026-02-01', to: '2026-05-01', interval: 'week', tz: 'UTC', include_bots: true } });
  return out;
}

/** What `tally` must answer on `scans`, counted the plain way: visitor-days are distinct (UTC day, hash) pairs. */
export function expectedTally(scans: Scan[], query: ScanTallyQuery): { total: number; unique: number; periods: Array<{ scans: number; unique: number }> } {
  const starts = query.periodStarts;
  const periods = starts.map(() => ({ scans: 0, seen: new Set<string>() }));
  const seen = new Set<string>();
  for (const s of scans) {
    if (s.qrId !== query.qrId || s.time < query.from || s.time >= query.to || (s.bot && !query.includeBots)) continue;
    let k = 0;
    while (k + 1 < starts.length && (starts[k + 1] as number) <= s.time) k++;
    const key = `${Math.floor(s.time / DAY)}:${s.visitor >>> 0}`;
    seen.add(key);
    const period = periods[k] as { scans: number; seen: Set<string> };
    period.scans++;
    period.seen.add(key);
  }
  return { total: periods.reduce((n, p) => n + p.scans, 0), unique: seen.size, periods: periods.map((p) => ({ scans: p.scans, unique: p.seen.size })) };
}

/**
 * Tally queries with period starts anywhere on quarter hours: several within one UTC day (segments in the middle of
 * a day, which first and last quarter hours alone cannot count), empty periods, ranges on and off day boundaries.
 */
export function oddPeriodQueries(seed: number, count: number): ScanTallyQuery[] {
  const random = prng(seed);
  const base = Date.parse('2026-02-25T00:00:00Z');
  const out: ScanTallyQuery[] = [];
  for (let n = 0; n < count; n++) {
    let from = base + Math.floor(random() * 30) * DAY;
    let to = from + (1 + Math.floor(random() * 12)) * DAY;
    if (n % 3 === 1) from += Math.floor(random() * DAY);
    if (n % 3 === 2) to -= Math.floor(random() * DAY);
    const cuts: number[] = [];
    for (let c = Math.floor(random() * 30); c > 0; c--) {
      const quarter = Math.ceil(from / QUARTER_HOUR_MS) + Math.floor(random() * ((to - from) / QUARTER_HOUR_MS));
      cuts.push(quarter * QUARTER_HOUR_MS);
      // now and then a second cut a few quarter hours later (a middle segment) or at the same time (an empty period)
      if (random() < 0.4) cuts.push((quarter + Math.floor(random() * 8)) * QUARTER_HOUR_MS);
    }
    const starts = [from, ...cuts.filter((t) => t > from && t < to).sort((a, b) => a - b)];
    out.push({ qrId: n % 4 === 0 ? 'qr_b' : 'qr_a', from, to, includeBots: n % 2 === 0, periodStarts: starts });
  }
  return out;
}

/**
 * Appends `scans` to the store and to the reference log alike, in batches of varied size (so roll-up rows are merged
 * as they are in service); returns each scan by the id the store gave it.
 */
async function appendToBoth(store: Store, expected: EmbeddedScans, scans: Scan[]): Promise<Map<number, Scan>> {
  const byId = new Map<number, Scan>();
  for (let start = 0, n = 0; start < scans.length; n++) {
    const size = [1, 37, 250, 900][n % 4] as number;
    const batch = scans.slice(start, start + size);
    const [ids] = await Promise.all([store.scans.append(batch), expected.append(batch)]);
    ids.forEach((id, k) => byId.set(id, batch[k] as Scan));
    start += size;
  }
  return byId;
}

/** Every query of `queries()` answers to the row as the reference log answers it. */
async function expectSameAnalytics(store: Store, expected: EmbeddedScans): Promise<{ actual: AnalyticsService; oracle: AnalyticsService }> {
  const clock = { now: () => Date.parse('2026-04-01T12:00:00Z') };
  const actual = new AnalyticsService(store.scans, clock);
  const oracle = new AnalyticsService(expected, clock);
  for (const { qrId, query } of queries()) {
    const [got, want] = await Promise.all([actual.compute(qrId, query), oracle.compute(qrId, query)]);
    expect({ qrId, query, answer: got }).toEqual({ qrId, query, answer: want });
  }
  return { actual, oracle };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** The scan-storage half of the contract: what both adapters' `store.scans` must do. */
export function describeScanContract(name: string, harness: () => StoreHarness): void {
  describe(`scan storage contract: ${name}`, () => {
    const open: Store[] = [];
    const directories: string[] = [];
    const openStore = async () => {
      const store = await harness().open();
      open.push(store);
      return store;
    };
    const closeAll = async () => {
      for (const store of open.splice(0)) await store.close();
    };
    /** The embedded scan log in a directory of its own: the reference answers come from it. */
    const reference = async (): Promise<EmbeddedScans> => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-scan-reference-'));
      directories.push(directory);
      return new EmbeddedScans(path.join(directory, 'qrflow.json'));
    };

    beforeEach(async () => {
      await harness().reset();
    });
    afterEach(closeAll);
    afterAll(() => {
      for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
    });

    it('gives appended scans distinct ids, and get returns each one as appended', async () => {
      const store = await openStore();
      const batch = [scan(Date.parse('2026-03-01T10:00:00Z'), 'qr_a', 5), scan(Date.parse('2026-03-01T10:00:01Z'), 'qr_a', 6, { bot: true, device: 'bot' })];
      const ids = await store.scans.append(batch);
      expect(new Set(ids).size).toBe(2);
      expect(await store.scans.get(ids[0] as number)).toEqual({ id: ids[0], ...batch[0] });
      expect(await store.scans.get(ids[1] as number)).toEqual({ id: ids[1], ...batch[1] });
      expect(await store.scans.get(987654321)).toBeUndefined();
      expect(await store.scans.humanCount('qr_a')).toBe(1);
      expect(await store.scans.humanCount('qr_other')).toBe(0);
      expect(await store.scans.count()).toBe(2);
    });

    it('keeps every text and time exactly as appended: quotes, backslashes, braces, "NULL", \\N, tabs, line breaks, empty, non-Latin; one batch over a month end', async () => {
      const store = await openStore();
      const awkward = ['say "hi"', 'back\\slash', '{a,b}', 'NULL', '', 'a, b', ' padded ', 'Zürich — 東京 🚀', '\\"{}', '\\N', 'tab\there', 'line\nbreak\r\n', '\\\t\\n'];
      const batch = awkward.map((text, n) =>
        scan(Date.parse('2026-03-31T23:59:59.997Z') + n, `qr_${n % 2}`, n, { referrer: text, browser: awkward[(n + 1) % awkward.length] as string, region: n % 3 && text ? text : null, city: n % 2 || !text ? null : text, variant: n % 4 === 0 ? null : n }),
      );
      const ids = await store.scans.append(batch);
      for (const [n, id] of ids.entries()) expect(await store.scans.get(id)).toEqual({ id, ...batch[n] });
      expect(await store.scans.count()).toBe(awkward.length);
    });

    it('writes an append within a second without being asked to flush', async () => {
      const store = await openStore();
      const started = Date.now();
      const [id] = await store.scans.append([scan(Date.parse('2026-03-02T00:00:00Z'), 'qr_a', 1)]);
      expect(Date.now() - started).toBeLessThan(1000);
      await closeAll();
      const reopened = await openStore();
      expect((await reopened.scans.get(id as number))?.qrId).toBe('qr_a');
    });

    it('keeps every appended scan across close, also those still waiting for their batch', async () => {
      const store = await openStore();
      const pending = Array.from({ length: 50 }, (_, n) => store.scans.append([scan(Date.parse('2026-03-03T00:00:00Z') + n, 'qr_a', n)]));
      await store.close();
      open.splice(open.indexOf(store), 1);
      const ids = (await Promise.all(pending)).flat();
      const reopened = await openStore();
      expect(await reopened.scans.humanCount('qr_a')).toBe(50);
      for (const id of ids) expect(await reopened.scans.get(id)).toBeDefined();
    });

    it('lists a workspace newest first without bots, within the bounds, then exports every scan in id order', async () => {
      const store = await openStore();
      const t = Date.parse('2026-03-31T23:59:59Z'); // across a month boundary: two partitions on PostgreSQL
      const ids = await store.scans.append([
        scan(t, 'qr_a', 1),
        scan(t + 1, 'qr_a', 2, { bot: true }),
        scan(t + 2000, 'qr_b', 3),
        scan(t + 2000, 'qr_b', 4, { workspaceId: 'ws_2' }),
        scan(t + 2000, 'qr_a', 5),
      ]);
      const listed = await collect(store.scans.newestOfWorkspace('ws_1', Infinity, -Infinity));
      expect(listed.map((s) => s.id)).toEqual([ids[4], ids[2], ids[0]]);
      const bounded = await collect(store.scans.newestOfWorkspace('ws_1', t + 1000, t));
      expect(bounded.map((s) => s.id)).toEqual([ids[0]]);
      const exported = (await collect(store.scans.export(0, 2))).flat();
      expect(exported.map((s) => s.id)).toEqual([...ids].sort((a, b) => a - b));
      expect(exported.find((s) => s.id === ids[1])?.bot).toBe(true);
    });

    it('keeps bursts of one code (packed on PostgreSQL) as appended: by id, newest first, exported, and in analytics to the row', async () => {
      const scans = burstScans(3000);
      const store = await openStore();
      const expected = await reference();
      const byId = await appendToBoth(store, expected, scans);
      expect(byId.size).toBe(scans.length);
      const ids = [...byId.keys()];
      for (let k = 0; k < ids.length; k += 7) expect(await store.scans.get(ids[k] as number)).toEqual({ id: ids[k], ...byId.get(ids[k] as number) });
      expect(await store.scans.count()).toBe(scans.length);
      // everything, in id order, each scan as appended under its id
      const exported = (await collect(store.scans.export(0, 500))).flat();
      expect(exported.map((s) => s.id)).toEqual([...ids].sort((a, b) => a - b));
      for (const s of exported) expect(s).toEqual({ id: s.id, ...byId.get(s.id) });
      // newest first by time, then id; the same scans as the reference lists (scans of one millisecond may be numbered apart)
      const canonical = (list: Array<Scan & { id: number }>) => list.map(({ id: _id, ...rest }) => JSON.stringify(rest)).sort();
      const t = Date.parse('2026-03-15T00:00:00Z');
      for (const [max, min] of [[Infinity, -Infinity], [t, t - 9 * DAY], [t + 1000, t]] as const) {
        const listed = await collect(store.scans.newestOfWorkspace('ws_1', max, min));
        const want = await collect(expected.newestOfWorkspace('ws_1', max, min));
        expect(listed.length).toBe(want.length);
        expect(canonical(listed)).toEqual(canonical(want));
        for (let k = 1; k < listed.length; k++) {
          const [a, b] = [listed[k - 1] as Scan & { id: number }, listed[k] as Scan & { id: number }];
          expect(a.time > b.time || (a.time === b.time && a.id > b.id)).toBe(true);
        }
        for (const s of listed) expect(s).toEqual({ id: s.id, ...byId.get(s.id) });
      }
      await expectSameAnalytics(store, expected);
      for (const query of oddPeriodQueries(6, 20)) {
        const got = await store.scans.tally(query);
        expect({ query, got: { total: got.total, unique: got.unique, periods: got.periods } }).toEqual({ query, got: expectedTally(scans, query) });
      }
      await expected.close();
    });

    it('answers analytics to the row as the embedded scan log does, across months, DST changes and time zones', async () => {
      const scans = generatedScans(4000);
      const store = await openStore();
      const expected = await reference();
      await appendToBoth(store, expected, scans);
      const { actual, oracle } = await expectSameAnalytics(store, expected);
      // each scan in the period of its own local date (Intl, scan by scan): the period starts the service finds are right
      for (const { qrId, query } of queries()) {
        const want = await oracle.compute(qrId, query);
        const format = new Intl.DateTimeFormat('en-CA', { timeZone: query.tz, year: 'numeric', month: '2-digit', day: '2-digit' });
        const periodOf = (time: number) => {
          const date = format.format(time);
          if (query.interval === 'day') return date;
          if (query.interval === 'month') return date.slice(0, 7);
          const utc = Date.parse(`${date}T00:00:00Z`);
          return new Date(utc - ((new Date(utc).getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
        };
        const counted = new Map<string, number>();
        for (const s of scans) {
          if (s.qrId !== qrId || s.time < Date.parse(want.from) || s.time >= Date.parse(want.to) || (s.bot && !query.include_bots)) continue;
          counted.set(periodOf(s.time), (counted.get(periodOf(s.time)) ?? 0) + 1);
        }
        expect({ query, series: want.timeseries.filter((p) => p.scans > 0).map((p) => [p.period, p.scans]) }).toEqual({ query, series: [...counted].sort(([a], [b]) => (a < b ? -1 : 1)) });
      }
      // and the reference itself counts what the scans say (total, humans) for the whole span
      const whole = await actual.compute('qr_a', { from: '2026-02-01', to: '2026-05-01', interval: 'month', tz: 'UTC', include_bots: false });
      const humans = scans.filter((s) => s.qrId === 'qr_a' && !s.bot);
      expect(whole.total_scans).toBe(humans.length);
      // unique scans are visitor-days: a hash seen on two UTC days counts on each
      expect(whole.unique_scans).toBe(new Set(humans.map((s) => `${Math.floor(s.time / DAY)}:${s.visitor}`)).size);
      expect(whole.timeseries.map((p) => p.period)).toEqual(['2026-02', '2026-03', '2026-04']);
      expect(await store.scans.humanCount('qr_a')).toBe(humans.length);
      await expected.close();
    });

    it('counts visitor-days per period as the scans say, whatever the periods: cuts inside a UTC day, empty periods', async () => {
      const scans = generatedScans(3000, 21);
      const store = await openStore();
      for (let start = 0; start < scans.length; start += 700) await store.scans.append(scans.slice(start, start + 700));
      for (const query of oddPeriodQueries(5, 40)) {
        const got = await store.scans.tally(query);
        expect({ query, got: { total: got.total, unique: got.unique, periods: got.periods } }).toEqual({ query, got: expectedTally(scans, query) });
      }
    });

    it('counts a period in the time zone asked for: a scan late on a UTC day falls on the next local day', async () => {
      const store = await openStore();
      // 2026-03-29 is the EU switch to summer time; 23:30 UTC is 01:30 the next day in Paris
      await store.scans.append([scan(Date.parse('2026-03-28T23:30:00Z'), 'qr_a', 1), scan(Date.parse('2026-03-29T23:30:00Z'), 'qr_a', 1), scan(Date.parse('2026-03-30T12:00:00Z'), 'qr_a', 2)]);
      const analytics = new AnalyticsService(store.scans, { now: () => 0 });
      const answer = await analytics.compute('qr_a', { from: '2026-03-27', to: '2026-04-02', interval: 'day', tz: 'Europe/Paris', include_bots: false });
      expect(answer.total_scans).toBe(3);
      // visitor-days: hash 1 on two UTC days counts twice (with real salts they would be two hashes anyway)
      expect(answer.unique_scans).toBe(3);
      expect(answer.timeseries.filter((p) => p.scans > 0)).toEqual([
        { period: '2026-03-29', scans: 1, unique_scans: 1 },
        { period: '2026-03-30', scans: 2, unique_scans: 2 },
      ]);
      expect(answer.countries).toEqual([{ value: 'FR', scans: 3 }]);
    });

    it('keeps variant, region and city of each scan and breaks them down, a scan without a variant in no variant', async () => {
      const store = await openStore();
      const t = Date.parse('2026-03-10T08:00:00Z');
      const batch = [
        scan(t, 'qr_a', 1, { variant: 0, region: 'Bavaria', city: 'Munich' }),
        scan(t + 1, 'qr_a', 2, { variant: 1, region: 'Bavaria', city: 'Nuremberg' }),
        scan(t + 2, 'qr_a', 3, { variant: 1, region: 'Hesse', city: null }),
        scan(t + 3, 'qr_a', 4),
        scan(t + 4, 'qr_a', 5, { variant: 0, bot: true, region: 'Hesse', city: 'Kassel' }),
      ];
      const ids = await store.scans.append(batch);
      expect(await store.scans.get(ids[1] as number)).toEqual({ id: ids[1], ...batch[1] });
      expect(await store.scans.get(ids[3] as number)).toEqual({ id: ids[3], ...batch[3] });
      const analytics = new AnalyticsService(store.scans, { now: () => t });
      // one range inside a day (read from the scans) and one over whole days (read from the roll-ups on PostgreSQL)
      for (const [from, to] of [['2026-03-10T07:00:00Z', '2026-03-10T09:00:00Z'], ['2026-03-09', '2026-03-12']] as const) {
        const answer = await analytics.compute('qr_a', { from, to, interval: 'day', tz: 'UTC', include_bots: false });
        expect(answer.variants).toEqual([
          { value: '1', scans: 2 },
          { value: '0', scans: 1 },
        ]);
        expect(answer.regions).toEqual([
          { value: 'Bavaria', scans: 2 },
          { value: 'Hesse', scans: 1 },
          { value: 'unknown', scans: 1 },
        ]);
        expect(answer.cities).toEqual([
          { value: 'unknown', scans: 2 },
          { value: 'Munich', scans: 1 },
          { value: 'Nuremberg', scans: 1 },
        ]);
        const withBots = await analytics.compute('qr_a', { from, to, interval: 'day', tz: 'UTC', include_bots: true });
        expect(withBots.variants).toEqual([
          { value: '0', scans: 2 },
          { value: '1', scans: 2 },
        ]);
      }
    });

    it('keeps one visitor salt per UTC day, the first offered (insert-if-absent), durably, and destroys the day before yesterday\'s', async () => {
      const store = await openStore();
      const day = Math.floor(Date.parse('2026-03-10T00:00:00Z') / DAY);
      const [a, b, c] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
      // asked at once (two processes at midnight): both get the same one
      const [first, second] = await Promise.all([store.scans.daySalt(day, a), store.scans.daySalt(day, b)]);
      expect(first.equals(second)).toBe(true);
      expect(first.equals(a) || first.equals(b)).toBe(true);
      expect((await store.scans.daySalt(day + 1, c)).equals(c)).toBe(true);
      await closeAll();
      const reopened = await openStore();
      expect((await reopened.scans.daySalt(day, c)).equals(first)).toBe(true);
      // tomorrow's (day + 2) destroys the day before yesterday's (day): asked again, it is a new one
      await reopened.scans.daySalt(day + 2, c);
      expect((await reopened.scans.daySalt(day + 1, a)).equals(c)).toBe(true);
      expect((await reopened.scans.daySalt(day, c)).equals(c)).toBe(true);
    });

    it('counts orphan scans per scope, day and reason, durably, and answers ranges of days', async () => {
      const store = await openStore();
      const day = Math.floor(Date.parse('2026-03-10T00:00:00Z') / DAY);
      await store.scans.addOrphans([
        { day, workspaceId: 'ws_1', reason: 'paused', humans: 3, bots: 1 },
        { day, workspaceId: 'ws_1', reason: 'deleted', humans: 2, bots: 0 },
        { day: day + 1, workspaceId: 'ws_1', reason: 'paused', humans: 1, bots: 0 },
        { day: day + 5, workspaceId: 'ws_1', reason: 'expired', humans: 4, bots: 2 },
        { day, workspaceId: 'ws_1:test', reason: 'paused', humans: 7, bots: 0 },
        { day, workspaceId: 'ws_2', reason: 'limit_reached', humans: 9, bots: 0 },
        { day, workspaceId: null, reason: 'unknown', humans: 11, bots: 5 },
      ]);
      // added again in a later batch: counts add up
      await store.scans.addOrphans([{ day, workspaceId: 'ws_1', reason: 'paused', humans: 1, bots: 0 }]);
      const asObject = (map: Map<string, number>) => Object.fromEntries([...map].sort());
      const ask = async (workspaceId: string | null, fromDay: number, toDay: number, includeBots = false) => asObject(await store.scans.orphans({ workspaceId, fromDay, toDay, includeBots }));
      expect(await ask('ws_1', day, day + 2)).toEqual({ deleted: 2, paused: 5 });
      expect(await ask('ws_1', day, day + 2, true)).toEqual({ deleted: 2, paused: 6 });
      expect(await ask('ws_1', day + 1, day + 6)).toEqual({ expired: 4, paused: 1 });
      expect(await ask('ws_1', day + 6, day + 30)).toEqual({});
      expect(await ask('ws_1:test', day, day + 1)).toEqual({ paused: 7 });
      expect(await ask('ws_2', day, day + 1)).toEqual({ limit_reached: 9 });
      expect(await ask(null, day, day + 1, true)).toEqual({ unknown: 16 });
      expect(await ask('ws_3', day, day + 1)).toEqual({});
      await closeAll();
      const reopened = await openStore();
      expect(asObject(await reopened.scans.orphans({ workspaceId: 'ws_1', fromDay: day, toDay: day + 6, includeBots: true }))).toEqual({ deleted: 2, expired: 6, paused: 6 });
    });
  });
}
