import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { AnalyticsQuery } from '../server/src/analytics/service.js';
import { PostgresScans } from '../server/src/store/postgres/scans.js';

const DAY = 24 * 3600_000;
/** The seeded scans run from here over SPAN_DAYS days. */
export const SCANS_START = Date.parse('2026-06-01T00:00:00Z');
export const SCANS_SPAN_DAYS = 100;
/** The 90-day query of issue 14's analytics figure: a daily series in Europe/Paris, bots left out. */
export const NINETY_DAY_QUERY: AnalyticsQuery = { from: '2026-06-05', to: '2026-09-03', interval: 'day', tz: 'Europe/Paris', include_bots: false };

/**
 * Seeds `count` scans on one code straight into PostgreSQL with one `generate_series` INSERT (one distinct visitor
 * hash per scan, the worst case for unique counts; a fiftieth bots), then rebuilds the roll-ups in SQL (the visitor-day
 * ones too) and VACUUMs.
 * The database must be migrated (a PostgresStore opened on it once) and hold no other scans (ids start at 0;
 * rebuildRollups moves the id counter past them). Its own pool, without the store's 10 s statement bound: on a busy
 * machine the roll-up rebuild over 1M scans takes longer.
 */
export async function seedScansOnOneCode(connectionString: string, code: { qrId: string; workspaceId: string }, count: number): Promise<{ scansSeconds: number; rollupsSeconds: number }> {
  const pool = new pg.Pool({ connectionString, max: 2 });
  pool.on('error', () => undefined);
  const store = { scans: new PostgresScans(pool) };
  try {
    let started = performance.now();
    await store.scans.ensurePartitions(Array.from({ length: 5 }, (_, m) => SCANS_START + m * 30 * DAY));
    await pool.query(
      `INSERT INTO scan_rows (id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot)
       SELECT n, to_timestamp(${SCANS_START / 1000}) + (n * ${(SCANS_SPAN_DAYS * DAY) / count}) * interval '1 millisecond', $1, $2, hashtext(n::text),
         (ARRAY['US','FR','DE','GB','IN','BR','JP'])[1 + n % 7], CASE WHEN n % 50 = 0 THEN 'bot' ELSE (ARRAY['mobile','desktop','tablet'])[1 + (n / 7) % 3] END,
         (ARRAY['iOS','Android','Windows','macOS'])[1 + (n / 3) % 4], (ARRAY['Safari','Chrome','Firefox','Edge'])[1 + (n / 11) % 4],
         (ARRAY['direct','news.example','social.example'])[1 + (n / 13) % 3], n % 50 = 0
       FROM generate_series(0::bigint, ${count - 1}) AS n`,
      [code.qrId, code.workspaceId],
    );
    const scansSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await store.scans.rebuildRollups();
    // VACUUM as well: autovacuum would otherwise start on the fresh tables during the measurements
    await pool.query('VACUUM ANALYZE');
    return { scansSeconds, rollupsSeconds: (performance.now() - started) / 1000 };
  } finally {
    await store.scans.close();
    await pool.end();
  }
}
