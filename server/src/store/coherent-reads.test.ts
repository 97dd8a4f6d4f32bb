import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SharedRedis } from '../redis/client.js';
import { newRequestScope, useRequestScopes } from '../request-scope.js';
import { CoherentReads } from './coherent-reads.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './postgres/test-database.js';
import { apiKey, qr, workspace } from './store.contract.js';
import type { Store } from './store.js';

const REDIS_URL = process.env.QRFLOW_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
useRequestScopes();

/** Counts the reads that reach the database. */
function counted(inner: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const store: Store = {
    ...inner,
    scans: inner.scans,
    get: (collection, id) => ((reads++), inner.get(collection, id)),
    findUnique: (collection, index, value) => ((reads++), inner.findUnique(collection, index, value)),
    findMany: (collection, index, value) => inner.findMany(collection, index, value),
    countMany: (collection, index, value) => inner.countMany(collection, index, value),
    all: (collection) => inner.all(collection),
    countByWorkspace: (collection, workspaceId) => inner.countByWorkspace(collection, workspaceId),
    listPage: (collection, workspaceId, page) => inner.listPage(collection, workspaceId, page),
    commit: (ops) => inner.commit(ops),
    commitSoon: (ops) => inner.commitSoon(ops),
    follow: inner.follow!.bind(inner),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return { store, reads: () => reads };
}

/**
 * What an authenticated API request reads, in the order the middleware does: its key by hash and its workspace,
 * then the confirmation (authenticating again when it fails), then one of its codes.
 */
async function request(process: { store: Store; coherent: CoherentReads }, hash: string, codeId: string) {
  const { store, coherent } = process;
  const reads = newRequestScope()!.reads;
  const authenticate = async () => {
    const key = await store.findUnique('keys', 'hash', hash, reads);
    return { key, space: key ? await store.get('workspaces', key.workspace_id, reads) : undefined };
  };
  let auth = await authenticate();
  if (!(await coherent.confirm(reads))) auth = await authenticate();
  const code = await store.get('qrcodes', codeId, reads);
  return { ...auth, code };
}

await describePostgres('coherent reads (keys, workspaces and codes in memory, checked against Redis)', (serverUrl) => {
  let database: TestDatabase;
  const closers: Array<() => Promise<void>> = [];
  let n = 0;

  beforeAll(async () => {
    database = await createTestDatabase(serverUrl);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** One "process": its own PostgreSQL store, Redis connection and memory, sharing the database and prefix. */
  async function startProcess(prefix: string, options: ConstructorParameters<typeof CoherentReads>[2] = {}, redisUrl = REDIS_URL) {
    const raw = await PostgresStore.open(database.url, { poolSize: 2 });
    closers.push(() => raw.close());
    const redis = new SharedRedis(redisUrl, prefix, silent);
    await redis.started;
    closers.push(() => redis.close());
    const { store, reads } = counted(raw);
    const coherent = new CoherentReads(store, redis, options);
    return { raw, store: coherent.store, reads, coherent };
  }

  async function seed(store: Store) {
    const id = `${++n}`;
    const ws = workspace(`ws_cr${id}`);
    const key = apiKey(`key_cr${id}`, ws.id, `hash-cr-${id}`);
    const code = qr(`qr_cr${id}`, ws.id, new Date().toISOString(), `cr${id}`);
    await store.commit([{ collection: 'workspaces', put: ws }, { collection: 'keys', put: key }, { collection: 'qrcodes', put: code }]);
    return { ws, key, code };
  }

  it('answers a read-heavy key from memory, and a change made through another process at once', async () => {
    const prefix = `test:cr:${Date.now()}:`;
    const a = await startProcess(prefix);
    const b = await startProcess(prefix);
    const { key, code } = await seed(a.store);

    // first sight, then trusted: from the second request on, no database read for the key, workspace or code
    for (let i = 0; i < 3; i++) await request(b, key.hash, code.id);
    const before = b.reads();
    for (let i = 0; i < 20; i++) expect((await request(b, key.hash, code.id)).code?.destination_url).toBe('https://example.com/');
    expect(b.reads() - before).toBe(0);

    // paused and re-pointed through process A (A never read them): B's very next request sees both
    await a.store.commit([{ collection: 'keys', update: key.id, set: { status: 'paused' } }]);
    await a.store.commit([{ collection: 'qrcodes', put: { ...code, destination_url: 'https://example.com/moved' } }]);
    const seen = await request(b, key.hash, code.id);
    expect(seen.key?.status).toBe('paused');
    expect(seen.code?.destination_url).toBe('https://example.com/moved');

    // a deleted code is gone for B at once too
    await a.store.commit([{ collection: 'qrcodes', delete: code.id }]);
    expect((await request(b, key.hash, code.id)).code).toBeUndefined();
  });

  it('creating codes in a workspace does not make its requests authenticate again', async () => {
    const prefix = `test:cr:${Date.now()}:parts:`;
    const a = await startProcess(prefix);
    const b = await startProcess(prefix);
    const { ws, key, code } = await seed(a.store);
    for (let i = 0; i < 3; i++) await request(b, key.hash, code.id);
    await a.store.commit([{ collection: 'qrcodes', put: qr(`${code.id}_new`, ws.id, new Date().toISOString(), `${code.short_code}n`) }]);
    const before = b.reads();
    await request(b, key.hash, code.id);
    // the key and workspace from memory; the code read again (the workspace's codes changed)
    expect(b.reads() - before).toBe(1);
    await request(b, key.hash, code.id);
    expect(b.reads() - before).toBe(1);
  });

  it('returns copies: changing an answer changes nothing held', async () => {
    const a = await startProcess(`test:cr:${Date.now()}:copy:`);
    const { key, code } = await seed(a.store);
    for (let i = 0; i < 3; i++) await request(a, key.hash, code.id);
    const first = await request(a, key.hash, code.id);
    (first.code as { name: string }).name = 'mutated';
    (first.key as { scopes: string[] }).scopes.push('qr:write');
    const again = await request(a, key.hash, code.id);
    expect(again.code?.name).toBe(code.name);
    expect(again.key?.scopes).toEqual(key.scopes);
  });

  it('never trusts a code of another workspace, nor anything outside a request scope', async () => {
    const a = await startProcess(`test:cr:${Date.now()}:iso:`);
    const mine = await seed(a.store);
    const theirs = await seed(a.store);
    for (let i = 0; i < 3; i++) await request(a, mine.key.hash, theirs.code.id);
    const before = a.reads();
    await request(a, mine.key.hash, theirs.code.id);
    // the key and workspace from memory; the other workspace's code read again
    expect(a.reads() - before).toBe(1);
    const outside = a.reads();
    await a.store.get('qrcodes', mine.code.id);
    await a.store.findUnique('keys', 'hash', mine.key.hash);
    expect(a.reads() - outside).toBe(2);
  });

  it('sees a change made with no generation bump (the CLI without Redis) once maxAgeMs has passed', async () => {
    let now = Date.now();
    const prefix = `test:cr:${now}:age:`;
    const a = await startProcess(prefix, { now: () => now, maxAgeMs: 5000 });
    const { key, code } = await seed(a.store);
    for (let i = 0; i < 3; i++) await request(a, key.hash, code.id);
    await a.raw.commit([{ collection: 'keys', update: key.id, set: { status: 'revoked' } }]);
    expect((await request(a, key.hash, code.id)).key?.status).toBe('active');
    now += 5001;
    expect((await request(a, key.hash, code.id)).key?.status).toBe('revoked');
  });

  it('reads everything from the database while Redis does not answer', async () => {
    // nothing listens on port 1
    const a = await startProcess(`test:cr:${Date.now()}:down:`, {}, 'redis://127.0.0.1:1');
    const { key, code } = await seed(a.store);
    for (let i = 0; i < 3; i++) await request(a, key.hash, code.id);
    const before = a.reads();
    await request(a, key.hash, code.id);
    expect(a.reads() - before).toBe(3);
  });

  it("reuses a code's scan count for a second, then reads it again", async () => {
    let now = Date.now();
    const a = await startProcess(`test:cr:${now}:scans:`, { now: () => now, scanCountMaxAgeMs: 1000 });
    let stored = 7;
    let reads = 0;
    const count = a.coherent.scanCounter(async () => ((reads++), stored));
    expect(await count('qr_x')).toBe(7);
    stored = 9;
    now += 999;
    expect(await count('qr_x')).toBe(7);
    expect(await count('qr_y')).toBe(9);
    now += 2;
    expect(await count('qr_x')).toBe(9);
    expect(reads).toBe(3);
  });
});
