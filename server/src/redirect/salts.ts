import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { DAY_MS, type ScanStorage } from '../store/scans.js';

/** How long after a failed read of the stored salts they are asked for again (ms). */
const RETRY_MS = 5000;

/**
 * The daily visitor-hash salts (UTC days), kept by the scan storage so that every process on it — several hosts on
 * one PostgreSQL — hashes a visitor alike: the same unique visitor, the same A/B variant. The redirect asks for a
 * salt synchronously, so today's and tomorrow's are loaded ahead (at start, then on every recorder pass); a day
 * asked for before its salt was loaded (the storage unavailable, a clock that jumped) gets a salt made here, offered
 * to the storage in the background: stored if none was, else replaced by the stored one (the few hashes made
 * meanwhile differ from other processes').
 */
export class DaySalts {
  /** The salt in use per day. */
  private readonly salts = new Map<number, Buffer>();
  /** Days whose salt in use is the storage's. */
  private readonly stored = new Set<number>();
  private loading: Promise<void> | undefined;
  private retryAt = 0;

  constructor(
    private readonly scans: ScanStorage,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Loads today's and tomorrow's salts from the storage unless they are; never rejects (a failure is logged and retried later). */
  preload(): Promise<void> {
    if (this.loading) return this.loading;
    const today = Math.floor(this.clock.now() / DAY_MS);
    const missing = [today, today + 1].filter((day) => !this.stored.has(day));
    if (missing.length === 0 || performance.now() < this.retryAt) return Promise.resolve();
    return this.load(missing);
  }

  private load(days: number[]): Promise<void> {
    this.loading = (async () => {
      for (const day of days) {
        const mine = this.salts.get(day);
        const salt = await this.scans.daySalt(day, mine ?? randomBytes(32));
        if (mine && !mine.equals(salt)) this.logger.info({ day: new Date(day * DAY_MS).toISOString().slice(0, 10) }, "visitor salt: another process stored the day's first; this one's few hashes of it differ");
        this.salts.set(day, salt);
        this.stored.add(day);
        // loading the day after tomorrow (just after midnight) deleted yesterday's from the storage; it is kept here a
        // day longer, in memory only, for the hits of yesterday still queued
        for (const known of this.salts.keys()) {
          if (known < day - 2) {
            this.salts.delete(known);
            this.stored.delete(known);
          }
        }
      }
    })()
      .catch((error: unknown) => {
        this.retryAt = performance.now() + RETRY_MS;
        this.logger.warn({ err: error }, 'visitor salt: could not be read from the scan storage, retrying');
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** The salt of the UTC day holding `time`. */
  saltFor(time: number): Buffer {
    const day = Math.floor(time / DAY_MS);
    const known = this.salts.get(day);
    if (known) return known;
    // never rotate backwards: hits of a day whose salt is gone (queued before midnight) take the oldest one kept
    let oldest: number | undefined;
    for (const d of this.salts.keys()) if (oldest === undefined || d < oldest) oldest = d;
    if (oldest !== undefined && day < oldest) return this.salts.get(oldest) as Buffer;
    const salt = randomBytes(32);
    this.salts.set(day, salt);
    void (this.loading ?? Promise.resolve()).then(() => (this.stored.has(day) ? undefined : this.load([day])));
    return salt;
  }
}
