import type { CollectionName, Collections } from './records.js';
import type { ScanStorage } from './scans.js';

/** One change inside an atomic commit: a whole record put, or a delete by id. */
export type Op =
  | { [C in CollectionName]: { collection: C; put: Collections[C] } }[CollectionName]
  | { collection: CollectionName; delete: string };

/**
 * A change to some fields of one record, applied to the record as it stands when the commit runs (under a row
 * lock on PostgreSQL), so that processes changing different fields of one record never undo each other's change.
 * Without `ifMissing`, an update of a record that does not exist does nothing (or rejects, when `expect` is given).
 */
export type UpdateOp = {
  [C in CollectionName]: {
    collection: C;
    update: string;
    /** Top-level fields to set. */
    set?: Partial<Collections[C]>;
    /** Numbers to add: a field, or `field.key` for a number inside an object field (missing counts as 0). */
    increment?: Readonly<Record<string, number>>;
    /** Items to add at the end of an array field, keeping only its last `keepLast` items. */
    append?: { field: keyof Collections[C] & string; items: readonly unknown[]; keepLast: number };
    /** Fields the record must hold (compared as JSON) for the commit to apply; otherwise it rejects with StaleRecordError. */
    expect?: Partial<Collections[C]>;
    /** The record to start from when none has this id. */
    ifMissing?: Collections[C];
  };
}[CollectionName];

/** A new record: rejects with UniqueViolationError (index `id`) when a record already has its id. */
export type InsertOp = { [C in CollectionName]: { collection: C; insert: Collections[C] } }[CollectionName];

/** Collections whose records the store counts per workspace (partition), exactly, whoever writes them. */
export type CountedCollection = 'qrcodes';

/**
 * A bound on the commit it is part of: once all the commit's ops are applied, the workspace (a partition id, e.g.
 * `ws_…:test`) may hold at most `atMost` records of the collection, or the commit rejects with CapExceededError and
 * applies nothing. The count is kept by the store inside the commit itself, so creates racing on several processes
 * never pass a plan's cap: with a cap of N, exactly N codes.
 */
export type CapOp = { collection: CountedCollection; cap: string; atMost: number };

/** A commit that would leave the workspace more records than its CapOp allows. Nothing of that commit is applied. */
export class CapExceededError extends Error {
  constructor(
    readonly collection: CountedCollection,
    readonly workspaceId: string,
    readonly atMost: number,
    /** What the workspace would have held had the commit applied. */
    readonly wouldHold: number,
  ) {
    super(`The ${collection} of workspace ${workspaceId} would number ${wouldHold}, past ${atMost}`);
    this.name = 'CapExceededError';
  }
}

/**
 * A condition at its place in the commit: no record of the collection has this id (as the ops before it leave
 * them), or the commit rejects with UniqueViolationError (index `id`) and applies nothing. A new code's short link
 * must never have been used: `{ collection: 'tombstones', absent: routeKey }` after the code's put.
 */
export type AbsentOp = { collection: CollectionName; absent: string };

/** What `commit` accepts: whole-record puts and deletes, field-level updates, inserts, and conditions (caps, absences). */
export type WriteOp = Op | UpdateOp | InsertOp | CapOp | AbsentOp;

/** A commit whose `expect` did not hold (another writer changed the record first). Nothing of that commit is applied. */
export class StaleRecordError extends Error {
  constructor(readonly collection: CollectionName, readonly id: string) {
    super(`The ${collection} record ${id} changed since it was read`);
    this.name = 'StaleRecordError';
  }
}

/** Follows one collection's changes, made by this process or any other sharing the storage. */
export interface Follower<T> {
  /** Every record of the collection: at the start, and again after the feed of changes was interrupted. */
  reset(records: T[]): void;
  /** One record as it now is, or undefined when it was deleted. */
  change(id: string, record: T | undefined): void;
}

export interface Following {
  /** Whether changes are being heard now (false while the feed reconnects; a reset follows). */
  readonly live: boolean;
  close(): Promise<void>;
}

/** The secondary lookups the store answers without scanning. */
export const INDEXES = {
  workspaces: { unique: ['name'], multi: [] },
  users: { unique: ['email'], multi: [] },
  members: { unique: [], multi: ['workspace_id', 'user_id'] },
  keys: { unique: ['hash'], multi: ['workspace_id'] },
  sessions: { unique: ['token_hash'], multi: ['user_id'] },
  // route_key: (domain, short_code) is what must be unique; domain: which codes use a custom domain
  qrcodes: { unique: ['route_key'], multi: ['domain'] },
  tombstones: { unique: [], multi: [] },
  idempotency: { unique: [], multi: [] },
  usage: { unique: [], multi: ['workspace_id'] },
  key_activity: { unique: [], multi: [] },
  webhooks: { unique: [], multi: ['workspace_id'] },
  events: { unique: [], multi: [] },
  deliveries: { unique: [], multi: ['webhook_id'] },
  delivery_logs: { unique: [], multi: [] },
  domains: { unique: ['hostname'], multi: ['workspace_id'] },
  logos: { unique: [], multi: [] },
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
 * What one API request's reads may take from memory, where the store keeps records coherent across processes
 * (CoherentReads, store/coherent-reads.ts): passed to `get` and `findUnique` by the reads of an authenticated
 * request (and `findMany` of a workspace's webhooks); other adapters ignore it.
 */
export interface ReadScope {
  workspaceId?: string;
  /** Until `confirmed`, the generations the key was held at (tentative); then the generations seen in Redis. */
  generation?: string | undefined;
  confirmed?: boolean;
  /** Whether authentication took anything from memory (else it read it all from the database). */
  fromMemory?: boolean;
  /** Whether authentication read its key from the database without a generation to hold it at (first sight). */
  keyUntrusted?: boolean;
  /** The generations another Redis call of this request brought along (undefined value: that call failed). */
  observed?: { value: string | undefined };
}

/**
 * Everything qrflow keeps, behind one interface so the embedded lowdb store can be swapped for PostgreSQL.
 * Methods return copies: changing a returned object changes nothing until it is committed.
 */
export interface Store {
  /** The scans of this deployment, kept by the same adapter (the scan log, or PostgreSQL's `scans` tables). */
  readonly scans: ScanStorage;
  get<C extends CollectionName>(collection: C, id: string, reads?: ReadScope): Promise<Collections[C] | undefined>;
  findUnique<C extends CollectionName>(collection: C, index: UniqueIndex<C>, value: string, reads?: ReadScope): Promise<Collections[C] | undefined>;
  findMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string, reads?: ReadScope): Promise<Collections[C][]>;
  /** How many records a multi index holds for the value, without reading them. */
  countMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<number>;
  /** Every record of a small collection (deliveries queue, sweeps). Not for collections that grow with traffic. */
  all<C extends CollectionName>(collection: C): Promise<Collections[C][]>;
  /** How many records the workspace holds (for `qrcodes`, the count that CapOp bounds). */
  countByWorkspace(collection: OrderedCollection, workspaceId: string): Promise<number>;
  listPage<C extends OrderedCollection>(collection: C, workspaceId: string, page: PageRequest<Collections[C]>): Promise<PageResult<Collections[C]>>;
  /**
   * Applies the ops atomically (all or none) and resolves once they are durable; rejects with
   * UniqueViolationError, applying nothing, when an op breaks a unique index (StaleRecordError: an update's
   * `expect`; CapExceededError: a CapOp). Concurrent commits may be written in one transaction (PostgreSQL),
   * each still all or nothing on its own: one commit's rejection never fails another.
   */
  commit(ops: WriteOp[]): Promise<void>;
  /**
   * Queues the ops to be durable within about a second (counters, last-used times, sweeps); `get`, `findUnique`
   * and `findMany` see them at once, and a later `commit` is applied after them. Not for ops that could break a
   * unique index (a database adapter can only find out when the batch is written). Field-level updates are
   * accepted (applied over the record as it stands when written, so other processes' changes to other fields
   * survive), but not conditional ones (`expect`), nor ones that change a unique field.
   */
  commitSoon(ops: Array<Op | UpdateOp>): void;
  /**
   * Present on stores shared by several processes (PostgreSQL): keeps `follower` told of every change to the
   * collection, by any process, within about a second (`qrcodes` and `tombstones` only). Stores of one process have
   * no such feed: their reads are already in memory.
   */
  follow?<C extends 'qrcodes' | 'tombstones'>(collection: C, follower: Follower<Collections[C]>): Promise<Following>;
  /** Resolves when the storage answers (for /readyz); rejects saying why otherwise. */
  ping(): Promise<void>;
  /** Makes everything durable and releases the storage (the data file's lock, the database connections). */
  close(): Promise<void>;
}
