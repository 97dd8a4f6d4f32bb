/** The shapes the console reads, as the server's OpenAPI document describes them. */

export type Role = 'owner' | 'admin' | 'member';
export type Scope = 'qr:read' | 'qr:write' | 'analytics:read' | 'webhooks:write';
export const ALL_SCOPES: Scope[] = ['qr:read', 'qr:write', 'analytics:read', 'webhooks:write'];

export interface Pagination {
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
}

export interface SetupInfo {
  needs_setup: boolean;
  signup: 'open' | 'closed';
  password_rules: { min_length: number; max_length: number; text: string };
}

export interface Me {
  workspace: { id: string; name: string; plan: string; plan_status: 'active' | 'expired' };
  key: unknown;
  user: { id: string; email: string; role: Role } | null;
}

export type KeyStatus = 'active' | 'paused' | 'revoked' | 'expired';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  status: KeyStatus;
  mode?: 'live' | 'test';
  expires_at: string | null;
  created_at: string;
  created_by: string;
  created_by_email?: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  renewals_last_24h: number;
}

export interface ApiKeyWithSecret extends ApiKey {
  secret: string;
}

export interface KeyActivity {
  time: string;
  method: string;
  path: string;
  status: number;
  ip: string;
}

export interface Usage {
  period: { start: string; end: string };
  api_calls: { used: number; limit: number };
  image_credits: { used: number; limit: number };
  rate_limit: { per_minute: number };
  keys: Array<{ id: string; name: string; prefix: string; api_calls: number }>;
}

export interface Member {
  id: string;
  user_id: string;
  email: string;
  role: Role;
  created_at: string;
}

export const QR_TYPES = ['url', 'text', 'email', 'phone', 'sms', 'wifi', 'vcard'] as const;
export type QrType = (typeof QR_TYPES)[number];

export interface QrStyle {
  foreground: string;
  background: string;
  margin: number;
  error_correction: 'L' | 'M' | 'Q' | 'H';
}

export interface QrCode {
  id: string;
  name: string;
  type: QrType;
  mode: 'dynamic' | 'static';
  destination_url: string | null;
  content: Record<string, unknown> | null;
  short_code: string | null;
  short_url: string | null;
  /** The custom domain of the short link; null: the server's public URL. */
  domain?: string | null;
  status: 'active' | 'paused';
  tags: string[];
  style: QrStyle;
  created_at: string;
  updated_at: string;
  scan_count: number;
  /** false for a test-mode code */
  livemode?: boolean;
}

export interface Breakdown {
  value: string;
  scans: number;
}

export interface Analytics {
  qr_id: string;
  from: string;
  to: string;
  interval: 'day' | 'week' | 'month';
  tz: string;
  include_bots: boolean;
  total_scans: number;
  unique_scans: number;
  timeseries: Array<{ period: string; scans: number; unique_scans: number }>;
  countries: Breakdown[];
  devices: Breakdown[];
  os: Breakdown[];
  browsers: Breakdown[];
  referrers: Breakdown[];
  /** Scans per A/B variant index ("0", "1"...); empty without a split. */
  variants?: Breakdown[];
  /** Region and city of the visitor's address (GeoIP). */
  regions?: Breakdown[];
  cities?: Breakdown[];
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
}

export interface DeliveryAttempt {
  event_id: string;
  attempted_at: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

export interface FeedEvent {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

/** One item's answer in a bulk call: what it would have had as a single call. */
export type BulkItemResult<T = unknown> =
  | { index: number; status: number; data: T; error?: undefined }
  | { index: number; status: number; data?: undefined; error: { code: string; message: string; details?: Array<{ field: string; message: string }> } };
