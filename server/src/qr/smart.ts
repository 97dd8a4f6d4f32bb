import { ValidationError, type ErrorDetail } from '../errors.js';
import { hashPassword } from '../auth/passwords.js';
import type { QrRecord, RedirectCondition, SmartRecord } from '../store/records.js';
import type { CODE_STATES } from './smart-schemas.js';

export type CodeState = (typeof CODE_STATES)[number];

/** The smart-code fields as a create or update body carries them (null: remove, on updates). */
export interface SmartInput {
  redirect_rules?: Array<{ url: string; conditions: RedirectCondition[] }> | null | undefined;
  variants?: Array<{ url: string; weight: number }> | null | undefined;
  valid_from?: string | null | undefined;
  valid_until?: string | null | undefined;
  max_scans?: number | null | undefined;
  expired_url?: string | null | undefined;
  password?: string | null | undefined;
  utm?: Partial<Record<'source' | 'medium' | 'campaign' | 'term' | 'content', string | undefined>> | null | undefined;
}

const FIELDS = ['redirect_rules', 'variants', 'valid_from', 'valid_until', 'max_scans', 'expired_url', 'password', 'utm'] as const;

/** Whether a body names any smart-code field. */
export function hasSmartInput(body: SmartInput): boolean {
  return FIELDS.some((field) => body[field] !== undefined);
}

/** Countries upper-case, languages lower-case, names trimmed: the form the redirect compares. */
function normaliseCondition(condition: RedirectCondition): RedirectCondition {
  switch (condition.type) {
    case 'country':
      return { type: 'country', in: [...new Set(condition.in.map((c) => c.toUpperCase()))] };
    case 'language':
      return { type: 'language', in: [...new Set(condition.in.map((c) => c.toLowerCase()))] };
    case 'time':
      return condition.weekdays ? { ...condition, weekdays: [...new Set(condition.weekdays)].sort() } : { type: 'time', from: condition.from, to: condition.to, tz: condition.tz };
    default:
      return condition;
  }
}

/**
 * The smart settings of a code after a create (`current` undefined) or an update: each field given replaces the
 * stored one, null removes it, a password is hashed. Throws a 400 naming every field that is wrong in combination
 * (a window that ends before it starts, smart fields on a static code). Undefined when nothing is left.
 */
export async function mergeSmart(mode: QrRecord['mode'], current: SmartRecord | undefined, body: SmartInput): Promise<SmartRecord | undefined> {
  if (!hasSmartInput(body)) return current;
  const details: ErrorDetail[] = [];
  if (mode !== 'dynamic') {
    for (const field of FIELDS) if (body[field] !== undefined && body[field] !== null) details.push({ field, message: 'only for dynamic codes (a static code has no redirect)' });
    if (details.length) throw new ValidationError(`Only dynamic codes decide at the scan: ${details.map((d) => d.field).join(', ')}.`, details);
    return current;
  }
  const next: SmartRecord = { ...current };
  const apply = <K extends keyof SmartRecord>(key: K, value: SmartRecord[K] | null | undefined) => {
    if (value === undefined) return;
    if (value === null) delete next[key];
    else next[key] = value;
  };
  apply('redirect_rules', body.redirect_rules === null || body.redirect_rules?.length === 0 ? null : body.redirect_rules?.map((rule) => ({ url: rule.url, conditions: rule.conditions.map(normaliseCondition) })));
  apply('variants', body.variants);
  apply('valid_from', body.valid_from === null ? null : body.valid_from !== undefined ? new Date(body.valid_from).toISOString() : undefined);
  apply('valid_until', body.valid_until === null ? null : body.valid_until !== undefined ? new Date(body.valid_until).toISOString() : undefined);
  apply('max_scans', body.max_scans);
  apply('expired_url', body.expired_url);
  if (body.utm !== undefined) {
    const utm = body.utm ? Object.fromEntries(Object.entries(body.utm).filter(([, value]) => value !== undefined)) : {};
    apply('utm', Object.keys(utm).length ? utm : null);
  }
  if (next.valid_from && next.valid_until && Date.parse(next.valid_until) <= Date.parse(next.valid_from)) {
    details.push({ field: 'valid_until', message: `must be later than valid_from (${next.valid_from})` });
  }
  if (details.length) throw new ValidationError(`The QR code is invalid: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, details);
  // hashed last: a body refused above costs no scrypt
  if (body.password === null) delete next.password_hash;
  else if (body.password !== undefined) next.password_hash = await hashPassword(body.password);
  return Object.keys(next).length ? next : undefined;
}

/** Where a code stands at `now` with `counted` scans: scheduled, live, expired or limit_reached. */
export function codeState(smart: SmartRecord | undefined, now: number, counted: number): CodeState {
  if (!smart) return 'live';
  if (smart.valid_from && now < Date.parse(smart.valid_from)) return 'scheduled';
  if (smart.valid_until && now >= Date.parse(smart.valid_until)) return 'expired';
  if (smart.max_scans !== undefined && counted >= smart.max_scans) return 'limit_reached';
  return 'live';
}

/** The smart fields of an answer (the password only as password_protected). */
export function smartView(smart: SmartRecord | undefined, now: number, counted: number) {
  return {
    redirect_rules: smart?.redirect_rules ?? [],
    variants: smart?.variants ?? null,
    valid_from: smart?.valid_from ?? null,
    valid_until: smart?.valid_until ?? null,
    max_scans: smart?.max_scans ?? null,
    expired_url: smart?.expired_url ?? null,
    password_protected: Boolean(smart?.password_hash),
    utm: smart?.utm ?? null,
    state: codeState(smart, now, counted),
  };
}

/** A create body with its scan password masked, for idempotency hashes: the password leaves no unsalted trace at rest. */
export function maskPassword<T>(body: T): T {
  if (!body || typeof body !== 'object' || typeof (body as { password?: unknown }).password !== 'string') return body;
  return { ...body, password: '(password)' };
}
