import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard: webhook receivers must be on the public internet. A URL is refused when its host is a
 * reserved name or resolves to any address that is not public unicast (loopback, private, CGNAT,
 * link-local including cloud metadata, unique-local, multicast, unspecified, reserved...). The check runs
 * at subscription time and again on every connection, through `guardedLookup`, so DNS rebinding cannot
 * slip a private address in between.
 */
export class ForbiddenAddressError extends Error {
  readonly code = 'forbidden_address';
}

/** Names that reach the machine itself, the local network or a cloud metadata service. */
const FORBIDDEN_NAME = /(^|\.)(localhost|local|internal|home\.arpa|localdomain)$|^(metadata|instance-data|metadata\.google\.internal)$/i;

/** Why the address may not receive webhooks, or null when it is public unicast. */
export function forbiddenAddressReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach the embedded IPv4 address
    const range = v6.range();
    if (range === 'ipv4Mapped' || (range === 'rfc6052' && v6.match(ipaddr.IPv6.parse('64:ff9b::'), 96))) {
      const [high, low] = v6.parts.slice(-2) as [number, number];
      parsed = new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
    }
  }
  const range = parsed.range();
  return range === 'unicast' ? null : `is in the ${range} range`;
}

/** Why the host name itself is refused (before any DNS), or null. */
export function forbiddenHostReason(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (net.isIP(host)) return forbiddenAddressReason(host);
  if (FORBIDDEN_NAME.test(host)) return 'is a local or metadata host name';
  if (!host.includes('.')) return 'is a single-label host name (only reachable on a local network)';
  return null;
}

type LookupAddress = { address: string; family: number };
/** Resolves a host name to all its addresses (dns.lookup by default; tests pass their own). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Resolves every address of the host and throws ForbiddenAddressError if the name or any address is not public. */
export async function assertPublicHost(hostname: string, resolve: Resolver = systemResolver): Promise<LookupAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const nameReason = forbiddenHostReason(host);
  if (nameReason) throw new ForbiddenAddressError(`${host} ${nameReason}`);
  if (net.isIP(host)) return [{ address: host, family: net.isIP(host) }];
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    throw new ForbiddenAddressError(`${host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})`);
  }
  if (addresses.length === 0) throw new ForbiddenAddressError(`${host} has no address`);
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address);
    if (reason) throw new ForbiddenAddressError(`${host} resolves to ${address}, which ${reason}`);
  }
  return addresses;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request/net.connect that resolves with `assertPublicHost`, so the socket connects
 * to exactly the addresses that were checked (no second resolution for a rebinding DNS server to answer).
 */
export function createGuardedLookup(resolve: Resolver = systemResolver) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    assertPublicHost(hostname, resolve).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '');
        if (options.all) return callback(null, wanted);
        const first = wanted[0] as LookupAddress;
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, ''),
    );
  };
}

export const guardedLookup = createGuardedLookup();
