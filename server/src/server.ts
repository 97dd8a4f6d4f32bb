import type { TxtResolver } from './domains/service.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createApp, type QrflowApp } from './app.js';
import { openStore, type OpenStoreOptions } from './store/open-store.js';
import type { Store } from './store/store.js';
import { answerClientError } from './http/client-error.js';
import { serverClasses } from './http/express-compat.js';
import { dataDirectoryWarning } from './store/embedded/private-file.js';
import { listenAdminSocket, type AdminSocket } from './cli/admin-socket.js';
import { runCli } from './cli/cli.js';

export interface RunningServer {
  app: QrflowApp;
  store: Store;
  server: http.Server;
  url: string;
  /** The local socket on which the CLI's commands run against this server's store (undefined if it could not listen). */
  adminSocket: AdminSocket | undefined;
  /** Stops accepting requests, finishes the ones in flight, writes everything and releases the data file. */
  close: () => Promise<void>;
}

/** Opens the store, builds the app and listens. */
export async function startServer(config: Config, options: { clock?: Clock; logger?: Logger; store?: OpenStoreOptions; resolveTxt?: TxtResolver } = {}): Promise<RunningServer> {
  const store = await openStore(config, withStartWait(config, options));
  let app: QrflowApp;
  try {
    app = await createApp({ config, store, ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}), ...(options.resolveTxt ? { resolveTxt: options.resolveTxt } : {}) });
  } catch (error) {
    await store.close();
    throw error;
  }
  // the embedded store's files (PostgreSQL keeps its own)
  const directoryWarning = config.databaseUrl ? undefined : dataDirectoryWarning(config.dataFile);
  if (directoryWarning) app.ctx.logger.warn({ data_file: config.dataFile }, directoryWarning);
  await app.start();
  const server = http.createServer({ ...serverClasses, keepAliveTimeout: 65_000 }, app.listener);
  server.headersTimeout = 66_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // short links must carry the port really bound (PORT=0 picks a free one), unless QRFLOW_PUBLIC_URL says otherwise
  if (!config.publicUrlFromEnv) config.publicUrl = `http://${host}:${address.port}`;
  // on PostgreSQL there is no lock to wait for: the CLI works on the database beside running servers
  const adminSocket = config.databaseUrl ? undefined : await openAdminSocket(config.dataFile, app, options.logger);
  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    server,
    url: `http://${host}:${address.port}`,
    adminSocket,
    close: () =>
      (closing ??= (async () => {
        await adminSocket?.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 5000).unref();
        });
        await app.stop();
        await store.close();
      })()),
  };
}

/**
 * A server started before PostgreSQL waits for it (the CLI does not): each retry is logged with the database's host,
 * never its credentials, so an operator sees why the process is not listening yet.
 */
function withStartWait(config: Config, options: { logger?: Logger; store?: OpenStoreOptions }): OpenStoreOptions | undefined {
  if (!config.databaseUrl || options.store?.postgres?.waitForDatabase) return options.store;
  let where = 'the database';
  try {
    const url = new URL(config.databaseUrl);
    where = `${url.hostname}:${url.port || 5432}${url.pathname}`;
  } catch {
    // config.ts checked the shape; the message just stays generic
  }
  const log = options.logger ?? pino({ level: config.logLevel });
  return {
    ...options.store,
    postgres: {
      ...options.store?.postgres,
      waitForDatabase: {
        onWaiting: ({ attempt, retryInMs, reason }) =>
          log.warn({ database: where, attempt, retry_in_ms: retryInMs, reason }, `PostgreSQL at ${where} does not answer (${reason}): waiting, retrying in ${retryInMs / 1000} s`),
      },
    },
  };
}

/** The CLI's commands, sent by `qrflow` while this server holds the data file, run here on the live services. */
async function openAdminSocket(dataFile: string, app: QrflowApp, logger: Logger | undefined): Promise<AdminSocket | undefined> {
  const log = logger ?? app.ctx.logger;
  const services = { workspaces: app.services.workspaces, keys: app.services.keys };
  try {
    return await listenAdminSocket({
      dataFile,
      logger: log,
      run: async (argv) => {
        let stdout = '';
        let stderr = '';
        const exitCode = await runCli(argv, { out: (text) => (stdout += text), err: (text) => (stderr += text) }, {}, services);
        return { stdout, stderr, exit_code: exitCode };
      },
    });
  } catch (error) {
    log.warn({ err: error }, 'the admin socket could not be opened: the qrflow CLI cannot reach this server while it runs');
    return undefined;
  }
}
