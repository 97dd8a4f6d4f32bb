import { parse } from 'cookie';
import type { Request, Response } from 'express';
import type { Config } from '../config.js';

/** The cookie that carries a console session's `qrs_` token. */
export const SESSION_COOKIE = 'qrflow_session';

/** The request's cookies, parsed once (and only by the requests that need them). */
export function requestCookies(req: Request): Record<string, string> {
  const parsed = (req as { cookies?: Record<string, string> }).cookies;
  if (parsed) return parsed;
  const header = req.headers.cookie;
  const cookies: Record<string, string> = {};
  if (header && header.length <= 8192) {
    for (const [name, value] of Object.entries(parse(header))) if (value !== undefined) cookies[name] = value;
  }
  (req as { cookies?: Record<string, string> }).cookies = cookies;
  return cookies;
}

/** The session token in the session cookie, if the request has one. */
export function sessionCookie(req: Request): string | undefined {
  if (!req.headers.cookie) return undefined;
  const value = requestCookies(req)[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

/** Cookies are Secure whenever the console is reached over https. */
export function secureCookies(config: Config): boolean {
  return config.publicUrl.startsWith('https:');
}

/**
 * Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure behind https, kept by the browser until the
 * session's absolute end (Max-Age, so the browser's clock need not agree with the server's).
 */
export function setSessionCookie(res: Response, config: Config, token: string, lifetimeMs: number): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure: secureCookies(config), maxAge: Math.max(0, lifetimeMs) });
}

export function clearSessionCookie(res: Response, config: Config): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: secureCookies(config) });
}
