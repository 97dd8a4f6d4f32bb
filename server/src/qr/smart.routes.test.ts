import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QrView } from './schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json } from '../../../test/helpers/qr.js';

let srv: TestServer;
let token: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
});

const base = { name: 'Smart', destination_url: 'https://example.com/' };

describe('smart-code fields on the API', () => {
  it('a plain code answers the smart fields empty and live', async () => {
    const qr = await createQr(srv, token, base);
    expect(qr).toMatchObject({ redirect_rules: [], variants: null, valid_from: null, valid_until: null, max_scans: null, expired_url: null, password_protected: false, utm: null, state: 'live' });
  });

  it('creates, reads and updates every field; null removes one', async () => {
    const body = {
      ...base,
      redirect_rules: [{ url: 'https://example.com/ios', conditions: [{ type: 'os', in: ['iOS'] }, { type: 'time', from: '22:00', to: '06:00', tz: 'Europe/Berlin', weekdays: [5, 1, 5] }] }],
      variants: [{ url: 'https://example.com/a', weight: 1 }, { url: 'https://example.com/b', weight: 2 }],
      valid_from: '2026-01-01T00:00:00Z',
      valid_until: '2099-01-01T00:00:00+01:00',
      max_scans: 100,
      expired_url: 'https://example.com/over',
      password: 'a long password',
      utm: { source: 'flyer', campaign: 'spring' },
    };
    const created = await createQr(srv, token, body);
    expect(created).toMatchObject({
      redirect_rules: [{ url: 'https://example.com/ios', conditions: [{ type: 'os', in: ['iOS'] }, { type: 'time', from: '22:00', to: '06:00', tz: 'Europe/Berlin', weekdays: [1, 5] }] }],
      variants: body.variants,
      valid_from: '2026-01-01T00:00:00.000Z',
      valid_until: '2098-12-31T23:00:00.000Z',
      max_scans: 100,
      expired_url: 'https://example.com/over',
      password_protected: true,
      utm: { source: 'flyer', campaign: 'spring' },
      state: 'live',
    });
    expect(JSON.stringify(created)).not.toContain('a long password');
    const read = await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${created.id}`, { token }));
    expect(read.data).toEqual({ ...created, scan_count: 0 });

    const patched = await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${created.id}`, { token, body: { variants: null, max_scans: null, utm: { medium: 'print' }, name: 'Renamed' } }));
    expect(patched.data).toMatchObject({ name: 'Renamed', variants: null, max_scans: null, utm: { medium: 'print' }, password_protected: true, expired_url: 'https://example.com/over' });
    const cleared = await json<{ data: QrView }>(
      await srv.request('PATCH', `/api/v1/qr/${created.id}`, { token, body: { redirect_rules: null, valid_from: null, valid_until: null, expired_url: null, password: null, utm: null } }),
    );
    expect(cleared.data).toMatchObject({ redirect_rules: [], valid_from: null, valid_until: null, expired_url: null, password_protected: false, utm: null, state: 'live' });
    expect((await srv.running.store.get('qrcodes', created.id))?.smart).toBeUndefined();
  });

  it('answers 400 with one detail per bad field', async () => {
    const response = await srv.request('POST', '/api/v1/qr', {
      token,
      body: {
        ...base,
        redirect_rules: [
          { url: 'javascript:alert(1)', conditions: [{ type: 'planet', in: ['mars'] }] },
          { url: 'https://example.com/', conditions: [{ type: 'time', from: '24:00', to: '09:00', tz: 'Mars/Olympus' }, { type: 'country', in: ['Germany'] }] },
        ],
        variants: [{ url: 'https://example.com/a', weight: 0 }, { url: 'https://example.com/b', weight: 0 }],
        expired_url: 'ftp://example.com/',
        utm: { source: 'x', channel: 'y' },
        password: 'short',
      },
    });
    const body = await expectError(response, 400, 'validation_error');
    expect(body.error.details?.map((d) => d.field).sort()).toEqual(
      [
        'expired_url',
        'password',
        'redirect_rules.0.conditions.0.type',
        'redirect_rules.0.url',
        'redirect_rules.1.conditions.0.from',
        'redirect_rules.1.conditions.0.tz',
        'redirect_rules.1.conditions.1.in.0',
        'utm.channel',
        'variants',
      ].sort(),
    );
    expect(body.error.details?.find((d) => d.field === 'redirect_rules.0.conditions.0.type')?.message).toMatch(/unknown condition type/);
    expect(JSON.stringify(body)).not.toContain('short"');
  });

  it('refuses a window that ends before it starts, also when an update sets one end', async () => {
    const bad = await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { ...base, valid_from: '2026-06-01T00:00:00Z', valid_until: '2026-05-01T00:00:00Z' } }), 400);
    expect(bad.error.details).toEqual([{ field: 'valid_until', message: expect.stringContaining('later than valid_from') }]);
    const qr = await createQr(srv, token, { ...base, valid_from: '2026-06-01T00:00:00Z' });
    await expectError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { valid_until: '2026-06-01T00:00:00Z' } }), 400);
  });

  it('refuses more than 20 rules and fewer than 2 or more than 10 variants', async () => {
    const rule = { url: 'https://example.com/', conditions: [{ type: 'device', in: ['mobile'] }] };
    expect((await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { ...base, redirect_rules: Array(21).fill(rule) } }), 400)).error.details?.[0]?.field).toBe('redirect_rules');
    const variant = { url: 'https://example.com/', weight: 1 };
    await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { ...base, variants: [variant] } }), 400);
    await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { ...base, variants: Array(11).fill(variant) } }), 400);
  });

  it('refuses smart fields on a static code', async () => {
    const body = await expectError(await srv.request('POST', '/api/v1/qr', { token, body: { ...base, mode: 'static', max_scans: 5, password: 'long enough' } }), 400);
    expect(body.error.details?.map((d) => d.field)).toEqual(['max_scans', 'password']);
  });

  it('bulk create and bulk update take the same fields', async () => {
    const created = await srv.request('POST', '/api/v1/qr/bulk', { token, body: { items: [{ ...base, max_scans: 7, utm: { source: 'bulk' } }, { ...base, variants: [{ url: 'https://example.com/a', weight: 0 }] }] } });
    expect(created.status).toBe(200);
    const results = (await json<{ data: Array<{ status: number; data: QrView }> }>(created)).data;
    expect(results[0]).toMatchObject({ status: 201, data: { max_scans: 7, utm: { source: 'bulk' } } });
    expect(results[1]?.status).toBe(400);
    const id = results[0]!.data.id;
    const updated = await srv.request('PATCH', '/api/v1/qr/bulk', { token, body: { ids: [id], set: { password: 'bulk password', max_scans: null } } });
    const updateResults = (await json<{ data: Array<{ status: number; data: QrView }> }>(updated)).data;
    expect(updateResults[0]).toMatchObject({ status: 200, data: { password_protected: true, max_scans: null, utm: { source: 'bulk' } } });
  });
});
