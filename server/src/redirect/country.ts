import type { GeoLocation } from '../geo/lookup.js';

/** A GeoIP lookup of a visitor's address (geo/lookup.ts when it is wired in). */
export type GeoLookup = (ip: string) => GeoLocation;

/** A trusted proxy's country header value, upper-case, or undefined when absent or not a country (XX, garbage). */
function fromHeader(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && header.length === 2 && /^[A-Za-z]{2}$/.test(header) && header.toUpperCase() !== 'XX' ? header.toUpperCase() : undefined;
}

/** The visitor's country (ISO alpha-2) or 'unknown': the configured proxy header wins, then the lookup if one is given. */
export function resolveCountry(header: string | string[] | undefined, ip: string, lookup?: GeoLookup): string {
  const given = fromHeader(header);
  if (given) return given;
  if (!lookup || !ip) return 'unknown';
  const country = lookup(ip).country;
  return country && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : 'unknown';
}
