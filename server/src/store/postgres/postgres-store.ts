import pg from 'pg';
import type { CollectionName, Collections } from '../records.js';
import { UniqueViolationError, type MultiIndex, type Op, type OrderedCollection, type PageRequest, type PageResult, type Store, type UniqueIndex } from '../store.js';
import { StoreUnavailableError } from '../unavailable.js';
import { MigrationError, migrateToLatest } from './migrations.js';
import { columnValues, normalise, storableJson, storableText, TABLES, type TableSpec } from './schema.js';

type AnyRecord = { id: string } & Record<string, unknown>;
/** A change queued by commitSoon and not yet written; `record` null is a delete. */
interface Pending {
  record: AnyRecord | null;
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

function opId(op: Op): string {
  return 'put' in op ? op.put.id : op.delete;
}

/** The SQL of a put (an upsert of the whole record and its indexed columns) for one table, built once. */
function upsertSql(spec: TableSpec): string {
  const columns = ['id', ...spec.columns, 'data'];
  const quoted = columns.map((column) => `"${column}"`);
  const placeholders = columns.map((_, index) => `$${index + 1}`);
  placeholders[placeholders.length - 1] += '::jsonb';
  const updates = quoted.slice(1).map((column) => `${column} = EXCLUDED.${column}`).join(', ');
  return `INSERT INTO ${spec.table} (${quoted.join(', ')}) VALUES (${placeholders.join(', ')}) ON CONFLICT (id) DO UPDATE SET ${updates}`;
}

const UPSERTS = new Map<CollectionName, string>(Object.values(TABLES).map((spec) => [spec.collection, upsertSql(spec)]));

/**
 * The PostgreSQL store: one table per collection, each record kept whole as jsonb beside the columns the store
 * looks up and orders by (see schema.ts). `commit` is one transaction, durable when it resolves; `commitSoon`
 * batches are written about once a second and are seen by this process's `get`/`findUnique`/`findMany` meanwhile.
 * Unique indexes are enforced by the database. Several processes may share one database.
 */
export class PostgresStore implements Store {
  private closed = false;
  private readonly overlay = new Map<CollectionName, Map<string, Pending>>();
  private queue: Array<{ op: Op; pending: Pending }> = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: Required<PostgresStoreOptions>,
  ) {
    this.timer = setInterval(() => void this.flush(), options.lazyFlushMs);
    this.timer.unref();
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
    return new PostgresStore(pool, {
      lazyFlushMs: options.lazyFlushMs ?? 1000,
      poolSize: options.poolSize ?? 10,
      waitForDatabase: options.waitForDatabase ?? { onWaiting: () => undefined },
      onFlushError: options.onFlushError ?? ((error) => console.error(`qrflow: writing queued changes to PostgreSQL failed (${error.message})`)),
    });
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.query('SELECT 1');
  }

  async get<C extends CollectionName>(collection: C, id: string): Promise<Collections[C] | undefined> {
    const queued = this.overlay.get(collection)?.get(id);
    if (queued) return copy(queued.record ?? undefined) as Collections[C] | undefined;
    const { rows } = await this.query<{ data: Collections[C] }>(`SELECT data FROM ${TABLES[collection].table} WHERE id = $1`, [storableText(id)]);
    // the overlay is read after the query too: a change queued while it ran is newer than its answer
    const pending = this.overlay.get(collection)?.get(id);
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
    // a queued change to that record (deleted, or now holding another value) wins over the database
    if (!row || overlay?.has(row.id)) return undefined;
    return row.data;
  }

  async findMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<Collections[C][]> {
    const field = index as string;
    const { rows } = await this.query<{ id: string; data: Collections[C] }>(`SELECT id, data FROM ${TABLES[collection].table} WHERE "${field}" = $1 ORDER BY created_at, id`, [storableText(value)]);
    const overlay = this.overlay.get(collection);
    if (!overlay || overlay.size === 0) return rows.map((row) => row.data);
    const out = rows.filter((row) => !overlay.has(row.id)).map((row) => row.data);
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

  async commit(ops: Op[]): Promise<void> {
    this.assertOpen();
    const owned = ops.map(own);
    // what commitSoon queued before this call is written first, so a later commit is never undone by an earlier change
    await this.flush();
    await this.transaction(owned);
  }

  commitSoon(ops: Op[]): void {
    this.assertOpen();
    for (const op of ops.map(own)) {
      const pending: Pending = { record: 'put' in op ? (op.put as unknown as AnyRecord) : null };
      let overlay = this.overlay.get(op.collection);
      if (!overlay) this.overlay.set(op.collection, (overlay = new Map()));
      overlay.set(opId(op), pending);
      this.queue.push({ op, pending });
    }
  }

  /** Writes whatever commitSoon queued, and waits for it. */
  flush(): Promise<void> {
    if (!this.flushing && this.queue.length > 0) this.flushing = this.flushLoop();
    return this.flushing ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
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
          await this.transaction(batch.map((entry) => entry.op));
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
              await this.transaction([entry.op]);
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
  private settle(batch: Array<{ op: Op; pending: Pending }>): void {
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

  private async transaction(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken = false;
    // a connection reset between two statements is emitted on the client, not passed to a query: without a
    // listener it would crash the process; the next statement fails and says so instead
    const onError = () => (broken = true);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      for (const op of ops) {
        const spec = TABLES[op.collection];
        if ('put' in op) {
          const record = op.put as unknown as AnyRecord;
          await client.query(UPSERTS.get(op.collection) as string, [storableText(record.id), ...columnValues(spec, record), storableJson(record)]);
        } else {
          await client.query(`DELETE FROM ${spec.table} WHERE id = $1`, [storableText(op.delete)]);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const translated = translate(error);
      // a cut connection goes out of the pool rather than back into it
      broken = translated instanceof StoreUnavailableError;
      throw translated;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
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
  } else if (error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError)) {
    // node network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT...) and pg's own (connection terminated, timeouts)
    const reason = typeof pgError.code === 'string' ? pgError.code : (pgError.message ?? 'no answer').slice(0, 120);
    return new StoreUnavailableError(reason, { cause: error });
  }
  if (pgError?.code !== UNIQUE_VIOLATION) return error;
  for (const spec of Object.values(TABLES)) {
    const unique = spec.unique.find((u) => u.constraint === pgError.constraint);
    if (unique) return new UniqueViolationError(spec.collection, unique.field);
  }
  return error;
}
