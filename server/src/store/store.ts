import type { CollectionName, Collections } from './records.js';
import type { ScanStorage } from './scans.js';

/** One change inside an atomic commit: a whole record put, or a delete by id. */
export type Op =
  | { [C in CollectionName]: { collection: C; put: Collections[C] } }[CollectionName]
  | { collection: CollectionName; delete: string };

/** The secondary lookups the store answers without scanning. */
export const INDEXES = {
  workspaces: { unique: ['name'], multi: [] },
  users: { unique: ['email'], multi: [] },
  members: { unique: [], multi: ['workspace_id', 'user_id'] },
  keys: { unique: ['hash'], multi: ['workspace_id'] },
  sessions: { unique: ['token_hash'], multi: ['user_id'] },
  qrcodes: { unique: ['short_code'], multi: [] },
  tombstones: { unique: [], multi: [] },
  idempotency: { unique: [], multi: [] },
  usage: { unique: [], multi: ['workspace_id'] },
  key_activity: { unique: [], multi: [] },
  webhooks: { unique: [], multi: ['workspace_id'] },
  events: { unique: [], multi: [] },
  deliveries: { unique: [], multi: ['webhook_id'] },
  delivery_logs: { unique: [], multi: [] },
} as const satisfies { [C in CollectionName]: { unique: readonly (keyof Collections[C] & string)[]; multi: readonly (keyof Collections[C] & string)[] } };

/**
 * A commit that would give two records the same value of a unique index (names and emails compared without
 * regard to case). Nothing of that commit is applied. Callers check first; this is the last line of defence.
 */
export class UniqueViolationError extends Error {
  constructor(readonly collection: CollectionName, readonly index: string) {
    super(`Another ${collection} record already has this ${index}`);
    this.name = 'UniqueViolationError';
  }
}

/** Collections listed per workspace, newest first, by (created_at, id). */
export type OrderedCollection = 'qrcodes' | 'events';

export type UniqueIndex<C extends CollectionName> = (typeof INDEXES)[C]['unique'][number];
export type MultiIndex<C extends CollectionName> = (typeof INDEXES)[C]['multi'][number];

export interface PageRequest<T> {
  limit: number;
  /** Position to continue after (exclusive), as returned in `PageResult.last`. */
  before?: { created_at: string; id: string } | undefined;
  /** Stop (exclusive) at records at or older than this one: for "newer than X" queries. */
  after?: { created_at: string; id: string } | undefined;
  filter?: ((record: T) => boolean) | undefined;
  /** Newest first (default), or oldest first for retention sweeps (then `before`/`after` are ignored). */
  order?: 'newest' | 'oldest' | undefined;
}

export interface PageResult<T> {
  items: T[];
  hasMore: boolean;
}

/**
 * Everything qrflow keeps, behind one interface so the embedded lowdb store can be swapped for PostgreSQL.
 * Methods return copies: changing a returned object changes nothing until it is committed.
 */
export interface Store {
  /** The scans of this deployment, kept by the same adapter (the scan log, or PostgreSQL's `scans` tables). */
  readonly scans: ScanStorage;
  get<C extends CollectionName>(collection: C, id: string): Promise<Collections[C] | undefined>;
  findUnique<C extends CollectionName>(collection: C, index: UniqueIndex<C>, value: string): Promise<Collections[C] | undefined>;
  findMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<Collections[C][]>;
  /** How many records a multi index holds for the value, without reading them. */
  countMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<number>;
  /** Every record of a small collection (deliveries queue, sweeps). Not for collections that grow with traffic. */
  all<C extends CollectionName>(collection: C): Promise<Collections[C][]>;
  countByWorkspace(collection: OrderedCollection, workspaceId: string): Promise<number>;
  listPage<C extends OrderedCollection>(collection: C, workspaceId: string, page: PageRequest<Collections[C]>): Promise<PageResult<Collections[C]>>;
  /**
   * Applies the ops atomically (all or none) and resolves once they are durable; rejects with
   * UniqueViolationError, applying nothing, when an op breaks a unique index.
   */
  commit(ops: Op[]): Promise<void>;
  /**
   * Queues the ops to be durable within about a second (counters, last-used times, sweeps); `get`, `findUnique`
   * and `findMany` see them at once, and a later `commit` is applied after them. Not for ops that could break a
   * unique index (a database adapter can only find out when the batch is written).
   */
  commitSoon(ops: Op[]): void;
  /** Resolves when the storage answers (for /readyz); rejects saying why otherwise. */
  ping(): Promise<void>;
  /** Makes everything durable and releases the storage (the data file's lock, the database connections). */
  close(): Promise<void>;
}
