import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnalyticsService } from '../../analytics/service.js';
import { migrateToLatest } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL migration 0006 (scan dimensions, orphan scans)', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('keeps scans written before it, counted as region and city "unknown" in whole days as in partial ones', async () => {
    // the database as the previous release left it: every migration before 0006, with a scan and its roll-ups
    await migrateBefore(database.pool, '0006');
    await database.pool.query(`CREATE TABLE scans_p202603 PARTITION OF scans FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00')`);
    const time = Date.parse('2026-03-10T12:00:00Z');
    await database.pool.query(`INSERT INTO scans (id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot) VALUES (0, $1, 'qr_old', 'ws_1', 7, 'FR', 'mobile', 'iOS', 'Safari', 'direct', false)`, [new Date(time).toISOString()]);
    const day = Math.floor(time / 86_400_000);
    for (const [dimension, value] of [['country', 'FR'], ['device', 'mobile'], ['os', 'iOS'], ['browser', 'Safari'], ['referrer', 'direct']]) {
      await database.pool.query(`INSERT INTO scan_day_values (qr_id, day, bot, dimension, value, scans) VALUES ('qr_old', $1, false, $2, $3, 1)`, [day, dimension, value]);
    }
    await database.pool.query(`INSERT INTO scan_quarters (qr_id, quarter, bot, scans, visitors) VALUES ('qr_old', $1, false, 1, '{7}')`, [Math.floor(time / 900_000)]);
    await database.pool.query(`INSERT INTO scan_totals (qr_id, humans, bots) VALUES ('qr_old', 1, 0)`);
    await database.pool.query(`SELECT setval('scans_id_seq', 0)`);

    const applied = await migrateToLatest(database.pool);
    expect(applied).toContain('0006_scan_dimensions');
    const store = await PostgresStore.open(database.url, { poolSize: 2 });
    try {
      expect(await store.scans.get(0)).toMatchObject({ qrId: 'qr_old', variant: null, region: null, city: null });
      const analytics = new AnalyticsService(store.scans, { now: () => time });
      const whole = await analytics.compute('qr_old', { from: '2026-03-09', to: '2026-03-12', interval: 'day', tz: 'UTC', include_bots: false });
      const partial = await analytics.compute('qr_old', { from: '2026-03-10T11:00:00Z', to: '2026-03-10T13:00:00Z', interval: 'day', tz: 'UTC', include_bots: false });
      for (const answer of [whole, partial]) {
        expect(answer.total_scans).toBe(1);
        expect(answer.regions).toEqual([{ value: 'unknown', scans: 1 }]);
        expect(answer.cities).toEqual([{ value: 'unknown', scans: 1 }]);
        expect(answer.variants).toEqual([]);
      }
      // a new scan of the same day lands beside it, with its dimensions
      await store.scans.append([{ time: time + 1000, qrId: 'qr_old', workspaceId: 'ws_1', visitor: 8, country: 'DE', device: 'mobile', os: 'iOS', browser: 'Safari', referrer: 'direct', bot: false, variant: 1, region: 'Bavaria', city: 'Munich' }]);
      const after = await analytics.compute('qr_old', { from: '2026-03-09', to: '2026-03-12', interval: 'day', tz: 'UTC', include_bots: false });
      expect(after.regions).toEqual([
        { value: 'Bavaria', scans: 1 },
        { value: 'unknown', scans: 1 },
      ]);
      expect(after.variants).toEqual([{ value: '1', scans: 1 }]);
      await store.scans.addOrphans([{ day, workspaceId: 'ws_1', reason: 'deleted', humans: 2, bots: 0 }]);
      expect((await store.scans.orphans({ workspaceId: 'ws_1', fromDay: day, toDay: day + 1, includeBots: false })).get('deleted')).toBe(2);
    } finally {
      await store.close();
    }
  });
});
