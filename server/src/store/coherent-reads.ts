import { randomInt } from 'node:crypto';
import { klona } from 'klona/json';
import type { SharedRedis } from '../redis/client.js';
import type { ApiKeyRecord, CollectionName, Collections, WebhookRecord } from './records.js';
import type { ReadScope, Store, WriteOp } from './store.js';

/**
 * The collections whose records are kept in memory: what every authenticated request reads, and a workspace's
 * webhooks (every create, update and delete of a code reads them to queue its event's deliveries).
 */
const CACHED: ReadonlySet<CollectionName> = new Set<CollectionName>(['workspaces', 'qrcodes', 'keys', 'webhooks']);

interface Entry<T> {
  record: T;
  workspaceId: string;
  /** The generations seen before the record was read; undefined: not to be trusted (read before any was seen). */
  generation: string | undefined;
  readAt: number;
}

/**
 * Each workspace has three generations, read together as `auth/codes/hooks`: one for its keys and its own record
 * (what authentication reads), one for its codes, one for its webhooks, so that creating codes does not make every
 * request authenticate again, nor read the webhooks again.
 */
type Part = 0 | 1 | 2;
const partOf = (collection: CollectionName): Part => (collection === 'qrcodes' ? 1 : collection === 'webhooks' ? 2 : 0);
const GENERATION_PARTS = ['auth', 'codes', 'hooks'] as const;

function partAt(generation: string | undefined, part: Part): string | undefined {
  return generation?.split('/')[part];
}

/** Whether two generations agree on one part: equal whole (nothing changed: the usual case, no split), or on that part. */
function samePart(a: string | undefined, b: string | undefined, part: Part): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || partAt(a, part) === partAt(b, part);
}

export interface CoherentReadsOptions {
  /** How long a record is trusted at most, whatever Redis says (ms): bounds a lost generation bump. */
  maxAgeMs?: number;
  /** How long a code's scan count is reused (ms). */
  scanCountMaxAgeMs?: number;
  /** Records held at most (the oldest are forgotten first). */
  maxEntries?: number;
  now?: () => number;
}

/** Reads each generation, giving a missing one (first use, or a Redis that restarted empty) a random start. */
const GENERATIONS_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if not value then
    redis.call('SET', key, ARGV[i], 'NX')
    value = redis.call('GET', key)
  end
  out[i] = value
end
return out`;

/** Adds one to each generation (a missing one starts from a random value, as above). */
const BUMP_SCRIPT = `
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then redis.call('SET', key, ARGV[i]) end
  redis.call('INCR', key)
end
return #KEYS`;

/** The record an op writes, by id, and the record itself when the op carries it; undefined for an op that writes none. */
function written(op: WriteOp): { id: string; record?: { workspace_id?: string } } | undefined {
  if ('put' in op) return { id: op.put.id, record: op.put as { workspace_id?: string } };
  if ('insert' in op) return { id: op.insert.id, record: op.insert as { workspace_id?: string } };
  if ('update' in op) return { id: op.update };
  if ('delete' in op) return { id: op.delete };
  return undefined;
}

const randomStart = () => String(randomInt(1, 2 ** 47));

/**
 * Keys, workspaces and codes in memory for API requests on a store shared by several processes, exact across
 * them: every commit that changes such a record adds one to its workspace's generation in Redis before it
 * resolves, and a request reads the generation once (one Redis round trip) before trusting what this process
 * read at that same generation. A change made through any process is therefore seen by the next request to any
 * other — a paused key is refused at once — while a read-heavy workspace costs no database round trip for its key,
 * workspace and codes. When Redis cannot answer, reads go to the database. A change made where no generation is
 * bumped (the CLI without QRFLOW_REDIS_URL, a bump lost to a Redis failure) is seen within `maxAgeMs`. Records are
 * copied in and out with klona/json (they are JSON: about a tenth of structuredClone's cost, which a read paid thrice).
 */
export class CoherentReads {
  readonly store: Store;
  private readonly byHash = new Map<string, Entry<ApiKeyRecord>>();
  private readonly hashOfKey = new Map<string, string>();
  private readonly records = new Map<string, Entry<unknown>>();
  /** Each workspace's webhooks, as `findMany('webhooks', 'workspace_id', …)` answered them. */
  private readonly hooks = new Map<string, Entry<WebhookRecord[]>>();
  /** The workspace of records this process has seen, for updates and deletes that name only an id. */
  private readonly workspaceOf = new Map<string, string>();
  private readonly options: Required<CoherentReadsOptions>;

  constructor(private readonly inner: Store, private readonly redis: SharedRedis, options: CoherentReadsOptions = {}) {
    this.options = { maxAgeMs: options.maxAgeMs ?? 5000, scanCountMaxAgeMs: options.scanCountMaxAgeMs ?? 1000, maxEntries: options.maxEntries ?? 20_000, now: options.now ?? Date.now };
    this.store = {
      scans: inner.scans,
      get: (collection, id, reads) => this.get(collection, id, reads),
      findUnique: (collection, index, value, reads) =>
        collection === 'keys' && index === 'hash' ? (this.keyByHash(value, reads) as never) : inner.findUnique(collection, index, value),
      findMany: (collection, index, value, reads) =>
        collection === 'webhooks' && index === 'workspace_id' ? (this.hooksOf(value, reads) as never) : inner.findMany(collection, index, value),
      countMany: (collection, index, value) => inner.countMany(collection, index, value),
      all: (collection) => inner.all(collection),
      countByWorkspace: (collection, workspaceId) => inner.countByWorkspace(collection, workspaceId),
      listPage: (collection, workspaceId, page) => inner.listPage(collection, workspaceId, page),
      commit: (ops) => this.commit(ops),
      commitSoon: (ops) => this.commitSoon(ops),
      ...(inner.follow ? { follow: inner.follow.bind(inner) } : {}),
      ping: () => inner.ping(),
      close: () => inner.close(),
    };
  }

  /**
   * A code's stored non-bot scans for API answers, remembered for `scanCountMaxAgeMs` (1 s): scans reach the
   * database in batches about a second apart, so the count was already that far behind.
   */
  scanCounter(count: (qrId: string) => Promise<number>): (qrId: string) => Promise<number> {
    const held = new Map<string, { count: number; readAt: number }>();
    return async (qrId) => {
      const now = this.options.now();
      const known = held.get(qrId);
      if (known && now - known.readAt < this.options.scanCountMaxAgeMs) return known.count;
      const value = await count(qrId);
      if (held.size >= this.options.maxEntries) held.clear();
      held.set(qrId, { count: value, readAt: now });
      return value;
    };
  }

  /** How many records (and webhook lists) are held (for tests). */
  get size(): number {
    return this.byHash.size + this.records.size + this.hooks.size;
  }

  /** The Redis keys of a workspace's generations (auth, codes, hooks). */
  generationKeys(workspaceId: string): string[] {
    return GENERATION_PARTS.map((part) => `${this.redis.prefix}gen:ws:${workspaceId}:${part}`);
  }

  /** The workspace's generation now, or undefined when Redis cannot say (then nothing is trusted). */
  private async generationOf(workspaceId: string): Promise<string | undefined> {
    if (!this.redis.ready) return undefined;
    try {
      const values = (await this.redis.evalScript(GENERATIONS_SCRIPT, this.generationKeys(workspaceId), GENERATION_PARTS.map(randomStart))) as string[];
      return values.length === GENERATION_PARTS.length ? values.join('/') : undefined;
    } catch (error) {
      this.redis.warn('coherent reads', error);
      return undefined;
    }
  }

  /** Whether a held record may answer: held at the same generation (of its part) as the request's. */
  private fresh(entry: Entry<unknown>, scope: ReadScope, part: Part): boolean {
    return (
      samePart(entry.generation, scope.generation, part) &&
      entry.workspaceId === scope.workspaceId &&
      this.options.now() - entry.readAt < this.options.maxAgeMs
    );
  }

  private remember<T>(map: Map<string, Entry<T>>, id: string, entry: Entry<T>): void {
    map.delete(id);
    if (map.size >= this.options.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(id, entry);
  }

  private async keyByHash(hash: string, scope: ReadScope | undefined): Promise<ApiKeyRecord | undefined> {
    if (!scope) return this.inner.findUnique('keys', 'hash', hash);
    const held = this.byHash.get(hash);
    if (held && !scope.confirmed && scope.workspaceId === undefined) {
      // tentative: authentication goes on with what was held at that generation, and confirm() checks it
      scope.workspaceId = held.workspaceId;
      scope.generation = held.generation;
    }
    if (held && this.fresh(held, scope, 0)) {
      scope.fromMemory = true;
      return klona(held.record);
    }
    const record = await this.inner.findUnique('keys', 'hash', hash);
    if (!record) {
      this.byHash.delete(hash);
      return undefined;
    }
    // first sight: no generation is known before this read, so the key is held untrusted until confirm() has one
    if (!scope.confirmed && scope.workspaceId === undefined) scope.workspaceId = record.workspace_id;
    const generation = record.workspace_id === scope.workspaceId ? scope.generation : undefined;
    this.hold(hash, record, generation);
    if (generation === undefined && !scope.confirmed) scope.keyUntrusted = true;
    return record;
  }

  /**
   * The Redis keys of the current request's generations while they are to be confirmed, for a call that can bring
   * them along (read in this order and joined by `/`).
   */
  pendingGenerationKeys(scope: ReadScope): string[] | undefined {
    return scope.workspaceId !== undefined && !scope.confirmed && !scope.observed ? this.generationKeys(scope.workspaceId) : undefined;
  }

  /** Hands over the generations another Redis call brought along (undefined: that call failed). */
  observe(scope: ReadScope, value: string | undefined): void {
    if (!scope.confirmed) scope.observed = { value };
  }

  /**
   * Settles the current request on its workspace's generation now (brought along by `observe`, or read here):
   * true when what authentication took from memory still holds; false when it must authenticate again (then every
   * read goes to the database and is held at the generation seen).
   */
  async confirm(scope: ReadScope | undefined): Promise<boolean> {
    if (!scope || scope.confirmed || scope.workspaceId === undefined) return true;
    const seen = scope.observed ? scope.observed.value : await this.generationOf(scope.workspaceId);
    scope.confirmed = true;
    if (scope.fromMemory) {
      // authentication read only keys and workspaces: their part must hold; codes are read after this, at `seen`
      const holds = samePart(seen, scope.generation, 0);
      scope.generation = seen;
      return holds;
    }
    // everything came from the database: good as it is; read once more only to hold a first-seen key at `seen`
    scope.generation = seen;
    return seen === undefined || !scope.keyUntrusted;
  }

  private hold(hash: string, record: ApiKeyRecord, generation: string | undefined): void {
    this.remember(this.byHash, hash, { record: klona(record), workspaceId: record.workspace_id, generation, readAt: this.options.now() });
    this.hashOfKey.set(record.id, hash);
    this.place(`keys:${record.id}`, record.workspace_id);
  }

  private async get<C extends CollectionName>(collection: C, id: string, scope: ReadScope | undefined): Promise<Collections[C] | undefined> {
    if (!CACHED.has(collection)) return this.inner.get(collection, id);
    const generation = collection === 'keys' ? undefined : scope?.generation;
    const cacheKey = `${collection}:${id}`;
    const held = generation !== undefined ? this.records.get(cacheKey) : undefined;
    if (held && scope && this.fresh(held, scope, partOf(collection))) {
      if (!scope.confirmed) scope.fromMemory = true;
      return klona(held.record) as Collections[C];
    }
    const record = await this.inner.get(collection, id);
    if (!record) {
      this.records.delete(cacheKey);
      return record;
    }
    const workspaceId = collection === 'workspaces' ? record.id : (record as { workspace_id: string }).workspace_id;
    this.place(cacheKey, workspaceId);
    if (generation !== undefined && workspaceId === scope?.workspaceId) {
      this.remember(this.records, cacheKey, { record: klona(record), workspaceId, generation, readAt: this.options.now() });
    }
    return record;
  }

  /** A workspace's webhooks: from memory when held at the request's generation, else read and held at it. */
  private async hooksOf(workspaceId: string, scope: ReadScope | undefined): Promise<WebhookRecord[]> {
    const generation = scope?.confirmed && scope.workspaceId === workspaceId ? scope.generation : undefined;
    const held = generation !== undefined ? this.hooks.get(workspaceId) : undefined;
    if (held && scope && this.fresh(held, scope, 2)) return klona(held.record);
    const hooks = await this.inner.findMany('webhooks', 'workspace_id', workspaceId);
    for (const hook of hooks) this.place(`webhooks:${hook.id}`, workspaceId);
    if (generation !== undefined) this.remember(this.hooks, workspaceId, { record: klona(hooks), workspaceId, generation, readAt: this.options.now() });
    return hooks;
  }

  private place(cacheKey: string, workspaceId: string): void {
    if (this.workspaceOf.size >= this.options.maxEntries * 4) this.workspaceOf.clear();
    this.workspaceOf.set(cacheKey, workspaceId);
  }

  /** The workspace of a record an op names only by id, from this process's memory or else the store. */
  private async placeOf(collection: CollectionName, id: string): Promise<string | undefined> {
    if (collection === 'workspaces') return id;
    const known = this.workspaceOf.get(`${collection}:${id}`);
    if (known !== undefined) return known;
    const record = (await this.inner.get(collection, id)) as { workspace_id?: string } | undefined;
    return record?.workspace_id;
  }

  /** The workspaces whose cached records the ops change (read before the commit: a delete leaves nothing to read). */
  private async placesOf(ops: readonly WriteOp[]): Promise<Set<string>> {
    /** `workspace id` + `:auth` or `:codes`: the generations to bump. */
    const workspaces = new Set<string>();
    for (const op of ops) {
      const target = CACHED.has(op.collection) ? written(op) : undefined;
      if (!target) continue;
      const workspaceId = op.collection === 'workspaces' ? target.id : (target.record?.workspace_id ?? (await this.placeOf(op.collection, target.id)));
      if (workspaceId !== undefined) workspaces.add(`${workspaceId}:${GENERATION_PARTS[partOf(op.collection)]}`);
    }
    return workspaces;
  }

  /** Forgets this process's copies of the records the ops change. */
  private forget(ops: ReadonlyArray<WriteOp>): void {
    for (const op of ops) {
      const target = CACHED.has(op.collection) ? written(op) : undefined;
      if (!target) continue;
      if (op.collection === 'webhooks') {
        const workspaceId = target.record?.workspace_id ?? this.workspaceOf.get(`webhooks:${target.id}`);
        // a webhook of a workspace not known here: no list is trusted
        if (workspaceId === undefined) this.hooks.clear();
        else this.hooks.delete(workspaceId);
      }
      this.records.delete(`${op.collection}:${target.id}`);
      if (op.collection === 'keys') {
        const hash = this.hashOfKey.get(target.id);
        if (hash !== undefined) this.byHash.delete(hash);
      }
    }
  }

  private async commit(ops: WriteOp[]): Promise<void> {
    const workspaces = await this.placesOf(ops);
    try {
      await this.inner.commit(ops);
    } finally {
      // even a failed commit may have been applied (an answer cut off): nothing of it is trusted here
      this.forget(ops);
    }
    if (workspaces.size === 0) return;
    try {
      await this.redis.evalScript(BUMP_SCRIPT, [...workspaces].map((id) => `${this.redis.prefix}gen:ws:${id}`), [...workspaces].map(randomStart));
    } catch (error) {
      // the other processes see the change within maxAgeMs instead
      this.redis.warn('coherent reads', error);
    }
  }

  private commitSoon(ops: Parameters<Store['commitSoon']>[0]): void {
    this.inner.commitSoon(ops);
    for (const op of ops) {
      if (!CACHED.has(op.collection)) continue;
      // a key's last-used time is kept current here so that it is not written again on every request
      if (op.collection === 'keys' && 'update' in op && op.set && Object.keys(op).every((k) => k === 'collection' || k === 'update' || k === 'set')) {
        const hash = this.hashOfKey.get(op.update);
        const held = hash !== undefined ? this.byHash.get(hash) : undefined;
        if (held) Object.assign(held.record, klona(op.set));
        continue;
      }
      this.forget([op]);
    }
  }
}
