import type { Logger } from 'pino';
import { createClient } from 'redis';

/** How often "Redis is unreachable" is logged at most, per feature. */
const WARN_EVERY_MS = 10_000;

/**
 * The one Redis connection of a process (QRFLOW_REDIS_URL): per-minute and login limits, and the monthly
 * allowances. Commands fail at once while Redis is unreachable (no offline queue), so every feature can fail open
 * instead of making requests wait; the client reconnects by itself. Keys all start with QRFLOW_REDIS_PREFIX.
 */
export class SharedRedis {
  readonly client: ReturnType<typeof createClient>;
  private readonly warnedAt = new Map<string, number>();
  private closed = false;

  constructor(url: string, readonly prefix: string, private readonly logger: Logger) {
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1500, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
    });
    this.client.on('error', (error: Error) => this.warn('connection', error));
    // a process whose Redis is down starts all the same, and fails open until it comes back
    const connecting = this.client.connect().then(
      () => undefined,
      (error: unknown) => this.warn('connection', error),
    );
    this.started = Promise.race([connecting, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  /** Resolves once connected, or after two seconds of trying (start-up waits for this, not longer). */
  readonly started: Promise<void>;

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** Sends a raw command (what rate-limit-redis needs). */
  sendCommand(args: string[]): Promise<unknown> {
    return this.client.sendCommand(args) as Promise<unknown>;
  }

  /** The SHA of each Lua script this process has loaded, by its text. */
  private readonly shas = new Map<string, string>();

  /**
   * Runs a Lua script by its SHA: loaded on first use, and loaded again when Redis lost it (NOSCRIPT after a
   * restart), so that a request sends the script's text once per process rather than with every call.
   */
  async evalScript(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const known = this.shas.get(script);
    if (known) {
      try {
        return await this.sendCommand(['EVALSHA', known, String(keys.length), ...keys, ...args]);
      } catch (error) {
        if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      }
    }
    const sha = String(await this.sendCommand(['SCRIPT', 'LOAD', script]));
    this.shas.set(script, sha);
    return this.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args]);
  }

  /** A warn log naming what fails open, at most once every ten seconds for each. */
  warn(what: string, error: unknown): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - (this.warnedAt.get(what) ?? 0) < WARN_EVERY_MS) return;
    this.warnedAt.set(what, now);
    const message = (error as Error)?.message ?? String(error);
    const effect = what === 'connection' ? 'limits and allowances fail open until it answers' : `${what} fail open`;
    this.logger.warn({ redis_error: message }, `Redis is unreachable: ${effect}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    // a connection that is down (reconnecting) is dropped, not asked to QUIT: that would wait for it forever
    if (!this.client.isOpen) return;
    if (!this.client.isReady) {
      this.client.destroy();
      return;
    }
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }
}
