import { COLLECTION_NAMES, type CollectionName, type Collections } from '../records.js';
import { CapExceededError, INDEXES, UniqueViolationError, type CapOp, type Op, type OrderedCollection, type PageRequest, type PageResult } from '../store.js';

type AnyRecord = { id: string } & Record<string, unknown>;

const ORDERED: readonly OrderedCollection[] = ['qrcodes', 'events'];

function compareKey(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Index of the first element of `list` that sorts after `key`. */
function upperBound(list: AnyRecord[], key: { created_at: string; id: string }): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareKey(list[mid] as never, key) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Index of the first element of `list` that sorts at or after `key`. */
function lowerBound(list: AnyRecord[], key: { created_at: string; id: string }): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareKey(list[mid] as never, key) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

class Table {
  readonly byId = new Map<string, AnyRecord>();
  readonly unique = new Map<string, Map<string, string>>();
  readonly multi = new Map<string, Map<string, Set<string>>>();
  /** workspace id -> records sorted by (created_at, id) ascending. */
  readonly ordered: Map<string, AnyRecord[]> | undefined;

  constructor(readonly name: CollectionName) {
    for (const field of INDEXES[name].unique) this.unique.set(field, new Map());
    for (const field of INDEXES[name].multi) this.multi.set(field, new Map());
    this.ordered = (ORDERED as readonly string[]).includes(name) ? new Map() : undefined;
  }

  put(record: AnyRecord): void {
    const previous = this.byId.get(record.id);
    if (previous) this.unindex(previous);
    this.byId.set(record.id, record);
    this.index(record);
  }

  delete(id: string): void {
    const previous = this.byId.get(id);
    if (!previous) return;
    this.unindex(previous);
    this.byId.delete(id);
  }

  private index(record: AnyRecord): void {
    for (const [field, map] of this.unique) {
      const value = record[field];
      if (typeof value === 'string') map.set(normalise(field, value), record.id);
    }
    for (const [field, map] of this.multi) {
      const value = record[field];
      if (typeof value !== 'string') continue;
      let set = map.get(value);
      if (!set) map.set(value, (set = new Set()));
      set.add(record.id);
    }
    if (this.ordered) {
      const workspace = record.workspace_id as string;
      let list = this.ordered.get(workspace);
      if (!list) this.ordered.set(workspace, (list = []));
      const last = list[list.length - 1];
      if (!last || compareKey(last as never, record as never) < 0) list.push(record);
      else list.splice(upperBound(list, record as never), 0, record);
    }
  }

  private unindex(record: AnyRecord): void {
    for (const [field, map] of this.unique) {
      const value = record[field];
      if (typeof value === 'string' && map.get(normalise(field, value)) === record.id) map.delete(normalise(field, value));
    }
    for (const [field, map] of this.multi) {
      const value = record[field];
      if (typeof value !== 'string') continue;
      const set = map.get(value);
      set?.delete(record.id);
      if (set && set.size === 0) map.delete(value);
    }
    if (this.ordered) {
      const list = this.ordered.get(record.workspace_id as string);
      if (list) {
        const at = lowerBound(list, record as never);
        if (list[at]?.id === record.id) list.splice(at, 1);
      }
    }
  }
}

/** Names and emails are looked up without regard to case. */
function normalise(field: string, value: string): string {
  return field === 'email' || field === 'name' ? value.toLowerCase() : value;
}

/** The in-memory state of the store with its indexes; knows nothing of files. */
export class Engine {
  private readonly tables = new Map<CollectionName, Table>();

  constructor() {
    for (const name of COLLECTION_NAMES) this.tables.set(name, new Table(name));
  }

  private table(name: CollectionName): Table {
    const table = this.tables.get(name);
    if (!table) throw new Error(`Unknown collection ${name}`);
    return table;
  }

  /**
   * Applies a transaction in order, all or nothing: if a put would take a unique value another record holds,
   * the ops applied so far are undone and UniqueViolationError is thrown; so they are, with CapExceededError, when
   * the ops leave a workspace more records than a cap allows.
   */
  applyAll(ops: Op[], caps: readonly CapOp[] = []): void {
    const undo: Array<{ table: Table; id: string; previous: AnyRecord | undefined }> = [];
    try {
      for (const op of ops) {
        const table = this.table(op.collection);
        if ('put' in op) {
          const record = op.put as unknown as AnyRecord;
          for (const [field, map] of table.unique) {
            const value = record[field];
            if (typeof value !== 'string') continue;
            const holder = map.get(normalise(field, value));
            if (holder !== undefined && holder !== record.id) throw new UniqueViolationError(op.collection, field);
          }
          undo.push({ table, id: record.id, previous: table.byId.get(record.id) });
          table.put(record);
        } else {
          undo.push({ table, id: op.delete, previous: table.byId.get(op.delete) });
          table.delete(op.delete);
        }
      }
      for (const cap of caps) {
        const held = this.countByWorkspace(cap.collection, cap.cap);
        if (held > cap.atMost) throw new CapExceededError(cap.collection, cap.cap, cap.atMost, held);
      }
    } catch (error) {
      for (const { table, id, previous } of undo.reverse()) {
        if (previous) table.put(previous);
        else table.delete(id);
      }
      throw error;
    }
  }

  /** Applies one op without checks (replaying what was already committed). */
  apply(op: Op): void {
    const table = this.table(op.collection);
    if ('put' in op) table.put(op.put as unknown as AnyRecord);
    else table.delete(op.delete);
  }

  get<C extends CollectionName>(collection: C, id: string): Collections[C] | undefined {
    return this.table(collection).byId.get(id) as Collections[C] | undefined;
  }

  findUnique<C extends CollectionName>(collection: C, field: string, value: string): Collections[C] | undefined {
    const id = this.table(collection).unique.get(field)?.get(normalise(field, value));
    return id === undefined ? undefined : this.get(collection, id);
  }

  findMany<C extends CollectionName>(collection: C, field: string, value: string): Collections[C][] {
    const ids = this.table(collection).multi.get(field)?.get(value);
    if (!ids) return [];
    const out: Collections[C][] = [];
    for (const id of ids) {
      const record = this.get(collection, id);
      if (record) out.push(record);
    }
    return out;
  }

  countMany(collection: CollectionName, field: string, value: string): number {
    return this.table(collection).multi.get(field)?.get(value)?.size ?? 0;
  }

  all<C extends CollectionName>(collection: C): Collections[C][] {
    return [...this.table(collection).byId.values()] as unknown as Collections[C][];
  }

  /** Workspaces that have records in an ordered collection. */
  workspacesOf(collection: OrderedCollection): string[] {
    return [...(this.table(collection).ordered?.keys() ?? [])];
  }

  size(collection: CollectionName): number {
    return this.table(collection).byId.size;
  }

  countByWorkspace(collection: OrderedCollection, workspaceId: string): number {
    return this.table(collection).ordered?.get(workspaceId)?.length ?? 0;
  }

  /** Newest first, starting strictly before `page.before`; costs time in proportion to the records visited. */
  listPage<C extends OrderedCollection>(collection: C, workspaceId: string, page: PageRequest<Collections[C]>): PageResult<Collections[C]> {
    const list = this.table(collection).ordered?.get(workspaceId) ?? [];
    if (page.order === 'oldest') {
      const items: Collections[C][] = [];
      for (const record of list) {
        const typed = record as unknown as Collections[C];
        if (page.filter && !page.filter(typed)) continue;
        if (items.length === page.limit) return { items, hasMore: true };
        items.push(typed);
      }
      return { items, hasMore: false };
    }
    let index = (page.before ? lowerBound(list, page.before) : list.length) - 1;
    const stop = page.after ? upperBound(list, page.after) : 0;
    const items: Collections[C][] = [];
    for (; index >= stop; index--) {
      const record = list[index] as unknown as Collections[C];
      if (page.filter && !page.filter(record)) continue;
      if (items.length === page.limit) return { items, hasMore: true };
      items.push(record);
    }
    return { items, hasMore: false };
  }

  /** A plain-object dump of every collection, for a snapshot. */
  toDocument(): Record<CollectionName, unknown[]> {
    const doc = {} as Record<CollectionName, unknown[]>;
    for (const name of COLLECTION_NAMES) doc[name] = [...this.table(name).byId.values()];
    return doc;
  }
}
