import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ALL_SCOPES, type Role, type Scope } from '../store/records.js';
import { AuthenticationError, PermissionError } from '../errors.js';
import type { KeyService } from '../keys/service.js';
import type { WorkspaceService } from '../workspaces/service.js';
import { SESSION_PREFIX, type SessionService } from './sessions.js';
import type { Auth } from './auth.js';
import { requestedMode } from '../test-mode/mode.js';
import { sessionCookie } from './cookies.js';

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
  const { key, workspace } = await services.keys.authenticate(token);
  const plan = services.workspaces.planOf(workspace);
  if (!plan.api_access) {
    throw new PermissionError('plan_upgrade_required', `API access is not part of the ${plan.name} plan. Upgrade to Team or above to use API keys.`);
  }
  if (workspace.plan_status !== 'active') {
    throw new PermissionError('subscription_inactive', `The ${plan.name} subscription of this workspace has expired. Reactivate it and this key works again.`);
  }
  return { workspace, plan, scopes: key.scopes, key, session: null, user: null, mode: key.mode ?? 'live', via: 'bearer' };
}

export function authenticate(services: Authenticator, mode: AuthMode): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    req.auth = await resolveAuth(services, req, mode);
    next();
  };
}

export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    if (!req.auth?.scopes.includes(scope)) {
      throw new PermissionError('insufficient_scope', `This API key lacks the "${scope}" scope. Create a key with that scope in API settings (/settings/api).`);
    }
    next();
  };
}

export function requireRole(...roles: readonly Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.auth?.user?.role;
    if (!role || !roles.includes(role)) {
      throw new PermissionError('forbidden_role', `Only workspace ${roles.join(' and ')}s can do this.`);
    }
    next();
  };
}
