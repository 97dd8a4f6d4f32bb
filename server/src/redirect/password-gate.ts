import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies } from 'cookie';
import { ipKeyGenerator, MemoryStore, type Options, type Store as RateLimitStore } from 'express-rate-limit';
import { verifyPassword } from '../auth/passwords.js';
import type { SharedRedis } from '../redis/client.js';
import { redisLimitStore } from '../usage/rate-limit.js';
import { page, passwordPage } from './pages.js';

/** The cookie a right password sets, scoped to the code's short link (Path) and signed for that code. */
export const UNLOCK_COOKIE = 'qrflow_unlock';
export const UNLOCK_TTL_SECONDS = 30 * 60;
/** How long a password form can be sent after it was shown. */
const FORM_TTL_MS = 60 * 60_000;
/** Wrong passwords per client IP (an IPv6 /56) and code in WRONG_PASSWORD_WINDOW_MS, then a 429 page until the window ends. */
export const WRONG_PASSWORD_LIMIT = 5;
export const WRONG_PASSWORD_WINDOW_MS = 15 * 60_000;
const MAX_FORM_BYTES = 4096;

/** A code's password as the gate needs it: the stored hash and the key derived from it (smart-code.ts). */
export interface CodePassword {
  hash: string;
  key: Buffer;
}

/** Who is asking, as a scan sees it. */
export interface Asker {
  qrId: string;
  /** The short link's path (`/r/abc1234`, or `/abc1234` on a custom domain): the cookie's Path. */
  path: string;
  ip: string;
  userAgent: string;
  now: number;
}

function sign(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What a password form post answered: the visitor may go on (cookie set on `res`), or the gate already answered. */
export type GateOutcome = 'unlocked' | 'answered';

/**
 * The password page of a protected code. The form posts to the short link itself and works without script or
 * cookies: its hidden token is an HMAC of the code, the time it was shown and the visitor's IP and user agent, so a
 * page of another site cannot make a visitor's browser send a valid one (it cannot read the form across origins), and
 * a cross-site Origin is refused outright. A right password sets a signed HttpOnly cookie for this code only, valid
 * UNLOCK_TTL_SECONDS; changing the password changes the key, which ends every cookie and form of the old one.
 * Wrong passwords count per IP and code, in Redis when configured (all processes share the count), else here.
 */
export class PasswordGate {
  private readonly store: RateLimitStore;

  constructor(
    private readonly options: { secureCookies: boolean; allowedHosts: string[]; redis?: SharedRedis | undefined },
  ) {
    this.store = options.redis ? redisLimitStore(options.redis, 'scan-password') : new MemoryStore();
    void Promise.resolve(this.store.init?.({ windowMs: WRONG_PASSWORD_WINDOW_MS } as Options)).catch(() => undefined);
  }

  /** Whether the request carries this code's valid unlock cookie. */
  unlocked(req: IncomingMessage, password: CodePassword, asker: Asker): boolean {
    const header = req.headers.cookie;
    if (!header || header.length > 8192) return false;
    const value = parseCookies(header)[UNLOCK_COOKIE];
    if (!value) return false;
    const dot = value.indexOf('.');
    const expires = Number(value.slice(0, dot));
    if (dot < 1 || !Number.isSafeInteger(expires) || expires <= asker.now || expires > asker.now + UNLOCK_TTL_SECONDS * 1000) return false;
    return sameSignature(value.slice(dot + 1), sign(password.key, `unlock\0${asker.qrId}\0${expires}`));
  }

  /** Answers the password form (200, or `status` with an error line). */
  show(res: ServerResponse, req: IncomingMessage, password: CodePassword, asker: Asker, status = 200, error?: string, headers?: Record<string, string>): void {
    passwordPage(res, status, req.url ?? asker.path, this.formToken(password, asker, asker.now), error, headers);
  }

  private formToken(password: CodePassword, asker: Asker, issued: number): string {
    return `${issued}.${sign(password.key, `form\0${asker.qrId}\0${issued}\0${asker.ip}\0${asker.userAgent}`)}`;
  }

  private validToken(token: string, password: CodePassword, asker: Asker): boolean {
    const dot = token.indexOf('.');
    const issued = Number(token.slice(0, dot));
    if (dot < 1 || !Number.isSafeInteger(issued) || issued > asker.now + 60_000 || asker.now - issued > FORM_TTL_MS) return false;
    return sameSignature(token, this.formToken(password, asker, issued));
  }

  /** A same-origin form post has this server's host in Origin; browsers that send none are let through to the token check. */
  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    let host: string;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      return false; // "null" (a sandboxed or privacy-stripped page), or garbage
    }
    return host === (req.headers.host ?? '').toLowerCase() || this.options.allowedHosts.includes(host);
  }

  /** Handles a POST of the password form. On 'unlocked' the cookie is set on `res` and the caller redirects. */
  async submit(req: IncomingMessage, res: ServerResponse, password: CodePassword, asker: Asker): Promise<GateOutcome> {
    if (!this.sameOrigin(req)) {
      req.resume();
      page(res, 403, 'Request refused', 'This form was sent from another site. Open the QR code link again.');
      return 'answered';
    }
    const form = await readForm(req);
    if (!form) {
      page(res, 400, 'Request refused', 'The password form could not be read. Open the QR code link again.');
      return 'answered';
    }
    if (!this.validToken(form.get('token') ?? '', password, asker)) {
      this.show(res, req, password, asker, 403, 'The form has expired. Enter the password again.');
      return 'answered';
    }
    const key = `${ipKeyGenerator(asker.ip || 'unknown')}:${asker.qrId}`;
    const tries = await this.failures(key);
    if (tries && tries.totalHits >= WRONG_PASSWORD_LIMIT) {
      this.tooMany(res, tries.resetTime, asker.now);
      return 'answered';
    }
    const given = form.get('password') ?? '';
    if (given.length < 1 || given.length > 128 || !(await verifyPassword(given, password.hash))) {
      const counted = await this.fail(key);
      if (counted && counted.totalHits >= WRONG_PASSWORD_LIMIT) this.tooMany(res, counted.resetTime, asker.now);
      else this.show(res, req, password, asker, 403, 'Wrong password. Try again.');
      return 'answered';
    }
    const expires = asker.now + UNLOCK_TTL_SECONDS * 1000;
    const cookie = `${UNLOCK_COOKIE}=${expires}.${sign(password.key, `unlock\0${asker.qrId}\0${expires}`)}; Path=${asker.path}; Max-Age=${UNLOCK_TTL_SECONDS}; HttpOnly; SameSite=Lax${this.options.secureCookies ? '; Secure' : ''}`;
    res.setHeader('set-cookie', cookie);
    return 'unlocked';
  }

  private tooMany(res: ServerResponse, resetTime: Date | undefined, now: number): void {
    const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? now + WRONG_PASSWORD_WINDOW_MS) - Date.now()) / 1000));
    page(res, 429, 'Too many tries', `Too many wrong passwords for this QR code. Try again in ${Math.ceil(retryAfter / 60)} minutes.`, { 'retry-after': String(retryAfter) });
  }

  // a limit store that fails (Redis down) lets the try through, as the login limits do
  private async failures(key: string): Promise<{ totalHits: number; resetTime: Date | undefined } | undefined> {
    try {
      return (await this.store.get?.(key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  private async fail(key: string): Promise<{ totalHits: number; resetTime: Date | undefined } | undefined> {
    try {
      return await this.store.increment(key);
    } catch {
      return undefined;
    }
  }

  /** Stops the in-memory store's timer. */
  stop(): void {
    this.store.shutdown?.();
  }
}

/** The urlencoded form of a POST, at most MAX_FORM_BYTES; undefined for any other body. */
function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (type !== 'application/x-www-form-urlencoded' || declared > MAX_FORM_BYTES) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_FORM_BYTES ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : undefined));
    req.on('error', () => resolve(undefined));
  });
}
