import type { Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import type { Config } from '../config.js';
import { CsrfError } from '../errors.js';
import { hashSecret } from '../keys/key-format.js';
import { randomToken } from '../random.js';
import { requestCookies, secureCookies, SESSION_COOKIE } from './cookies.js';
import { describeMiddleware, type Answer } from '../http/answers.js';

/** The double-submit cookie: it holds the same token the browser sends back in X-CSRF-Token. */
export const CSRF_COOKIE = 'qrflow_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What check() answers when a request fails the CSRF checks. */
export const CSRF_FAILED: Answer = { status: 403, codes: ['csrf_failed'], when: 'Made with the session cookie without a same-origin `Origin` and the `X-CSRF-Token` of GET /api/v1/auth/csrf' };

/**
 * CSRF defence for the console's cookie sessions: csrf-csrf's double submit (a token in a cookie and in the
 * X-CSRF-Token header, HMAC-bound to the session cookie) plus an Origin that must be this server's.
 */
export class CsrfGuard {
  /** The session token a token is being issued for, when it is not yet in the request's cookie (login, setup). */
  private readonly boundTo = new WeakMap<Request, string>();
  private readonly csrf: ReturnType<typeof doubleCsrf>;

  constructor(private readonly config: Config) {
    const secret = config.csrfSecret ?? randomToken(32);
    this.csrf = doubleCsrf({
      getSecret: () => secret,
      // bound to the session cookie (hashed), or to "no session" before login
      getSessionIdentifier: (req) => {
        const token = this.boundTo.get(req as Request) ?? requestCookies(req as Request)[SESSION_COOKIE];
        return token ? hashSecret(token) : '';
      },
      cookieName: CSRF_COOKIE,
      cookieOptions: { httpOnly: true, sameSite: 'strict', path: '/', secure: secureCookies(config) },
      getCsrfTokenFromRequest: (req) => req.headers[CSRF_HEADER],
    });
  }

  /** Sets the CSRF cookie and returns its token; `sessionToken` binds it to a session that starts in this response. */
  issue(req: Request, res: Response, sessionToken?: string): string {
    requestCookies(req);
    if (sessionToken) this.boundTo.set(req, sessionToken);
    const token = this.csrf.generateCsrfToken(req, res, { overwrite: sessionToken !== undefined, cookieOptions: { secure: secureCookies(this.config) } });
    this.boundTo.delete(req);
    return token;
  }

  /** Throws 403 csrf_failed unless the request comes from this server's origin with the token of its cookie. */
  check(req: Request): void {
    const origin = req.headers.origin;
    if (!origin || !this.allowedOrigins(req).includes(origin.toLowerCase())) {
      throw new CsrfError(
        origin
          ? `This request comes from ${origin.slice(0, 100)}, not from this server's own pages; it was refused as a possible cross-site request forgery.`
          : 'This request has no Origin header; requests authenticated by the session cookie must come from the console. API clients send a Bearer token instead.',
      );
    }
    requestCookies(req);
    if (!this.csrf.validateRequest(req)) {
      throw new CsrfError('The X-CSRF-Token header is missing or does not match this session. Get a token from GET /api/v1/auth/csrf (or the last login) and send it with every change.');
    }
  }

  /** After authentication: state-changing requests authenticated by the session cookie need the CSRF checks. */
  readonly forCookieSessions: RequestHandler = describeMiddleware(
    (req, _res, next) => {
      if (req.auth?.via === 'cookie' && UNSAFE_METHODS.has(req.method)) this.check(req);
      next();
    },
    { answers: [{ ...CSRF_FAILED, methods: [...UNSAFE_METHODS] }] },
  );

  private allowedOrigins(req: Request): string[] {
    const origins: string[] = [];
    try {
      origins.push(new URL(this.config.publicUrl).origin.toLowerCase());
    } catch {
      // an unparseable public URL allows no origin of its own
    }
    const host = req.headers.host;
    if (host) origins.push(`${req.protocol}://${host}`.toLowerCase());
    return origins;
  }
}
