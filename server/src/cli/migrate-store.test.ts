import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnalyticsService } from '../analytics/service.js';
import { LowdbStore } from '../store/embedded/lowdb-store.js';
import { migrateStore } from '../store/migrate-store.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../store/postgres/test-database.js';
import { generatedScans } from '../store/scans.contract.js';
import { apiKey, qr, workspace } from '../store/store.contract.js';
import { runCli } from './cli.js';

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (text) => (out += text), err: (text) => (err += text) }, { QRFLOW_DATA_FILE: '/nonexistent/qrflow.json' });
  return { code, out, err };
}

await describePostgres('qrflow migrate-store', (serverUrl) => {
  let directory: string;
  let dataFile: string;
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-migrate-'));
    dataFile = path.join(directory, 'qrflow.json');
    const store = await LowdbStore.open(dataFile);
    const ops = [
      { collection: 'workspaces' as const, put: workspace('ws_1', 'Acme') },
      ...Array.from({ length: 30 }, (_, n) => ({ collection: 'qrcodes' as const, put: qr(`qr_${String(n).padStart(2, '0')}`, 'ws_1', `2026-03-01T00:00:${String(n).padStart(2, '0')}.000Z`, `code${n}`, ['tag']) })),
      { collection: 'keys' as const, put: apiKey('key_1', 'ws_1', 'hash_1') },
    ];
    await store.commit(ops);
    await store.scans.append(generatedScans(2500, 7));
    await store.scans.addOrphans([
      { day: 20500, workspaceId: 'ws_1', reason: 'paused', humans: 4, bots: 1 },
      { day: 20500, workspaceId: null, reason: 'unknown', humans: 9, bots: 3 },
      { day: 20501, workspaceId: 'ws_1:test', reason: 'deleted', humans: 2, bots: 0 },
    ]);
    await store.scans.addOrphans([{ day: 20500, workspaceId: 'ws_1', reason: 'paused', humans: 1, bots: 0 }]);
    await store.close();
  });

  afterAll(async () => {
    for (const database of databases) await database.drop();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const newDatabase = async () => {
    const database = await createTestDatabase(serverUrl);
    databases.push(database);
    return database;
  };

  it('copies every record and scan, prints the counts, and a second run copies nothing', async () => {
    const database = await newDatabase();
    const first = await cli(['migrate-store', '--from', dataFile, '--to', database.url]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^qrcodes +30 in the data file +30 copied +0 already there +30 in PostgreSQL$/m);
    expect(first.out).toMatch(/^scans +2500 in the data file +2500 copied +0 already there +2500 in PostgreSQL$/m);
    expect(first.out).toMatch(/^orphan_scans +3 in the data file +3 copied +0 already there +3 in PostgreSQL$/m);
    expect(first.out).toContain('PostgreSQL now holds everything in the data file');

    const second = await cli(['migrate-store', '--from', dataFile, '--to', database.url, '--json']);
    expect(second.code).toBe(0);
    const answer = JSON.parse(second.out) as { copied: number; ok: boolean; collections: Array<{ name: string; present: number }> };
    expect(answer).toMatchObject({ copied: 0, ok: true });
    expect(answer.collections.find((c) => c.name === 'scans')?.present).toBe(2500);
    // orphan counts are set, not added: the rerun did not double them
    expect(answer.collections.find((c) => c.name === 'orphan_scans')?.present).toBe(3);

    // the same answers from either store: records as they were, analytics to the row, scan ids kept
    const source = await LowdbStore.open(dataFile);
    const target = await PostgresStore.open(database.url);
    try {
      expect(await target.get('qrcodes', 'qr_07')).toEqual(await source.get('qrcodes', 'qr_07'));
      // each workspace's code count (what the plan's cap is checked against) is right after two runs
      const partitions = new Set((await source.all('qrcodes')).map((code) => code.workspace_id));
      for (const partition of partitions) expect(await target.countByWorkspace('qrcodes', partition)).toBe(await source.countByWorkspace('qrcodes', partition));
      expect([...partitions].length).toBeGreaterThan(0);
      expect(await target.findUnique('keys', 'hash', 'hash_1')).toEqual(await source.findUnique('keys', 'hash', 'hash_1'));
      expect(await target.scans.get(1234)).toEqual(await source.scans.get(1234));
      const clock = { now: () => Date.parse('2026-04-01T00:00:00Z') };
      const query = { from: '2026-02-20', to: '2026-04-10T05:30:00Z', interval: 'week' as const, tz: 'America/New_York', include_bots: false };
      expect(await new AnalyticsService(target.scans, clock).compute('qr_a', query)).toEqual(await new AnalyticsService(source.scans, clock).compute('qr_a', query));
      expect(Object.fromEntries(await target.scans.orphans({ workspaceId: 'ws_1', fromDay: 20500, toDay: 20502, includeBots: true }))).toEqual({ paused: 6 });
      expect(Object.fromEntries(await target.scans.orphans({ workspaceId: null, fromDay: 20500, toDay: 20502, includeBots: false }))).toEqual({ unknown: 9 });
      // a scan recorded on PostgreSQL after the move gets a new id, after the copied ones
      const [id] = await target.scans.append(generatedScans(1, 3));
      expect(id).toBe(2500);
    } finally {
      await target.close();
      await source.close();
    }
  });

  it('completes a run interrupted halfway through the scans', async () => {
    const database = await newDatabase();
    await expect(
      migrateStore(dataFile, database.url, {
        batchSize: 500,
        onBatch: (collection, done) => {
          if (collection === 'scans' && done >= 1000) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    const rerun = await cli(['migrate-store', '--from', dataFile, '--to', database.url]);
    expect(rerun.code).toBe(0);
    expect(rerun.out).toMatch(/^scans +2500 in the data file +1500 copied +1000 already there +2500 in PostgreSQL$/m);
    expect(rerun.out).toMatch(/^qrcodes +30 in the data file +0 copied +30 already there +30 in PostgreSQL$/m);
    const target = await PostgresStore.open(database.url);
    try {
      expect(await target.scans.humanCount('qr_a')).toBe(generatedScans(2500, 7).filter((s) => s.qrId === 'qr_a' && !s.bot).length);
    } finally {
      await target.close();
    }
  });

  it('refuses while a server holds the data file, and refuses a database with scans of its own', async () => {
    const database = await newDatabase();
    const held = await LowdbStore.open(dataFile);
    try {
      const locked = await cli(['migrate-store', '--from', dataFile, '--to', database.url]);
      expect(locked.code).toBe(1);
      expect(locked.err).toMatch(/in use by another qrflow process \(pid \d+\)\. Stop that process first/);
    } finally {
      await held.close();
    }
    const other = await PostgresStore.open(database.url);
    await other.scans.append(generatedScans(3, 99).map((s) => ({ ...s, qrId: 'qr_elsewhere' })));
    await other.close();
    const refused = await cli(['migrate-store', '--from', dataFile, '--to', database.url]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('PostgreSQL already holds scans that are not this data file');
    expect((await cli(['migrate-store', '--from', dataFile, '--to', 'mysql://x'])).code).toBe(2);
  });
});
