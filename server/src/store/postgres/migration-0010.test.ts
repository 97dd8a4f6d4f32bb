import { afterAll, beforeAll, expect, it } from 'vitest';
import { qr } from '../store.contract.js';
import { CapExceededError } from '../store.js';
import { MIGRATION_NAMES, migrateToLatest, migratorOf } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL migration 0010 (code counts per statement)', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  const counts = async () => {
    const { rows } = await database.pool.query<{ workspace_id: string; codes: string }>('SELECT workspace_id, codes FROM qr_counts WHERE codes <> 0 ORDER BY workspace_id');
    return Object.fromEntries(rows.map((row) => [row.workspace_id, Number(row.codes)]));
  };
  const actual = async () => {
    const { rows } = await database.pool.query<{ workspace_id: string; codes: string }>('SELECT workspace_id, count(*) AS codes FROM qrcodes WHERE workspace_id IS NOT NULL GROUP BY workspace_id ORDER BY workspace_id');
    return Object.fromEntries(rows.map((row) => [row.workspace_id, Number(row.codes)]));
  };
  const code = (n: number, workspace: string) => qr(`qr_c${n}`, workspace, `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`, `code${n}`);

  it('keeps the counts 0007 filled exact through multi-row commits, replacements, moves and deletes, and back down', async () => {
    await migrateBefore(database.pool, '0010');
    // counted by 0007's per-row trigger: they must carry over (written as the previous release did, in one statement)
    await database.pool.query(
      'INSERT INTO qrcodes (id, workspace_id, created_at, route_key, domain, data) SELECT c->>\'id\', c->>\'workspace_id\', (c->>\'created_at\')::timestamptz, c->>\'route_key\', NULL, c FROM jsonb_array_elements($1::jsonb) AS c',
      [JSON.stringify([code(1, 'ws_1'), code(2, 'ws_1'), code(3, 'ws_1'), code(4, 'ws_1:test')])],
    );
    expect(await migrateToLatest(database.pool)).toEqual(MIGRATION_NAMES.filter((name) => name >= '0010'));
    const { rows: triggers } = await database.pool.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'qrcodes'::regclass AND tgname LIKE 'qrcodes_count%' ORDER BY tgname`);
    expect(triggers.map((t) => t.tgname)).toEqual(['qrcodes_count_deletes', 'qrcodes_count_inserts', 'qrcodes_count_move']);

    const store = await PostgresStore.open(database.url, { poolSize: 2 });
    try {
      expect(await counts()).toEqual({ ws_1: 3, 'ws_1:test': 1 });
      // one commit of 30 new codes over three workspaces, one of them new: one INSERT statement of 30 rows
      const many = Array.from({ length: 30 }, (_, i) => ({ collection: 'qrcodes' as const, insert: code(10 + i, ['ws_1', 'ws_2', 'ws_3'][i % 3] as string) }));
      await store.commit(many);
      expect(await counts()).toEqual({ ws_1: 13, 'ws_1:test': 1, ws_2: 10, ws_3: 10 });
      // a put of codes that exist already (an update through the upsert) counts nothing again
      await store.commit([{ collection: 'qrcodes', put: { ...code(1, 'ws_1'), name: 'renamed' } }, { collection: 'qrcodes', put: { ...code(10, 'ws_1'), name: 'renamed' } }]);
      expect(await counts()).toEqual({ ws_1: 13, 'ws_1:test': 1, ws_2: 10, ws_3: 10 });
      // a move between workspaces, still per row
      await store.commit([{ collection: 'qrcodes', put: code(11, 'ws_3') }]);
      expect(await counts()).toEqual({ ws_1: 13, 'ws_1:test': 1, ws_2: 9, ws_3: 11 });
      // deletes in one commit across workspaces, and one of an id that does not exist
      await store.commit([1, 2, 12, 13, 999].map((n) => ({ collection: 'qrcodes' as const, delete: `qr_c${n}` })));
      expect(await counts()).toEqual(await actual());
      expect(await counts()).toEqual({ ws_1: 10, 'ws_1:test': 1, ws_2: 9, ws_3: 10 });
      // one statement deleting several codes of two workspaces (as a reset of test data would)
      await database.pool.query(`DELETE FROM qrcodes WHERE id IN ('qr_c14', 'qr_c15', 'qr_c16', 'qr_c17')`);
      expect(await counts()).toEqual(await actual());
      expect(await counts()).toEqual({ ws_1: 9, 'ws_1:test': 1, ws_2: 7, ws_3: 9 });
      // the cap reads the count the statement trigger left, inside the same commit
      await expect(store.commit([{ collection: 'qrcodes', insert: code(100, 'ws_2') }, { collection: 'qrcodes', insert: code(101, 'ws_2') }, { collection: 'qrcodes', insert: code(102, 'ws_2') }, { collection: 'qrcodes', cap: 'ws_2', atMost: 9 }])).rejects.toBeInstanceOf(CapExceededError);
      expect(await counts()).toEqual({ ws_1: 9, 'ws_1:test': 1, ws_2: 7, ws_3: 9 });
      await store.commit([{ collection: 'qrcodes', insert: code(100, 'ws_2') }, { collection: 'qrcodes', insert: code(101, 'ws_2') }, { collection: 'qrcodes', cap: 'ws_2', atMost: 9 }]);
      expect(await counts()).toEqual(await actual());
    } finally {
      await store.close();
    }

    // down again: the per-row trigger counts as before
    const { error } = await migratorOf(database.pool).migrateTo('0009_scan_packs');
    expect(error).toBeUndefined();
    await database.pool.query('INSERT INTO qrcodes (id, workspace_id, created_at, route_key, domain, data) VALUES ($1, $2, $3, $4, NULL, $5)', ['qr_down', 'ws_3', '2026-01-03T00:00:00.000Z', 'down1', JSON.stringify(code(200, 'ws_3'))]);
    expect(await counts()).toEqual(await actual());
    expect((await counts()).ws_3).toBe(10);
  });
});
