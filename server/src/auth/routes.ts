import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import { RateLimitError } from '../errors.js';
import type { SessionService } from './sessions.js';

const LoginBody = z
  .object({
    email: z.string().min(3).max(254).meta({ example: 'owner@example.com' }),
    password: z.string().min(1).max(256),
  })
  .strict()
  .meta({ id: 'LoginRequest' });

const SessionToken = z.object({ token: z.string().meta({ example: 'qrs_…' }), expires_at: z.string() }).meta({ id: 'Session' });

/** Failed logins allowed per window, per IP and per email. */
export const LOGIN_LIMITS = { windowMs: 15 * 60_000, perIp: 30, perEmail: 5 };

function loginLimiters(): RequestHandler[] {
  const handler: RequestHandler = (req) => {
    // with standardHeaders off the limiter sets no Retry-After of its own: derive it from the window's reset time
    const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    const retryAfter = resetTime ? (resetTime.getTime() - Date.now()) / 1000 : LOGIN_LIMITS.windowMs / 1000;
    throw new RateLimitError('login_rate_limited', 'Too many login attempts. Wait before trying again.', retryAfter);
  };
  const common = { windowMs: LOGIN_LIMITS.windowMs, standardHeaders: false, legacyHeaders: false, skipSuccessfulRequests: true, handler } as const;
  return [
    rateLimit({ ...common, limit: LOGIN_LIMITS.perIp, keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}` }),
    rateLimit({
      ...common,
      limit: LOGIN_LIMITS.perEmail,
      keyGenerator: (req) => {
        const email = (req.body as { email?: unknown } | undefined)?.email;
        return `email:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
      },
    }),
  ];
}

export function authRoutes(sessions: SessionService): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/login',
      tag: 'Sessions',
      summary: 'Log in with email and password',
      description: 'Returns a `qrs_` session token for the management endpoints (API keys). Rate-limited per IP and per email.',
      auth: 'none',
      body: LoginBody,
      before: loginLimiters(),
      responses: { 200: { description: 'A session', schema: envelope(SessionToken) }, 401: { description: 'Wrong email or password' } },
      handler: async (_req, res, { body }) => {
        const { token, session } = await sessions.login(body.email, body.password);
        res.json({ data: { token, expires_at: session.expires_at } });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/logout',
      tag: 'Sessions',
      summary: 'End the current session',
      auth: 'session',
      responses: { 200: { description: 'Logged out', schema: envelope(z.object({ logged_out: z.boolean() })) } },
      handler: async (req, res) => {
        await sessions.logout(req.auth!.session!);
        res.json({ data: { logged_out: true } });
      },
    }),
  ] as AnyRoute[];
}
