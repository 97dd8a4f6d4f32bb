import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { SharedRedis } from '../redis/client.js';
import { limiterLogger, redisLimitStore } from '../usage/rate-limit.js';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import { RateLimitError } from '../errors.js';
import type { Config } from '../config.js';
import { UserSummary, userSummary, WorkspaceSummary, workspaceSummary } from '../workspaces/schemas.js';
import type { SessionService } from './sessions.js';
import { clearSessionCookie, sessionCookie, setSessionCookie } from './cookies.js';
import { CSRF_COOKIE, CSRF_FAILED, type CsrfGuard } from './csrf.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';

const LoginBody = z
  .object({
    email: z.string().min(3).max(254).meta({ example: 'owner@example.com' }),
    password: z.string().min(1).max(256),
    cookie: z.boolean().optional().meta({ description: 'true (the console): the session goes into the HttpOnly cookie `qrflow_session`, not the body, and the request needs the CSRF checks.' }),
  })
  .strict()
  .meta({ id: 'LoginRequest' });

const SessionToken = z.object({ token: z.string().meta({ example: 'qrs_…' }), expires_at: z.string() }).meta({ id: 'Session' });

const CookieSession = z
  .object({
    expires_at: z.string().meta({ description: 'The absolute end of the session; it also ends after QRFLOW_SESSION_IDLE_MINUTES without a request.' }),
    csrf_token: z.string().meta({ description: 'Send it as X-CSRF-Token with every POST, PUT, PATCH and DELETE.' }),
    user: UserSummary,
    workspace: WorkspaceSummary,
  })
  .meta({ id: 'CookieSession' });

const CsrfToken = z.object({ csrf_token: z.string() }).meta({ id: 'CsrfToken' });

export interface AuthRouteServices {
  config: Config;
  sessions: SessionService;
  csrf: CsrfGuard;
  /** Shares the login limits between processes; without it each process counts alone. */
  redis?: SharedRedis | undefined;
}

/** Failed logins allowed per window, per IP and per email. */
export const LOGIN_LIMITS = { windowMs: 15 * 60_000, perIp: 30, perEmail: 5 };

function loginLimiters(redis: SharedRedis | undefined): RequestHandler[] {
  const handler: RequestHandler = (req) => {
    // with standardHeaders off the limiter sets no Retry-After of its own: derive it from the window's reset time
    const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    const retryAfter = resetTime ? (resetTime.getTime() - Date.now()) / 1000 : LOGIN_LIMITS.windowMs / 1000;
    throw new RateLimitError('login_rate_limited', 'Too many login attempts. Wait before trying again.', retryAfter);
  };
  const common = { windowMs: LOGIN_LIMITS.windowMs, standardHeaders: false, legacyHeaders: false, skipSuccessfulRequests: true, handler } as const;
  const shared = (name: string) => (redis ? { store: redisLimitStore(redis, name), passOnStoreError: true, logger: limiterLogger(redis, 'login limits') } : {});
  const answers = [tooManyRequests(['login_rate_limited'], `More than ${LOGIN_LIMITS.perIp} failed logins from one IP, or ${LOGIN_LIMITS.perEmail} for one email, in ${LOGIN_LIMITS.windowMs / 60_000} minutes`, false)];
  return [
    describeMiddleware(rateLimit({ ...common, ...shared('login-ip'), limit: LOGIN_LIMITS.perIp, keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}` }), { answers }),
    describeMiddleware(rateLimit({
      ...common,
      ...shared('login-email'),
      limit: LOGIN_LIMITS.perEmail,
      keyGenerator: (req) => {
        const email = (req.body as { email?: unknown } | undefined)?.email;
        return `email:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
      },
    }), { answers }),
  ];
}

export function authRoutes({ config, sessions, csrf, redis }: AuthRouteServices): AnyRoute[] {
  // the console's login needs the CSRF checks (after the rate limits, so refused attempts count); API clients' does not
  const csrfForCookieLogin: RequestHandler = describeMiddleware(
    (req, _res, next) => {
      if ((req.body as { cookie?: unknown } | undefined)?.cookie === true) csrf.check(req);
      next();
    },
    { answers: [{ ...CSRF_FAILED, when: 'Cookie mode (`"cookie": true`) without a same-origin `Origin` and the `X-CSRF-Token` of GET /api/v1/auth/csrf' }] },
  );
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/login',
      operationId: 'createSession',
      tag: 'Sessions',
      summary: 'Log in with email and password',
      description:
        'Returns a `qrs_` session token for the management endpoints (API keys). Rate-limited per IP and per email. ' +
        'With `"cookie": true` (the console) the token is set as the HttpOnly cookie `qrflow_session` instead, the answer carries a CSRF token, ' +
        'and the request itself needs `X-CSRF-Token` (from GET /api/v1/auth/csrf) and a same-origin `Origin` (else 403 `csrf_failed`).',
      auth: 'none',
      body: LoginBody,
      before: [...loginLimiters(redis), csrfForCookieLogin],
      responses: {
        200: {
          description: 'A session: the bearer token, or (cookie mode) the cookie is set and the body has the CSRF token',
          schema: envelope(z.union([SessionToken, CookieSession])),
          headers: ['Set-Cookie', 'Cache-Control'],
        },
        401: { description: 'Wrong email or password', codes: ['invalid_credentials'] },
      },
      handler: async (req, res, { body }) => {
        const { token, session } = await sessions.login(body.email, body.password, { cookie: body.cookie === true });
        if (body.cookie !== true) {
          res.json({ data: { token, expires_at: session.expires_at } });
          return;
        }
        const { user, member, workspace } = await sessions.authenticate(token);
        setSessionCookie(res, config, token, Date.parse(session.expires_at) - Date.parse(session.created_at));
        const csrfToken = csrf.issue(req, res, token);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ data: { expires_at: session.expires_at, csrf_token: csrfToken, user: userSummary(user, member.role), workspace: workspaceSummary(workspace) } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/auth/csrf',
      operationId: 'getCsrfToken',
      tag: 'Sessions',
      summary: 'A CSRF token for the console',
      description:
        'Sets the `qrflow_csrf` cookie and returns the same token: the console sends it as `X-CSRF-Token` on cookie-mode login, setup and every ' +
        'change made with the session cookie. Bearer-authenticated requests need none.',
      auth: 'none',
      responses: { 200: { description: 'A token bound to the current session cookie (or to none); the same token is set as the `qrflow_csrf` cookie', schema: envelope(CsrfToken), headers: ['Set-Cookie', 'Cache-Control'] } },
      handler: (req, res) => {
        const csrfToken = csrf.issue(req, res);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ data: { csrf_token: csrfToken } });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/logout',
      operationId: 'deleteSession',
      tag: 'Sessions',
      summary: 'End the current session',
      description: 'With the session cookie: needs the CSRF checks, and clears the cookie.',
      auth: 'session',
      responses: { 200: { description: 'Logged out (with the cookie: both cookies are cleared)', schema: envelope(z.object({ logged_out: z.boolean() })), headers: ['Set-Cookie'] } },
      handler: async (req, res) => {
        await sessions.logout(req.auth!.session!);
        if (req.auth!.via === 'cookie' || sessionCookie(req) !== undefined) {
          clearSessionCookie(res, config);
          res.clearCookie(CSRF_COOKIE, { path: '/' });
        }
        res.json({ data: { logged_out: true } });
      },
    }),
  ] as AnyRoute[];
}
