/**
 * A durable job queue shared by every process on one database, for work that must be done once per job by one
 * process at a time and survive any process being killed (webhook deliveries). The embedded store has none: its
 * single process keeps such work in memory, loaded from the store at start.
 */
export interface JobQueueOptions {
  /** A job still running after this long is taken to be dead (its process killed) and run again. */
  expireSeconds: number;
  /** A job whose handler threw runs again after this long. */
  retrySeconds: number;
}

export interface JobQueue {
  /** Migrates the queue's own schema (under its own advisory lock) and connects. */
  start(options: JobQueueOptions): Promise<void>;
  /**
   * Queues a job to run at `runAt` (ms). Idempotent by `key`: sending a key again while its job exists (queued,
   * running or done in the last days) makes no second job.
   */
  send(job: { key: string; data: Record<string, unknown>; runAt: number }): Promise<void>;
  /**
   * Runs jobs with `handler`, at most `concurrency` at once in this process. A job runs in one process at a time; a
   * handler that throws has it run again after `retrySeconds`, one whose process was killed after `expireSeconds`.
   * Handlers must be idempotent: a job whose completion could not be recorded runs again.
   */
  work(handler: (data: Record<string, unknown>) => Promise<void>, concurrency: number): Promise<void>;
  /** Stops taking jobs and waits up to `graceMs` for those running; the rest run again elsewhere. */
  stop(graceMs: number): Promise<void>;
}
