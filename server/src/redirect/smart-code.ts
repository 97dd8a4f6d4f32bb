import { createHash, createHmac } from 'node:crypto';
import type { QrRecord, RedirectCondition, SmartRecord } from '../store/records.js';
import type { VisitorAgent } from './agent.js';
import { compileTimeWindow, inTimeWindow } from './time-window.js';

const UTM_FIELDS = ['source', 'medium', 'campaign', 'term', 'content'] as const;

/** What the conditions ask of a scan; each answer is worked out at most once, and only if a condition asks. */
export interface Visit {
  readonly now: number;
  agent(): VisitorAgent;
  country(): string;
  /** The primary tag (lower-case) of the visitor's first language by q order, or undefined. */
  language(): string | undefined;
  query(param: string): string | null;
  /** The day's unique-visitor hash (recorder.ts). */
  visitor(): number;
}

/** A code's smart settings turned into tests and final URLs once, when the code is loaded, so a scan only decides. */
export interface CompiledCode {
  rules: Array<{ location: string; matches: (visit: Visit) => boolean }>;
  variants: { locations: string[]; bounds: number[]; total: number; seed: number } | undefined;
  /** destination_url with the UTM parameters. */
  location: string;
  validFrom: number;
  validUntil: number;
  maxScans: number | undefined;
  expiredUrl: string | undefined;
  /** The password's hash and the key that signs this code's cookies and form tokens (derived from the hash). */
  password: { hash: string; key: Buffer } | undefined;
  /** Whether a rule asks for the country (a GeoIP lookup is made only then). */
  usesCountry: boolean;
}

/** The destination with the UTM parameters it does not have yet (its own win), its query and fragment kept as written. */
export function withUtm(destination: string, utm: SmartRecord['utm']): string {
  if (!utm) return destination;
  const hashAt = destination.indexOf('#');
  const base = hashAt === -1 ? destination : destination.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : destination.slice(hashAt);
  const queryAt = base.indexOf('?');
  const existing = new URLSearchParams(queryAt === -1 ? '' : base.slice(queryAt + 1));
  const added: string[] = [];
  for (const field of UTM_FIELDS) {
    const value = utm[field];
    if (value !== undefined && !existing.has(`utm_${field}`)) added.push(`utm_${field}=${encodeURIComponent(value)}`);
  }
  if (added.length === 0) return destination;
  const separator = queryAt === -1 ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${added.join('&')}${fragment}`;
}

function lowerSet(names: string[]): Set<string> {
  return new Set(names.map((name) => name.toLowerCase()));
}

function compileCondition(condition: RedirectCondition): (visit: Visit) => boolean {
  switch (condition.type) {
    case 'device': {
      const devices = new Set<string>(condition.in);
      return (visit) => devices.has(visit.agent().device);
    }
    case 'os': {
      const systems = lowerSet(condition.in);
      return (visit) => systems.has(visit.agent().os.toLowerCase());
    }
    case 'browser': {
      const browsers = lowerSet(condition.in);
      return (visit) => {
        const name = visit.agent().browser.toLowerCase();
        // ua-parser names the phone builds "Mobile Safari", "Mobile Chrome": "Safari" means both
        return browsers.has(name) || (name.startsWith('mobile ') && browsers.has(name.slice(7)));
      };
    }
    case 'country': {
      const countries = new Set(condition.in.map((c) => c.toUpperCase()));
      return (visit) => countries.has(visit.country());
    }
    case 'language': {
      const languages = lowerSet(condition.in);
      return (visit) => {
        const language = visit.language();
        return language !== undefined && languages.has(language);
      };
    }
    case 'query': {
      const { param, equals } = condition;
      return (visit) => visit.query(param) === equals;
    }
    case 'time': {
      const window = compileTimeWindow(condition);
      return (visit) => inTimeWindow(window, visit.now);
    }
    default:
      // a condition type this version does not know (written by a newer one): the rule never matches
      return () => false;
  }
}

/** A 32-bit seed per code, so one visitor's variants of different codes are not the same index everywhere. */
function seedOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32LE(0);
}

/** murmur3's finaliser: spreads visitor ^ seed over all 32 bits. */
function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Compiles a code's smart settings; undefined for a code without any (it takes the plain path). */
export function compileSmart(qr: QrRecord): CompiledCode | undefined {
  const smart = qr.smart;
  if (!smart || !qr.destination_url) return undefined;
  const utm = smart.utm;
  const rules = (smart.redirect_rules ?? []).map((rule) => {
    const tests = rule.conditions.map(compileCondition);
    const matches = tests.length === 1 ? (tests[0] as (visit: Visit) => boolean) : (visit: Visit) => tests.every((test) => test(visit));
    return { location: withUtm(rule.url, utm), matches };
  });
  let variants: CompiledCode['variants'];
  if (smart.variants && smart.variants.length > 0) {
    const bounds: number[] = [];
    let total = 0;
    for (const variant of smart.variants) bounds.push((total += variant.weight));
    if (total > 0) variants = { locations: smart.variants.map((variant) => withUtm(variant.url, utm)), bounds, total, seed: seedOf(qr.id) };
  }
  return {
    rules,
    variants,
    location: withUtm(qr.destination_url, utm),
    validFrom: smart.valid_from ? Date.parse(smart.valid_from) : -Infinity,
    validUntil: smart.valid_until ? Date.parse(smart.valid_until) : Infinity,
    maxScans: smart.max_scans,
    expiredUrl: smart.expired_url,
    password: smart.password_hash ? { hash: smart.password_hash, key: createHmac('sha256', smart.password_hash).update('qrflow scan password').digest() } : undefined,
    usesCountry: (smart.redirect_rules ?? []).some((rule) => rule.conditions.some((condition) => condition.type === 'country')),
  };
}

/** Whether the code's window is not open yet (scheduled) or has closed (expired) at `now`; undefined while it is open. */
export function windowState(code: CompiledCode, now: number): 'scheduled' | 'expired' | undefined {
  if (now < code.validFrom) return 'scheduled';
  if (now >= code.validUntil) return 'expired';
  return undefined;
}

/** The variant a visitor hash falls in: by weight, the same index for the same hash. */
export function variantOf(variants: NonNullable<CompiledCode['variants']>, visitor: number): number {
  const point = Math.floor((mix(visitor ^ variants.seed) / 0x1_0000_0000) * variants.total);
  for (let index = 0; index < variants.bounds.length; index++) if (point < (variants.bounds[index] as number)) return index;
  return variants.bounds.length - 1;
}

/** Where a scan goes: the first rule that matches, else the visitor's variant, else destination_url. */
export function decide(code: CompiledCode, visit: Visit): { location: string; variant: number | undefined } {
  for (const rule of code.rules) if (rule.matches(visit)) return { location: rule.location, variant: undefined };
  if (code.variants) {
    const variant = variantOf(code.variants, visit.visitor());
    return { location: code.variants.locations[variant] as string, variant };
  }
  return { location: code.location, variant: undefined };
}

/**
 * Compiled codes for lookups that hand out a fresh (shallow) copy of a record on every read (the embedded store): the
 * copies share the stored `smart` object, which a write replaces and never changes in place, so it keys the cache.
 */
export class CompiledCodes {
  private readonly bySettings = new WeakMap<SmartRecord, { id: string; destination: string | null; code: CompiledCode | undefined }>();

  of(qr: QrRecord): CompiledCode | undefined {
    if (!qr.smart) return undefined;
    const held = this.bySettings.get(qr.smart);
    if (held && held.id === qr.id && held.destination === qr.destination_url) return held.code;
    const code = compileSmart(qr);
    this.bySettings.set(qr.smart, { id: qr.id, destination: qr.destination_url, code });
    return code;
  }
}
