import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataFileLockedError } from './lock.js';
import { LowdbStore, type LowdbStoreOptions } from './lowdb-store.js';
import type { ApiKeyRecord, QrRecord, WorkspaceRecord } from '../records.js';
import { CorruptDataError } from './wal.js';

const directories: string[] = [];
const openStores: LowdbStore[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of openStores.splice(0)) await store.close().catch(() => undefined);
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

function tempDataFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-store-'));
  directories.push(directory);
  return path.join(directory, 'qrflow.json');
}

async function open(dataFile: string, options: LowdbStoreOptions = {}): Promise<LowdbStore> {
  // a failed disk write must fail the test, not exit the test process
  const store = await LowdbStore.open(dataFile, { onFatal: (error) => { throw error; }, ...options });
  openStores.push(store);
  return store;
}

async function closeStore(store: LowdbStore): Promise<void> {
  openStores.splice(openStores.indexOf(store), 1);
  await store.close();
}

/** What a `kill -9` leaves behind: the files as they are now, without close(), lock file excluded. */
function copyAsAfterCrash(dataFile: string): string {
  const target = tempDataFile();
  for (const suffix of ['', '.wal', '.wal.1']) {
    if (fs.existsSync(dataFile + suffix)) fs.copyFileSync(dataFile + suffix, target + suffix);
  }
  return target;
}

function workspace(id: string, name = `Workspace ${id}`): WorkspaceRecord {
  return { id, name, plan: 'team', plan_status: 'active', created_at: '2026-01-01T00:00:00.000Z' };
}

function apiKey(id: string, workspaceId: string, hash: string): ApiKeyRecord {
  return {
    id, workspace_id: workspaceId, name: `Key ${id}`, prefix: 'qr_live_abcd', hash, scopes: ['qr:read'], status: 'active', expires_at: null,
    created_at: '2026-01-01T00:00:00.000Z', created_by: 'test', last_used_at: null, revoked_at: null, renewals: [],
  };
}

function qr(id: string, workspaceId: string, createdAt: string, shortCode: string | null = null): QrRecord {
  return {
    id, workspace_id: workspaceId, name: `QR ${id}`, type: 'url', mode: shortCode ? 'dynamic' : 'static', destination_url: 'https://example.com/',
    content: null, short_code: shortCode, route_key: shortCode, status: 'active', tags: [], style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
    created_at: createdAt, updated_at: createdAt,
  };
}

function logLines(dataFile: string): string[] {
  return fs.readFileSync(`${dataFile}.wal`, 'utf8').split('\n').filter(Boolean);
}

describe('LowdbStore durability', () => {
  it('has a committed write in the log file on disk before commit resolves', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_durable') }]);
    // read by a second reader while the store is still open: no close, no flush
    const lines = logLines(dataFile);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({ ops: [{ collection: 'workspaces', put: workspace('ws_durable') }] });
  });

  it('recovers every committed write after an unclean stop', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_a') }, { collection: 'keys', put: apiKey('key_a', 'ws_a', 'hash-a') }]);
    await store.compact(); // part of the state in the snapshot, part in the log
    await store.commit([{ collection: 'keys', put: apiKey('key_b', 'ws_a', 'hash-b') }]);
    await store.commit([{ collection: 'keys', delete: 'key_a' }]);
    await Promise.all([1, 2, 3].map((n) => store.commit([{ collection: 'qrcodes', put: qr(`qr_${n}`, 'ws_a', `2026-01-0${n}T00:00:00.000Z`, `code${n}`) }])));

    const reopened = await open(copyAsAfterCrash(dataFile));
    expect(await reopened.get('workspaces', 'ws_a')).toEqual(workspace('ws_a'));
    expect(await reopened.get('keys', 'key_a')).toBeUndefined();
    expect(await reopened.findUnique('keys', 'hash', 'hash-b')).toEqual(apiKey('key_b', 'ws_a', 'hash-b'));
    expect((await reopened.findMany('keys', 'workspace_id', 'ws_a')).map((k) => k.id)).toEqual(['key_b']);
    expect((await reopened.listPage('qrcodes', 'ws_a', { limit: 10 })).items.map((q) => q.id)).toEqual(['qr_3', 'qr_2', 'qr_1']);
  });

  it('writes commitSoon changes at close, so a clean stop keeps them', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile, { lazyFlushMs: 60_000 });
    store.commitSoon([{ collection: 'workspaces', put: workspace('ws_soon') }]);
    expect(await store.get('workspaces', 'ws_soon')).toEqual(workspace('ws_soon'));
    await closeStore(store);
    const reopened = await open(dataFile);
    expect(await reopened.get('workspaces', 'ws_soon')).toEqual(workspace('ws_soon'));
  });

  it('cuts a torn last log line (a write never acknowledged) and loads the rest', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_1') }]);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_2') }]);
    const crashed = copyAsAfterCrash(dataFile);
    const complete = fs.readFileSync(`${crashed}.wal`);
    const torn = JSON.stringify({ ops: [{ collection: 'workspaces', put: workspace('ws_torn') }] }).slice(0, 40);
    fs.appendFileSync(`${crashed}.wal`, torn);

    const reopened = await open(crashed);
    expect(await reopened.get('workspaces', 'ws_1')).toBeDefined();
    expect(await reopened.get('workspaces', 'ws_2')).toBeDefined();
    expect(await reopened.get('workspaces', 'ws_torn')).toBeUndefined();
    expect(fs.readFileSync(`${crashed}.wal`)).toEqual(complete);
    // later commits start on a clean line
    await reopened.commit([{ collection: 'workspaces', put: workspace('ws_3') }]);
    expect(logLines(crashed).map((line) => JSON.parse(line).ops[0].put.id)).toEqual(['ws_1', 'ws_2', 'ws_3']);
  });

  it('refuses to open a log damaged before its last line, naming the file and leaving it untouched', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    for (const id of ['ws_1', 'ws_2', 'ws_3']) await store.commit([{ collection: 'workspaces', put: workspace(id) }]);
    const crashed = copyAsAfterCrash(dataFile);
    const lines = fs.readFileSync(`${crashed}.wal`, 'utf8').split('\n');
    lines[1] = (lines[1] as string).slice(0, 20) + '#' + (lines[1] as string).slice(21);
    fs.writeFileSync(`${crashed}.wal`, lines.join('\n'));
    const before = fs.readFileSync(`${crashed}.wal`);

    const error = await LowdbStore.open(crashed).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${crashed}.wal`);
    expect((error as Error).message).toContain('line 2');
    expect(fs.readFileSync(`${crashed}.wal`)).toEqual(before);
    expect(fs.existsSync(crashed)).toBe(false); // no empty snapshot written in its place
    expect(fs.existsSync(`${crashed}.lock`)).toBe(false); // and the lock is released
  });

  it.each([
    ['is not JSON', '{"format":"qrflow","version":1,"collections":{"workspaces":[{"id":'],
    ['is empty', ''],
    ['is JSON of another program', '{"users":[{"id":1,"name":"someone"}]}'],
    ['is an array', '[1,2,3]'],
    ['holds JSON null', 'null'],
    ['has a collection that is not a list', '{"format":"qrflow","version":1,"collections":{"workspaces":{"id":"ws_1"}}}'],
  ])('refuses to open a snapshot that %s, naming the file and leaving it untouched', async (_case, content) => {
    const dataFile = tempDataFile();
    fs.writeFileSync(dataFile, content);
    const error = await LowdbStore.open(dataFile).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(dataFile);
    expect(fs.readFileSync(dataFile, 'utf8')).toBe(content);
    expect(fs.existsSync(`${dataFile}.lock`)).toBe(false);
  });

  it('refuses a second open of a data file that is held, and allows it once released', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_held') }]);
    const error = await LowdbStore.open(dataFile).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataFileLockedError);
    expect((error as Error).message).toContain(dataFile);
    expect((error as DataFileLockedError).pid).toBe(process.pid);
    // the failed open changed nothing
    expect(await store.get('workspaces', 'ws_held')).toBeDefined();
    await store.commit([{ collection: 'workspaces', put: workspace('ws_after') }]);

    await closeStore(store);
    const reopened = await open(dataFile);
    expect(await reopened.get('workspaces', 'ws_after')).toBeDefined();
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dataFile = tempDataFile();
    const finished = spawnSync(process.execPath, ['-e', '']);
    expect(finished.pid).toBeGreaterThan(0);
    fs.writeFileSync(`${dataFile}.lock`, String(finished.pid));
    const store = await open(dataFile);
    expect(fs.readFileSync(`${dataFile}.lock`, 'utf8')).toBe(String(process.pid));
    await closeStore(store);
    expect(fs.existsSync(`${dataFile}.lock`)).toBe(false);
  });

  it('groups concurrent commits into a few log writes instead of one per commit', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    // the log's file handle is private; spying on it is the only way to count writes and fsyncs
    const handle = (store as unknown as { wal: { handle: FileHandle } }).wal.handle;
    const writes = vi.spyOn(handle, 'write');
    const syncs = vi.spyOn(handle, 'datasync');

    await Promise.all(Array.from({ length: 200 }, (_, n) => store.commit([{ collection: 'workspaces', put: workspace(`ws_${n}`) }])));

    expect(logLines(dataFile)).toHaveLength(200);
    expect(writes.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(writes.mock.calls.length).toBeLessThanOrEqual(10);
    expect(syncs.mock.calls.length).toBeLessThanOrEqual(10);
    for (let n = 0; n < 200; n++) expect(await store.get('workspaces', `ws_${n}`)).toBeDefined();
  });
});

describe('LowdbStore compaction', () => {
  it('folds the log into the snapshot and empties the log', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_1') }]);
    await store.commit([{ collection: 'workspaces', put: workspace('ws_2') }]);
    await store.commit([{ collection: 'workspaces', delete: 'ws_1' }]);
    expect(fs.statSync(`${dataFile}.wal`).size).toBeGreaterThan(0);

    await store.compact();

    expect(fs.statSync(`${dataFile}.wal`).size).toBe(0);
    const snapshot = JSON.parse(fs.readFileSync(dataFile, 'utf8'));
    expect(snapshot).toMatchObject({ format: 'qrflow', version: 1 });
    expect(snapshot.collections.workspaces).toEqual([workspace('ws_2')]);
    // the store keeps working and a crash now loses nothing
    await store.commit([{ collection: 'workspaces', put: workspace('ws_3') }]);
    const reopened = await open(copyAsAfterCrash(dataFile));
    expect((await reopened.all('workspaces')).map((w) => w.id).sort()).toEqual(['ws_2', 'ws_3']);
  });

  it('compacts at open when the log left by a crash is past half the threshold', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    for (let n = 0; n < 20; n++) await store.commit([{ collection: 'workspaces', put: workspace(`ws_${n}`) }]);
    const crashed = copyAsAfterCrash(dataFile);
    const reopened = await open(crashed, { compactAtBytes: 200 });
    expect(fs.statSync(`${crashed}.wal`).size).toBe(0);
    expect(JSON.parse(fs.readFileSync(crashed, 'utf8')).collections.workspaces).toHaveLength(20);
    expect(await reopened.all('workspaces')).toHaveLength(20);
  });

  it('compacts at close, leaving an empty log and everything in the snapshot', async () => {
    const dataFile = tempDataFile();
    const store = await open(dataFile);
    await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'hash-1') }]);
    await closeStore(store);
    expect(fs.statSync(`${dataFile}.wal`).size).toBe(0);
    expect(JSON.parse(fs.readFileSync(dataFile, 'utf8')).collections.keys).toEqual([apiKey('key_1', 'ws_1', 'hash-1')]);
    expect(fs.existsSync(`${dataFile}.lock`)).toBe(false);
  });
});

describe('LowdbStore indexes', () => {
  it('finds records by unique index, and follows updates and deletes', async () => {
    const store = await open(tempDataFile());
    await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'hash-old') }]);
    expect((await store.findUnique('keys', 'hash', 'hash-old'))?.id).toBe('key_1');

    await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'hash-new') }]);
    expect(await store.findUnique('keys', 'hash', 'hash-old')).toBeUndefined();
    expect((await store.findUnique('keys', 'hash', 'hash-new'))?.id).toBe('key_1');

    await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', '2026-01-01T00:00:00.000Z', 'abc123') }]);
    expect((await store.findUnique('qrcodes', 'route_key', 'abc123'))?.id).toBe('qr_1');
    expect(await store.findUnique('qrcodes', 'route_key', 'ABC123')).toBeUndefined(); // short codes are case-sensitive

    await store.commit([{ collection: 'keys', delete: 'key_1' }, { collection: 'qrcodes', delete: 'qr_1' }]);
    expect(await store.findUnique('keys', 'hash', 'hash-new')).toBeUndefined();
    expect(await store.findUnique('qrcodes', 'route_key', 'abc123')).toBeUndefined();
  });

  it('looks up workspace names and user emails without regard to case', async () => {
    const store = await open(tempDataFile());
    await store.commit([
      { collection: 'workspaces', put: workspace('ws_1', 'Acme Marketing') },
      { collection: 'users', put: { id: 'usr_1', email: 'ann@example.com', password_hash: 'x', created_at: '2026-01-01T00:00:00.000Z' } },
    ]);
    expect((await store.findUnique('workspaces', 'name', 'ACME marketing'))?.id).toBe('ws_1');
    expect((await store.findUnique('users', 'email', 'Ann@Example.COM'))?.id).toBe('usr_1');
  });

  it('finds many records by a shared field, and follows moves and deletes', async () => {
    const store = await open(tempDataFile());
    await store.commit([
      { collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') },
      { collection: 'keys', put: apiKey('key_2', 'ws_1', 'h2') },
      { collection: 'keys', put: apiKey('key_3', 'ws_2', 'h3') },
    ]);
    const ids = async (workspaceId: string) => (await store.findMany('keys', 'workspace_id', workspaceId)).map((k) => k.id).sort();
    expect(await ids('ws_1')).toEqual(['key_1', 'key_2']);
    expect(await ids('ws_2')).toEqual(['key_3']);
    expect(await ids('ws_none')).toEqual([]);

    await store.commit([{ collection: 'keys', put: apiKey('key_2', 'ws_2', 'h2') }, { collection: 'keys', delete: 'key_1' }]);
    expect(await ids('ws_1')).toEqual([]);
    expect(await ids('ws_2')).toEqual(['key_2', 'key_3']);
  });

  it('returns copies: changing a returned record changes nothing stored', async () => {
    const store = await open(tempDataFile());
    await store.commit([{ collection: 'workspaces', put: workspace('ws_1') }]);
    const got = (await store.get('workspaces', 'ws_1')) as WorkspaceRecord;
    got.name = 'changed';
    expect((await store.get('workspaces', 'ws_1'))?.name).toBe('Workspace ws_1');
    const put = workspace('ws_2');
    await store.commit([{ collection: 'workspaces', put }]);
    put.name = 'changed after commit';
    expect((await store.get('workspaces', 'ws_2'))?.name).toBe('Workspace ws_2');
  });

  describe('listPage', () => {
    async function storeWithCodes() {
      const store = await open(tempDataFile());
      // inserted out of order, two sharing a created_at (ordered by id then)
      const times = { qr_a: '01', qr_b: '02', qr_c: '03', qr_d: '03', qr_e: '05', qr_f: '04' } as const;
      await store.commit(Object.entries(times).map(([id, day]) => ({ collection: 'qrcodes' as const, put: qr(id, 'ws_1', `2026-01-${day}T00:00:00.000Z`) })));
      await store.commit([{ collection: 'qrcodes', put: qr('qr_other', 'ws_2', '2026-01-09T00:00:00.000Z') }]);
      return store;
    }
    const ids = (page: { items: QrRecord[] }) => page.items.map((q) => q.id);
    const at = (id: string, day: string) => ({ id, created_at: `2026-01-${day}T00:00:00.000Z` });

    it('lists one workspace newest first, by created_at then id', async () => {
      const store = await storeWithCodes();
      const page = await store.listPage('qrcodes', 'ws_1', { limit: 10 });
      expect(ids(page)).toEqual(['qr_e', 'qr_f', 'qr_d', 'qr_c', 'qr_b', 'qr_a']);
      expect(page.hasMore).toBe(false);
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(6);
    });

    it('pages with a before cursor until the end, each record once', async () => {
      const store = await storeWithCodes();
      const first = await store.listPage('qrcodes', 'ws_1', { limit: 4 });
      expect(ids(first)).toEqual(['qr_e', 'qr_f', 'qr_d', 'qr_c']);
      expect(first.hasMore).toBe(true);
      const second = await store.listPage('qrcodes', 'ws_1', { limit: 4, before: at('qr_c', '03') });
      expect(ids(second)).toEqual(['qr_b', 'qr_a']);
      expect(second.hasMore).toBe(false);
      // a cursor between two records with the same time
      expect(ids(await store.listPage('qrcodes', 'ws_1', { limit: 10, before: at('qr_d', '03') }))).toEqual(['qr_c', 'qr_b', 'qr_a']);
    });

    it('says there is no more when a page ends exactly at the last record', async () => {
      const store = await storeWithCodes();
      const page = await store.listPage('qrcodes', 'ws_1', { limit: 6 });
      expect(page.items).toHaveLength(6);
      expect(page.hasMore).toBe(false);
    });

    it('stops at an after cursor (exclusive) for "newer than" queries', async () => {
      const store = await storeWithCodes();
      expect(ids(await store.listPage('qrcodes', 'ws_1', { limit: 10, after: at('qr_c', '03') }))).toEqual(['qr_e', 'qr_f', 'qr_d']);
      expect(ids(await store.listPage('qrcodes', 'ws_1', { limit: 10, after: at('qr_c', '03'), before: at('qr_e', '05') }))).toEqual(['qr_f', 'qr_d']);
      expect(ids(await store.listPage('qrcodes', 'ws_1', { limit: 10, after: at('qr_e', '05') }))).toEqual([]);
    });

    it('applies a filter without counting skipped records toward the limit', async () => {
      const store = await storeWithCodes();
      const page = await store.listPage('qrcodes', 'ws_1', { limit: 2, filter: (q) => q.id !== 'qr_f' && q.id !== 'qr_d' });
      expect(ids(page)).toEqual(['qr_e', 'qr_c']);
      expect(page.hasMore).toBe(true);
    });

    it('follows deletes and updates', async () => {
      const store = await storeWithCodes();
      await store.commit([{ collection: 'qrcodes', delete: 'qr_f' }, { collection: 'qrcodes', delete: 'qr_c' }]);
      // an update that keeps created_at keeps the place; one that changes it moves the record
      await store.commit([{ collection: 'qrcodes', put: { ...qr('qr_b', 'ws_1', '2026-01-02T00:00:00.000Z'), name: 'renamed' } }]);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_a', 'ws_1', '2026-01-06T00:00:00.000Z') }]);
      const page = await store.listPage('qrcodes', 'ws_1', { limit: 10 });
      expect(ids(page)).toEqual(['qr_a', 'qr_e', 'qr_d', 'qr_b']);
      expect(page.items[3]?.name).toBe('renamed');
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(4);
      expect(ids(await store.listPage('qrcodes', 'ws_2', { limit: 10 }))).toEqual(['qr_other']);
    });

    it('is the same after a reopen', async () => {
      const dataFile = tempDataFile();
      const store = await open(dataFile);
      await store.commit([3, 1, 2].map((day) => ({ collection: 'qrcodes' as const, put: qr(`qr_${day}`, 'ws_1', `2026-01-0${day}T00:00:00.000Z`) })));
      await store.commit([{ collection: 'qrcodes', delete: 'qr_2' }]);
      const reopened = await open(copyAsAfterCrash(dataFile));
      expect(ids(await reopened.listPage('qrcodes', 'ws_1', { limit: 10 }))).toEqual(['qr_3', 'qr_1']);
    });
  });
});
