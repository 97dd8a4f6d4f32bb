import { describe, expect, it } from 'vitest';
import { geoLookup, geoUnavailableReason, loadGeoDatabases } from './lookup.js';

describe('geoLookup', () => {
  it('places well-known public IPv4 addresses in their country, region and city', async () => {
    await loadGeoDatabases();
    expect(geoUnavailableReason()).toBeUndefined();
    // Google's public resolver, Cloudflare's, heise.de (Hanover), a London address, a Tokyo one
    expect(geoLookup('8.8.8.8')).toEqual({ country: 'US', region: 'California', city: 'Mountain View' });
    expect(geoLookup('1.1.1.1')).toMatchObject({ country: 'AU', region: 'New South Wales' });
    expect(geoLookup('193.99.144.80')).toMatchObject({ country: 'DE', region: 'Lower Saxony' });
    expect(geoLookup('81.2.69.142')).toEqual({ country: 'GB', region: 'England', city: 'London' });
    expect(geoLookup('133.242.0.3')).toMatchObject({ country: 'JP', region: 'Tokyo' });
  });

  it('places IPv6 addresses, and IPv4 clients of a dual-stack socket (::ffff:a.b.c.d) as IPv4', () => {
    expect(geoLookup('2a00:1450:4001:80b::200e')).toMatchObject({ country: 'DE', region: 'Hesse', city: 'Frankfurt am Main' });
    expect(geoLookup('2001:4860:4860::8888').country).toMatch(/^[A-Z]{2}$/);
    expect(geoLookup('::ffff:8.8.8.8')).toEqual(geoLookup('8.8.8.8'));
  });

  it('answers nulls for private, loopback, link-local, documentation and malformed addresses', () => {
    const nowhere = { country: null, region: null, city: null };
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.10', '172.16.5.4', '100.64.0.1', '169.254.1.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '2001:db8::1', '::ffff:127.0.0.1', '', 'not an ip', '999.1.1.1']) {
      expect({ ip, location: geoLookup(ip) }).toEqual({ ip, location: nowhere });
    }
  });

  it('hands out copies: a caller changing its answer does not change the cached one', () => {
    const first = geoLookup('81.2.69.142');
    first.city = 'Elsewhere';
    expect(geoLookup('81.2.69.142').city).toBe('London');
  });
});
