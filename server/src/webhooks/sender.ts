import http from 'node:http';
import https from 'node:https';
import { forbiddenHostReason, guardedLookup } from './ssrf.js';

export const USER_AGENT = 'qrflow-webhooks/1';

/** What one attempt came to: the receiver's status, or the reason there was none. */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** True when the attempt was cut short because the worker is stopping: nothing should be recorded. */
  aborted: boolean;
}

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Refuse private addresses (on every connection, so DNS rebinding cannot bypass the check). */
  guard: boolean;
  signal: AbortSignal;
}

const ERROR_SNIPPET = 200;

// Dedicated agents: keep-alive to busy receivers, and a socket pool apart from anything else the server does.
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) };

/** POSTs the body and resolves with the outcome; never rejects. Redirects are not followed. */
export function send(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  if (request.guard) {
    const reason = forbiddenHostReason(url.hostname);
    if (reason) return Promise.resolve({ statusCode: null, error: `refused: ${url.hostname.replace(/^\[|\]$/g, '')} ${reason}`, durationMs: elapsed(), aborted: false });
  }
  if (request.signal.aborted) return Promise.resolve({ statusCode: null, error: 'aborted: the server is stopping', durationMs: 0, aborted: true });
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    const finish = (result: Omit<SendResult, 'durationMs' | 'aborted'>, aborted = false) => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener('abort', onAbort);
      resolve({ ...result, durationMs: elapsed(), aborted });
    };
    const secure = url.protocol === 'https:';
    const outgoing = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      ...(request.guard ? { lookup: guardedLookup as never } : {}),
    });
    // one deadline for the whole exchange; it also frees the socket of a receiver that stalls its body
    const timer = setTimeout(() => {
      finish(status === null ? { statusCode: null, error: `timeout: no response within ${request.timeoutMs} ms` } : { statusCode: status, error: `HTTP ${status} (body not finished within ${request.timeoutMs} ms)` });
      outgoing.destroy();
    }, request.timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      finish({ statusCode: null, error: 'aborted: the server is stopping' }, true);
      outgoing.destroy();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = (error as { code?: string }).code === 'forbidden_address';
      finish({ statusCode: null, error: refused ? `refused: ${error.message}` : `network error: ${error.code ?? error.message}` });
    });
    outgoing.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      status = statusCode;
      response.on('end', () => clearTimeout(timer));
      // a 2xx is decided by its status line: the body is drained and ignored
      if (statusCode >= 200 && statusCode < 300) {
        finish({ statusCode, error: null });
        response.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept < ERROR_SNIPPET) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      const done = () => {
        const snippet = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_SNIPPET).replace(/\s+/g, ' ').trim();
        finish({ statusCode, error: `HTTP ${statusCode}${snippet ? `: ${snippet}` : ''}` });
      };
      response.on('end', done);
      response.on('error', done);
    });
    outgoing.end(request.body);
  });
}
