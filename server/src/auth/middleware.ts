import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ALL_SCOPES, type Role, type Scope } from '../store/records.js';
import { AuthenticationError, PermissionError } from '../errors.js';
import type { KeyService } from '../keys/service.js';
import type { WorkspaceService } from '../workspaces/service.js';
import { SESSION_PREFIX, type SessionService } from './sessions.js';
import type { Auth } from './auth.js';
import { requestedMode } from '../test-mode/mode.js';
import { sessionCookie } from './cookies.js';
import { describeMiddleware, type Answer } from '../http/answers.js';
import type { CoherentReads } from '../store/coherent-reads.js';
import { newRequestScope } from '../request-scope.js';

export type AuthMode = 'key_or_session' | 'session';

/** Reads `Authorization: Bearer …`, or throws the 401 that says what is wrong with it. */
export function bearerToken(req: Request): string {
  const header = req.headers.authorization;
  if (!header || header.trim() === '') {
    throw new AuthenticationError('missing_authorization', 'Send your API key in the Authorization header: "Authorization: Bearer qr_live_…".');
  }
  // `Bearer` with nothing after it is usually an unset shell variable: `-H "Authorization: Bearer $QRFLOW_KEY"`
  if (/^bearer$/i.test(header.trim())) {
    throw new AuthenticationError('missing_api_key', 'The API key is missing after "Bearer" (an unset variable?): send "Authorization: Bearer qr_live_…".');
  }
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (!match || (match[1] as string).toLowerCase() !== 'bearer') {
    throw new AuthenticationError('invalid_authorization_scheme', 'Use the Bearer scheme: "Authorization: Bearer qr_live_…".');
  }
  return match[2] as string;
}

export interface Authenticator {
  keys: KeyService;
  sessions: SessionService;
  workspaces: WorkspaceService;
}

async function sessionAuth(services: Authenticator, req: Request, token: string, via: 'bearer' | 'cookie'): Promise<Auth> {
  const { session, user, member, workspace } = await services.sessions.authenticate(token);
  return {
    workspace,
    plan: services.workspaces.planOf(workspace),
    scopes: ALL_SCOPES,
    key: null,
    session,
    user: { id: user.id, email: user.email, role: member.role },
    mode: requestedMode(req.headers),
    via,
  };
}

/**
 * Resolves a key or session into `req.auth`. Plan rules apply to API keys; sessions can always manage their
 * workspace. A Bearer header wins; without one, the console's session cookie counts as a session.
 */
export async function resolveAuth(services: Authenticator, req: Request, mode: AuthMode): Promise<Auth> {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    const cookie = sessionCookie(req);
    if (cookie !== undefined) return sessionAuth(services, req, cookie, 'cookie');
  }
  const token = bearerToken(req);
  if (token.startsWith(SESSION_PREFIX)) return sessionAuth(services, req, token, 'bearer');
  if (mode === 'session') {
    throw new AuthenticationError('session_required', 'This endpoint needs a management session: log in with POST /api/v1/auth/login and send its qrs_ token. API keys cannot manage keys.');
  }
  const { key, workspace } = await services.keys.authenticate(token, req.scope?.reads);
  const plan = services.workspaces.planOf(workspace);
  if (!plan.api_access) {
    throw new PermissionError('plan_upgrade_required', `API access is not part of the ${plan.name} plan. Upgrade to Team or above to use API keys.`);
  }
  if (workspace.plan_status !== 'active') {
    throw new PermissionError('subscription_inactive', `The ${plan.name} subscription of this workspace has expired. Reactivate it and this key works again.`);
  }
  return { workspace, plan, scopes: key.scopes, key, session: null, user: null, mode: key.mode ?? 'live', via: 'bearer' };
}

/** The `error.code` values of a failed authentication, by mode (see resolveAuth, KeyService and SessionService). */
const HEADER_CODES = ['missing_authorization', 'missing_api_key', 'invalid_authorization_scheme'];
const SESSION_CODES = ['invalid_session', 'session_expired'];
const KEY_CODES = ['malformed_api_key', 'invalid_api_key', 'api_key_paused', 'api_key_revoked', 'api_key_expired'];

function authenticationAnswers(mode: AuthMode): Answer[] {
  const unauthorized: Answer = {
    status: 401,
    codes: mode === 'session' ? [...HEADER_CODES, ...SESSION_CODES, 'session_required'] : [...HEADER_CODES, ...KEY_CODES, ...SESSION_CODES],
    when: mode === 'session' ? 'No valid management session (API keys cannot call this)' : 'No valid API key or session',
  };
  if (mode === 'session') return [unauthorized];
  return [unauthorized, { status: 403, codes: ['plan_upgrade_required', 'subscription_inactive'], when: "The key's plan has no API access, or its subscription is inactive" }];
}

export function authenticate(services: Authenticator, mode: AuthMode): RequestHandler {
  // the request's reads may come from memory when the store keeps them coherent (CoherentReads); confirmAuth, in
  // the middleware that follows authentication on every route (mountRoutes), checks what authentication took
  const handler = async (req: Request, _res: Response, next: NextFunction) => {
    const scope = newRequestScope();
    if (scope) req.scope = scope;
    req.auth = await resolveAuth(services, req, mode);
    if (scope) scope.auth = req.auth;
    next();
  };
  return describeMiddleware(handler, { answers: authenticationAnswers(mode) });
}

/**
 * Follows the limits on every authenticated route when keys are read from memory (CoherentReads): settles the
 * request on its workspace's write generation, brought along by the per-minute limit's Redis call (or read now), and when
 * anything changed since the key was held, authenticates again from the database. A key that is no longer good
 * (paused, revoked, expired through another process a moment ago) is refused here, before the route runs, and the
 * API call it took is given back.
 */
export function confirmAuth(services: Authenticator, reads: CoherentReads, meter: { giveBack(auth: Auth, res: Response): Promise<void> }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (await reads.confirm(req.scope?.reads)) {
      next();
      return;
    }
    const held = req.auth;
    try {
      req.auth = await resolveAuth(services, req, 'key_or_session');
      if (req.scope) req.scope.auth = req.auth;
    } catch (error) {
      if (held) await meter.giveBack(held, res);
      throw error;
    }
    next();
  };
}

export function requireScope(scope: Scope): RequestHandler {
  return describeMiddleware((req, _res, next) => {
    if (!req.auth?.scopes.includes(scope)) {
      throw new PermissionError('insufficient_scope', `This API key lacks the "${scope}" scope. Create a key with that scope in API settings (/settings/api).`);
    }
    next();
  }, { answers: [{ status: 403, codes: ['insufficient_scope'], when: `The key lacks the \`${scope}\` scope` }] });
}

export function requireRole(...roles: readonly Role[]): RequestHandler {
  return describeMiddleware((req, _res, next) => {
    const role = req.auth?.user?.role;
    if (!role || !roles.includes(role)) {
      throw new PermissionError('forbidden_role', `Only workspace ${roles.join(' and ')}s can do this.`);
    }
    next();
  }, { answers: [{ status: 403, codes: ['forbidden_role'], when: `The user is not a workspace ${roles.join(' or ')}` }] });
}
