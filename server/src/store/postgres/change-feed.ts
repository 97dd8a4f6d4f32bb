import pg from 'pg';
import type { CollectionName } from '../records.js';
import type { Follower, Following } from '../store.js';
import { RECORD_CHANNEL, retireLegacyNotices } from './migrations.js';
import { storableText, TABLES } from './schema.js';

type AnyRecord = { id: string } & Record<string, unknown>;

/** The collections whose tables notify on every write (migration 0002_change_notify). */
export const FOLLOWED: readonly CollectionName[] = ['qrcodes', 'tombstones'];

export interface ChangeFeedOptions {
  /** How often the listening connection is checked with a query (ms); one that does not answer in time is replaced. */
  heartbeatMs?: number;
  /** Told when the feed loses its connection or cannot reconnect (a reload follows the reconnection). */
  onWarn?: (message: string) => void;
}

const PAGE = 5000;

/** The application_name of the feed's connection (earlier versions' was LEGACY_FEED_NAME). */
const FEED_NAME = 'qrflow-records';

/** A notice heard: a record as it committed, a deletion, or (a record too large for a notice) an id to read back. */
type Notice = { collection: CollectionName; id: string; record: AnyRecord | undefined; readBack: boolean };

/**
 * One LISTEN connection per process, telling followers of each change to the followed tables, by any process.
 * Each notice carries the record as it committed (migration 0011), so hearing of a change costs no query; a
 * record too large for a notice is read back, and notices heard meanwhile wait for that read, so that followers
 * are told of changes in commit order (the last one a follower hears of a record is its state). Order of events:
 * LISTEN first, then every record is loaded (`reset`), then what was heard meanwhile is told, so no change falls
 * between the load and the feed. When the connection drops (or stops answering the heartbeat) the feed
 * reconnects with backoff and loads everything again: a follower is never left with a change it missed.
 */
export class ChangeFeed {
  private readonly followers = new Map<CollectionName, Set<Follower<AnyRecord>>>();
  private client: pg.Client | undefined;
  private generation = 0;
  private connecting: Promise<void> | undefined;
  private heard: Notice[] = [];
  private reading: Promise<void> | undefined;
  private loading = false;
  private closed = false;
  private live = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 100;
  /** Whether 0002's notices for earlier versions are known gone (see retireLegacyNotices). */
  private legacyRetired = false;
  private retiring: Promise<void> | undefined;
  private readonly options: Required<ChangeFeedOptions>;

  constructor(private readonly connectionString: string, options: ChangeFeedOptions = {}) {
    this.options = {
      heartbeatMs: options.heartbeatMs ?? 5000,
      onWarn: options.onWarn ?? ((message) => console.warn(`qrflow: ${message}`)),
    };
  }

  /** Adds a follower: resolves once it has been given every record and hears changes. */
  async add(collection: CollectionName, follower: Follower<AnyRecord>): Promise<Following> {
    let set = this.followers.get(collection);
    if (!set) this.followers.set(collection, (set = new Set()));
    set.add(follower);
    if (!this.client && !this.connecting) {
      this.connecting = this.connect(true);
      await this.connecting;
    } else {
      if (this.connecting) await this.connecting.catch(() => undefined);
      // already listening: this follower alone needs the load
      if (this.client) follower.reset(await this.loadAll(this.client, collection));
    }
    const feed = this;
    return {
      get live() {
        return feed.live;
      },
      close: async () => {
        set.delete(follower);
      },
    };
  }

  /** A change committed by this process, told at once (the notification that follows reads the same row again). */
  local(collection: CollectionName, id: string, record: AnyRecord | undefined): void {
    const set = this.followers.get(collection);
    if (!set) return;
    for (const follower of set) follower.change(id, record === undefined ? undefined : { ...record });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(first = false): Promise<void> {
    const generation = ++this.generation;
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, application_name: FEED_NAME });
    const lost = (why: string) => {
      if (generation !== this.generation || this.closed) return;
      this.live = false;
      this.generation++;
      this.client = undefined;
      clearInterval(this.heartbeat);
      client.end().catch(() => undefined);
      this.options.onWarn(`the PostgreSQL change feed was lost (${why}); reconnecting, then reloading the codes held in memory`);
      this.scheduleReconnect();
    };
    client.on('error', (error) => lost(error.message));
    client.on('end', () => lost('connection closed'));
    client.on('notification', (message) => {
      if (generation !== this.generation || !message.payload) return;
      let notice: Notice | undefined;
      try {
        notice = this.noticeOf(message.payload);
      } catch {
        // not a notice of 0011's form (its record not JSON): what it told is not known, so everything is loaded again
        lost('a change notice could not be read');
        return;
      }
      if (!notice) return;
      this.heard.push(notice);
      if (!this.loading) this.tellHeard(client, generation);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${RECORD_CHANNEL}`);
      this.loading = true;
      this.client = client;
      // what is heard from here on is told after the load: a notice older than the load is followed by the notice
      // of every later commit, so each record ends as the last commit left it
      for (const [collection, set] of this.followers) {
        const records = await this.loadAll(client, collection);
        if (generation !== this.generation) return;
        for (const follower of set) follower.reset(records);
      }
      this.loading = false;
      this.live = true;
      this.backoffMs = 100;
      this.tellHeard(client, generation);
      this.retireLegacy();
      this.heartbeat = setInterval(() => {
        this.beat(client, generation, lost);
        this.retireLegacy();
      }, this.options.heartbeatMs);
      this.heartbeat.unref();
    } catch (error) {
      this.loading = false;
      if (first) {
        // the first connection: the caller learns why (later ones retry in the background)
        this.generation++;
        this.client = undefined;
        await client.end().catch(() => undefined);
        throw error;
      }
      lost((error as Error).message);
    } finally {
      this.connecting = undefined;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed || this.client || this.connecting) return;
      this.connecting = this.connect().catch(() => undefined);
    }, delay);
    this.retry.unref();
  }

  private beat(client: pg.Client, generation: number, lost: (why: string) => void): void {
    const timer = setTimeout(() => lost('no answer to the heartbeat'), Math.max(1000, this.options.heartbeatMs));
    timer.unref();
    client.query('SELECT 1').then(
      () => clearTimeout(timer),
      (error: Error) => {
        clearTimeout(timer);
        if (generation === this.generation) lost(error.message);
      },
    );
  }

  /**
   * Until 0002's notices are gone, tries on a connection of its own (so the feed's own queries never wait for the
   * tables' lock) to drop them, which it does once no process of an earlier version listens.
   */
  private retireLegacy(): void {
    if (this.legacyRetired || this.retiring || this.closed) return;
    this.retiring = (async () => {
      // bounded, so that a database that accepts connections and never answers does not keep it (or a stop) waiting
      const client = new pg.Client({ connectionString: this.connectionString, application_name: `${FEED_NAME}-upgrade`, connectionTimeoutMillis: 5000, query_timeout: 5000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        this.legacyRetired = await retireLegacyNotices(client);
      } catch {
        // the database is away: the next heartbeat tries again
      } finally {
        await client.end().catch(() => undefined);
        this.retiring = undefined;
      }
    })();
  }

  private async loadAll(client: pg.Client, collection: CollectionName): Promise<AnyRecord[]> {
    const table = TABLES[collection].table;
    const out: AnyRecord[] = [];
    let after = '';
    for (;;) {
      const { rows } = await client.query<{ id: string; data: AnyRecord }>(`SELECT id, data FROM ${table} WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, [after]);
      for (const row of rows) out.push(row.data);
      if (rows.length < PAGE) return out;
      after = (rows[rows.length - 1] as { id: string }).id;
    }
  }

  /** A notice of RECORD_CHANNEL (see migration 0011), or undefined for a table no one follows here. */
  private noticeOf(payload: string): Notice | undefined {
    const space = payload.indexOf(' ');
    const collection = payload.slice(1, space) as CollectionName;
    if (space < 0 || !this.followers.has(collection)) return undefined;
    const rest = payload.slice(space + 1);
    switch (payload[0]) {
      case '=': {
        const record = JSON.parse(rest) as AnyRecord;
        return { collection, id: record.id, record, readBack: false };
      }
      case '-':
        return { collection, id: rest, record: undefined, readBack: false };
      case '?':
        return { collection, id: rest, record: undefined, readBack: true };
      default:
        return undefined;
    }
  }

  /**
   * Tells followers of the notices heard, in the order heard: at once when none is to be read back (and no read
   * is under way), else after one query per table for the records to read back, what is heard meanwhile waiting.
   */
  private tellHeard(client: pg.Client, generation: number): void {
    if (this.reading || this.heard.length === 0) return;
    if (this.heard.every((notice) => !notice.readBack)) {
      const batch = this.heard;
      this.heard = [];
      this.tell(batch, undefined);
      return;
    }
    this.reading = (async () => {
      try {
        while (this.heard.length > 0 && generation === this.generation) {
          const batch = this.heard;
          this.heard = [];
          const wanted = new Map<CollectionName, Set<string>>();
          for (const notice of batch) {
            if (!notice.readBack) continue;
            let ids = wanted.get(notice.collection);
            if (!ids) wanted.set(notice.collection, (ids = new Set()));
            ids.add(notice.id);
          }
          const found = new Map<CollectionName, Map<string, AnyRecord>>();
          for (const [collection, ids] of wanted) {
            const { rows } = await client.query<{ id: string; data: AnyRecord }>(`SELECT id, data FROM ${TABLES[collection].table} WHERE id = ANY($1::text[])`, [[...ids].map(storableText)]);
            if (generation !== this.generation) return;
            found.set(collection, new Map(rows.map((row) => [row.id, row.data])));
          }
          this.tell(batch, found);
        }
      } catch {
        // the connection failed: `lost` reconnects and reloads everything
      } finally {
        this.reading = undefined;
        if (generation === this.generation && this.heard.length > 0) this.tellHeard(client, generation);
      }
    })();
  }

  private tell(batch: readonly Notice[], found: Map<CollectionName, Map<string, AnyRecord>> | undefined): void {
    for (const notice of batch) {
      const set = this.followers.get(notice.collection);
      if (!set) continue;
      const record = notice.readBack ? found?.get(notice.collection)?.get(storableText(notice.id)) : notice.record;
      for (const follower of set) follower.change(notice.id, record);
    }
  }
}
