import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The same small JSON document every baseline returns. */
export const SMALL_JSON = { data: { id: 'qr_0123456789abcd', name: 'Spring sale', status: 'active', scan_count: 42 } };

/** Listens on 127.0.0.1 and PORT (0: any free port) and prints the URL for the bench runner. */
export function listen(server: http.Server): void {
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`listening http://127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
