import type { Bundle } from 'zapier-platform-core';

/** The QR code object exactly as the qrflow API returns it. */
export type QrCode = {
  id: string;
  name: string;
  type: QrType;
  mode: 'dynamic' | 'static';
  destination_url: string | null;
  content: Record<string, unknown> | null;
  short_code: string | null;
  short_url: string | null;
  /** The custom domain the short link is served on; null: the server's default public URL. */
  domain?: string | null;
  status: 'active' | 'paused';
  tags: string[];
  style: { foreground: string; background: string; margin: number; error_correction: string };
  /** The logo in the middle of the code (`PUT /api/v1/qr/:id/logo`); null: none. */
  logo?: { content_type: 'image/png' | 'image/svg+xml'; bytes: number; updated_at: string } | null;
  created_at: string;
  updated_at: string;
  scan_count: number;
} & Partial<SmartCodeFields>;

/** The smart-code fields of a dynamic code (redirect rules, A/B split, schedule, scan limit, password, UTM). */
export interface SmartCodeFields {
  redirect_rules: RedirectRule[];
  variants: { url: string; weight: number }[] | null;
  valid_from: string | null;
  valid_until: string | null;
  max_scans: number | null;
  expired_url: string | null;
  password_protected: boolean;
  utm: Partial<Record<UtmField, string>> | null;
  state: 'scheduled' | 'live' | 'expired' | 'limit_reached';
}

export type UtmField = 'source' | 'medium' | 'campaign' | 'term' | 'content';

export type RedirectCondition =
  | { type: 'device' | 'os' | 'browser' | 'country' | 'language'; in: string[] }
  | { type: 'query'; param: string; equals: string }
  | { type: 'time'; from: string; to: string; tz: string; weekdays?: number[] };

export interface RedirectRule {
  url: string;
  conditions: RedirectCondition[];
}

/** A custom domain as `GET /api/v1/domains` lists it. */
export interface Domain {
  id: string;
  hostname: string;
  status: 'pending' | 'verified';
  created_at: string;
  verified_at: string | null;
}

export type QrType = 'url' | 'text' | 'email' | 'phone' | 'sms' | 'wifi' | 'vcard';

/** An event as the webhook delivers it and as `GET /api/v1/events` lists it. */
export interface QrflowEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  created_at: string;
  data: T;
}

export interface Page<T> {
  data: T[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

export interface Envelope<T> {
  data: T;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Turns what a user typed as the server address into `https://host[/prefix]` without a trailing slash,
 * or throws a message they can act on. Plain http is accepted only for a server on this machine (tests, local dev).
 */
export function normalizeBaseUrl(input: unknown): string {
  const raw = typeof input === 'string' ? input.trim() : '';
  if (!raw) {
    throw new Error('Enter the address of your qrflow server, for example https://qr.example.com.');
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${raw}" is not a valid server address. Use the form https://qr.example.com.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new Error(`The server address must start with https:// (got "${raw}").`);
  }
  // People paste the API root or a page URL; keep only the origin and any path prefix in front of /api/v1.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v1(\/.*)?$/, '');
  return `${url.origin}${path}`;
}

/** The absolute URL of an API path (`/qr/abc`) on the connected server. */
export function apiUrl(bundle: Pick<Bundle, 'authData'>, path: string): string {
  return `${normalizeBaseUrl(bundle.authData.base_url)}/api/v1${path}`;
}

/** Percent-encodes one path segment, so an ID typed by a user can never change the route. */
export function segment(value: unknown): string {
  return encodeURIComponent(String(value ?? '').trim());
}
