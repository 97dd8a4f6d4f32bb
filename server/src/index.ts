import cluster from 'node:cluster';
import fs from 'node:fs';
import { loadConfig } from './config.js';
import { defaultConsoleDir } from './console/dir.js';
import { startServer } from './server.js';
import { startLine, terminalStream } from './start-line.js';
import pino from 'pino';
import { runWorkers } from './workers.js';

/** Shutdown has this long before the process exits anyway (a process manager usually waits 10 s before SIGKILL). */
const SHUTDOWN_DEADLINE_MS = 9_000;

/**
 * `npm start` runs this file from source, and so builds the console first when it is missing or stale;
 * the compiled build (`npm run build`, `node server/dist/index.js`) has built it already.
 */
async function ensureConsoleBuilt(): Promise<void> {
  if (!import.meta.url.endsWith('.ts')) return;
  const script = new URL('../../web/scripts/ensure-built.mjs', import.meta.url);
  if (!fs.existsSync(script)) return;
  const { ensureConsoleBuilt: build } = (await import(script.href)) as { ensureConsoleBuilt: () => Promise<void> };
  await build();
}

/** `npm start`: read the environment, open the store, listen, and shut down cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  // a console served from elsewhere (QRFLOW_CONSOLE_DIR) is built by whoever put it there
  if (config.consoleDir === defaultConsoleDir() && !cluster.isWorker) await ensureConsoleBuilt();
  // asynchronous writes: one write(2) per request on the request path cost ~8% of an API request's CPU;
  // lines written while one write is in flight go out together in the next
  const logger = pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));
  // QRFLOW_WORKERS=N: this process only runs the N server processes (config.ts has checked the store allows it)
  if (config.workers > 1 && cluster.isPrimary) {
    runWorkers(config.workers, logger, SHUTDOWN_DEADLINE_MS);
    return;
  }
  const exit = (code: number) => logger.flush(() => process.exit(code));
  const running = await startServer(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    // npm passes a terminal's Ctrl-C on to the server, which also gets it from the terminal: one shutdown for both
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadline_ms: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting (acknowledged writes are in the log)');
      exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    running.close().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  // the handlers go in before anything announces the server, so a signal sent on seeing the announcement is handled
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info({ url: running.url, data_file: config.dataFile, public_url: config.publicUrl, admin_socket: running.adminSocket?.path, ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) }, 'qrflow is listening');
  // with QRFLOW_WORKERS, the first worker alone prints the start line
  const terminal = cluster.isWorker && cluster.worker?.id !== 1 ? undefined : terminalStream();
  if (terminal && !stopping) {
    const emptyStore = await running.store.all('workspaces').then((workspaces) => workspaces.length === 0, () => false);
    if (!stopping) terminal.write(startLine({ baseUrl: config.publicUrl, emptyStore }) + '\n');
  }
}

main().catch((error: unknown) => {
  console.error(`qrflow could not start: ${(error as Error).message}`);
  process.exit(1);
});
