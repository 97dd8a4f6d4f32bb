import pg from 'pg';
import type { CollectionName, Collections } from '../records.js';
import { UniqueViolationError, type Follower, type Following, type MultiIndex, type Op, type UpdateOp, type OrderedCollection, type PageRequest, type PageResult, type Store, type UniqueIndex, type WriteOp } from '../store.js';
import { StoreUnavailableError } from '../unavailable.js';
import { applyUpdate } from '../update.js';
import { ChangeFeed, FOLLOWED } from './change-feed.js';
import { MigrationError, migrateToLatest } from './migrations.js';
import { PostgresScans, type PostgresScansOptions } from './scans.js';
import { TransactionWriter, type Change } from './transactions.js';
import { normalise, storableText, TABLES } from './schema.js';

type AnyRecord = { id: string } & Record<string, unknown>;
/**
 * A change queued by commitSoon and not yet written: a whole record (`record`; null is a delete), or field-level
 * updates to apply over the row as the database holds it (`updates`, when no whole record is queued for the id).
 */
interface Pending {
  record?: AnyRecord | null;
  updates?: UpdateOp[];
}

/** A row with the queued updates applied, as it will be once they are written. */
function fold(row: AnyRecord | undefined, updates: readonly UpdateOp[]): AnyRecord | undefined {
  let record = row;
  for (const op of updates) record = applyUpdate(record, op);
  return record === undefined ? undefined : { ...record };
}

export interface PostgresStoreOptions {
  /** How often `commitSoon` changes are written (ms). */
  lazyFlushMs?: number;
  /** Connections in the pool. */
  poolSize?: number;
  /** Told when a batch of `commitSoon` changes could not be written (it is retried, or dropped if it breaks a unique index). */
  onFlushError?: (error: Error) => void;
  /**
   * Wait for a database that does not answer at start, retrying with backoff, instead of failing at once (a server
   * started before PostgreSQL). `onWaiting` is told before each wait. The CLI does not wait.
   */
  waitForDatabase?: { onWaiting: (info: { attempt: number; retryInMs: number; reason: string }) => void; signal?: AbortSignal };
  /** Scan batching (write delay, batch size). */
  scans?: PostgresScansOptions;
}

/** Bounds on every database round trip, so an unreachable or hung PostgreSQL answers 503 rather than hanging a request. */
export const POOL_TIMEOUTS = {
  /** Getting a connection (from the pool, or a new one to the server). */
  connectionTimeoutMillis: 3000,
  /** One query's answer (client side), and the same bound on the server for a statement. */
  query_timeout: 10_000,
  statement_timeout: 10_000,
} as const;

/** Waits before the 1st, 2nd, ... retry of a start while PostgreSQL does not answer; the last one repeats. */
const START_BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10_000];

const UNIQUE_VIOLATION = '23505';

function copy<T>(record: T | undefined): T | undefined {
  return record === undefined ? undefined : { ...record };
}

function own(op: Op): Op {
  return 'put' in op ? ({ collection: op.collection, put: { ...op.put } } as Op) : op;
}

function opId(op: Op | UpdateOp): string {
  return 'put' in op ? op.put.id : 'update' in op ? op.update : op.delete;
}

function ownWrite(op: WriteOp): WriteOp {
  if ('insert' in op) return { collection: op.collection, insert: { ...op.insert } } as WriteOp;
  if ('update' in op || 'cap' in op || 'absent' in op) return { ...op } as WriteOp;
  return own(op);
}

/**
 * The PostgreSQL store: one table per collection, each record kept whole as jsonb beside the columns the store
 * looks up and orders by (see schema.ts). `commit` is one transaction, durable when it resolves; `commitSoon`
 * batches are written about once a second and are seen by this process's `get`/`findUnique`/`findMany` meanwhile.
 * Unique indexes are enforced by the database. Several processes may share one database.
 */
export class PostgresStore implements Store {
  private closed = false;
  private readonly overlay = new Map<CollectionName, Map<string, Pending>>();
  private queue: Array<{ op: Op | UpdateOp; pending: Pending }> = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Scans, in the month-partitioned `scans` table and its roll-ups. */
  readonly scans: PostgresScans;
  private feed: ChangeFeed | undefined;
  /** Writes commits, grouping those that arrive together into one transaction. */
  private readonly writer: TransactionWriter;

  private constructor(
    private readonly connectionString: string,
    private readonly pool: pg.Pool,
    private readonly options: Required<Omit<PostgresStoreOptions, 'scans'>>,
    scans: PostgresScansOptions = {},
  ) {
    this.timer = setInterval(() => void this.flush(), options.lazyFlushMs);
    this.timer.unref();
    this.scans = new PostgresScans(pool, scans);
    this.writer = new TransactionWriter(pool, translate);
  }

  /** Connects, brings the schema to the latest migration (once, under an advisory lock) and returns the store. */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, ...POOL_TIMEOUTS });
    // an idle connection dropped by the server must not crash the process; the next query reconnects
    pool.on('error', () => undefined);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await migrateToLatest(pool);
          break;
        } catch (error) {
          const unavailable = translate(error);
          const wait = options.waitForDatabase;
          if (!(unavailable instanceof StoreUnavailableError) || !wait || wait.signal?.aborted) throw unavailable;
          const retryInMs = START_BACKOFF_MS[Math.min(attempt, START_BACKOFF_MS.length) - 1] as number;
          wait.onWaiting({ attempt, retryInMs, reason: unavailable.reason });
          await new Promise((resolve) => setTimeout(resolve, retryInMs));
        }
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresStore(connectionString, pool, {
      lazyFlushMs: options.lazyFlushMs ?? 1000,
      poolSize: options.poolSize ?? 10,
      waitForDatabase: options.waitForDatabase ?? { onWaiting: () => undefined },
      onFlushError: options.onFlushError ?? ((error) => console.error(`qrflow: writing queued changes to PostgreSQL failed (${error.message})`)),
    }, options.scans);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.query('SELECT 1');
  }

  async get<C extends CollectionName>(collection: C, id: string): Promise<Collections[C] | undefined> {
    const queued = this.overlay.get(collection)?.get(id);
    if (queued && queued.record !== undefined) return copy(queued.record ?? undefined) as Collections[C] | undefined;
    const { rows } = await this.query<{ data: Collections[C] }>(`SELECT data FROM ${TABLES[collection].table} WHERE id = $1`, [storableText(id)]);
    // the overlay is read after the query too: a change queued while it ran is newer than its answer
    const pending = this.overlay.get(collection)?.get(id);
    if (pending?.updates) return fold(rows[0]?.data as AnyRecord | undefined, pending.updates) as Collections[C] | undefined;
    if (pending) return copy(pending.record ?? undefined) as Collections[C] | undefined;
    return rows[0]?.data;
  }

  async findUnique<C extends CollectionName>(collection: C, index: UniqueIndex<C>, value: string): Promise<Collections[C] | undefined> {
    const field = index as string;
    const wanted = normalise(field, value);
    const { rows } = await this.query<{ id: string; data: Collections[C] }>(`SELECT id, data FROM ${TABLES[collection].table} WHERE "${field}" = $1`, [storableText(wanted)]);
    // read after the query, so a change queued while it ran wins over its answer
    const overlay = this.overlay.get(collection);
    if (overlay) {
      for (const pending of overlay.values()) {
        const held = pending.record?.[field];
        if (typeof held === 'string' && normalise(field, held) === wanted) return copy(pending.record) as unknown as Collections[C];
      }
    }
    const row = rows[0];
    if (!row) return undefined;
    // queued field updates apply over the row (they must not change a unique field: see commitSoon)
    const pending = overlay?.get(row.id);
    if (pending?.updates) return fold(row.data as unknown as AnyRecord, pending.updates) as unknown as Collections[C] | undefined;
    // a queued whole record (deleted, or now holding another value) wins over the database
    if (pending) return undefined;
    return row.data;
  }

  async findMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<Collections[C][]> {
    const field = index as string;
    const { rows } = await this.query<{ id: string; data: Collections[C] }>(`SELECT id, data FROM ${TABLES[collection].table} WHERE "${field}" = $1 ORDER BY created_at, id`, [storableText(value)]);
    const overlay = this.overlay.get(collection);
    if (!overlay || overlay.size === 0) return rows.map((row) => row.data);
    const out: Collections[C][] = [];
    for (const row of rows) {
      const pending = overlay.get(row.id);
      if (!pending) out.push(row.data);
      else if (pending.updates) {
        const folded = fold(row.data as unknown as AnyRecord, pending.updates);
        if (folded) out.push(folded as unknown as Collections[C]);
      }
    }
    for (const pending of overlay.values()) if (pending.record && pending.record[field] === value) out.push({ ...pending.record } as unknown as Collections[C]);
    return out;
  }

  async countMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<number> {
    await this.settled(collection);
    const { rows } = await this.query<{ count: string }>(`SELECT count(*) AS count FROM ${TABLES[collection].table} WHERE "${index as string}" = $1`, [storableText(value)]);
    return Number(rows[0]?.count ?? 0);
  }

  async all<C extends CollectionName>(collection: C): Promise<Collections[C][]> {
    await this.settled(collection);
    const { rows } = await this.query<{ data: Collections[C] }>(`SELECT data FROM ${TABLES[collection].table} ORDER BY created_at, id`);
    return rows.map((row) => row.data);
  }

  async countByWorkspace(collection: OrderedCollection, workspaceId: string): Promise<number> {
    await this.settled(collection);
    if (collection === 'qrcodes') {
      // kept by a trigger in every transaction that inserts or deletes a code (migration 0007)
      const { rows } = await this.query<{ codes: string }>('SELECT codes FROM qr_counts WHERE workspace_id = $1', [storableText(workspaceId)]);
      return Number(rows[0]?.codes ?? 0);
    }
    const { rows } = await this.query<{ count: string }>(`SELECT count(*) AS count FROM ${TABLES[collection].table} WHERE workspace_id = $1`, [storableText(workspaceId)]);
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * Keyset pages on (created_at, id), as the embedded store: newest first strictly before `before` and strictly
   * after `after`, or oldest first from the start. The filter is a function, so rows are read in chunks and
   * filtered here until the page is full or the workspace has no more.
   */
  async listPage<C extends OrderedCollection>(collection: C, workspaceId: string, page: PageRequest<Collections[C]>): Promise<PageResult<Collections[C]>> {
    await this.settled(collection);
    const table = TABLES[collection].table;
    const oldest = page.order === 'oldest';
    const chunk = page.filter ? Math.min(Math.max((page.limit + 1) * 2, 100), 1000) : page.limit + 1;
    const items: Collections[C][] = [];
    let cursor = oldest ? undefined : page.before;
    for (;;) {
      const params: unknown[] = [storableText(workspaceId)];
      const where = ['workspace_id = $1'];
      if (cursor) {
        params.push(storableText(cursor.created_at), storableText(cursor.id));
        where.push(oldest ? `(created_at, id) > ($2, $3)` : `(created_at, id) < ($2, $3)`);
      }
      if (!oldest && page.after) {
        params.push(storableText(page.after.created_at), storableText(page.after.id));
        where.push(`(created_at, id) > ($${params.length - 1}, $${params.length})`);
      }
      params.push(chunk);
      const direction = oldest ? 'ASC' : 'DESC';
      const { rows } = await this.query<{ created_at: string; id: string; data: Collections[C] }>(
        `SELECT created_at, id, data FROM ${table} WHERE ${where.join(' AND ')} ORDER BY created_at ${direction}, id ${direction} LIMIT $${params.length}`,
        params,
      );
      for (const row of rows) {
        if (page.filter && !page.filter(row.data)) continue;
        if (items.length === page.limit) return { items, hasMore: true };
        items.push(row.data);
      }
      if (rows.length < chunk) return { items, hasMore: false };
      const last = rows[rows.length - 1] as { created_at: string; id: string };
      cursor = { created_at: last.created_at, id: last.id };
    }
  }

  async commit(ops: WriteOp[]): Promise<void> {
    this.assertOpen();
    const owned = ops.map(ownWrite);
    // what commitSoon queued before this call is written first, so a later commit is never undone by an earlier change
    await this.flush();
    this.echo(await this.writer.commit(owned));
  }

  /** Tells this process's followers of its own committed changes without waiting for the notification. */
  private echo(changes: Change[]): void {
    if (!this.feed) return;
    for (const change of changes) this.feed.local(change.collection, change.id, change.record);
  }

  commitSoon(ops: Array<Op | UpdateOp>): void {
    this.assertOpen();
    for (const op of ops.map((o) => ('update' in o ? { ...o } : own(o)))) {
      let overlay = this.overlay.get(op.collection);
      if (!overlay) this.overlay.set(op.collection, (overlay = new Map()));
      let pending: Pending;
      if ('update' in op) {
        if (op.expect) throw new TypeError('commitSoon takes no conditional updates (expect): use commit');
        const queued = overlay.get(op.update);
        // over a queued whole record the update applies at once; otherwise it waits to apply over the row
        pending = queued && queued.record !== undefined ? { record: applyUpdate(queued.record ?? undefined, op) ?? null } : { updates: [...(queued?.updates ?? []), op] };
      } else {
        pending = { record: 'put' in op ? (op.put as unknown as AnyRecord) : null };
      }
      overlay.set(opId(op), pending);
      this.queue.push({ op, pending });
    }
  }

  /** Writes whatever commitSoon queued, and waits for it. */
  flush(): Promise<void> {
    if (!this.flushing && this.queue.length > 0) this.flushing = this.flushLoop();
    return this.flushing ?? Promise.resolve();
  }

  /**
   * Follows a collection through LISTEN/NOTIFY on a connection of its own (see change-feed.ts): every write to the
   * table, from any process, notifies; this process's own commits are also told at once, before `commit` resolves.
   */
  async follow<C extends 'qrcodes' | 'tombstones'>(collection: C, follower: Follower<Collections[C]>): Promise<Following> {
    this.assertOpen();
    if (!FOLLOWED.includes(collection)) throw new Error(`The ${collection} collection cannot be followed`);
    this.feed ??= new ChangeFeed(this.connectionString);
    return this.feed.add(collection, follower as unknown as Follower<AnyRecord>);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.feed?.close();
    try {
      await this.scans.close();
      await this.flush();
      if (this.queue.length > 0) throw new Error(`${this.queue.length} queued changes could not be written to PostgreSQL before closing`);
    } finally {
      await this.pool.end();
    }
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          this.echo(await this.transaction(batch.map((entry) => entry.op)));
          this.settle(batch);
        } catch (error) {
          if (!(error instanceof UniqueViolationError)) {
            // the database is unreachable or refused: keep the batch, in order, for the next attempt
            this.queue.unshift(...batch);
            this.options.onFlushError(error as Error);
            return;
          }
          // one op breaks a unique index: write the others one by one and drop only the offenders
          for (const entry of batch) {
            try {
              this.echo(await this.transaction([entry.op]));
            } catch (single) {
              this.options.onFlushError(single as Error);
              if (!(single instanceof UniqueViolationError)) {
                this.queue.unshift(...batch.slice(batch.indexOf(entry)));
                return;
              }
            }
            this.settle([entry]);
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Forgets overlay entries once written, unless a newer queued change replaced them meanwhile. */
  private settle(batch: Array<{ op: Op | UpdateOp; pending: Pending }>): void {
    for (const { op, pending } of batch) {
      const overlay = this.overlay.get(op.collection);
      const id = opId(op);
      if (overlay?.get(id) === pending) overlay.delete(id);
    }
  }

  /** Queries the overlay cannot correct (counts, pages, whole collections) first write the collection's queued changes. */
  private async settled(collection: CollectionName): Promise<void> {
    if (this.overlay.get(collection)?.size) await this.flush();
  }

  /** One transaction of its own (commitSoon's batches): not grouped with commits. */
  private transaction(ops: WriteOp[]): Promise<Change[]> {
    return this.writer.transaction(ops);
  }

  /** One query on the pool; a connection failure becomes StoreUnavailableError. */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params);
    } catch (error) {
      throw translate(error);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The store is closed');
  }
}

/** Node's network error codes: the server refused, dropped or never answered the connection. */
const NETWORK_CODE = /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|NOTFOUND|HOSTUNREACH|NETUNREACH|AI_AGAIN|CONNABORTED)$/;
/** pg's and pg-pool's own words for a lost or timed-out connection. */
const CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Connection ended/i;

/**
 * SQLSTATEs that mean the server cannot serve now: connection exceptions (class 08), too many connections, the
 * server shutting down or starting up, a statement cancelled by statement_timeout.
 */
function unavailableState(code: string): boolean {
  return code.startsWith('08') || code === '53300' || code === '57P01' || code === '57P02' || code === '57P03' || code === '57014';
}

/**
 * PostgreSQL's unique violation becomes the store's own error, naming the collection and index; a failure to reach
 * the server (refused, cut, timed out: an error without a SQLSTATE, or one of connection class) becomes
 * StoreUnavailableError. Anything else (a bug in a query) is passed on as it is.
 */
export function translate(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof MigrationError) return error;
  const pgError = error as { code?: string; constraint?: string; message?: string };
  if (error instanceof pg.DatabaseError) {
    if (typeof pgError.code === 'string' && unavailableState(pgError.code)) return new StoreUnavailableError(`PostgreSQL answered ${pgError.code}`, { cause: error });
  } else if (error instanceof Error && (NETWORK_CODE.test(String(pgError.code ?? '')) || CONNECTION_MESSAGE.test(error.message))) {
    // node network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT...) and pg's own (connection terminated, timeouts)
    const reason = typeof pgError.code === 'string' ? pgError.code : error.message.slice(0, 120);
    return new StoreUnavailableError(reason, { cause: error });
  }
  if (pgError?.code !== UNIQUE_VIOLATION) return error;
  for (const spec of Object.values(TABLES)) {
    if (pgError.constraint === `${spec.collection}_pkey`) return new UniqueViolationError(spec.collection, 'id');
    const unique = spec.unique.find((u) => u.constraint === pgError.constraint);
    if (unique) return new UniqueViolationError(spec.collection, unique.field);
  }
  return error;
}
