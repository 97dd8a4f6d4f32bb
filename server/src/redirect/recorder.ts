import { createHash } from 'node:crypto';
import type { Context } from '../context.js';
import { DAY_MS, type OrphanCount, type OrphanReason, type Scan, type ScanStorage } from '../store/scans.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { geoDatabasesLoaded, geoLookup, NOWHERE, geoUnavailableReason, loadGeoDatabases, type GeoLocation } from '../geo/lookup.js';
import { newDeliveryBatch, type EventService } from '../events/service.js';
import type { Op } from '../store/store.js';
import { scanEvent } from '../events/feed.js';
import { agentOf, type VisitorAgent } from './agent.js';
import { DaySalts } from './salts.js';

/** What the redirect keeps of a request until the next bulk pass; nothing here is stored as is. */
export interface Hit {
  time: number;
  qrId: string;
  workspaceId: string;
  ip: string;
  userAgent: string;
  /** From the configured proxy header, or 'unknown' (then the GeoIP database is asked, in the batch). */
  country: string;
  referer: string;
  /** The A/B variant the scan was sent to (0-based index into the code's variants), if the split decided. */
  variant?: number;
  /** What a smart code's decision already worked out for this request, so the batch does not work it out again. */
  agent?: VisitorAgent;
  visitor?: VisitorStamp;
  /** A GeoIP answer with a country (a country rule asked); without one the batch asks the database itself. */
  place?: GeoLocation;
}

/** A visitor hash and the day salt it was made with: the batch uses it only if that salt is still the day's. */
export interface VisitorStamp {
  hash: number;
  salt: Buffer;
}

/** A scan that reached no destination (Shlink's orphan visit): counted per day and reason, nothing else kept. */
export interface OrphanHit {
  time: number;
  reason: OrphanReason;
  /** The code's workspace (partition) when the code is known; null counts the scan for the server. */
  workspaceId: string | null;
  qrId: string | null;
  /** Tells bots apart (analytics leave them out by default). */
  userAgent?: string;
  /**
   * For a deleted code whose workspace the redirect does not know: its route key (the short code, or
   * `hostname/short_code`), whose tombstone names the workspace (read in the batch, off the request path).
   */
  routeKey?: string;
}

export interface ScanRecorderOptions {
  /** How often queued hits are processed (ms). */
  intervalMs?: number;
  /**
   * Scans kept in memory while the scan storage cannot be written (PostgreSQL down), written when it returns;
   * beyond this the oldest are dropped (a warn log, and `droppedScans` counts them).
   */
  maxBufferedScans?: number;
  /** First wait before writing again after the storage was unavailable (ms); doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** The documented bound of scans buffered while the database is down. */
export const MAX_BUFFERED_SCANS = 100_000;
/** Scans handed to the storage in one append. */
const WRITE_CHUNK = 5000;

/** The unique-visitor hash of a day: the day's salt, the IP and the user agent (the scans' `visitor`, the A/B split's key). */
export function visitorHash(salt: Buffer, ip: string, userAgent: string): number {
  return createHash('sha256').update(salt).update(ip).update('\0').update(userAgent).digest().readUInt32LE(0);
}

/** How long after start the first scans wait for the GeoIP database to load (it takes ~0.3 s on an idle machine). */
const GEO_START_WAIT_MS = 500;

/**
 * Turns redirect hits into scans in bulk, off the request path: parses user agents (cached), flags bots, places
 * visitors with the GeoIP database, hashes visitors with a salt that changes every UTC day, writes the scans and
 * queues qr.scanned deliveries; counts orphan scans. While the storage is unavailable (PostgreSQL down) scans and
 * orphan counts wait in memory, up to `maxBufferedScans`, and are written with backoff when it returns.
 */
export class ScanRecorder {
  private queue: Hit[] = [];
  private orphanQueue: OrphanHit[] = [];
  /** Scans made from hits, not written yet: the next batch, and those whose write found the storage unavailable. */
  private unwritten: Scan[] = [];
  private unwrittenOrphans = new Map<string, OrphanCount>();
  /** The daily visitor salts, kept by the scan storage (shared by every process on it), loaded ahead. */
  private readonly salts: DaySalts;
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private geoReady: Promise<void> | undefined;
  private readonly geoWaitUntil: number;
  private retryAt = 0;
  private retryDelayMs = 0;
  private readonly options: Required<ScanRecorderOptions>;
  /** Scans dropped because more than `maxBufferedScans` were waiting for the storage. */
  droppedScans = 0;

  constructor(
    private readonly ctx: Context,
    private readonly scans: ScanStorage,
    private readonly events: EventService,
    options: ScanRecorderOptions | number = {},
  ) {
    const given = typeof options === 'number' ? { intervalMs: options } : options;
    this.options = { intervalMs: 200, maxBufferedScans: MAX_BUFFERED_SCANS, retryDelayMs: 500, maxRetryDelayMs: 30_000, ...given };
    this.salts = new DaySalts(scans, ctx.clock, ctx.logger);
    void this.salts.preload();
    this.timer = setInterval(() => void this.drain(), this.options.intervalMs);
    this.timer.unref();
    // the GeoIP database (~130 MB) is read in the background from the start, so that the first scans find it loaded
    this.geoWaitUntil = performance.now() + GEO_START_WAIT_MS;
    void this.loadGeo();
  }

  /** Once today's and tomorrow's visitor salts are loaded (or failed to be: then they are retried on each pass). */
  ready(): Promise<void> {
    return this.salts.preload();
  }

  hit(hit: Hit): void {
    this.queue.push(hit);
  }

  /** Counts a scan of an unknown, paused, expired, limit-reached or deleted code (in the next batch). */
  orphan(orphan: OrphanHit): void {
    this.orphanQueue.push(orphan);
  }

  /** Scans waiting to be written (after the storage was unavailable, or not yet batched). */
  get bufferedScans(): number {
    return this.unwritten.length;
  }

  /** Loads the GeoIP database once, off the event loop, before the first batch that needs it. */
  private loadGeo(): Promise<void> {
    this.geoReady ??= loadGeoDatabases().then(() => {
      const reason = geoUnavailableReason();
      if (reason) this.ctx.logger.warn({ reason }, 'GeoIP lookups are off: scans get a country only from the proxy header');
    });
    return this.geoReady;
  }

  /** The visitor hash a hit at `time` from this IP and user agent will be recorded with. */
  visitorOf(time: number, ip: string, userAgent: string): number {
    return visitorHash(this.salts.saltFor(time), ip, userAgent);
  }

  /** The salt the visitors of `time`'s day are hashed with now. */
  saltFor(time: number): Buffer {
    return this.salts.saltFor(time);
  }

  /** The same hash with its salt, for a hit to carry (Hit.visitor). */
  visitorStamp(time: number, ip: string, userAgent: string): VisitorStamp {
    const salt = this.salts.saltFor(time);
    return { hash: visitorHash(salt, ip, userAgent), salt };
  }

  private toScan(hit: Hit): Scan {
    const agent = hit.agent ?? agentOf(hit.userAgent);
    // a stamp made with a provisional salt that the stored one replaced since is made again
    const visitor = hit.visitor !== undefined && hit.visitor.salt === this.salts.saltFor(hit.time) ? hit.visitor.hash : this.visitorOf(hit.time, hit.ip, hit.userAgent);
    let referrer = 'direct';
    if (hit.referer) {
      try {
        referrer = new URL(hit.referer).hostname || 'direct';
      } catch {
        referrer = 'unknown';
      }
    }
    // the proxy's country header wins; the database's region and city are kept only where it agrees on the country
    const place = hit.place ?? (geoDatabasesLoaded() ? geoLookup(hit.ip) : NOWHERE);
    const headerCountry = hit.country && hit.country !== 'unknown' ? hit.country : null;
    const country = headerCountry ?? place.country ?? 'unknown';
    const placeAgrees = place.country !== null && place.country === country;
    return {
      time: hit.time,
      qrId: hit.qrId,
      workspaceId: hit.workspaceId,
      visitor,
      country,
      device: agent.device,
      os: agent.os,
      browser: agent.browser,
      referrer,
      bot: agent.bot,
      variant: typeof hit.variant === 'number' ? hit.variant : null,
      region: placeAgrees ? place.region : null,
      city: placeAgrees ? place.city : null,
    };
  }

  /** Adds scans to those waiting; past the bound the oldest are dropped. */
  private keep(scans: Scan[]): void {
    this.unwritten.push(...scans);
    const excess = this.unwritten.length - this.options.maxBufferedScans;
    if (excess > 0) {
      this.unwritten.splice(0, excess);
      this.droppedScans += excess;
      this.ctx.logger.warn({ dropped: excess, dropped_total: this.droppedScans, bound: this.options.maxBufferedScans }, 'scan buffer full while the database is unavailable: oldest scans dropped');
    }
  }

  private async countOrphans(orphans: OrphanHit[]): Promise<void> {
    const tombstones = new Map<string, string | null>();
    for (const orphan of orphans) {
      let workspaceId = orphan.workspaceId;
      if (workspaceId === null && orphan.reason === 'deleted' && orphan.routeKey) {
        let known = tombstones.get(orphan.routeKey);
        if (known === undefined) {
          known = (await this.ctx.store.get('tombstones', orphan.routeKey).catch(() => undefined))?.workspace_id ?? null;
          tombstones.set(orphan.routeKey, known);
        }
        workspaceId = known;
      }
      const bot = agentOf(orphan.userAgent ?? '').bot;
      const day = Math.floor(orphan.time / DAY_MS);
      const key = JSON.stringify([workspaceId, day, orphan.reason]);
      const count = this.unwrittenOrphans.get(key) ?? { day, workspaceId, reason: orphan.reason, humans: 0, bots: 0 };
      if (bot) count.bots++;
      else count.humans++;
      this.unwrittenOrphans.set(key, count);
    }
  }

  /** Processes everything queued: scans written, deliveries queued, orphans counted. */
  drain(): Promise<void> {
    void this.salts.preload();
    // after the pass under way, drain again: what was queued meanwhile may be in a pass another drain (the timer's)
    // started first, which this one must wait for as well
    if (this.running) return this.running.then(() => this.drain());
    if (this.queue.length === 0 && this.orphanQueue.length === 0 && this.unwritten.length === 0 && this.unwrittenOrphans.size === 0) return this.scans.flush();
    const hits = this.queue;
    const orphans = this.orphanQueue;
    this.queue = [];
    this.orphanQueue = [];
    this.running = (async () => {
      if (hits.length) {
        // scans wait for the GeoIP database only shortly after start: a slow read (a busy machine) must not hold
        // back their durability; scans recorded before it is loaded get the proxy header's country only
        const wait = this.geoWaitUntil - performance.now();
        if (!geoDatabasesLoaded() && wait > 0) await Promise.race([this.loadGeo(), new Promise((resolve) => setTimeout(resolve, wait).unref())]);
        this.keep(hits.map((hit) => this.toScan(hit)));
      }
      if (orphans.length) await this.countOrphans(orphans);
      // after an outage, nothing is written before its backoff has passed
      if (performance.now() < this.retryAt) return;
      await this.write();
    })()
      .catch((error: unknown) => this.ctx.logger.error({ err: error }, 'recording scans failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Writes waiting scans and orphan counts; stops at the first unavailable storage, to try again after a backoff. */
  private async write(): Promise<void> {
    try {
      while (this.unwritten.length) {
        const batch = this.unwritten.slice(0, WRITE_CHUNK);
        let ids: number[];
        try {
          // resolves once the scans are durable (the storage batches them: the log at once, PostgreSQL within its delay)
          ids = await this.scans.append(batch);
        } catch (error) {
          if (isStoreUnavailable(error)) throw error;
          // not an outage (a bug, a bad row): these scans cannot be written, and are not tried again
          this.unwritten.splice(0, batch.length);
          this.ctx.logger.error({ err: error, scans: batch.length }, 'recording scans failed');
          continue;
        }
        this.unwritten.splice(0, batch.length);
        await this.queueDeliveries(batch, ids).catch((error: unknown) => this.ctx.logger.error({ err: error }, 'queueing qr.scanned deliveries failed'));
      }
      if (this.unwrittenOrphans.size) {
        const counts = [...this.unwrittenOrphans.values()];
        this.unwrittenOrphans = new Map();
        try {
          await this.scans.addOrphans(counts);
        } catch (error) {
          if (!isStoreUnavailable(error)) {
            this.ctx.logger.error({ err: error }, 'counting orphan scans failed');
            return;
          }
          for (const count of counts) {
            const key = JSON.stringify([count.workspaceId, count.day, count.reason]);
            const later = this.unwrittenOrphans.get(key);
            if (later) {
              later.humans += count.humans;
              later.bots += count.bots;
            } else this.unwrittenOrphans.set(key, count);
          }
          throw error;
        }
      }
      if (this.retryDelayMs) this.ctx.logger.info({ buffered_scans: 0 }, 'scan storage available again: buffered scans written');
      this.retryDelayMs = 0;
      this.retryAt = 0;
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      this.retryDelayMs = this.retryDelayMs ? Math.min(this.retryDelayMs * 2, this.options.maxRetryDelayMs) : this.options.retryDelayMs;
      this.retryAt = performance.now() + this.retryDelayMs;
      this.ctx.logger.warn({ reason: error.reason, buffered_scans: this.unwritten.length, bound: this.options.maxBufferedScans, retry_in_ms: this.retryDelayMs }, 'scan storage unavailable: scans kept in memory, retrying');
    }
  }

  private async queueDeliveries(scans: Scan[], ids: number[]): Promise<void> {
    // one read of each workspace's subscriptions, of each code's name and one count of each queue for the whole batch
    const batch = newDeliveryBatch();
    const names = new Map<string, string | null>();
    const ops: Op[] = [];
    for (let n = 0; n < scans.length; n++) {
      const scan = scans[n] as Scan;
      if (scan.bot) continue;
      let hooks = batch.hooks.get(scan.workspaceId);
      if (!hooks) {
        hooks = await this.ctx.store.findMany('webhooks', 'workspace_id', scan.workspaceId);
        batch.hooks.set(scan.workspaceId, hooks);
      }
      if (!hooks.some((hook) => hook.status === 'active' && hook.events.includes('qr.scanned'))) continue;
      let name = names.get(scan.qrId);
      if (name === undefined) {
        name = (await this.ctx.store.get('qrcodes', scan.qrId))?.name ?? null;
        names.set(scan.qrId, name);
      }
      ops.push(...(await this.events.deliveryOps(scan.workspaceId, scanEvent(ids[n] as number, scan, name), undefined, batch)));
    }
    if (ops.length) await this.ctx.store.commit(ops);
  }

  /** Stops the timer and writes what is waiting (one last try, whatever the backoff); what still cannot be written is logged as lost. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.retryAt = 0;
    await this.drain();
    if (this.unwritten.length || this.unwrittenOrphans.size) {
      this.ctx.logger.warn({ scans: this.unwritten.length, orphan_counts: this.unwrittenOrphans.size }, 'stopping with scans the database never took: they are lost');
    }
  }
}
