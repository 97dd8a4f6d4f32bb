import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATION_NAMES, migrateToLatest } from './migrations.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL migrations under the advisory lock', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('waits for another process migrating for longer than the statement timeout, then finds nothing left to do', async () => {
    // another process holds the lock (it is migrating) for three times the statement and query timeouts
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1::bigint)', [String(0x7172666c6f77)]);
    const pool = new pg.Pool({ connectionString: database.url, max: 3, statement_timeout: 300, query_timeout: 300 });
    try {
      let settled = false;
      const waiting = migrateToLatest(pool).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect(settled).toBe(false);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [String(0x7172666c6f77)]);
      expect(await waiting).toEqual(MIGRATION_NAMES);
      // the second process to come finds the schema made
      expect(await migrateToLatest(pool)).toEqual([]);
    } finally {
      await other.end();
      await pool.end();
    }
  });
});
