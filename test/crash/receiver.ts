import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Received {
  path: string;
  eventId: string;
  type: string;
  qrId: string | undefined;
  updatedAt: string | undefined;
  at: number;
  body: string;
  signature: string;
}

export interface Receiver {
  url: string;
  /** Signing secret per receiver path, filled in by the test as subscriptions are acknowledged. */
  secrets: Map<string, string>;
  /** Times the server was killed (a 2xx answered just before one may come again). */
  kills: number[];
  received: Received[];
  has: (type: string, qrId: string, updatedAt?: string) => boolean;
  duplicates: () => Array<{ path: string; eventId: string; times: number; firstAt: number; at: number[] }>;
  /** Paths of deliveries whose signature does not verify with that path's secret. */
  readonly badSignatures: string[];
  close: () => Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that answers 200 to everything and remembers each delivery. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = JSON.parse(body) as { id: string; type: string; data?: { id?: string; updated_at?: string } };
        received.push({ path: req.url ?? '', eventId: event.id, type: event.type, qrId: event.data?.id, updatedAt: event.data?.updated_at, at: Date.now(), body, signature: String(req.headers['qrflow-signature'] ?? '') });
      } catch {
        received.push({ path: req.url ?? '', eventId: '(not json)', type: '', qrId: undefined, updatedAt: undefined, at: Date.now(), body, signature: '' });
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const secrets = new Map<string, string>();
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    kills: [],
    received,
    has: (type, qrId, updatedAt) => received.some((r) => r.path === '/hook/base' && r.type === type && r.qrId === qrId && (updatedAt === undefined || r.updatedAt === updatedAt)),
    duplicates: () => {
      const byKey = new Map<string, Received[]>();
      for (const r of received) {
        const key = `${r.path} ${r.eventId}`;
        byKey.set(key, [...(byKey.get(key) ?? []), r]);
      }
      return [...byKey.values()].filter((list) => list.length > 1).map((list) => ({ path: list[0]!.path, eventId: list[0]!.eventId, times: list.length, firstAt: list[0]!.at, at: list.map((r) => r.at) }));
    },
    get badSignatures() {
      return received
        .filter((r) => {
          const secret = secrets.get(r.path);
          if (!secret) return false;
          const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.signature);
          return !match || createHmac('sha256', secret).update(`${match[1]}.${r.body}`).digest('hex') !== match[2];
        })
        .map((r) => r.path);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
