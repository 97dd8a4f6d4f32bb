import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATION_NAMES, migrateToLatest } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL migration 0004 (custom domains)', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('moves codes of a database made before custom domains to route keys, and lets a short code live on two domains', async () => {
    // the database as the previous release left it: 0001 only, with a code in it
    await migrateBefore(database.pool, '0002');
    const old = { id: 'qr_old', workspace_id: 'ws_1', name: 'Old', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/', content: null, short_code: 'abc1234', status: 'active', tags: [], style: {}, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' };
    await database.pool.query('INSERT INTO qrcodes (id, workspace_id, created_at, short_code, data) VALUES ($1, $2, $3, $4, $5)', [old.id, old.workspace_id, old.created_at, old.short_code, JSON.stringify(old)]);

    // every later migration follows (whatever their number): 0002 to 0004 are the ones this test is about
    const applied = await migrateToLatest(database.pool);
    expect(applied.slice(0, 3)).toEqual(['0002_change_notify', '0003_scans', '0004_custom_domains']);
    expect(applied).toEqual(MIGRATION_NAMES.slice(1));
    const store = await PostgresStore.open(database.url, { poolSize: 2 });
    try {
      expect(await store.findUnique('qrcodes', 'route_key', 'abc1234')).toMatchObject({ id: 'qr_old', short_code: 'abc1234', route_key: 'abc1234', domain: null });
      await store.commit([{ collection: 'qrcodes', put: { ...(await store.get('qrcodes', 'qr_old'))!, id: 'qr_twin', domain: 'go.acme.com', route_key: 'go.acme.com/abc1234' } }]);
      expect(await store.countMany('qrcodes', 'domain', 'go.acme.com')).toBe(1);
      await expect(store.commit([{ collection: 'qrcodes', put: { ...(await store.get('qrcodes', 'qr_old'))!, id: 'qr_third' } }])).rejects.toMatchObject({ collection: 'qrcodes', index: 'route_key' });
      await store.commit([{ collection: 'domains', put: { id: 'dom_1', workspace_id: 'ws_1', hostname: 'go.acme.com', status: 'verified', verification_value: 'qrflow-verify=x', created_at: old.created_at, verified_at: old.created_at } }]);
      expect((await store.findUnique('domains', 'hostname', 'go.acme.com'))?.id).toBe('dom_1');
      expect(await store.findMany('domains', 'workspace_id', 'ws_1')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
