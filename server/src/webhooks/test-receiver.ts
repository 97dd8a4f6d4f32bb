import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: { id: string; type: string; created_at: string; data: Record<string, unknown> };
  /** The status it was answered with ('hang' when it was left without an answer). */
  answered: number | 'hang';
}

/** What to answer the n-th request (0-based): a status, or 'hang' to never answer. */
export type Responder = (request: Omit<Received, 'answered'>, n: number) => number | 'hang';

/** A real webhook receiver for tests: an HTTP server on 127.0.0.1 and a free port. */
export async function startReceiver(respond: Responder = () => 200) {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  let responder = respond;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const request = { path: req.url ?? '/', headers: req.headers, rawBody, body: JSON.parse(rawBody || '{}') as Received['body'] };
      const answer = responder(request, received.length);
      received.push({ ...request, answered: answer });
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer >= 300 ? `receiver says ${answer}` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    /** Requests answered with a 2xx. */
    delivered: () => received.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    respondWith: (next: Responder) => {
      responder = next;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
