import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** A worker that dies this soon after it started counts toward giving up (a crash loop, not a one-off failure). */
const EARLY_EXIT_MS = 10_000;
const MAX_EARLY_EXITS = 5;

/**
 * QRFLOW_WORKERS=N (N > 1, on PostgreSQL): this process becomes node:cluster's primary and runs N server processes
 * sharing one port. A worker that dies is replaced (unless workers keep dying right after starting: then all
 * stop, saying why). SIGTERM or SIGINT stop every worker gracefully (each finishes its requests and writes what
 * it holds), then the primary exits; past `deadlineMs` the remaining workers are killed.
 */
export function runWorkers(count: number, logger: Logger, deadlineMs: number): void {
  let stopping = false;
  let earlyExits = 0;
  const startedAt = new Map<number, number>();
  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    return worker;
  };
  const exit = (code: number) => logger.flush(() => process.exit(code));
  const stopAll = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down the worker processes');
    const living = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => Boolean(worker && !worker.isDead()));
    for (const worker of living()) worker.process.kill('SIGTERM');
    const done = () => {
      if (living().length === 0) exit(code);
    };
    cluster.on('exit', done);
    done();
    setTimeout(() => {
      logger.error({ deadline_ms: deadlineMs }, 'worker processes did not stop in time; killing them');
      for (const worker of living()) worker.process.kill('SIGKILL');
      exit(1);
    }, deadlineMs).unref();
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (lived < EARLY_EXIT_MS && ++earlyExits >= MAX_EARLY_EXITS) {
      logger.error({ pid: worker.process.pid, code, signal }, `worker processes keep exiting right after they start (${earlyExits} times); stopping`);
      stopAll('crash-loop', 1);
      return;
    }
    logger.warn({ pid: worker.process.pid, code, signal }, 'a worker process exited; starting another');
    fork();
  });
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.on('SIGINT', () => stopAll('SIGINT'));
  logger.info({ workers: count, pid: process.pid }, `qrflow is starting ${count} worker processes`);
  for (let i = 0; i < count; i++) fork();
}
