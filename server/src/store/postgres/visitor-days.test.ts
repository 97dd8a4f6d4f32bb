import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedTally, generatedScans, oddPeriodQueries } from '../scans.contract.js';
import { migrateToLatest } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

/** Deterministic shuffle (a linear congruential generator), so a failure can be replayed. */
function shuffled<T>(values: T[], seed: number): T[] {
  const out = [...values];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const ROLLUPS = `SELECT qr_id, quarter::text, with_bots, firsts, lasts FROM scan_visitor_quarters WHERE firsts <> 0 OR lasts <> 0 ORDER BY 1, 2, 3`;

await describePostgres('PostgreSQL visitor-day roll-ups (migration 0008)', (serverUrl) => {
  describe('written by two processes at once, out of time order', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(serverUrl);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('count what the scans say, and what a rebuild from the scans says', async () => {
      const scans = generatedScans(3000, 33);
      // batches of varied size in shuffled order, each shuffled too: visitor-days are extended backwards and forwards
      const batches: (typeof scans)[] = [];
      for (let start = 0, n = 0; start < scans.length; n++) {
        const size = [3, 80, 400][n % 3] as number;
        batches.push(shuffled(scans.slice(start, start + size), n));
        start += size;
      }
      const order = shuffled(batches, 7);
      const [a, b] = [await PostgresStore.open(database.url, { poolSize: 3 }), await PostgresStore.open(database.url, { poolSize: 3 })];
      try {
        // two stores writing at once, as two processes: their batches meet on the same visitor-day rows
        await Promise.all([a, b].map(async (store, lane) => {
          for (let n = lane; n < order.length; n += 2) await store.scans.append(order[n] as typeof scans);
        }));
        for (const query of oddPeriodQueries(11, 30)) {
          const got = await a.scans.tally(query);
          expect({ query, got: { total: got.total, unique: got.unique, periods: got.periods } }).toEqual({ query, got: expectedTally(scans, query) });
        }
        const written = (await database.pool.query(ROLLUPS)).rows;
        await a.scans.rebuildRollups();
        expect((await database.pool.query(ROLLUPS)).rows).toEqual(written);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('migration 0008', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(serverUrl);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('fills the visitor-day roll-ups from the scans kept before it, and drops the quarter hours\' visitor arrays', async () => {
      // the database as the previous release left it, with scans written by that release's batch writer (a copy
      // of its roll-ups, rebuilt here in SQL as it would have written them)
      await migrateBefore(database.pool, '0008');
      const scans = generatedScans(1500, 44);
      await database.pool.query(`CREATE TABLE scans_p202602 PARTITION OF scans FOR VALUES FROM ('2026-02-01 00:00:00+00') TO ('2026-03-01 00:00:00+00')`);
      await database.pool.query(`CREATE TABLE scans_p202603 PARTITION OF scans FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00')`);
      await database.pool.query(`CREATE TABLE scans_p202604 PARTITION OF scans FOR VALUES FROM ('2026-04-01 00:00:00+00') TO ('2026-05-01 00:00:00+00')`);
      await database.pool.query(
        `INSERT INTO scans (id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[])`,
        [
          scans.map((_, n) => n),
          scans.map((s) => new Date(s.time).toISOString()),
          scans.map((s) => s.qrId),
          scans.map((s) => s.workspaceId),
          scans.map((s) => s.visitor | 0),
          scans.map((s) => s.country),
          scans.map((s) => s.device),
          scans.map((s) => s.os),
          scans.map((s) => s.browser),
          scans.map((s) => s.referrer),
          scans.map((s) => s.bot),
        ],
      );
      await database.pool.query(`INSERT INTO scan_quarters (qr_id, quarter, bot, scans, visitors) SELECT qr_id, div((extract(epoch FROM scanned_at) * 1000)::bigint, 900000), bot, count(*), array_agg(DISTINCT visitor) FROM scans GROUP BY 1, 2, 3`);
      await database.pool.query(`SELECT setval('scans_id_seq', ${scans.length - 1})`);

      expect(await migrateToLatest(database.pool)).toContain('0008_visitor_days');
      const { rows: columns } = await database.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'scan_quarters' ORDER BY column_name`);
      expect(columns.map((c) => c.column_name)).toEqual(['bot', 'qr_id', 'quarter', 'scans']);
      const store = await PostgresStore.open(database.url, { poolSize: 2 });
      try {
        for (const query of oddPeriodQueries(12, 20)) {
          const got = await store.scans.tally(query);
          expect({ query, got: { total: got.total, unique: got.unique, periods: got.periods } }).toEqual({ query, got: expectedTally(scans, query) });
        }
        // a new batch adds to the backfilled rows
        const later = generatedScans(500, 45);
        await store.scans.append(later);
        for (const query of oddPeriodQueries(13, 10)) {
          const got = await store.scans.tally(query);
          expect({ query, unique: got.unique, periods: got.periods.map((p) => p.unique) }).toEqual({ query, unique: expectedTally([...scans, ...later], query).unique, periods: expectedTally([...scans, ...later], query).periods.map((p) => p.unique) });
        }
      } finally {
        await store.close();
      }
    });
  });
});
