import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope } from '../http/schemas.js';
import { RateLimitError } from '../errors.js';
import type { Config } from '../config.js';
import { PASSWORD_RULES } from '../auth/passwords.js';
import { setSessionCookie } from '../auth/cookies.js';
import { CSRF_FAILED, type CsrfGuard } from '../auth/csrf.js';
import { describeMiddleware, tooManyRequests } from '../http/answers.js';
import { UserSummary, userSummary, WorkspaceSummary, workspaceSummary } from '../workspaces/schemas.js';
import type { SetupService } from './service.js';

const SetupStatus = z
  .object({
    needs_setup: z.boolean().meta({ description: 'true while the server has no workspace: the console then shows "Create your workspace".' }),
    signup: z.enum(['open', 'closed']).meta({ description: 'QRFLOW_SIGNUP: `open` lets anyone create a workspace here, even after the first.' }),
    password_rules: z.object({ min_length: z.number().int(), max_length: z.number().int(), text: z.string() }),
  })
  .meta({ id: 'SetupStatus' });

const SetupBody = z
  .object({
    workspace_name: z.string().trim().min(1).max(80).meta({ example: 'Acme Marketing' }),
    email: z.string().trim().min(3).max(254).meta({ example: 'owner@example.com' }),
    password: z.string().min(1).max(PASSWORD_RULES.max_length).meta({ description: PASSWORD_RULES.text }),
  })
  .strict()
  .meta({ id: 'SetupRequest' });

const SetupResult = z
  .object({ workspace: WorkspaceSummary, user: UserSummary, csrf_token: z.string().meta({ description: 'Send it as X-CSRF-Token with every change.' }) })
  .meta({ id: 'SetupResult' });

/** Workspace creations (allowed or not) per IP and window: sign-up, when open, is not a way to burn the server's CPU on password hashing. */
export const SETUP_LIMITS = { windowMs: 15 * 60_000, perIp: 20 };

function setupLimiter(): RequestHandler {
  return describeMiddleware(rateLimit({
    windowMs: SETUP_LIMITS.windowMs,
    limit: SETUP_LIMITS.perIp,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) => `setup:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    handler: (req) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = resetTime ? (resetTime.getTime() - Date.now()) / 1000 : SETUP_LIMITS.windowMs / 1000;
      throw new RateLimitError('setup_rate_limited', 'Too many workspaces created from this address. Wait before trying again.', retryAfter);
    },
  }), { answers: [tooManyRequests(['setup_rate_limited'], `More than ${SETUP_LIMITS.perIp} workspace creations from one IP in ${SETUP_LIMITS.windowMs / 60_000} minutes`, false)] });
}

export function setupRoutes({ config, setup, csrf }: { config: Config; setup: SetupService; csrf: CsrfGuard }): AnyRoute[] {
  const common = { tag: 'Setup', auth: 'none' } as const;
  return [
    defineRoute({
      ...common,
      method: 'get',
      path: '/api/v1/setup',
      operationId: 'getSetupStatus',
      summary: 'Whether the server needs its first workspace, and the password rules',
      responses: { 200: { description: 'The first-run state', schema: envelope(SetupStatus), headers: ['Cache-Control'] } },
      handler: async (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json({ data: await setup.status() });
      },
    }),
    defineRoute({
      ...common,
      method: 'post',
      path: '/api/v1/setup',
      operationId: 'createWorkspace',
      summary: 'Create a workspace and its owner, and sign the owner in (first run, or open sign-up)',
      description:
        'Allowed while the server has no workspace, or when the operator set QRFLOW_SIGNUP=open; otherwise 403 `signup_closed`. ' +
        'The plan is QRFLOW_DEFAULT_PLAN (default `team`). The owner is signed in with the `qrflow_session` cookie, so the request needs ' +
        '`X-CSRF-Token` (from GET /api/v1/auth/csrf) and a same-origin `Origin` (else 403 `csrf_failed`). From a terminal, use `npx qrflow init`.',
      body: SetupBody,
      before: [
        setupLimiter(),
        // closed sign-up says so before anything else; then the console's CSRF checks
        describeMiddleware(
          async (req, _res, next) => {
            await setup.assertOpen();
            csrf.check(req);
            next();
          },
          { answers: [{ status: 403, codes: ['signup_closed'], when: 'The server has a workspace and sign-up is closed' }, CSRF_FAILED] },
        ),
      ],
      responses: {
        201: { description: 'The workspace and its owner; the session cookie is set', schema: envelope(SetupResult), headers: ['Set-Cookie', 'Cache-Control'] },
        409: { description: 'A workspace with that name, or a user with that email, exists', codes: ['workspace_exists', 'user_exists'] },
      },
      handler: async (req, res, { body }) => {
        const { workspace, user, token, session } = await setup.create({ workspaceName: body.workspace_name, email: body.email, password: body.password });
        setSessionCookie(res, config, token, Date.parse(session.expires_at) - Date.parse(session.created_at));
        const csrfToken = csrf.issue(req, res, token);
        res.setHeader('Cache-Control', 'no-store');
        res.status(201).json({ data: { workspace: workspaceSummary(workspace), user: userSummary(user, 'owner'), csrf_token: csrfToken } });
      },
    }),
  ] as AnyRoute[];
}
