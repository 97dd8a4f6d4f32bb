import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createApp, type QrflowApp } from './app.js';
import { openStore, type OpenStoreOptions } from './store/open-store.js';
import type { Store } from './store/store.js';
import { answerClientError } from './http/client-error.js';
import { serverClasses } from './http/express-compat.js';

export interface RunningServer {
  app: QrflowApp;
  store: Store;
  server: http.Server;
  url: string;
  /** Stops accepting requests, finishes the ones in flight, writes everything and releases the data file. */
  close: () => Promise<void>;
}

/** Opens the store, builds the app and listens. */
export async function startServer(config: Config, options: { clock?: Clock; logger?: Logger; store?: OpenStoreOptions } = {}): Promise<RunningServer> {
  const store = await openStore(config, options.store);
  let app: QrflowApp;
  try {
    app = await createApp({ config, store, ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  } catch (error) {
    await store.close();
    throw error;
  }
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
  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      (closing ??= (async () => {
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
