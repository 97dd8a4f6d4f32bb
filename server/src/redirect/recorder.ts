import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import type { Context } from '../context.js';
import type { Scan, ScanStorage } from '../store/scans.js';
import type { EventService } from '../events/service.js';
import type { Op } from '../store/store.js';
import { scanEvent } from '../events/feed.js';

/** What the redirect keeps of a request until the next bulk pass; nothing here is stored as is. */
export interface Hit {
  time: number;
  qrId: string;
  workspaceId: string;
  ip: string;
  userAgent: string;
  country: string;
  referer: string;
  /** The A/B variant the scan was sent to (0-based index into the code's variants), if the split decided. */
  variant?: number;
}

interface Agent {
  device: string;
  os: string;
  browser: string;
  bot: boolean;
}

const AGENT_CACHE_LIMIT = 10_000;

/** The unique-visitor hash of a day: the day's salt, the IP and the user agent (the scans' `visitor`, the A/B split's key). */
export function visitorHash(salt: Buffer, ip: string, userAgent: string): number {
  return createHash('sha256').update(salt).update(ip).update('\0').update(userAgent).digest().readUInt32LE(0);
}

/**
 * Turns redirect hits into scans in bulk, off the request path: parses user agents (cached), flags bots,
 * hashes visitors with a salt that changes every UTC day, writes the scans and queues qr.scanned deliveries.
 */
export class ScanRecorder {
  private queue: Hit[] = [];
  private readonly agents = new Map<string, Agent>();
  private salt: { day: string; value: Buffer } | undefined;
  /** The day before's, in memory only, for the hits of that day still queued. */
  private previousSalt: { day: string; value: Buffer } | undefined;
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly scans: ScanStorage,
    private readonly events: EventService,
    private readonly intervalMs = 200,
  ) {
    this.timer = setInterval(() => void this.drain(), intervalMs);
    this.timer.unref();
  }

  hit(hit: Hit): void {
    this.queue.push(hit);
  }

  private agent(userAgent: string): Agent {
    let agent = this.agents.get(userAgent);
    if (!agent) {
      const parsed = UAParser(userAgent);
      const bot = userAgent.trim() === '' || isbot(userAgent);
      agent = {
        device: bot ? 'bot' : (parsed.device.type ?? 'desktop'),
        os: parsed.os.name ?? 'unknown',
        browser: parsed.browser.name ?? 'unknown',
        bot,
      };
      if (this.agents.size >= AGENT_CACHE_LIMIT) this.agents.clear();
      this.agents.set(userAgent, agent);
    }
    return agent;
  }

  /** Today's salt (UTC), kept in `<dataFile>.salt` so a restart the same day counts the same visitors once. */
  private saltFor(time: number): Buffer {
    const day = new Date(time).toISOString().slice(0, 10);
    if (this.salt?.day === day) return this.salt.value;
    // the redirect asks for today's while hits queued before midnight are still recorded: never rotate backwards
    if (this.previousSalt?.day === day) return this.previousSalt.value;
    if (this.salt && day < this.salt.day) return this.salt.value;
    this.previousSalt = this.salt;
    const file = `${this.ctx.config.dataFile}.salt`;
    try {
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { day: string; salt: string };
      if (stored.day === day) {
        this.salt = { day, value: Buffer.from(stored.salt, 'base64') };
        return this.salt.value;
      }
    } catch {
      // no salt yet, or unreadable: make a new one
    }
    // yesterday's salt is overwritten, so past visitor hashes can no longer be linked to anyone
    this.salt = { day, value: randomBytes(32) };
    fs.writeFileSync(file, JSON.stringify({ day, salt: this.salt.value.toString('base64') }), { mode: 0o600 });
    return this.salt.value;
  }

  /** The visitor hash a hit at `time` from this IP and user agent will be recorded with. */
  visitorOf(time: number, ip: string, userAgent: string): number {
    return visitorHash(this.saltFor(time), ip, userAgent);
  }

  private toScan(hit: Hit): Scan {
    const agent = this.agent(hit.userAgent);
    const visitor = this.visitorOf(hit.time, hit.ip, hit.userAgent);
    let referrer = 'direct';
    if (hit.referer) {
      try {
        referrer = new URL(hit.referer).hostname || 'direct';
      } catch {
        referrer = 'unknown';
      }
    }
    return { time: hit.time, qrId: hit.qrId, workspaceId: hit.workspaceId, visitor, country: hit.country, device: agent.device, os: agent.os, browser: agent.browser, referrer, bot: agent.bot };
  }

  /** Processes everything queued: scans on disk, deliveries queued. */
  drain(): Promise<void> {
    if (this.running) return this.running.then(() => (this.queue.length ? this.drain() : undefined));
    if (this.queue.length === 0) return this.scans.flush();
    const hits = this.queue;
    this.queue = [];
    this.running = (async () => {
      const scans = hits.map((hit) => this.toScan(hit));
      // resolves once the scans are durable (the storage batches them: the log at once, PostgreSQL within its delay)
      const ids = await this.scans.append(scans);
      await this.queueDeliveries(scans, ids);
    })()
      .catch((error: unknown) => this.ctx.logger.error({ err: error }, 'recording scans failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async queueDeliveries(scans: Scan[], ids: number[]): Promise<void> {
    const subscribed = new Map<string, boolean>();
    const ops: Op[] = [];
    for (let n = 0; n < scans.length; n++) {
      const scan = scans[n] as Scan;
      if (scan.bot) continue;
      let has = subscribed.get(scan.workspaceId);
      if (has === undefined) {
        const hooks = await this.ctx.store.findMany('webhooks', 'workspace_id', scan.workspaceId);
        has = hooks.some((hook) => hook.status === 'active' && hook.events.includes('qr.scanned'));
        subscribed.set(scan.workspaceId, has);
      }
      if (!has) continue;
      const qr = await this.ctx.store.get('qrcodes', scan.qrId);
      ops.push(...(await this.events.deliveryOps(scan.workspaceId, scanEvent(ids[n] as number, scan, qr?.name ?? null))));
    }
    if (ops.length) await this.ctx.store.commit(ops);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.drain();
  }
}
