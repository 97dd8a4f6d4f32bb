import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsService } from '../../analytics/service.js';
import { burstScans, expectedTally, oddPeriodQueries } from '../scans.contract.js';
import type { Scan, StoredScan } from '../scans.js';
import { MIGRATION_NAMES, migrateToLatest, migratorOf } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

const SCAN_COLUMNS = 'id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot, variant, region, city';

/** Packs whose id blocks overlap another's (there must be none: an id is in one pack at most). */
const OVERLAPS = `SELECT count(*)::integer AS n FROM scan_packs a JOIN scan_packs b ON a.first_id < b.first_id AND b.first_id < a.first_id + a.n`;

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

await describePostgres('PostgreSQL scan packs (migration 0009)', (serverUrl) => {
  describe('on a fresh database', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(serverUrl);
      await migrateToLatest(database.pool);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('packs a batch\'s scans of one code and second, from two processes at once: ids in blocks of their own, the view shows each scan as appended', async () => {
      const scans = burstScans(4000, 41);
      const [a, b] = [await PostgresStore.open(database.url, { poolSize: 3 }), await PostgresStore.open(database.url, { poolSize: 3 })];
      const byId = new Map<number, Scan>();
      try {
        await Promise.all(
          [a, b].map(async (store, lane) => {
            for (let start = lane * 250; start < scans.length; start += 500) {
              const batch = scans.slice(start, start + 250);
              (await store.scans.append(batch)).forEach((id, k) => byId.set(id, batch[k] as Scan));
            }
          }),
        );
        expect(byId.size).toBe(scans.length);
        const { rows: shape } = await database.pool.query<{ packs: number; packed: number; rows: number; widest: number; first_ms: number; last_ms: number }>(
          `SELECT (SELECT count(*)::integer FROM scan_packs) AS packs, (SELECT sum(n)::integer FROM scan_packs) AS packed, (SELECT count(*)::integer FROM scan_rows) AS rows,
                  (SELECT max(n) FROM scan_packs) AS widest, (SELECT min(m) FROM scan_packs, unnest(ms) AS m) AS first_ms, (SELECT max(m) FROM scan_packs, unnest(ms) AS m) AS last_ms`,
        );
        // most scans are packed; every pack lies within its second
        expect(shape[0]?.packed).toBeGreaterThan(scans.length * 0.8);
        expect((shape[0]?.packed ?? 0) + (shape[0]?.rows ?? 0)).toBe(scans.length);
        expect(shape[0]?.widest).toBeLessThanOrEqual(250);
        expect(shape[0]?.first_ms).toBeGreaterThanOrEqual(0);
        expect(shape[0]?.last_ms).toBeLessThanOrEqual(999);
        expect((await database.pool.query(OVERLAPS)).rows[0]?.n).toBe(0);
        // the `scans` view: one row a scan, as appended under its id
        const { rows } = await database.pool.query(`SELECT ${SCAN_COLUMNS} FROM scans ORDER BY id`);
        expect(rows.length).toBe(scans.length);
        for (const row of rows) {
          const want = byId.get(Number(row.id)) as Scan;
          expect({ id: Number(row.id), time: (row.scanned_at as Date).getTime(), qrId: row.qr_id, visitor: row.visitor >>> 0, bot: row.bot, variant: row.variant, city: row.city }).toEqual({
            id: Number(row.id),
            time: want.time,
            qrId: want.qrId,
            visitor: want.visitor,
            bot: want.bot,
            variant: want.variant,
            city: want.city,
          });
        }
        for (const query of oddPeriodQueries(12, 20)) {
          const got = await b.scans.tally(query);
          expect({ query, got: { total: got.total, unique: got.unique, periods: got.periods } }).toEqual({ query, got: expectedTally(scans, query) });
        }
        // the roll-ups written batch by batch are what a rebuild from the view gives
        const ROLLUPS = `SELECT (SELECT json_agg(q ORDER BY qr_id, quarter, bot) FROM scan_quarters q) AS quarters, (SELECT json_agg(d ORDER BY qr_id, day, bot, dimension, value) FROM scan_day_values d) AS days`;
        const written = (await database.pool.query(ROLLUPS)).rows;
        await a.scans.rebuildRollups();
        expect((await database.pool.query(ROLLUPS)).rows).toEqual(written);
        // and the id counter is past every id
        const [next] = await a.scans.append([{ ...(scans[0] as Scan), time: Date.parse('2026-04-02T00:00:00Z') }]);
        expect(next).toBeGreaterThan(Math.max(...byId.keys()));
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('imports scans with their ids into packs and rows, skipping those present whichever way they were stored', async () => {
      await database.pool.query('TRUNCATE scan_rows, scan_packs, scan_quarters, scan_day_values, scan_totals, scan_visitor_days, scan_visitor_quarters');
      await database.pool.query('UPDATE scan_ids SET next_id = 0');
      const scans: StoredScan[] = burstScans(3000, 42).map((scan, id) => ({ id, ...scan }));
      const store = await PostgresStore.open(database.url, { poolSize: 3 });
      try {
        // the second import overlaps the first by a thousand ids, cut at other places (a run of one code split otherwise)
        expect(await store.scans.importScans(scans.slice(0, 2000))).toBe(2000);
        expect(await store.scans.importScans(scans.slice(1000, 1777))).toBe(0);
        expect(await store.scans.importScans(scans.slice(1001, 3000))).toBe(1000);
        expect(await store.scans.count()).toBe(3000);
        expect((await database.pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM scan_packs')).rows[0]?.n).toBeGreaterThan(10);
        expect((await database.pool.query(OVERLAPS)).rows[0]?.n).toBe(0);
        expect(await store.scans.maxId()).toBe(2999);
        const exported = (await collect(store.scans.export(0, 400))).flat();
        expect(exported).toEqual(scans);
        expect(await store.scans.humanCount('qr_a')).toBe(scans.filter((s) => s.qrId === 'qr_a' && !s.bot).length);
        const query = { qrId: 'qr_b', from: Date.parse('2026-03-01T05:00:00Z'), to: Date.parse('2026-03-20T17:30:00Z'), includeBots: false, periodStarts: [Date.parse('2026-03-01T05:00:00Z')] };
        const got = await store.scans.tally(query);
        expect({ total: got.total, unique: got.unique, periods: got.periods }).toEqual(expectedTally(scans, query));
        // new scans get ids after the imported ones
        const { id: _copied, ...fresh } = scans[0] as StoredScan;
        const [id] = await store.scans.append([{ ...fresh, time: Date.parse('2026-04-02T00:00:00Z') }]);
        expect(id).toBe(3000);
      } finally {
        await store.close();
      }
    });

    it('lists a workspace newest first over a sparse year and a busy second alike', async () => {
      await database.pool.query('TRUNCATE scan_rows, scan_packs');
      const store = await PostgresStore.open(database.url, { poolSize: 3 });
      try {
        const start = Date.parse('2025-06-01T00:00:00Z');
        const base = { workspaceId: 'ws_sparse', visitor: 1, country: 'FR', device: 'mobile', os: 'iOS', browser: 'Safari', referrer: 'direct', variant: null, region: null, city: null };
        // one scan a fortnight for a year, then 6,000 in one second (windows widen, then narrow)
        const sparse = Array.from({ length: 26 }, (_, n) => ({ ...base, time: start + n * 14 * 86_400_000 + n, qrId: 'qr_s', bot: n % 5 === 0 }));
        const busy = Array.from({ length: 6000 }, (_, n) => ({ ...base, time: Date.parse('2026-06-01T10:00:00Z') + Math.floor(n / 6), qrId: n % 3 ? 'qr_s' : 'qr_t', bot: n % 7 === 0 }));
        const ids = [...(await store.scans.append(sparse)), ...(await store.scans.append(busy))];
        const all = [...sparse, ...busy].map((scan, k) => ({ id: ids[k] as number, ...scan }));
        const want = all.filter((s) => !s.bot).sort((x, y) => y.time - x.time || y.id - x.id);
        expect(await collect(store.scans.newestOfWorkspace('ws_sparse', Infinity, -Infinity))).toEqual(want);
        const [max, min] = [Date.parse('2026-06-01T10:00:00.500Z'), sparse[3]?.time as number];
        expect(await collect(store.scans.newestOfWorkspace('ws_sparse', max, min))).toEqual(want.filter((s) => s.time <= max && s.time >= min));
        expect(await collect(store.scans.newestOfWorkspace('ws_other', Infinity, -Infinity))).toEqual([]);
        // scans on the very edges of the windows (a minute, then ten): none is lost or listed twice
        const t = Date.parse('2026-05-01T00:00:00Z');
        const edges = [t - 660_002, t - 660_001, t - 60_001, t - 60_000, t].map((time) => ({ ...base, workspaceId: 'ws_edge', qrId: 'qr_e', bot: false, time }));
        const edgeIds = await store.scans.append(edges);
        expect(await collect(store.scans.newestOfWorkspace('ws_edge', Infinity, -Infinity))).toEqual(edges.map((scan, k) => ({ id: edgeIds[k], ...scan })).reverse());
        // the events feed takes a page and stops
        const page: StoredScan[] = [];
        for await (const scan of store.scans.newestOfWorkspace('ws_sparse', Infinity, -Infinity)) if (page.push(scan) === 101) break;
        expect(page).toEqual(want.slice(0, 101));
      } finally {
        await store.close();
      }
    });
    it('refuses to number new scans when the id counter has lost its row, and writes nothing', async () => {
      const store = await PostgresStore.open(database.url, { poolSize: 2 });
      const { rows: kept } = await database.pool.query<{ next_id: string }>('DELETE FROM scan_ids RETURNING next_id');
      try {
        const before = await store.scans.count();
        const base = { workspaceId: 'ws_lost', visitor: 1, country: 'FR', device: 'mobile', os: 'iOS', browser: 'Safari', referrer: 'direct', bot: false, variant: null, region: null, city: null };
        await expect(store.scans.append([{ ...base, qrId: 'qr_lost', time: Date.parse('2026-04-03T00:00:00Z') }])).rejects.toThrow('The scan id counter (scan_ids) is empty.');
        expect(await store.scans.count()).toBe(before);
      } finally {
        await database.pool.query('INSERT INTO scan_ids (next_id) VALUES ($1)', [kept[0]?.next_id ?? '0']);
        await store.close();
      }
    });
  });

  describe('on a database of the previous release', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(serverUrl);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('keeps the scans stored one a row, shows them in the view, and numbers new ones after them', async () => {
      await migrateBefore(database.pool, '0009');
      // what 0008's writer left: a partition, two scans (ids 0 and 1), the sequence past them, their total
      await database.pool.query(`CREATE TABLE scans_p202603 PARTITION OF scans FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00')`);
      const time = Date.parse('2026-03-10T12:00:00Z');
      for (const id of [0, 1]) {
        await database.pool.query(`INSERT INTO scans (${SCAN_COLUMNS}) VALUES ($1, $2, 'qr_old', 'ws_1', 7, 'FR', 'mobile', 'iOS', 'Safari', 'direct', false, NULL, NULL, NULL)`, [id, new Date(time + id).toISOString()]);
      }
      await database.pool.query(`SELECT setval('scans_id_seq', 1)`);
      await database.pool.query(`INSERT INTO scan_totals (qr_id, humans, bots) VALUES ('qr_old', 2, 0)`);

      expect(await migrateToLatest(database.pool)).toEqual(MIGRATION_NAMES.filter((name) => name >= '0009'));
      const { rows: partitions } = await database.pool.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'scan_packs'::regclass`);
      expect(partitions.map((p) => p.name)).toEqual(['scan_packs_p202603']);
      const store = await PostgresStore.open(database.url, { poolSize: 2 });
      try {
        expect(await store.scans.get(1)).toMatchObject({ id: 1, qrId: 'qr_old', time: time + 1 });
        const burst = Array.from({ length: 10 }, (_, n) => ({ time: time + 2000 + n, qrId: 'qr_old', workspaceId: 'ws_1', visitor: n, country: 'DE', device: 'mobile', os: 'iOS', browser: 'Safari', referrer: 'direct', bot: false, variant: null, region: null, city: null }));
        expect(await store.scans.append(burst)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        expect((await database.pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM scans')).rows[0]?.n).toBe(12);
        const analytics = new AnalyticsService(store.scans, { now: () => time });
        const answer = await analytics.compute('qr_old', { from: '2026-03-10T11:00:00Z', to: '2026-03-10T13:00:00Z', interval: 'day', tz: 'UTC', include_bots: false });
        expect(answer.total_scans).toBe(12);
        expect(answer.countries).toEqual([
          { value: 'DE', scans: 10 },
          { value: 'FR', scans: 2 },
        ]);
      } finally {
        await store.close();
      }
      // and back down to 0008: one table of rows again, every scan in it
      expect((await migratorOf(database.pool).migrateTo('0008_visitor_days')).error).toBeUndefined();
      expect((await database.pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM scans')).rows[0]?.n).toBe(12);
      expect((await database.pool.query<{ id: string }>(`SELECT nextval('scans_id_seq')::text AS id`)).rows[0]?.id).toBe('12');
    });
  });
});
