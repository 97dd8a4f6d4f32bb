import { loadConfig } from './config.js';
import { startServer } from './server.js';
import pino from 'pino';

/** `npm start`: read the environment, open the store, listen, and shut down cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const running = await startServer(config, { logger });
  logger.info({ url: running.url, data_file: config.dataFile, public_url: config.publicUrl }, 'qrflow is listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`qrflow could not start: ${(error as Error).message}`);
  process.exit(1);
});
