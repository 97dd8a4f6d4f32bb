import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { JobQueue } from '../job-queue.js';
import { POOL_TIMEOUTS } from './postgres-store.js';

/** pg-boss keeps its tables in a schema of its own, migrated by pg-boss at start under its own advisory lock. */
export const JOB_SCHEMA = 'qrflow_jobs';

/** A job's id from its key, so that sending a key twice is one job (pg-boss ignores an insert whose id exists). */
function jobId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  // a UUID's shape (version 5 bits set) from the hash
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The PostgreSQL job queue: pg-boss 10 (the last major that runs on Node 20; 11 and later need Node 22). Jobs are
 * fetched with SKIP LOCKED, so each runs in one process at a time; retries and expiry are pg-boss's.
 */
export class PgBossJobQueue implements JobQueue {
  private readonly boss: PgBoss;
  private started: Promise<void> | undefined;

  constructor(
    connectionString: string,
    private readonly name: string,
    private readonly onError: (error: Error) => void,
  ) {
    this.boss = new PgBoss({
      connectionString,
      schema: JOB_SCHEMA,
      max: 4,
      // pg-boss passes these on to its pg pool: a down database fails its polls fast instead of hanging them
      ...({ connectionTimeoutMillis: POOL_TIMEOUTS.connectionTimeoutMillis } as object),
      // no cron schedules are used
      schedule: false,
    });
    this.boss.on('error', (error) => this.onError(error));
  }

  start(): Promise<void> {
    this.started ??= (async () => {
      await this.boss.start();
      // createQueue is idempotent in pg-boss 10 (it checks first), and so safe for processes starting together
      if (!(await this.boss.getQueue(this.name))) {
        await this.boss.createQueue(this.name).catch(async (error: unknown) => {
          if (!(await this.boss.getQueue(this.name))) throw error;
        });
      }
    })();
    return this.started;
  }

  async send(job: { key: string; data: Record<string, unknown>; runAt: number }): Promise<void> {
    await this.start();
    await this.boss.send(this.name, job.data, { id: jobId(job.key), startAfter: new Date(job.runAt) });
  }

  async work(handler: (data: Record<string, unknown>) => Promise<void>, options: { concurrency: number; expireSeconds: number; retrySeconds: number }): Promise<void> {
    await this.start();
    await this.boss.updateQueue(this.name, { name: this.name, expireInSeconds: options.expireSeconds, retryLimit: 1_000_000, retryDelay: options.retrySeconds });
    // pg-boss 10 runs one batch per worker at a time: several one-job workers give the concurrency
    for (let i = 0; i < options.concurrency; i++) {
      await this.boss.work<Record<string, unknown>>(this.name, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        if (job) await handler(job.data);
      });
    }
  }

  async stop(graceMs: number): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.boss.stop({ graceful: true, timeout: Math.max(graceMs, 1000), wait: true, close: true }).catch((error: unknown) => this.onError(error as Error));
  }
}
