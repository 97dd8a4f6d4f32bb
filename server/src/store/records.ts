/** The plain records the store keeps. Timestamps are ISO-8601 strings in UTC. */

import type { DataMode } from '../test-mode/mode.js';

export type Role = 'owner' | 'admin' | 'member';
export type PlanStatus = 'active' | 'expired';
export type Scope = 'qr:read' | 'qr:write' | 'analytics:read' | 'webhooks:write' | 'domains:write';
export const ALL_SCOPES: readonly Scope[] = ['qr:read', 'qr:write', 'analytics:read', 'webhooks:write', 'domains:write'];

export interface WorkspaceRecord {
  id: string;
  name: string;
  plan: string;
  plan_status: PlanStatus;
  created_at: string;
}

export interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  created_at: string;
}

export interface MemberRecord {
  id: string;
  workspace_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}

/** Stored status; `expired` is derived from `expires_at` when read. */
export type StoredKeyStatus = 'active' | 'paused' | 'revoked';

export interface ApiKeyRecord {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  /** SHA-256 of the full secret, hex. */
  hash: string;
  scopes: Scope[];
  status: StoredKeyStatus;
  expires_at: string | null;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** Times (ms) of renewals, pruned to the last 24 hours. */
  renewals: number[];
  /** `test` keys see only the workspace's test data (absent: live, as every key made before test mode). */
  mode?: DataMode;
}

export interface SessionRecord {
  id: string;
  token_hash: string;
  user_id: string;
  workspace_id: string;
  created_at: string;
  expires_at: string;
  /** The last request made with the session, written at most once a minute (absent on sessions from before idle expiry). */
  last_seen_at?: string;
  /** `cookie`: a console session, which also ends after QRFLOW_SESSION_IDLE_MINUTES unused; absent: a bearer token for API clients. */
  kind?: 'cookie';
}

export type QrType = 'url' | 'text' | 'email' | 'phone' | 'sms' | 'wifi' | 'vcard';
export type QrMode = 'dynamic' | 'static';

export type QrShape = 'square' | 'rounded' | 'dots';

/** A frame around the code with a short call to action under it. */
export interface QrFrame {
  text: string;
  color: string;
  text_color: string;
}

export interface QrStyle {
  foreground: string;
  background: string;
  margin: number;
  error_correction: 'L' | 'M' | 'Q' | 'H';
  /** Absent on codes from before shapes: square. */
  module_shape?: QrShape;
  finder_shape?: QrShape;
  /** Absent or null: no frame. */
  frame?: QrFrame | null;
}

/** What a code keeps of its logo (the bytes are a LogoRecord of the same id). */
export interface QrLogoInfo {
  content_type: 'image/png' | 'image/svg+xml';
  bytes: number;
  /** Of the stored bytes: the image cache's key without reading the logo. */
  sha256: string;
  updated_at: string;
}

export interface QrRecord {
  id: string;
  workspace_id: string;
  name: string;
  type: QrType;
  mode: QrMode;
  destination_url: string | null;
  content: Record<string, unknown> | null;
  short_code: string | null;
  /** The verified custom domain (lower-case hostname) the short link is served on; null or absent: the default public URL. */
  domain?: string | null;
  /**
   * Where the redirect finds the code, unique over all codes: the short code on the default public URL, or
   * `hostname/short_code` on a custom domain (short codes have no `/`). Null for static codes. Written by the store's
   * migrations for records from before custom domains; use `routeKey()`.
   */
  route_key?: string | null;
  status: 'active' | 'paused';
  tags: string[];
  style: QrStyle;
  /** Absent or null: no logo. */
  logo?: QrLogoInfo | null;
  created_at: string;
  updated_at: string;
  /** What a dynamic code decides at the scan (rules, split, schedule, limit, password, UTM); absent: none of it. */
  smart?: SmartRecord;
}

/** A redirect condition of a smart code (checked by qr/smart-schemas.ts, normalised: countries upper-, languages lower-case). */
export type RedirectCondition =
  | { type: 'device'; in: Array<'mobile' | 'tablet' | 'desktop'> }
  | { type: 'os'; in: string[] }
  | { type: 'browser'; in: string[] }
  | { type: 'country'; in: string[] }
  | { type: 'language'; in: string[] }
  | { type: 'query'; param: string; equals: string }
  | { type: 'time'; from: string; to: string; tz: string; weekdays?: number[] | undefined };

/** The scan-time settings of a dynamic code; every field optional, the record absent when none is set. */
export interface SmartRecord {
  redirect_rules?: Array<{ url: string; conditions: RedirectCondition[] }>;
  variants?: Array<{ url: string; weight: number }>;
  valid_from?: string;
  valid_until?: string;
  max_scans?: number;
  expired_url?: string;
  /** The scan password's hash (auth/passwords.ts); the password itself is never kept. */
  password_hash?: string;
  utm?: Partial<Record<'source' | 'medium' | 'campaign' | 'term' | 'content', string>>;
}

/** The redirect's key of a short code on a domain (null: the default public URL), as kept in `QrRecord.route_key` and tombstone ids. */
export function routeKey(domain: string | null | undefined, shortCode: string): string {
  return domain ? `${domain}/${shortCode}` : shortCode;
}

/** A deleted dynamic code keeps its short code reserved so the link answers 410, never someone else's page. */
export interface TombstoneRecord {
  id: string; // the route key: the short code, or `hostname/short_code` on a custom domain
  workspace_id: string;
  qr_id: string;
  deleted_at: string;
}

export interface IdempotencyRecord {
  id: string; // `${workspace_id}:${key}`
  workspace_id: string;
  request_hash: string;
  status: number;
  body: unknown;
  created_at: string;
}

export interface UsageRecord {
  id: string; // `${workspace_id}:${YYYY-MM}`
  workspace_id: string;
  month: string;
  api_calls: number;
  image_credits: number;
  by_key: Record<string, number>;
}

export interface KeyActivityEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  ip: string;
}

export interface KeyActivityRecord {
  id: string; // the key id
  workspace_id: string;
  entries: KeyActivityEntry[];
}

export interface WebhookRecord {
  id: string;
  workspace_id: string;
  url: string;
  events: string[];
  secret: string;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  /** When deliveries started failing without a success since (ms), or null. */
  failing_since: number | null;
  created_at: string;
}

export interface EventRecord {
  id: string;
  workspace_id: string;
  type: string;
  created_at: string;
  data: unknown;
}

/** The object sent to receivers and listed by the events feed. */
export interface EventPayload {
  id: string;
  type: string;
  created_at: string;
  data: unknown;
}

export interface DeliveryRecord {
  id: string;
  workspace_id: string;
  webhook_id: string;
  event: EventPayload;
  attempts: number;
  next_attempt_at: number;
  created_at: string;
}

export interface DeliveryLogRecord {
  id: string; // the webhook id
  workspace_id: string;
  entries: Array<{ event_id: string; attempted_at: string; status_code: number | null; duration_ms: number; error: string | null }>;
}

/** A custom domain of a workspace: its codes' short links are served on it once its DNS TXT record is verified. */
export interface DomainRecord {
  id: string;
  /** The real workspace (domains are shared by live and test mode). */
  workspace_id: string;
  /** Lower-case, no trailing dot; unique over all workspaces. */
  hostname: string;
  status: 'pending' | 'verified';
  /** The value the TXT record `_qrflow.<hostname>` must hold. */
  verification_value: string;
  created_at: string;
  verified_at: string | null;
}

/** A code's logo: a PNG as uploaded, or an SVG as sanitised, kept apart from the code so lists stay small. */
export interface LogoRecord {
  id: string; // the code's id
  workspace_id: string; // the code's (test-mode) partition
  content_type: 'image/png' | 'image/svg+xml';
  /** The image, base64. */
  data: string;
  created_at: string;
  updated_at: string;
}

/** Every collection the store keeps, by name. */
export interface Collections {
  workspaces: WorkspaceRecord;
  users: UserRecord;
  members: MemberRecord;
  keys: ApiKeyRecord;
  sessions: SessionRecord;
  qrcodes: QrRecord;
  tombstones: TombstoneRecord;
  idempotency: IdempotencyRecord;
  usage: UsageRecord;
  key_activity: KeyActivityRecord;
  webhooks: WebhookRecord;
  events: EventRecord;
  deliveries: DeliveryRecord;
  delivery_logs: DeliveryLogRecord;
  domains: DomainRecord;
  logos: LogoRecord;
}

export type CollectionName = keyof Collections;
export const COLLECTION_NAMES: readonly CollectionName[] = [
  'workspaces', 'users', 'members', 'keys', 'sessions', 'qrcodes', 'tombstones', 'idempotency',
  'usage', 'key_activity', 'webhooks', 'events', 'deliveries', 'delivery_logs', 'domains', 'logos',
];
