import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '../context.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { routeKey } from '../store/records.js';
import type { ScanRecorder } from './recorder.js';
import type { CodeLookup } from './code-cache.js';

const CODE = /^\/r\/([0-9A-Za-z]{4,32})\/?(?:\?.*)?$/;
/** On a custom domain the code is the whole path (no /r/). */
const BARE_CODE = /^\/([0-9A-Za-z]{4,32})\/?(?:\?.*)?$/;

/** Which custom domain a Host header names (domains/service.ts keeps the table in memory). */
export interface HostTable {
  /** A custom domain's hostname and whether it is verified, or undefined for any other host. */
  resolve(hostHeader: string | undefined): { hostname: string; verified: boolean } | undefined;
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:20vh auto;padding:0 1rem;color:#222;text-align:center}</style></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-robots-tag': 'noindex' });
  res.end(body);
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? '';
}

/**
 * The public redirect `GET /r/:code`, served by node:http directly (no Express): one in-memory lookup (code-cache.ts),
 * the 302, and the scan queued for the bulk recorder. Returns false for any other path.
 */
export function redirectHandler(ctx: Context, recorder: ScanRecorder, codes: CodeLookup, hosts?: HostTable): (req: IncomingMessage, res: ServerResponse) => boolean {
  const countryHeader = ctx.config.countryHeader;
  const trustProxy = Boolean(ctx.config.trustProxy);
  return (req, res) => {
    const url = req.url ?? '';
    // a custom domain serves its codes at /{code} and nothing else (not the API, not /r/); a pending one, a 404 page
    const custom = hosts?.resolve(req.headers.host);
    if (!custom && (url.charCodeAt(1) !== 114 /* r */ || url.charCodeAt(2) !== 47 /* / */ || url.charCodeAt(0) !== 47)) return false;
    const match = custom ? (custom.verified ? BARE_CODE.exec(url) : null) : CODE.exec(url);
    if (!match) {
      page(res, 404, 'QR code not found', 'This QR code does not exist.');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return true;
    }
    const code = match[1] as string;
    void (async () => {
      // a code is found by (domain, short code): the custom domain of the Host, or null for the default host
      const found = await codes.find(custom ? custom.hostname : null, code);
      const qr = found.kind === 'found' ? found.qr : undefined;
      if (!qr || !qr.destination_url) {
        if (found.kind === 'gone') page(res, 410, 'QR code removed', 'This QR code has been deleted by its owner.');
        else page(res, 404, 'QR code not found', 'This QR code does not exist.');
        // an orphan scan: a deleted code's workspace is found from its tombstone in the batch, an unknown one is the server's
        if (req.method === 'GET') {
          recorder.orphan({ time: ctx.clock.now(), reason: found.kind === 'gone' ? 'deleted' : 'unknown', workspaceId: qr?.workspace_id ?? null, qrId: qr?.id ?? null, userAgent: req.headers['user-agent'] ?? '', routeKey: routeKey(custom ? custom.hostname : null, code) });
        }
        return;
      }
      if (qr.status !== 'active') {
        page(res, 404, 'QR code paused', 'This QR code is paused by its owner. Try again later.');
        if (req.method === 'GET') recorder.orphan({ time: ctx.clock.now(), reason: 'paused', workspaceId: qr.workspace_id, qrId: qr.id, userAgent: req.headers['user-agent'] ?? '' });
        return;
      }
      res.writeHead(302, { location: qr.destination_url, 'cache-control': 'private, no-store', 'content-length': 0 });
      res.end();
      if (req.method !== 'GET') return;
      const country = req.headers[countryHeader];
      const countryCode = typeof country === 'string' && /^[A-Za-z]{2}$/.test(country) && country.toUpperCase() !== 'XX' ? country.toUpperCase() : 'unknown';
      recorder.hit({
        time: ctx.clock.now(),
        qrId: qr.id,
        workspaceId: qr.workspace_id,
        ip: clientIp(req, trustProxy),
        userAgent: req.headers['user-agent'] ?? '',
        country: countryCode,
        referer: req.headers.referer ?? '',
      });
    })().catch((error: unknown) => {
      if (isStoreUnavailable(error)) {
        // a code this process does not hold, while the database is down: retryable, not a server fault
        ctx.logger.warn({ reason: error.reason }, 'redirect: database unavailable');
        if (!res.headersSent) {
          res.setHeader('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
          page(res, 503, 'Temporarily unavailable', 'Please try again in a moment.');
        }
        return;
      }
      ctx.logger.error({ err: error }, 'redirect failed');
      if (!res.headersSent) page(res, 500, 'Something went wrong', 'Please try again in a moment.');
    });
    return true;
  };
}
