import { afterAll, beforeAll, expect, it } from 'vitest';
import { qr } from '../store.contract.js';
import { CapExceededError } from '../store.js';
import { migrateToLatest } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { createTestDatabase, describePostgres, migrateBefore, type TestDatabase } from './test-database.js';

await describePostgres('PostgreSQL migration 0007 (code counts)', (serverUrl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('counts the codes each workspace and test partition already holds, and keeps counting them', async () => {
    // the database as the previous release left it: every migration before 0007, with codes in two partitions
    await migrateBefore(database.pool, '0007');
    const insert = (code: ReturnType<typeof qr>) =>
      database.pool.query('INSERT INTO qrcodes (id, workspace_id, created_at, route_key, domain, data) VALUES ($1, $2, $3, $4, NULL, $5)', [code.id, code.workspace_id, code.created_at, code.route_key, JSON.stringify(code)]);
    for (let i = 0; i < 3; i++) await insert(qr(`qr_live${i}`, 'ws_1', '2026-01-01T00:00:00.000Z', `live${i}`));
    await insert(qr('qr_test0', 'ws_1:test', '2026-01-01T00:00:00.000Z', 'testabc0'));

    expect(await migrateToLatest(database.pool)).toContain('0007_qr_counts');
    const store = await PostgresStore.open(database.url, { poolSize: 2 });
    try {
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(3);
      expect(await store.countByWorkspace('qrcodes', 'ws_1:test')).toBe(1);
      expect(await store.countByWorkspace('qrcodes', 'ws_none')).toBe(0);
      await expect(store.commit([{ collection: 'qrcodes', put: qr('qr_live3', 'ws_1', '2026-01-02T00:00:00.000Z', 'live3') }, { collection: 'qrcodes', cap: 'ws_1', atMost: 3 }])).rejects.toBeInstanceOf(CapExceededError);
      await store.commit([{ collection: 'qrcodes', delete: 'qr_live0' }]);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_live3', 'ws_1', '2026-01-02T00:00:00.000Z', 'live3') }, { collection: 'qrcodes', cap: 'ws_1', atMost: 3 }]);
      // a code put under another workspace (never done by qrflow, but a put allows it) moves its count along
      await store.commit([{ collection: 'qrcodes', put: { ...qr('qr_live3', 'ws_2', '2026-01-02T00:00:00.000Z', 'live3') } }]);
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(2);
      expect(await store.countByWorkspace('qrcodes', 'ws_2')).toBe(1);
    } finally {
      await store.close();
    }
  });
});
