import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { qr } from '../store.contract.js';
import type { QrRecord } from '../records.js';
import { ChangeFeed } from './change-feed.js';
import { CHANGE_CHANNEL, LEGACY_FEED_NAME, migrateToLatest, migratorOf, RECORD_CHANNEL, retireLegacyNotices } from './migrations.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './test-database.js';

type Told = { id: string; record: QrRecord | undefined };

/** A follower keeping what it is told, in order, and the records of its last reset. */
function recorder() {
  const told: Told[] = [];
  const resets: QrRecord[][] = [];
  return {
    told,
    resets,
    follower: {
      reset: (records: QrRecord[]) => void resets.push(records),
      change: (id: string, record: QrRecord | undefined) => void told.push({ id, record }),
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await describePostgres('PostgreSQL change feed (record notices, migration 0011)', (serverUrl) => {
  let database: TestDatabase;
  let feed: ChangeFeed | undefined;
  const warnings: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
    await migrateToLatest(database.pool);
  });

  afterEach(async () => {
    await feed?.close();
    feed = undefined;
    warnings.length = 0;
    await database.pool.query('DELETE FROM qrcodes');
  });

  afterAll(async () => {
    await database?.drop();
  });

  const write = async (...records: QrRecord[]) => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      for (const record of records) {
        await client.query('INSERT INTO qrcodes (id, workspace_id, created_at, route_key, domain, data) VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data', [record.id, record.workspace_id, record.created_at, record.route_key, JSON.stringify(record)]);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  const follow = async () => {
    const seen = recorder();
    feed = new ChangeFeed(database.url, { onWarn: (message) => warnings.push(message) });
    await feed.add('qrcodes', seen.follower as never);
    return seen;
  };
  const base = qr('qr_1', 'ws_1', '2026-01-01T00:00:00.000Z', 'feed123');

  it('tells each change as it committed, in commit order, with no row read back', async () => {
    await write(base);
    const seen = await follow();
    expect(seen.resets[0]?.map((record) => record.id)).toEqual(['qr_1']);
    // two versions in one transaction: PostgreSQL would fold two notices of `table:id` into one, and a read
    // back would find only the last; each version's own notice tells both, in order
    await write({ ...base, destination_url: 'https://example.com/a' }, { ...base, destination_url: 'https://example.com/b' });
    await write({ ...base, destination_url: 'https://example.com/c' });
    await until(() => seen.told.length >= 3, 'three changes');
    expect(seen.told.map((t) => [t.id, t.record?.destination_url])).toEqual([
      ['qr_1', 'https://example.com/a'],
      ['qr_1', 'https://example.com/b'],
      ['qr_1', 'https://example.com/c'],
    ]);
    expect(seen.told[2]?.record).toEqual({ ...base, destination_url: 'https://example.com/c' });
    await database.pool.query(`DELETE FROM qrcodes WHERE id = 'qr_1'`);
    await until(() => seen.told.length >= 4, 'the delete');
    expect(seen.told[3]).toEqual({ id: 'qr_1', record: undefined });
  });

  it('reads back a record too large for a notice, and tells what follows it only after', async () => {
    await write(base);
    const seen = await follow();
    const large = { ...base, name: 'n'.repeat(9000) };
    // one commit: the large version (read back) then a small one; another commit: a second code, small
    await write(large, { ...base, name: 'small again' });
    await write(qr('qr_2', 'ws_1', '2026-01-01T00:00:01.000Z', 'feed456'));
    await until(() => seen.told.length >= 3, 'three changes');
    // the read back finds the row as it is now (the small version); what was heard after it is told after it
    expect(seen.told.map((t) => [t.id, t.record?.name])).toEqual([
      ['qr_1', 'small again'],
      ['qr_1', 'small again'],
      ['qr_2', 'QR qr_2'],
    ]);

    await write(large);
    await until(() => seen.told.length >= 4, 'the large record');
    expect(seen.told[3]?.record).toEqual(large);
  });

  const legacyTriggers = async () => (await database.pool.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgname LIKE '%notify_change' ORDER BY tgname`)).rows.map((row) => row.tgname);

  it('keeps the notices of earlier versions while one of their processes listens (a rolling upgrade), and drops them after, waiting 1 s at most for the lock on the tables', async () => {
    expect(await legacyTriggers()).toEqual([]);
    expect((await migratorOf(database.pool).migrateTo('0010_statement_counts')).error).toBeUndefined();
    // a process of the previous release: its change feed's connection, listening on 0002's channel
    const earlier = new pg.Client({ connectionString: database.url, application_name: LEGACY_FEED_NAME });
    await earlier.connect();
    const heard: Array<string | undefined> = [];
    earlier.on('notification', (message) => heard.push(message.payload));
    await earlier.query(`LISTEN ${CHANGE_CHANNEL}`);
    try {
      // a process of this release starts, migrates, and follows
      expect(await migrateToLatest(database.pool)).toEqual(['0011_record_notices']);
      expect(await legacyTriggers()).toEqual(['qrcodes_notify_change', 'tombstones_notify_change']);
      const seen = recorder();
      feed = new ChangeFeed(database.url, { heartbeatMs: 50, onWarn: (message) => warnings.push(message) });
      await feed.add('qrcodes', seen.follower as never);
      await write(base);
      await database.pool.query(`DELETE FROM qrcodes WHERE id = 'qr_1'`);
      await until(() => heard.length >= 2 && seen.told.length >= 2, 'both processes hearing both writes');
      expect(heard).toEqual(['qrcodes:qr_1', 'qrcodes:qr_1']);
      expect(seen.told).toEqual([{ id: 'qr_1', record: base }, { id: 'qr_1', record: undefined }]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await legacyTriggers()).toHaveLength(2);
    } catch (error) {
      await earlier.end().catch(() => undefined);
      throw error;
    }
    // a transaction holding the codes table (an insert not yet committed) while the earlier process stops: dropping
    // the notices waits 1 s for its lock at most, then leaves them for the next try
    const blocker = await database.pool.connect();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO qrcodes (id, workspace_id, created_at, route_key, domain, data) VALUES ('qr_held', 'ws_1', '2026-01-01T00:00:00.000Z', NULL, NULL, '{"id":"qr_held"}')`);
      await earlier.end();
      await until(async () => (await database.pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${LEGACY_FEED_NAME}'`)).rowCount === 0, 'the earlier process gone');
      expect(await retireLegacyNotices(client)).toBe(false);
      expect(await legacyTriggers()).toHaveLength(2);
      await blocker.query('ROLLBACK');
      // the feed's next heartbeat drops the notices no one hears
      await until(async () => (await legacyTriggers()).length === 0, 'the notices of 0002 dropped');
      expect(await retireLegacyNotices(client)).toBe(true);
    } finally {
      await earlier.end().catch(() => undefined);
      blocker.release();
      await client.end();
    }
  });

  it('a notice it cannot read makes it load every record again, saying so, instead of guessing', async () => {
    await write(base);
    const seen = await follow();
    await database.pool.query(`SELECT pg_notify('${RECORD_CHANNEL}', '=qrcodes {not json')`);
    await until(() => seen.resets.length >= 2, 'the reload');
    expect(warnings.join('\n')).toMatch(/could not be read.*reloading/);
    expect(seen.resets[1]?.map((record) => record.id)).toEqual(['qr_1']);
    // and it hears changes again after
    await write({ ...base, status: 'paused' });
    await until(() => seen.told.some((t) => t.record?.status === 'paused'), 'a change after the reload');
  });

  it('migrates down to the notices of 0002 and up again', async () => {
    const triggers = async () => (await database.pool.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgname LIKE '%notify%' ORDER BY tgname`)).rows.map((row) => row.tgname);
    expect(await triggers()).toEqual(['qrcodes_notify_record', 'tombstones_notify_record']);
    expect((await migratorOf(database.pool).migrateTo('0010_statement_counts')).error).toBeUndefined();
    expect(await triggers()).toEqual(['qrcodes_notify_change', 'tombstones_notify_change']);
    expect(await migrateToLatest(database.pool)).toEqual(['0011_record_notices']);
    expect(await triggers()).toEqual(['qrcodes_notify_record', 'tombstones_notify_record']);
  });
});
