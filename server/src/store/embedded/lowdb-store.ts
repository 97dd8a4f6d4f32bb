import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Low } from 'lowdb';
import { Engine } from './engine.js';
import { acquireLock } from './lock.js';
import { makePrivate, PrivateJsonFile } from './private-file.js';
import { COLLECTION_NAMES, type CollectionName, type Collections } from '../records.js';
import { UniqueViolationError, type CapOp, type MultiIndex, type Op, type OrderedCollection, type PageRequest, type PageResult, type Store, type UniqueIndex, type UpdateOp, type WriteOp } from '../store.js';
import { applyUpdate } from '../update.js';
import { CorruptDataError, readLog, WriteAheadLog } from './wal.js';
import { upgradeOps } from './upgrade.js';
import { EmbeddedScans } from './scans.js';

interface SnapshotDocument {
  format: 'qrflow';
  version: 1;
  collections: Partial<Record<CollectionName, unknown[]>>;
}

export interface LowdbStoreOptions {
  /** Log size (bytes) past which the log is folded into a new snapshot. */
  compactAtBytes?: number;
  /** How often `commitSoon` changes are written (ms). */
  lazyFlushMs?: number;
  /** Called if the disk refuses a write: memory and disk may now differ, so the process should stop. */
  onFatal?: (error: Error) => void;
}

function copy<T>(record: T | undefined): T | undefined {
  return record === undefined ? undefined : { ...record };
}

/**
 * The embedded store: a lowdb JSON snapshot plus an append-only log of committed transactions (fsynced in groups),
 * replayed over the snapshot at start-up, with every collection held and indexed in memory.
 */
export class LowdbStore implements Store {
  private closed = false;
  private compacting: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** The scan log beside the data file, under the same lock. */
  readonly scans: EmbeddedScans;

  private constructor(
    readonly dataFile: string,
    private readonly engine: Engine,
    private readonly snapshot: Low<SnapshotDocument | null>,
    private readonly wal: WriteAheadLog,
    private readonly releaseLock: () => void,
    private readonly options: Required<LowdbStoreOptions>,
  ) {
    this.timer = setInterval(() => {
      if (this.wal.hasPending()) void this.wal.flush().then(() => this.maybeCompact());
    }, options.lazyFlushMs);
    this.timer.unref();
    this.scans = new EmbeddedScans(dataFile);
  }

  /** Opens (or creates) the store at `dataFile`, taking its lock. Throws CorruptDataError naming a damaged file. */
  static async open(dataFile: string, options: LowdbStoreOptions = {}): Promise<LowdbStore> {
    const resolved = path.resolve(dataFile);
    fs.mkdirSync(path.dirname(resolved), { recursive: true, mode: 0o700 });
    const releaseLock = acquireLock(resolved);
    try {
      makePrivate(resolved);
      const snapshot = new Low<SnapshotDocument | null>(new PrivateJsonFile<SnapshotDocument | null>(resolved), null);
      try {
        await snapshot.read();
      } catch (error) {
        throw new CorruptDataError(`The data file ${resolved} cannot be read (${(error as Error).message}). qrflow will not start on it and will not replace it; restore it from a backup or move it aside.`);
      }
      const engine = new Engine();
      const doc = snapshot.data;
      // lowdb reads a missing file as null, but so is a file holding `null`: only the first is a new store
      if (doc === null && fs.existsSync(resolved)) {
        throw new CorruptDataError(`The data file ${resolved} is not a qrflow data file. qrflow will not start on it and will not replace it.`);
      }
      if (doc !== null) {
        if (typeof doc !== 'object' || doc.format !== 'qrflow' || typeof doc.collections !== 'object' || doc.collections === null) {
          throw new CorruptDataError(`The data file ${resolved} is not a qrflow data file. qrflow will not start on it and will not replace it.`);
        }
        for (const name of COLLECTION_NAMES) {
          const records = doc.collections[name] ?? [];
          if (!Array.isArray(records)) throw new CorruptDataError(`The data file ${resolved} is damaged (collection ${name}).`);
          for (const record of records) engine.apply({ collection: name, put: record } as Op);
        }
      }
      const walFile = `${resolved}.wal`;
      // a rotated log left by an interrupted background compaction comes first; replaying it twice is harmless
      for (const ops of readLog(`${walFile}.1`)) for (const op of ops) engine.apply(op);
      for (const ops of readLog(walFile)) for (const op of ops) engine.apply(op);
      snapshot.data = null; // the engine holds the state; don't keep a second copy
      const fullOptions: Required<LowdbStoreOptions> = {
        compactAtBytes: options.compactAtBytes ?? 64 * 1024 * 1024,
        lazyFlushMs: options.lazyFlushMs ?? 1000,
        onFatal: options.onFatal ?? ((error) => {
          console.error(`qrflow: a write to ${walFile} failed (${error.message}); stopping so that no acknowledged write is lost`);
          process.exit(1);
        }),
      };
      const wal = await WriteAheadLog.open(walFile, fullOptions.onFatal);
      const store = new LowdbStore(resolved, engine, snapshot, wal, releaseLock, fullOptions);
      const upgrades = upgradeOps(engine.all('qrcodes'));
      if (upgrades.length > 0) await store.commit(upgrades);
      if (wal.size > fullOptions.compactAtBytes / 2 || fs.existsSync(`${walFile}.1`)) await store.compact();
      return store;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  async get<C extends CollectionName>(collection: C, id: string): Promise<Collections[C] | undefined> {
    return copy(this.engine.get(collection, id));
  }

  async findUnique<C extends CollectionName>(collection: C, index: UniqueIndex<C>, value: string): Promise<Collections[C] | undefined> {
    return copy(this.engine.findUnique(collection, index, value));
  }

  async findMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<Collections[C][]> {
    return this.engine.findMany(collection, index, value).map((record) => ({ ...record }));
  }

  async countMany<C extends CollectionName>(collection: C, index: MultiIndex<C>, value: string): Promise<number> {
    return this.engine.countMany(collection, index, value);
  }

  async all<C extends CollectionName>(collection: C): Promise<Collections[C][]> {
    return this.engine.all(collection).map((record) => ({ ...record }));
  }

  async countByWorkspace(collection: OrderedCollection, workspaceId: string): Promise<number> {
    return this.engine.countByWorkspace(collection, workspaceId);
  }

  async listPage<C extends OrderedCollection>(collection: C, workspaceId: string, page: PageRequest<Collections[C]>): Promise<PageResult<Collections[C]>> {
    const result = this.engine.listPage(collection, workspaceId, page);
    return { items: result.items.map((record) => ({ ...record })), hasMore: result.hasMore };
  }

  async commit(ops: WriteOp[]): Promise<void> {
    this.assertOpen();
    const caps = ops.filter((op): op is CapOp => 'cap' in op);
    const owned = this.resolve(ops.filter((op): op is Exclude<WriteOp, CapOp> => !('cap' in op)));
    // the count of a workspace's records is its ordered index's length: exact, and read in the same tick as the apply
    this.engine.applyAll(owned, caps);
    await this.wal.append(owned);
    if (this.wal.size > this.options.compactAtBytes) void this.maybeCompact();
  }

  /**
   * Turns updates and inserts into whole-record puts against the records as they stand (and as earlier ops of the
   * same commit leave them): in one process, reading memory and applying right after is atomic.
   */
  private resolve(ops: Array<Exclude<WriteOp, CapOp>>): Op[] {
    const seen = new Map<string, Record<string, unknown> | null>();
    const current = (collection: CollectionName, id: string) => {
      const key = `${collection}\u0000${id}`;
      return seen.has(key) ? (seen.get(key) ?? undefined) : (this.engine.get(collection, id) as Record<string, unknown> | undefined);
    };
    const out: Op[] = [];
    for (const op of ops) {
      let resolved: Op | undefined;
      if ('insert' in op) {
        if (current(op.collection, op.insert.id)) throw new UniqueViolationError(op.collection, 'id');
        resolved = { collection: op.collection, put: { ...op.insert } } as Op;
      } else if ('absent' in op) {
        if (current(op.collection, op.absent)) throw new UniqueViolationError(op.collection, 'id');
        continue;
      } else if ('update' in op) {
        const next = applyUpdate(current(op.collection, op.update) as ({ id: string } & Record<string, unknown>) | undefined, op);
        if (next) resolved = { collection: op.collection, put: next } as unknown as Op;
      } else {
        resolved = own(op);
      }
      if (!resolved) continue;
      seen.set(`${resolved.collection}\u0000${'put' in resolved ? resolved.put.id : resolved.delete}`, 'put' in resolved ? (resolved.put as unknown as Record<string, unknown>) : null);
      out.push(resolved);
    }
    return out;
  }

  commitSoon(ops: Array<Op | UpdateOp>): void {
    this.assertOpen();
    const owned = this.resolve(ops);
    this.engine.applyAll(owned);
    this.wal.appendSoon(owned);
  }

  /** Folds the log into a fresh snapshot (atomic rename, fsynced) and empties the log. */
  async compact(): Promise<void> {
    await this.wal.exclusive(async (truncate) => {
      this.snapshot.data = { format: 'qrflow', version: 1, collections: this.engine.toDocument() };
      try {
        await this.snapshot.write();
      } finally {
        this.snapshot.data = null;
      }
      const handle = await fs.promises.open(this.dataFile, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsyncDirectory(path.dirname(this.dataFile));
      await truncate();
      fs.rmSync(`${this.dataFile}.wal.1`, { force: true });
    });
  }

  /**
   * Folds the log into a new snapshot without blocking the event loop: the log is rotated to `.wal.1`, and a
   * worker thread merges the snapshot file with it and renames the result into place. Until then, start-up
   * replays both logs (puts and deletes of whole records replay idempotently).
   */
  async compactInBackground(): Promise<void> {
    const rotated = `${this.dataFile}.wal.1`;
    if (fs.existsSync(rotated)) return; // a previous fold has not finished
    await this.wal.rotate(rotated);
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./compact-worker.mjs', import.meta.url), { workerData: { dataFile: this.dataFile, logFile: rotated } });
      worker.once('message', (message: { ok: boolean; error?: string }) => (message.ok ? resolve() : reject(new Error(message.error))));
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`compaction worker exited with ${code}`))));
    });
    fs.rmSync(rotated, { force: true });
  }

  private maybeCompact(): Promise<void> {
    if (this.compacting || this.closed || this.wal.size <= this.options.compactAtBytes) return this.compacting ?? Promise.resolve();
    this.compacting = this.compactInBackground()
      .then(
        () => true,
        (error: unknown) => {
          console.error(`qrflow: background compaction of ${this.dataFile} failed (${(error as Error).message}); the logs are kept and replayed at start-up`);
          return false;
        },
      )
      .then((folded) => {
        this.compacting = undefined;
        // commits made during the fold may have taken the new log past the threshold, and none may follow to notice
        if (folded) void this.maybeCompact();
      });
    return this.compacting;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.scans.close();
    if (this.compacting) await this.compacting;
    await this.wal.flush();
    await this.compact();
    await this.wal.close();
    this.releaseLock();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The store is closed');
  }
}

function own(op: Op): Op {
  return 'put' in op ? ({ collection: op.collection, put: { ...op.put } } as Op) : op;
}

async function fsyncDirectory(directory: string): Promise<void> {
  try {
    const handle = await fs.promises.open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic
  }
}
