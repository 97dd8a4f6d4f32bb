import { afterAll, beforeAll } from 'vitest';
import { COLLECTION_NAMES } from '../records.js';
import { describeStoreContract } from '../store.contract.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL store contract', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  describeStoreContract('PostgreSQL', () => ({
    open: () => PostgresStore.open(database.url, { poolSize: 4, onFlushError: (error) => { throw error; } }),
    reset: async () => {
      // the first test finds no tables yet: its first open migrates
      const { rows } = await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM pg_tables WHERE schemaname = 'public' AND tablename = 'qrcodes'`);
      if (Number(rows[0]?.count) > 0) await database.pool.query(`TRUNCATE ${COLLECTION_NAMES.map((name) => `"${name}"`).join(', ')}`);
    },
  }));
});
