import { afterAll, beforeAll } from 'vitest';
import { COLLECTION_NAMES } from '../records.js';
import { describeStoreContract } from '../store.contract.js';
import { describeScanContract } from '../scans.contract.js';
import { PostgresStore } from './postgres-store.js';

// qr_counts too: TRUNCATE fires no row triggers, so the code counts would outlive the codes
const SCAN_TABLES = ['scan_rows', 'scan_packs', 'scan_quarters', 'scan_day_values', 'scan_totals', 'scan_orphans', 'scan_visitor_days', 'scan_visitor_quarters', 'scan_salts', 'qr_counts'];
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL store contract', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  const harness = () => ({
    open: () => PostgresStore.open(database.url, { poolSize: 4, onFlushError: (error) => { throw error; } }),
    reset: async () => {
      // the first test finds no tables yet: its first open migrates
      const { rows } = await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM pg_tables WHERE schemaname = 'public' AND tablename = 'qrcodes'`);
      if (Number(rows[0]?.count) > 0) {
        await database.pool.query(`TRUNCATE ${[...COLLECTION_NAMES, ...SCAN_TABLES].map((name) => `"${name}"`).join(', ')}`);
        await database.pool.query(`UPDATE scan_ids SET next_id = 0`);
      }
    },
  });
  describeStoreContract('PostgreSQL', harness);
  describeScanContract('PostgreSQL (partitioned scans, roll-ups)', harness);
});
