import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { qr } from '../store/store.contract.js';
import { LowdbStore } from '../store/embedded/lowdb-store.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../store/postgres/test-database.js';
import type { QrRecord } from '../store/records.js';
import { codeKey, codeLookupFor, MemoryCodeCache, StoreCodeLookup, type CodeAnswer } from './code-cache.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const T = '2026-03-01T00:00:00.000Z';

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function destination(answer: CodeAnswer | Promise<CodeAnswer>): string | null | undefined {
  if (answer instanceof Promise) return undefined;
  return answer.kind === 'found' ? answer.qr.destination_url : answer.kind;
}

describe('codeKey', () => {
  it('keys by domain (case-insensitive) and short code (case-sensitive)', () => {
    expect(codeKey(null, 'abc')).toBe('/abc');
    expect(codeKey('Go.Example.com', 'abc')).toBe('go.example.com/abc');
    expect(codeKey(null, 'abc')).not.toBe(codeKey(null, 'ABC'));
  });
});

describe('embedded store: the redirect asks the store', () => {
  it('uses the store directly (its records are in memory already)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-cache-'));
    const store = await LowdbStore.open(path.join(dir, 'data.json'));
    try {
      const lookup = codeLookupFor(store);
      expect(lookup).toBeInstanceOf(StoreCodeLookup);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', T, 'abcd123') }, { collection: 'tombstones', put: { id: 'gone123', workspace_id: 'ws_1', qr_id: 'qr_0', deleted_at: T } }]);
      expect(await lookup.find(null, 'abcd123')).toMatchObject({ kind: 'found', qr: { id: 'qr_1' } });
      expect(await lookup.find(null, 'gone123')).toEqual({ kind: 'gone' });
      expect(await lookup.find(null, 'nope123')).toEqual({ kind: 'missing' });
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

await describePostgres('redirect code cache on PostgreSQL', (serverUrl) => {
  let database: TestDatabase;
  const stores: PostgresStore[] = [];
  const caches: MemoryCodeCache[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.stop();
    for (const store of stores.splice(0)) await store.close();
    await database.pool.query('TRUNCATE qrcodes, tombstones').catch(() => undefined);
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function open(): Promise<PostgresStore> {
    const store = await PostgresStore.open(database.url, { poolSize: 3 });
    stores.push(store);
    return store;
  }
  async function cacheOn(store: PostgresStore, options = {}): Promise<MemoryCodeCache> {
    const cache = codeLookupFor(store, options) as MemoryCodeCache;
    expect(cache).toBeInstanceOf(MemoryCodeCache);
    caches.push(cache);
    await cache.start();
    return cache;
  }

  it('loads every code at start and answers known codes without a database round trip', async () => {
    const writer = await open();
    await writer.commit(Array.from({ length: 50 }, (_, i) => ({ collection: 'qrcodes' as const, put: qr(`qr_${i}`, 'ws_1', T, `code${String(i).padStart(3, '0')}`) })));
    const reader = await open();
    const cache = await cacheOn(reader);
    expect(cache.size).toBe(50);
    // synchronous answers: no promise, so no query
    expect(destination(cache.find(null, 'code007'))).toBe('https://example.com/');
  });

  it('a change made through another process is obeyed within 1 s (p99 measured), deletes and tombstones too', async () => {
    const writer = await open();
    const base = qr('qr_1', 'ws_1', T, 'live123');
    await writer.commit([{ collection: 'qrcodes', put: base }]);
    const readers = [await cacheOn(await open()), await cacheOn(await open())];
    const delays: number[] = [];
    for (let i = 0; i < 60; i++) {
      const url = `https://example.com/${i}`;
      const started = performance.now();
      await writer.commit([{ collection: 'qrcodes', update: 'qr_1', set: { destination_url: url } as Partial<QrRecord> }]);
      for (const cache of readers) await until(() => destination(cache.find(null, 'live123')) === url, 1000);
      delays.push(performance.now() - started);
    }
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.ceil(delays.length * 0.99) - 1] as number;
    console.log(`change propagation to 2 followers over ${delays.length} changes: p50 ${delays[delays.length >> 1]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(1000);

    await writer.commit([{ collection: 'qrcodes', delete: 'qr_1' }, { collection: 'tombstones', put: { id: 'live123', workspace_id: 'ws_1', qr_id: 'qr_1', deleted_at: T } }]);
    for (const cache of readers) await until(() => destination(cache.find(null, 'live123')) === 'gone', 1000);
  });

  it('the writing process sees its own change when its commit resolves', async () => {
    const store = await open();
    const cache = await cacheOn(store);
    await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', T, 'mine123') }]);
    expect(destination(cache.find(null, 'mine123'))).toBe('https://example.com/');
    await store.commit([{ collection: 'qrcodes', update: 'qr_1', set: { status: 'paused' } }]);
    const answer = cache.find(null, 'mine123') as CodeAnswer;
    expect(answer.kind === 'found' && answer.qr.status).toBe('paused');
  });

  it('an unknown code is read once, then answered from a short negative cache, and a new code clears it', async () => {
    const writer = await open();
    const store = await open();
    const cache = await cacheOn(store, { negativeTtlMs: 60_000 });
    let reads = 0;
    const findUnique = store.findUnique.bind(store);
    store.findUnique = (async (...args: Parameters<typeof findUnique>) => {
      reads++;
      return findUnique(...args);
    }) as typeof store.findUnique;
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.find(null, 'nope123')));
    expect(answers.every((a) => a.kind === 'missing')).toBe(true);
    expect(cache.find(null, 'nope123')).toEqual({ kind: 'missing' });
    expect(reads).toBe(1);
    await writer.commit([{ collection: 'qrcodes', put: qr('qr_9', 'ws_1', T, 'nope123') }]);
    await until(() => destination(cache.find(null, 'nope123')) === 'https://example.com/', 1000);
  });

  it('a lost notification connection leads to a reload: a change made meanwhile is not kept stale', async () => {
    const writer = await open();
    await writer.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', T, 'lost123') }]);
    const reader = await open();
    const cache = await cacheOn(reader);
    expect(cache.live).toBe(true);
    // stop the change feed's connection, then change the code before it comes back
    await database.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'qrflow-records' AND datname = current_database()`);
    await writer.commit([{ collection: 'qrcodes', update: 'qr_1', set: { destination_url: 'https://example.com/after' } as Partial<QrRecord> }]);
    await until(() => destination(cache.find(null, 'lost123')) === 'https://example.com/after', 5000);
    await until(() => cache.live, 5000);
  });
});
