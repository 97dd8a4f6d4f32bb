import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** Suffixes that never name a public host: loopback, link-local and private-use names, reserved test names. */
const NOT_PUBLIC = ['localhost', 'local', 'internal', 'intranet', 'lan', 'home', 'corp', 'private', 'arpa', 'test', 'invalid', 'example', 'onion', 'localdomain'];
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A hostname as qrflow keeps it (lower-case ASCII, international names in punycode, no trailing dot), or the reason
 * it cannot be a custom domain: it must be a public DNS name of at least two labels, not an IP address, not a
 * loopback or private-use name, and not the server's own public host.
 */
export function checkHostname(input: string, publicHost: string): { hostname: string } | { problem: string } {
  const raw = input.trim().replace(/\.$/, '');
  if (raw.length === 0) return { problem: 'must be a hostname such as go.example.com' };
  if (/[/:@?#\s\\]/.test(raw)) return { problem: 'must be a bare hostname (no scheme, port, path or spaces), such as go.example.com' };
  if (isIP(raw) || isIP(raw.replace(/^\[|\]$/g, ''))) return { problem: 'must be a DNS name, not an IP address' };
  const hostname = domainToASCII(raw);
  if (!hostname || hostname.length > 253) return { problem: 'is not a valid DNS name' };
  const labels = hostname.split('.');
  if (labels.length < 2) return { problem: 'must have at least two labels, such as go.example.com' };
  if (!labels.every((label) => LABEL.test(label))) return { problem: 'each label must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen' };
  const tld = labels[labels.length - 1] as string;
  if (/^[0-9]+$/.test(tld)) return { problem: 'must be a DNS name, not an IP address' };
  if (NOT_PUBLIC.includes(tld)) return { problem: `.${tld} names are not public DNS names` };
  if (hostname === publicHost.toLowerCase()) return { problem: "is this server's own public host, where short links are already served under /r/" };
  return { hostname };
}

/** The hostname of a Host header: lower-case, without the port and a trailing dot (IPv6 literals keep their brackets). */
export function hostOfHeader(header: string | undefined): string {
  if (!header) return '';
  let host = header;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.toLowerCase();
}
