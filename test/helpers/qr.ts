import { expect } from 'vitest';
import type { QrView } from '../../server/src/qr/schemas.js';
import type { TestServer } from './server.js';

/** Real user agents, parsed by the server's UA parser and checked against isbot. */
export const USER_AGENTS = {
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  windowsChrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  macFirefox: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  slackbot: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  facebook: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  curl: 'curl/8.5.0',
} as const;

export interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
  request_id: string;
}

/** The response body as JSON, typed by the caller. */
export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** POSTs a code and expects 201; returns the created code. */
export async function createQr(srv: TestServer, token: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<QrView> {
  const response = await srv.request('POST', '/api/v1/qr', { token, body, ...(headers ? { headers } : {}) });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return (JSON.parse(text) as { data: QrView }).data;
}

/** Opens a short link as a phone would (no redirect following); the browser's user agent unless one is given. */
export function scan(srv: TestServer, shortCode: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(`${srv.baseUrl}/r/${shortCode}`, { method, redirect: 'manual', headers: { 'user-agent': USER_AGENTS.iphone, ...headers } });
}

/** Expects an error response with this status and code; returns its body. */
export async function expectError(response: Response, status: number, code?: string): Promise<ErrorBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  if (code) expect(body.error.code).toBe(code);
  return body;
}
