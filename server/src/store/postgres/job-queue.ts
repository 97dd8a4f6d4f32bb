import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import type { JobQueue, JobQueueOptions } from '../job-queue.js';
import { POOL_TIMEOUTS } from './postgres-store.js';

/** pg-boss keeps its tables in a schema of its own, migrated by pg-boss at start under its own advisory lock. */
export const JOB_SCHEMA = 'qrflow_jobs';

/** Idle wait between two fetches that found nothing, and after a failed fetch (the database down). */
const POLL_MS = 500;
const ERROR_BACKOFF_MS = 2000;

/** A job's id from its key, so that sending a key twice is one job (pg-boss ignores an insert whose id exists). */
function jobId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  // a UUID's shape (version 5 bits set) from the hash
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** PostgreSQL's deadlock_detected: the transaction was aborted for another to go on, and may be tried again. */
const DEADLOCK_DETECTED = '40P01';
const CREATE_QUEUE_ATTEMPTS = 5;

/**
 * The PostgreSQL job queue: pg-boss 10 (the last major that runs on Node 20; 11 and later need Node 22). Jobs are
 * fetched with SKIP LOCKED, so each runs in one process at a time; retries and expiry are pg-boss's. The fetch
 * loops are ours rather than pg-boss's `work()`, whose complete/fail calls are not awaited: with the database
 * down they reject unhandled and would end the process.
 */
export class PgBossJobQueue implements JobQueue {
  private readonly boss: PgBoss;
  private started: Promise<void> | undefined;
  private options: JobQueueOptions | undefined;
  private stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];

  constructor(
    connectionString: string,
    private readonly name: string,
    private readonly onError: (error: Error) => void,
  ) {
    this.boss = new PgBoss({
      connectionString,
      schema: JOB_SCHEMA,
      max: 4,
      // pg-boss passes these on to its pg pool: a down database fails its queries fast instead of hanging them
      ...({ connectionTimeoutMillis: POOL_TIMEOUTS.connectionTimeoutMillis } as object),
      // no cron schedules are used
      schedule: false,
      // how often jobs of killed processes (active past their expiry) are put back for another process to run
      maintenanceIntervalSeconds: 10,
    });
    this.boss.on('error', (error) => this.onError(error));
  }

  start(options: JobQueueOptions): Promise<void> {
    this.options = options;
    this.started ??= (async () => {
      await this.boss.start();
      await this.createQueue();
    })();
    return this.started;
  }

  /**
   * Creates the queue unless it exists. Processes starting together on a new database may all try: pg-boss's
   * createQueue (a row and a partition of its own) can then deadlock, and PostgreSQL aborts one of them, which
   * tries again once the other has committed; a loser that finds the queue made is done.
   */
  private async createQueue(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (await this.boss.getQueue(this.name)) return;
      try {
        await this.boss.createQueue(this.name);
        return;
      } catch (error) {
        if (await this.boss.getQueue(this.name)) return;
        if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= CREATE_QUEUE_ATTEMPTS) throw error;
        await sleep(50 * attempt);
      }
    }
  }

  async send(job: { key: string; data: Record<string, unknown>; runAt: number }): Promise<void> {
    if (!this.started || !this.options) throw new Error('The job queue is not started');
    await this.started;
    await this.boss.send(this.name, job.data, {
      id: jobId(job.key),
      startAfter: new Date(job.runAt),
      expireInSeconds: this.options.expireSeconds,
      retryLimit: 1_000_000,
      retryDelay: this.options.retrySeconds,
    });
  }

  async work(handler: (data: Record<string, unknown>) => Promise<void>, concurrency: number): Promise<void> {
    await this.started;
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop(handler));
  }

  private async loop(handler: (data: Record<string, unknown>) => Promise<void>): Promise<void> {
    const signal = this.stopping.signal;
    const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
    while (!signal.aborted) {
      let job: PgBoss.Job<Record<string, unknown>> | undefined;
      try {
        [job] = await this.boss.fetch<Record<string, unknown>>(this.name, { batchSize: 1 });
      } catch (error) {
        this.onError(error as Error);
        await pause(ERROR_BACKOFF_MS);
        continue;
      }
      if (!job) {
        await pause(POLL_MS);
        continue;
      }
      try {
        await handler(job.data);
        // a completion that cannot be written leaves the job to expire and run again: handlers are idempotent
        await this.boss.complete(this.name, job.id).catch((error: unknown) => this.onError(error as Error));
      } catch (error) {
        await this.boss.fail(this.name, job.id, { message: (error as Error).message }).catch((failure: unknown) => this.onError(failure as Error));
      }
    }
  }

  async stop(graceMs: number): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.loops), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.boss.stop({ graceful: false, wait: true, close: true }).catch((error: unknown) => this.onError(error as Error));
  }
}
