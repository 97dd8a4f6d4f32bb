import { afterAll, beforeAll, describe, it } from 'vitest';
import { COLLECTION_NAMES } from '../records.js';
import { describeStoreContract } from '../store.contract.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, probeTestServer, type TestDatabase } from './test-database.js';

const server = await probeTestServer();

if ('reason' in server) {
  if (process.env.CI === 'true') {
    describe('Store contract: PostgreSQL', () => {
      it('runs in CI, which must reach PostgreSQL', () => {
        throw new Error(`The PostgreSQL suite cannot run: ${server.reason}`);
      });
    });
  } else {
    console.log(`PostgreSQL store suite skipped: ${server.reason}`);
    describe.skip('Store contract: PostgreSQL', () => {
      it('needs a PostgreSQL server', () => undefined);
    });
  }
} else {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(server.url);
  });

  afterAll(async () => {
    await database?.drop();
  });

  describeStoreContract('PostgreSQL', () => ({
    open: () => PostgresStore.open(database.url, { poolSize: 4, onFlushError: (error) => { throw error; } }),
    reset: async () => {
      // the first test finds no tables yet: the first open migrates
      const { rows } = await database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM pg_tables WHERE schemaname = 'public' AND tablename = 'qrcodes'`);
      if (Number(rows[0]?.count) > 0) await database.pool.query(`TRUNCATE ${COLLECTION_NAMES.map((name) => `"${name}"`).join(', ')}`);
    },
  }));
}
