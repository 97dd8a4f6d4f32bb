import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { apiKey, qr, workspace } from '../store.contract.js';
import { UniqueViolationError } from '../store.js';
import { MIGRATION_NAMES } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { TABLES } from './schema.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL store', (serverUrl) => {
  let database: TestDatabase;
  const stores: PostgresStore[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function open(options: Parameters<typeof PostgresStore.open>[1] = {}): Promise<PostgresStore> {
    const store = await PostgresStore.open(database.url, { poolSize: 3, ...options });
    stores.push(store);
    return store;
  }

  it('migrates once when several processes start together on an empty database', async () => {
    await Promise.all([open(), open(), open()]);
    const { rows } = await database.pool.query<{ name: string }>('SELECT name FROM qrflow_migrations ORDER BY name');
    expect(rows.map((row) => row.name)).toEqual([...MIGRATION_NAMES]);
  });

  it('has, after migrating, every column and unique index the adapter writes', async () => {
    await open();
    for (const spec of Object.values(TABLES)) {
      const { rows } = await database.pool.query<{ column_name: string; collation_name: string | null }>(
        'SELECT column_name, collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
        ['public', spec.collection],
      );
      const columns = new Map(rows.map((row) => [row.column_name, row.collation_name]));
      for (const column of ['id', 'data', ...spec.columns]) expect(columns.has(column), `${spec.collection}.${column}`).toBe(true);
      expect(columns.get('id')).toBe('C');
      for (const unique of spec.unique) {
        const index = await database.pool.query('SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2', [spec.collection, unique.constraint]);
        expect(index.rowCount, unique.constraint).toBe(1);
      }
    }
  });

  it('two processes on one database see each other\'s commits at once', async () => {
    const first = await open();
    const second = await open();
    await first.commit([{ collection: 'workspaces', put: workspace('ws_shared', 'Shared') }, { collection: 'qrcodes', put: qr('qr_shared', 'ws_shared', '2026-03-01T00:00:00.000Z', 'shared1') }]);
    expect((await second.findUnique('qrcodes', 'route_key', 'shared1'))?.id).toBe('qr_shared');
    await expect(second.commit([{ collection: 'workspaces', put: workspace('ws_other', 'SHARED') }])).rejects.toBeInstanceOf(UniqueViolationError);
    await second.commit([{ collection: 'qrcodes', put: { ...qr('qr_shared', 'ws_shared', '2026-03-01T00:00:00.000Z', 'shared1'), status: 'paused' } }]);
    expect((await first.get('qrcodes', 'qr_shared'))?.status).toBe('paused');
  });

  it('a queued batch holding an op that breaks a unique index writes the rest and reports the one', async () => {
    const reported: Error[] = [];
    const store = await open({ onFlushError: (error) => reported.push(error) });
    await store.commit([{ collection: 'keys', put: apiKey('key_a', 'ws_1', 'hash_a') }]);
    store.commitSoon([
      { collection: 'keys', put: { ...apiKey('key_a', 'ws_1', 'hash_a'), last_used_at: '2026-03-01T00:00:01.000Z' } },
      { collection: 'keys', put: apiKey('key_b', 'ws_1', 'hash_a') },
      { collection: 'keys', put: apiKey('key_c', 'ws_1', 'hash_c') },
    ]);
    await store.flush();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(UniqueViolationError);
    const { rows } = await database.pool.query<{ id: string }>("SELECT id FROM keys WHERE id IN ('key_a', 'key_b', 'key_c') ORDER BY id");
    expect(rows.map((row) => row.id)).toEqual(['key_a', 'key_c']);
    expect((await store.get('keys', 'key_a'))?.last_used_at).toBe('2026-03-01T00:00:01.000Z');
    expect(await store.get('keys', 'key_b')).toBeUndefined();
  });

  it('stores NUL and unpaired surrogates, which PostgreSQL text cannot hold, as U+FFFD, and looks them up alike', async () => {
    const store = await open();
    const odd = { ...qr('qr_odd', 'ws_1', '2026-03-01T00:00:00.000Z', 'odd\u0000'), name: 'a\u0000b\ud800c\\u0000d' };
    await store.commit([{ collection: 'qrcodes', put: odd }]);
    expect((await store.get('qrcodes', 'qr_odd'))?.name).toBe('a\ufffdb\ufffdc\\u0000d');
    expect((await store.findUnique('qrcodes', 'route_key', 'odd\u0000'))?.id).toBe('qr_odd');
    expect(await store.get('qrcodes', '\u0000')).toBeUndefined();
    expect(await store.findMany('keys', 'workspace_id', '\ud800')).toEqual([]);
    await store.commit([{ collection: 'qrcodes', delete: '\u0000' }]);
  });

  it('refuses to open on a database it cannot reach, saying why', async () => {
    const url = new URL(database.url);
    url.port = '1';
    await expect(PostgresStore.open(url.toString())).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
