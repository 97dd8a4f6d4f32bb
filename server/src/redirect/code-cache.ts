import { routeKey, type QrRecord, type TombstoneRecord } from '../store/records.js';
import type { Following, Store } from '../store/store.js';
import { compileSmart, CompiledCodes, type CompiledCode } from './smart-code.js';

/**
 * What the redirect learns of a short code: its record (and its smart settings compiled, if it has any), that it was
 * deleted (410), or nothing (404).
 */
export type CodeAnswer = { kind: 'found'; qr: QrRecord; smart?: CompiledCode | undefined } | { kind: 'gone' } | { kind: 'missing' };

/** Where the redirect looks codes up. Keyed by (domain, short code); the domain is null for the default host. */
export interface CodeLookup {
  find(domain: string | null, shortCode: string): CodeAnswer | Promise<CodeAnswer>;
  /** Loads what it holds and starts following changes. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The cache key of a code: one function, so that a domain dimension changes one place. */
export function codeKey(domain: string | null, shortCode: string): string {
  return domain ? `${domain.toLowerCase()}/${shortCode}` : `/${shortCode}`;
}

/** The domain a code is served on (null: the default host). */
function domainOf(record: { domain?: unknown }): string | null {
  return typeof record.domain === 'string' && record.domain ? record.domain : null;
}

/** The cache key of a tombstone, from its id: the route key (`hostname/short_code`, or the short code alone). */
function tombstoneKey(id: string): string {
  const slash = id.indexOf('/');
  return slash === -1 ? codeKey(null, id) : codeKey(id.slice(0, slash), id.slice(slash + 1));
}

const MISSING: CodeAnswer = { kind: 'missing' };
const GONE: CodeAnswer = { kind: 'gone' };

/** For stores of one process (the embedded store keeps every record in memory already): each scan asks the store. */
export class StoreCodeLookup implements CodeLookup {
  private readonly compiled = new CompiledCodes();

  constructor(private readonly store: Store) {}

  async find(domain: string | null, shortCode: string): Promise<CodeAnswer> {
    const key = routeKey(domain, shortCode);
    const qr = await this.store.findUnique('qrcodes', 'route_key', key);
    if (qr) return qr.smart ? { kind: 'found', qr, smart: this.compiled.of(qr) } : { kind: 'found', qr };
    return (await this.store.get('tombstones', key)) ? GONE : MISSING;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export interface MemoryCodeCacheOptions {
  /** How long an unknown code is answered from memory before the database is asked again (ms). */
  negativeTtlMs?: number;
  /** Unknown codes remembered at most (the oldest are forgotten first). */
  negativeMax?: number;
  /** Database reads for unknown codes in flight at once; more wait their turn. */
  maxMissReads?: number;
  now?: () => number;
}

/**
 * Every short code in memory, whole records, kept coherent with the store's change feed (`Store.follow`): a code
 * changed by any process is seen here within the feed's delay, and after a lost feed everything is reloaded. A
 * known code costs no database round trip; an unknown one is read once and then remembered as unknown for a
 * short while (and forgotten at once if a change names it), so a flood of made-up codes cannot flood the database.
 */
export class MemoryCodeCache implements CodeLookup {
  private codes = new Map<string, QrRecord>();
  /** The key each record id is held under, so a deleted or re-coded record leaves its old key. */
  private keyOfId = new Map<string, string>();
  /** The compiled smart settings of the codes that have some, by record id (compiled as each code is loaded). */
  private compiled = new Map<string, CompiledCode>();
  private gone = new Set<string>();
  private readonly unknown = new Map<string, number>();
  private readonly reading = new Map<string, Promise<CodeAnswer>>();
  private readonly waiting: Array<() => void> = [];
  private activeReads = 0;
  /** Bumped by every change: a database read that overlapped one is answered but not remembered. */
  private version = 0;
  private following: Following[] = [];
  private readonly options: Required<MemoryCodeCacheOptions>;

  constructor(private readonly store: Store & Required<Pick<Store, 'follow'>>, options: MemoryCodeCacheOptions = {}) {
    this.options = {
      negativeTtlMs: options.negativeTtlMs ?? 2000,
      negativeMax: options.negativeMax ?? 10_000,
      maxMissReads: options.maxMissReads ?? 8,
      now: options.now ?? Date.now,
    };
  }

  /** How many codes are held (for tests and diagnostics). */
  get size(): number {
    return this.codes.size;
  }

  get live(): boolean {
    return this.following.length > 0 && this.following.every((f) => f.live);
  }

  async start(): Promise<void> {
    this.following.push(
      await this.store.follow('qrcodes', {
        reset: (records) => {
          this.version++;
          const codes = new Map<string, QrRecord>();
          const keyOfId = new Map<string, string>();
          const compiled = new Map<string, CompiledCode>();
          for (const record of records) {
            if (!record.short_code) continue;
            const key = codeKey(domainOf(record as { domain?: unknown }), record.short_code);
            codes.set(key, record);
            keyOfId.set(record.id, key);
            const smart = compileSmart(record);
            if (smart) compiled.set(record.id, smart);
          }
          this.codes = codes;
          this.keyOfId = keyOfId;
          this.compiled = compiled;
          this.unknown.clear();
        },
        change: (id, record) => this.changeCode(id, record),
      }),
    );
    this.following.push(
      await this.store.follow('tombstones', {
        reset: (records) => {
          this.version++;
          this.gone = new Set(records.map((record) => tombstoneKey(record.id)));
          this.unknown.clear();
        },
        change: (id, record) => this.changeTombstone(id, record),
      }),
    );
  }

  async stop(): Promise<void> {
    for (const following of this.following.splice(0)) await following.close();
  }

  find(domain: string | null, shortCode: string): CodeAnswer | Promise<CodeAnswer> {
    const key = codeKey(domain, shortCode);
    const qr = this.codes.get(key);
    if (qr) return qr.smart ? { kind: 'found', qr, smart: this.compiled.get(qr.id) } : { kind: 'found', qr };
    if (this.gone.has(key)) return GONE;
    const until = this.unknown.get(key);
    if (until !== undefined) {
      if (until > this.options.now()) return MISSING;
      this.unknown.delete(key);
    }
    let pending = this.reading.get(key);
    if (!pending) {
      pending = this.readMiss(key, domain, shortCode).finally(() => this.reading.delete(key));
      this.reading.set(key, pending);
    }
    return pending;
  }

  private changeCode(id: string, record: QrRecord | undefined): void {
    this.version++;
    const old = this.keyOfId.get(id);
    if (old !== undefined) {
      this.codes.delete(old);
      this.keyOfId.delete(id);
    }
    this.compiled.delete(id);
    if (record?.short_code) {
      const key = codeKey(domainOf(record as { domain?: unknown }), record.short_code);
      this.codes.set(key, record);
      this.keyOfId.set(id, key);
      this.unknown.delete(key);
      const smart = compileSmart(record);
      if (smart) this.compiled.set(id, smart);
    }
  }

  private changeTombstone(id: string, record: TombstoneRecord | undefined): void {
    this.version++;
    const key = tombstoneKey(id);
    if (record) {
      this.gone.add(key);
      this.unknown.delete(key);
    } else {
      this.gone.delete(key);
    }
  }

  private async readMiss(key: string, domain: string | null, shortCode: string): Promise<CodeAnswer> {
    if (this.activeReads >= this.options.maxMissReads) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.activeReads++;
    const version = this.version;
    try {
      const qr = await this.store.findUnique('qrcodes', 'route_key', routeKey(domain, shortCode));
      const smart = qr ? compileSmart(qr) : undefined;
      const answer: CodeAnswer = qr ? { kind: 'found', qr, smart } : (await this.store.get('tombstones', routeKey(domain, shortCode))) ? GONE : MISSING;
      // remembered only while following changes, and only if none was heard meanwhile (it may be newer than this read)
      if (this.following.length > 0 && version === this.version) {
        if (answer.kind === 'found' && qr?.short_code) {
          this.codes.set(key, qr);
          this.keyOfId.set(qr.id, key);
          if (smart) this.compiled.set(qr.id, smart);
        } else if (answer.kind === 'gone') {
          this.gone.add(key);
        } else if (answer.kind === 'missing') {
          this.unknown.set(key, this.options.now() + this.options.negativeTtlMs);
          if (this.unknown.size > this.options.negativeMax) this.unknown.delete(this.unknown.keys().next().value as string);
        }
      }
      return answer;
    } finally {
      this.activeReads--;
      this.waiting.shift()?.();
    }
  }
}

/** The lookup a store calls for: followed in memory when it is shared by processes, asked directly otherwise. */
export function codeLookupFor(store: Store, options?: MemoryCodeCacheOptions): CodeLookup {
  return store.follow ? new MemoryCodeCache(store as Store & Required<Pick<Store, 'follow'>>, options) : new StoreCodeLookup(store);
}
