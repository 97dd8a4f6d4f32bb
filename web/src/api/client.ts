/**
 * The one module that speaks qrflow's REST API. Cookies carry the session (HttpOnly, so this code never sees it);
 * writes carry the latest CSRF token, which lives only in this module's memory.
 */

import { modeHeaders } from './mode';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An answer in the server's error model, as an Error whose message is a sentence a person can read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

/** Called when a request answers 401 because the session is over (idle or absolute expiry, signed out elsewhere). */
export function setSignedOutHandler(handler: (() => void) | null): void {
  onSignedOut = handler;
}

// 401s that are about the request, not the session
const NOT_A_SESSION_END = new Set(['invalid_password', 'invalid_credentials']);
const SESSION_PROBES = ['/api/v1/me', '/api/v1/setup', '/api/v1/auth/'];

/** Keeps the newest CSRF token the server handed out (csrf, login and setup answers carry one). */
export function rememberCsrfToken(token: string | null | undefined): void {
  if (token) csrfToken = token;
}

export function forgetCsrfToken(): void {
  csrfToken = null;
}

async function ensureCsrfToken(): Promise<string> {
  if (csrfToken) return csrfToken;
  const body = await send<{ data: { csrf_token: string } }>('GET', '/api/v1/auth/csrf');
  rememberCsrfToken(body.data.csrf_token);
  return body.data.csrf_token;
}

/** Turns an error answer into one sentence: the message, plus the field problems when there are any. */
export function describeError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') {
    const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]).filter((d) => d && typeof d.message === 'string') : [];
    const fields = details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
    const message = fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
    return new ApiError(status, typeof error.code === 'string' ? error.code : 'error', message, details);
  }
  if (status === 0) return new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
  return new ApiError(status, 'http_error', `The server answered ${status} without an explanation. Try again in a moment.`);
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function send<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...modeHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (WRITES.has(method)) headers['x-csrf-token'] = await ensureCsrfToken();
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw describeError(0, null);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = describeError(response.status, parsed);
    // a token that went stale (new session, server restart): fetch a fresh one and try once more
    if (error.code === 'csrf_failed' && WRITES.has(method) && !retried) {
      csrfToken = null;
      return send<T>(method, path, body, true);
    }
    if (response.status === 401 && !NOT_A_SESSION_END.has(error.code) && !SESSION_PROBES.some((probe) => path.startsWith(probe))) {
      csrfToken = null;
      onSignedOut?.();
    }
    throw error;
  }
  const token = (parsed as { data?: { csrf_token?: unknown } } | null)?.data?.csrf_token;
  if (typeof token === 'string') rememberCsrfToken(token);
  return parsed as T;
}

/** Adds the defined values of `params` as a query string. */
export function withQuery(path: string, params: Record<string, string | number | boolean | undefined | null>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const api = {
  get: <T>(path: string) => send<T>('GET', path),
  post: <T>(path: string, body?: unknown) => send<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => send<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => send<T>('PUT', path, body),
  delete: <T>(path: string) => send<T>('DELETE', path),
};

/** The message to show for anything thrown: an ApiError's sentence, never a stack. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong in the console. Reload the page and try again.';
}
