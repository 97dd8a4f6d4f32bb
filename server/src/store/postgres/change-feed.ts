import pg from 'pg';
import type { CollectionName } from '../records.js';
import type { Follower, Following } from '../store.js';
import { CHANGE_CHANNEL } from './migrations.js';
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

/**
 * One LISTEN connection per process, telling followers of each change to the followed tables, by any process.
 * Notifications carry `table:id`; the ids heard are read back in batches (the record as it now is), so a burst
 * of writes costs one query per table. Order of events: LISTEN first, then every record is loaded (`reset`), then
 * what was heard meanwhile is read, so no change falls between the load and the feed. When the connection drops
 * (or stops answering the heartbeat) the feed reconnects with backoff and loads everything again: a follower is
 * never left with a change it missed.
 */
export class ChangeFeed {
  private readonly followers = new Map<CollectionName, Set<Follower<AnyRecord>>>();
  private client: pg.Client | undefined;
  private generation = 0;
  private connecting: Promise<void> | undefined;
  private heard = new Map<CollectionName, Set<string>>();
  private reading: Promise<void> | undefined;
  private loading = false;
  private closed = false;
  private live = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 100;
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
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, application_name: 'qrflow-changes' });
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
      const colon = message.payload.indexOf(':');
      const collection = message.payload.slice(0, colon) as CollectionName;
      if (!this.followers.has(collection)) return;
      let ids = this.heard.get(collection);
      if (!ids) this.heard.set(collection, (ids = new Set()));
      ids.add(message.payload.slice(colon + 1));
      if (!this.loading) this.readHeard(client, generation);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      this.loading = true;
      this.client = client;
      // what is heard from here on is read after the load, so it cannot be older than it
      for (const [collection, set] of this.followers) {
        const records = await this.loadAll(client, collection);
        if (generation !== this.generation) return;
        for (const follower of set) follower.reset(records);
      }
      this.loading = false;
      this.live = true;
      this.backoffMs = 100;
      this.readHeard(client, generation);
      this.heartbeat = setInterval(() => this.beat(client, generation, lost), this.options.heartbeatMs);
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

  /** Reads back the ids heard, one query per table, one batch at a time; what is heard meanwhile forms the next batch. */
  private readHeard(client: pg.Client, generation: number): void {
    if (this.reading || this.heard.size === 0) return;
    this.reading = (async () => {
      try {
        while (this.heard.size > 0 && generation === this.generation) {
          const batch = this.heard;
          this.heard = new Map();
          for (const [collection, ids] of batch) {
            const list = [...ids];
            const { rows } = await client.query<{ id: string; data: AnyRecord }>(`SELECT id, data FROM ${TABLES[collection].table} WHERE id = ANY($1::text[])`, [list.map(storableText)]);
            if (generation !== this.generation) return;
            const found = new Map(rows.map((row) => [row.id, row.data]));
            const set = this.followers.get(collection);
            if (!set) continue;
            for (const id of list) for (const follower of set) follower.change(id, found.get(id));
          }
        }
      } catch {
        // the connection failed: `lost` reconnects and reloads everything
      } finally {
        this.reading = undefined;
        if (generation === this.generation && this.heard.size > 0) this.readHeard(client, generation);
      }
    })();
  }
}
