import type { Pinger } from './routes.js';

/**
 * Pings Redis for /readyz on a connection of its own (opened at the first check, dropped and reopened after a
 * failure), so a readiness probe never waits behind the rate limiter's commands or its reconnection backoff.
 */
export function redisPinger(url: string): Pinger & { close(): Promise<void> } {
  type Client = { connect(): Promise<unknown>; ping(): Promise<unknown>; destroy(): void; on(event: string, listener: () => void): unknown };
  let client: Client | undefined;
  const drop = () => {
    try {
      client?.destroy();
    } catch {
      // already closed
    }
    client = undefined;
  };
  return {
    async ping() {
      if (!client) {
        const { createClient } = await import('redis');
        const fresh = createClient({ url, socket: { connectTimeout: 1500, reconnectStrategy: false } }) as unknown as Client;
        fresh.on('error', () => undefined);
        client = fresh;
        try {
          await fresh.connect();
        } catch (error) {
          drop();
          throw error;
        }
      }
      try {
        await client.ping();
      } catch (error) {
        drop();
        throw error;
      }
    },
    async close() {
      drop();
    },
  };
}
