import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { assertPublicHost, createGuardedLookup, forbiddenAddressReason, forbiddenHostReason, type Resolver } from './ssrf.js';
import { send } from './sender.js';

const resolvesTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('which addresses may receive webhooks', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.169.254', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenAddressReason(address)).toBe(`is in the ${range} range`);
  });

  it.each(['8.8.8.8', '93.184.215.14', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])('allows public unicast %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });

  it.each(['localhost', 'LOCALHOST.', 'api.localhost', 'printer.local', 'metadata.google.internal', 'metadata', 'instance-data', 'db.internal', 'intranet'])('refuses the host name %s', (host) => {
    expect(forbiddenHostReason(host)).not.toBeNull();
  });

  it('allows ordinary public host names', () => {
    expect(forbiddenHostReason('hooks.zapier.com')).toBeNull();
  });
});

describe('resolving before connecting', () => {
  it('refuses a name when any of its addresses is private, and says which', async () => {
    await expect(assertPublicHost('hooks.example.com', resolvesTo('93.184.215.14', '10.0.0.7'))).rejects.toThrow('hooks.example.com resolves to 10.0.0.7, which is in the private range');
    await expect(assertPublicHost('hooks.example.com', resolvesTo('::1'))).rejects.toThrow(/loopback/);
    await expect(assertPublicHost('hooks.example.com', resolvesTo('93.184.215.14'))).resolves.toEqual([{ address: '93.184.215.14', family: 4 }]);
  });

  it('refuses a name that does not resolve', async () => {
    const fails: Resolver = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    await expect(assertPublicHost('nowhere.example.com', fails)).rejects.toThrow('could not be resolved (ENOTFOUND)');
  });

  it('a connection through the guarded lookup to a name that now resolves to loopback (DNS rebinding) never opens', async () => {
    let connections = 0;
    const target = http.createServer((_req, res) => res.end('reached')).on('connection', () => connections++);
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as { port: number }).port;
    try {
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const request = http.request(`http://rebound.example.com:${port}/`, { lookup: createGuardedLookup(resolvesTo('127.0.0.1')) as never }, () => reject(new Error('connected')));
        request.on('error', resolve);
        request.end();
      });
      expect(error.code).toBe('forbidden_address');
      expect(error.message).toContain('127.0.0.1');
      expect(connections).toBe(0);
    } finally {
      target.close();
    }
  });

  it('the sender refuses a private address literal at delivery time without connecting', async () => {
    const result = await send({ url: 'http://169.254.169.254/latest/meta-data/', body: '{}', headers: {}, timeoutMs: 1000, guard: true, signal: new AbortController().signal });
    expect(result).toMatchObject({ statusCode: null, error: 'refused: 169.254.169.254 is in the linkLocal range', aborted: false });
  });

  it('the sender refuses localhost at delivery time', async () => {
    const result = await send({ url: 'http://localhost:9/hook', body: '{}', headers: {}, timeoutMs: 1000, guard: true, signal: new AbortController().signal });
    expect(result.error).toMatch(/^refused: localhost/);
  });
});
