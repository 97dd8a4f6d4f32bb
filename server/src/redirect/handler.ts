import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostOfHeader } from '../domains/hostname.js';
import type { Context } from '../context.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { routeKey, type QrRecord } from '../store/records.js';
import type { SharedRedis } from '../redis/client.js';
import type { Hit, ScanRecorder, VisitorStamp } from './recorder.js';
import type { CodeAnswer, CodeLookup } from './code-cache.js';
import { agentOf, type VisitorAgent } from './agent.js';
import { resolveCountry, type GeoLookup } from './country.js';
import type { GeoLocation } from '../geo/lookup.js';
import { page } from './pages.js';
import { PasswordGate, type Asker } from './password-gate.js';
import { ScanLimits } from './scan-limits.js';
import { decide, windowState, type CompiledCode, type Visit } from './smart-code.js';

const CODE = /^\/r\/([0-9A-Za-z]{4,32})\/?(?:\?.*)?$/;
/** On a custom domain the code is the whole path (no /r/). */
const BARE_CODE = /^\/([0-9A-Za-z]{4,32})\/?(?:\?.*)?$/;

/** Which custom domain a Host header names (domains/service.ts keeps the table in memory). */
export interface HostTable {
  /** A custom domain's hostname and whether it is verified, or undefined for any other host. */
  resolve(hostHeader: string | undefined): { hostname: string; verified: boolean } | undefined;
}

/** What the redirect may be given besides the context: shared limits (Redis) and a GeoIP lookup for country rules. */
export interface RedirectOptions {
  /** A code's stored non-bot scans (ScanStorage.humanCount), for max_scans. */
  countScans: (qrId: string) => Promise<number>;
  redis?: SharedRedis | undefined;
  /** Asked only for codes with a country rule, when the proxy header names no country. */
  geoLookup?: GeoLookup | undefined;
}

/** A running redirect: the request handler, and what must be stopped with the app. */
export interface Redirect {
  (req: IncomingMessage, res: ServerResponse): boolean;
  stop(): void;
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? '';
}

/** The primary tag of the first language of an Accept-Language header by q order (ties: the order written). */
export function preferredLanguage(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let best: string | undefined;
  let bestQ = 0;
  for (const entry of header.slice(0, 1000).split(',')) {
    const [range = '', ...params] = entry.trim().split(';');
    const primary = range.trim().split('-')[0]?.toLowerCase() ?? '';
    if (!/^[a-z]{1,8}$/.test(primary)) continue; // "*" and garbage name no language
    let q = 1;
    for (const param of params) {
      const [name, value] = param.trim().split('=');
      if (name?.trim().toLowerCase() === 'q') q = Number(value);
    }
    if (Number.isFinite(q) && q > bestQ) {
      best = primary;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Recent visitors' hashes, so a returning visitor's split costs a map lookup, not a SHA-256. Each is kept with the
 * salt it was made with and made again once that is no longer the day's (a new UTC day, or a provisional salt
 * replaced by the stored one), so the split always follows the hash the recorder stores.
 */
class VisitorHashes {
  private readonly stamps = new Map<string, VisitorStamp>();

  constructor(private readonly recorder: ScanRecorder) {}

  of(now: number, ip: string, userAgent: string): VisitorStamp {
    const key = `${ip}\0${userAgent}`;
    const held = this.stamps.get(key);
    if (held && held.salt === this.recorder.saltFor(now)) return held;
    const stamp = this.recorder.visitorStamp(now, ip, userAgent);
    if (this.stamps.size >= 10_000) this.stamps.clear();
    this.stamps.set(key, stamp);
    return stamp;
  }
}

/** A scan as the conditions see it: each part worked out on first use, and handed to the recorder with the hit. */
class ScanVisit implements Visit {
  private parsedAgent: VisitorAgent | undefined;
  private resolvedCountry: string | undefined;
  private place: GeoLocation | undefined;
  private language_: string | null | undefined;
  private params: URLSearchParams | undefined;
  private stamp: VisitorStamp | undefined;

  constructor(
    readonly now: number,
    private readonly req: IncomingMessage,
    readonly ip: string,
    private readonly countryHeader: string,
    private readonly visitors: VisitorHashes,
    private readonly geoLookup: GeoLookup | undefined,
  ) {}

  get userAgent(): string {
    return this.req.headers['user-agent'] ?? '';
  }

  agent(): VisitorAgent {
    return (this.parsedAgent ??= agentOf(this.userAgent));
  }

  country(): string {
    if (this.resolvedCountry === undefined) {
      const lookup = this.geoLookup;
      // the lookup's whole answer is kept: the recorder takes region and city from it instead of asking again
      this.resolvedCountry = resolveCountry(this.req.headers[this.countryHeader], this.ip, lookup && ((ip) => (this.place = lookup(ip))));
    }
    return this.resolvedCountry;
  }

  /** The country for the scan record: the proxy header only, unless a country rule already looked it up. */
  recordedCountry(): string {
    return this.resolvedCountry ?? resolveCountry(this.req.headers[this.countryHeader], this.ip);
  }

  language(): string | undefined {
    if (this.language_ === undefined) this.language_ = preferredLanguage(this.req.headers['accept-language']) ?? null;
    return this.language_ ?? undefined;
  }

  query(param: string): string | null {
    if (!this.params) {
      const url = this.req.url ?? '';
      const at = url.indexOf('?');
      if (at === -1) return null;
      this.params = new URLSearchParams(url.slice(at + 1));
    }
    return this.params.get(param);
  }

  visitor(): number {
    return (this.stamp ??= this.visitors.of(this.now, this.ip, this.userAgent)).hash;
  }

  /** What the recorder would otherwise work out again in the batch. */
  worked(): Pick<Hit, 'agent' | 'visitor' | 'place'> {
    const worked: Pick<Hit, 'agent' | 'visitor' | 'place'> = {};
    if (this.parsedAgent) worked.agent = this.parsedAgent;
    if (this.stamp) worked.visitor = this.stamp;
    if (this.place && this.place.country !== null) worked.place = this.place;
    return worked;
  }
}

/**
 * The public redirect `GET /r/:code`, served by node:http directly (no Express): one in-memory lookup (code-cache.ts),
 * the 302, and the scan queued for the bulk recorder. A smart code (rules, split, schedule, limit, password) decides
 * in memory too, from its settings compiled when it was loaded. Returns false for any other path.
 */
export function redirectHandler(ctx: Context, recorder: ScanRecorder, codes: CodeLookup, hosts: HostTable | undefined, options: RedirectOptions): Redirect {
  const countryHeader = ctx.config.countryHeader;
  const trustProxy = Boolean(ctx.config.trustProxy);
  const limits = new ScanLimits(options.countScans);
  const visitors = new VisitorHashes(recorder);
  let publicUrl: URL | undefined;
  try {
    publicUrl = new URL(ctx.config.publicUrl);
  } catch {
    // no usable public URL: the Host header alone names this server
  }
  const publicHost = publicUrl ? [publicUrl.host.toLowerCase()] : [];
  // with QRFLOW_PUBLIC_URL set, /r/ links are served on its host and on plain addresses (IP literals, localhost: a
  // health check, a LAN client); any other named host is neither this server's nor a custom domain: unknown
  const ownHost = ctx.config.publicUrlFromEnv && publicUrl ? publicUrl.hostname.toLowerCase().replace(/\.$/, '') : undefined;
  const unknownHost = (header: string | undefined): boolean => {
    if (ownHost === undefined) return false;
    const host = hostOfHeader(header);
    if (host === '' || host === ownHost || host === 'localhost') return false;
    return isIP(host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host) === 0;
  };
  const gate = new PasswordGate({ secureCookies: ctx.config.publicUrl.startsWith('https:'), allowedHosts: publicHost, redis: options.redis });

  /**
   * The scan of a smart code: window, limit, password, then the decision. Synchronous, like a plain code's, except
   * where it must wait: a limited code's first stored count, and a password form's check.
   */
  const smartScan = (req: IncomingMessage, res: ServerResponse, qr: QrRecord, code: CompiledCode, path: string): void | Promise<void> => {
    const now = ctx.clock.now();
    const outside = windowState(code, now);
    if (outside) {
      // an orphan scan: before valid_from or after valid_until (the owner's code, outside its window)
      if (req.method === 'GET') recorder.orphan({ time: now, reason: 'expired', workspaceId: qr.workspace_id, qrId: qr.id, userAgent: req.headers['user-agent'] ?? '' });
      expiredAnswer(res, code, outside === 'scheduled' ? 'This QR code is not active yet.' : 'This QR code has expired.');
      return;
    }
    const ip = clientIp(req, trustProxy);
    const visit = new ScanVisit(now, req, ip, countryHeader, visitors, code.usesCountry ? options.geoLookup : undefined);
    if (code.maxScans === undefined) return gated(req, res, qr, code, path, visit);
    const counted = limits.count(qr.id);
    // the first scan here reads the stored count; read again after it, so concurrent first scans count one by one
    if (typeof counted !== 'number') return counted.then(() => limits.count(qr.id)).then((count) => limited(req, res, qr, code, path, visit, count));
    return limited(req, res, qr, code, path, visit, counted);
  };

  const limited = (req: IncomingMessage, res: ServerResponse, qr: QrRecord, code: CompiledCode, path: string, visit: ScanVisit, counted: number): void | Promise<void> => {
    if (counted >= (code.maxScans as number)) {
      if (req.method === 'GET') recorder.orphan({ time: visit.now, reason: 'limit_reached', workspaceId: qr.workspace_id, qrId: qr.id, userAgent: req.headers['user-agent'] ?? '' });
      expiredAnswer(res, code, 'This QR code has expired: it reached its scan limit.');
      return;
    }
    return gated(req, res, qr, code, path, visit);
  };

  const gated = (req: IncomingMessage, res: ServerResponse, qr: QrRecord, code: CompiledCode, path: string, visit: ScanVisit): void | Promise<void> => {
    const post = req.method === 'POST';
    if (code.password) {
      const asker: Asker = { qrId: qr.id, path, ip: visit.ip, userAgent: visit.userAgent, now: visit.now };
      if (post) {
        return gate.submit(req, res, code.password, asker).then((outcome) => {
          if (outcome !== 'answered') decided(req, res, qr, code, visit, post);
        });
      }
      if (!gate.unlocked(req, code.password, asker)) {
        gate.show(res, req, code.password, asker);
        return;
      }
    } else if (post) {
      req.resume();
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return;
    }
    decided(req, res, qr, code, visit, post);
  };

  const decided = (req: IncomingMessage, res: ServerResponse, qr: QrRecord, code: CompiledCode, visit: ScanVisit, post: boolean): void => {
    const { location, variant } = decide(code, visit);
    // after a password form: 303, so the browser follows with a GET
    res.writeHead(post ? 303 : 302, { location, 'cache-control': 'private, no-store', 'content-length': 0 });
    res.end();
    if (req.method === 'HEAD') return;
    if (code.maxScans !== undefined && !visit.agent().bot) limits.add(qr.id);
    recorder.hit({
      time: visit.now,
      qrId: qr.id,
      workspaceId: qr.workspace_id,
      ip: visit.ip,
      userAgent: visit.userAgent,
      country: visit.recordedCountry(),
      referer: req.headers.referer ?? '',
      ...(variant !== undefined ? { variant } : {}),
      ...visit.worked(),
    });
  };

  const fail = (res: ServerResponse, error: unknown): void => {
    if (isStoreUnavailable(error)) {
      // a code this process does not hold, while the database is down: retryable, not a server fault
      ctx.logger.warn({ reason: error.reason }, 'redirect: database unavailable');
      if (!res.headersSent) page(res, 503, 'Temporarily unavailable', 'Please try again in a moment.', { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) });
      return;
    }
    ctx.logger.error({ err: error }, 'redirect failed');
    if (!res.headersSent) page(res, 500, 'Something went wrong', 'Please try again in a moment.');
  };

  /**
   * The answer for the code found by (domain, short code): the custom domain of the Host, or null for the default
   * host. Defined once, not per request: a code held in memory is answered without a promise or a closure.
   */
  const serve = (req: IncomingMessage, res: ServerResponse, domain: string | null, code: string, found: CodeAnswer): void | Promise<void> => {
    const qr = found.kind === 'found' ? found.qr : undefined;
    if (!qr || !qr.destination_url) {
      req.resume();
      if (found.kind === 'gone') page(res, 410, 'QR code removed', 'This QR code has been deleted by its owner.');
      else page(res, 404, 'QR code not found', 'This QR code does not exist.');
      // an orphan scan: a deleted code's workspace is found from its tombstone in the batch, an unknown one is the server's
      if (req.method === 'GET') {
        recorder.orphan({ time: ctx.clock.now(), reason: found.kind === 'gone' ? 'deleted' : 'unknown', workspaceId: qr?.workspace_id ?? null, qrId: qr?.id ?? null, userAgent: req.headers['user-agent'] ?? '', routeKey: routeKey(domain, code) });
      }
      return;
    }
    if (qr.status !== 'active') {
      req.resume();
      page(res, 404, 'QR code paused', 'This QR code is paused by its owner. Try again later.');
      if (req.method === 'GET') recorder.orphan({ time: ctx.clock.now(), reason: 'paused', workspaceId: qr.workspace_id, qrId: qr.id, userAgent: req.headers['user-agent'] ?? '' });
      return;
    }
    const smart = found.kind === 'found' ? found.smart : undefined;
    if (smart) return smartScan(req, res, qr, smart, domain !== null ? `/${code}` : `/r/${code}`);
    if (req.method === 'POST') {
      req.resume();
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(302, { location: qr.destination_url, 'cache-control': 'private, no-store', 'content-length': 0 });
    res.end();
    if (req.method !== 'GET') return;
    recorder.hit({
      time: ctx.clock.now(),
      qrId: qr.id,
      workspaceId: qr.workspace_id,
      ip: clientIp(req, trustProxy),
      userAgent: req.headers['user-agent'] ?? '',
      country: resolveCountry(req.headers[countryHeader], ''),
      referer: req.headers.referer ?? '',
    });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    // a custom domain serves its codes at /{code} and nothing else (not the API, not /r/); a pending one, a 404 page
    const custom = hosts?.resolve(req.headers.host);
    if (!custom && (url.charCodeAt(1) !== 114 /* r */ || url.charCodeAt(2) !== 47 /* / */ || url.charCodeAt(0) !== 47)) return false;
    const match = custom ? (custom.verified ? BARE_CODE.exec(url) : null) : unknownHost(req.headers.host) ? null : CODE.exec(url);
    if (!match) {
      page(res, 404, 'QR code not found', 'This QR code does not exist.');
      return true;
    }
    // POST is the password form of a protected code (answered 405 for any other code)
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return true;
    }
    const code = match[1] as string;
    const domain = custom ? custom.hostname : null;
    try {
      const found = codes.find(domain, code);
      const served = found instanceof Promise ? found.then((answer) => serve(req, res, domain, code, answer)) : serve(req, res, domain, code, found);
      if (served) served.catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
    return true;
  };
  return Object.assign(handler, { stop: () => gate.stop() });
}

/** Outside its window or past its limit: expired_url, or a 410 page. */
function expiredAnswer(res: ServerResponse, code: CompiledCode, text: string): void {
  if (code.expiredUrl) {
    res.writeHead(302, { location: code.expiredUrl, 'cache-control': 'private, no-store', 'content-length': 0 });
    res.end();
    return;
  }
  page(res, 410, 'QR code expired', text);
}
