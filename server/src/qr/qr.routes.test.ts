import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from './schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, scan } from '../../../test/helpers/qr.js';

// Short codes the generator offers next, before random ones: lets a test offer a deleted code's short code again.
const offeredShortCodes = vi.hoisted(() => [] as string[]);
vi.mock('../random.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../random.js')>();
  return { ...actual, randomBase62: (length: number) => (length === 7 && offeredShortCodes.length > 0 ? (offeredShortCodes.shift() as string) : actual.randomBase62(length)) };
});

const PUBLIC_URL = 'https://qr.example.test';
const clock = new ManualClock(Date.parse('2026-03-02T09:00:00Z'));
let srv: TestServer;
let token: string;
let plansDir: string;

beforeAll(async () => {
  // a tiny plan so the QR code limit is reachable in a test
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-plans-'));
  const plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(
    plansFile,
    JSON.stringify({
      tiny: { name: 'Tiny', api_access: true, requests_per_minute: 600, monthly_api_calls: 10_000, monthly_image_credits: 100, max_qr_codes: 2, max_api_keys: 5 },
    }),
  );
  srv = await startTestServer({ clock, env: { QRFLOW_PUBLIC_URL: PUBLIC_URL, QRFLOW_PLANS_FILE: plansFile } });
  token = (await srv.createKey()).secret;
});

afterAll(async () => {
  await srv.cleanup();
  fs.rmSync(plansDir, { recursive: true, force: true });
});

const post = (body: unknown, headers?: Record<string, string>) => srv.request('POST', '/api/v1/qr', { token, body, ...(headers ? { headers } : {}) });
const get = (id: string) => srv.request('GET', `/api/v1/qr/${id}`, { token });

/** Expects a 400 whose details name `field`. */
async function expectFieldError(response: Response, field: string): Promise<void> {
  const body = await expectError(response, 400);
  expect(body.error.details?.map((detail) => detail.field)).toContain(field);
}

describe('creating QR codes of every type', () => {
  it('creates a dynamic url code that encodes a short link under the public URL', async () => {
    const qr = await createQr(srv, token, { name: 'Spring flyer', destination_url: 'https://example.com/spring', tags: ['print', 'spring'], style: { foreground: '#112233', error_correction: 'H' } });
    expect(qr).toMatchObject({
      name: 'Spring flyer',
      type: 'url',
      mode: 'dynamic',
      destination_url: 'https://example.com/spring',
      content: null,
      status: 'active',
      tags: ['print', 'spring'],
      style: { foreground: '#112233', background: '#ffffff', margin: 4, error_correction: 'H' },
      scan_count: 0,
      created_at: '2026-03-02T09:00:00.000Z',
      updated_at: '2026-03-02T09:00:00.000Z',
    });
    expect(qr.id).toMatch(/^qr_/);
    expect(qr.short_code).toMatch(/^[0-9A-Za-z]{7}$/);
    expect(qr.short_url).toBe(`${PUBLIC_URL}/r/${qr.short_code}`);
  });

  it('creates a static url code with no short link', async () => {
    const qr = await createQr(srv, token, { name: 'Static link', mode: 'static', destination_url: 'http://example.org/' });
    expect(qr).toMatchObject({ type: 'url', mode: 'static', destination_url: 'http://example.org/', short_code: null, short_url: null });
  });

  it.each([
    ['text', { text: 'Hello, printed world' }, { text: 'Hello, printed world' }],
    ['email', { to: 'sales@example.com', subject: 'Quote', body: 'Please send a quote.' }, { to: 'sales@example.com', subject: 'Quote', body: 'Please send a quote.' }],
    ['phone', { number: '+1 (555) 010-9999' }, { number: '+1 (555) 010-9999' }],
    ['sms', { number: '+44 7700 900123', message: 'STOP' }, { number: '+44 7700 900123', message: 'STOP' }],
    ['wifi', { ssid: 'Cafe Guest', password: 'espresso;42' }, { ssid: 'Cafe Guest', password: 'espresso;42', encryption: 'WPA', hidden: false }],
    [
      'vcard',
      { first_name: 'Ada', last_name: 'Lovelace', organization: 'Analytical Engines', phone: '+44 20 7946 0000', email: 'ada@example.com', url: 'https://example.com/ada' },
      { first_name: 'Ada', last_name: 'Lovelace', organization: 'Analytical Engines', phone: '+44 20 7946 0000', email: 'ada@example.com', url: 'https://example.com/ada' },
    ],
  ])('creates a static %s code and returns its validated content with defaults filled in', async (type, content, expected) => {
    const qr = await createQr(srv, token, { name: `A ${type} code`, type, mode: 'static', content });
    expect(qr).toMatchObject({ type, mode: 'static', destination_url: null, short_code: null, short_url: null });
    expect(qr.content).toEqual(expected);
    const fetched = await json<{ data: QrView }>(await get(qr.id));
    expect(fetched.data.content).toEqual(expected);
  });
});

describe('refusing invalid QR codes', () => {
  it.each([
    ['url without a destination', { name: 'x', type: 'url' }, 'destination_url'],
    ['url with a relative destination', { name: 'x', destination_url: '/spring' }, 'destination_url'],
    ['text with empty text', { name: 'x', type: 'text', mode: 'static', content: { text: '' } }, 'content.text'],
    ['email with a bad address', { name: 'x', type: 'email', mode: 'static', content: { to: 'not-an-email' } }, 'content.to'],
    ['phone with letters', { name: 'x', type: 'phone', mode: 'static', content: { number: 'call me' } }, 'content.number'],
    ['sms with an overlong message', { name: 'x', type: 'sms', mode: 'static', content: { number: '+15550100', message: 'x'.repeat(501) } }, 'content.message'],
    ['wifi without an ssid', { name: 'x', type: 'wifi', mode: 'static', content: { password: 'secret' } }, 'content.ssid'],
    ['wifi with an unknown encryption', { name: 'x', type: 'wifi', mode: 'static', content: { ssid: 'Net', encryption: 'WPA3' } }, 'content.encryption'],
    ['vcard without a first name', { name: 'x', type: 'vcard', mode: 'static', content: { last_name: 'Lovelace' } }, 'content.first_name'],
    ['vcard with a javascript: url', { name: 'x', type: 'vcard', mode: 'static', content: { first_name: 'Ada', url: 'javascript:alert(1)' } }, 'content.url'],
    ['text content with an unknown field', { name: 'x', type: 'text', mode: 'static', content: { text: 'hi', colour: 'red' } }, 'content.colour'],
    ['a dynamic text code', { name: 'x', type: 'text', mode: 'dynamic', content: { text: 'hi' } }, 'mode'],
    ['a text code without content', { name: 'x', type: 'text', mode: 'static' }, 'content'],
    ['a text code with a destination', { name: 'x', type: 'text', mode: 'static', content: { text: 'hi' }, destination_url: 'https://example.com/' }, 'destination_url'],
    ['a url code with content', { name: 'x', destination_url: 'https://example.com/', content: { text: 'hi' } }, 'content'],
    ['an unknown type', { name: 'x', type: 'pdf', mode: 'static' }, 'type'],
    ['a bad colour', { name: 'x', destination_url: 'https://example.com/', style: { foreground: 'red' } }, 'style.foreground'],
    ['an unknown error-correction level', { name: 'x', destination_url: 'https://example.com/', style: { error_correction: 'X' } }, 'style.error_correction'],
  ])('answers 400 naming the field for %s', async (_label, body, field) => {
    await expectFieldError(await post(body), field);
  });

  it.each(['javascript:alert(document.cookie)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'https://user:pass@example.com/', 'https://user@example.com/', 'ftp://example.com/file'])(
    'refuses the destination %s with 400',
    async (destination) => {
      await expectFieldError(await post({ name: 'Unsafe', destination_url: destination }), 'destination_url');
    },
  );

  it.each([
    ['id', 'qr_chosen_by_client'],
    ['workspace_id', 'ws_someone_else'],
    ['scan_count', 1_000_000],
    ['short_code', 'vanity1'],
    ['created_at', '2020-01-01T00:00:00Z'],
    ['updated_at', '2020-01-01T00:00:00Z'],
  ])('refuses the server-owned field %s with 400 (no mass assignment)', async (field, value) => {
    const body = await expectError(await post({ name: 'Mass assignment', destination_url: 'https://example.com/', [field]: value }), 400, 'validation_error');
    expect(body.error.details?.some((detail) => detail.field.includes(field))).toBe(true);
  });

  it('accepts a name of 1 and of 120 characters and refuses empty, blank and 121-character names', async () => {
    expect((await createQr(srv, token, { name: 'A', destination_url: 'https://example.com/' })).name).toBe('A');
    expect((await createQr(srv, token, { name: 'n'.repeat(120), destination_url: 'https://example.com/' })).name).toHaveLength(120);
    for (const name of ['', '   ', 'n'.repeat(121)]) await expectFieldError(await post({ name, destination_url: 'https://example.com/' }), 'name');
    await expectFieldError(await post({ destination_url: 'https://example.com/' }), 'name');
  });

  it('refuses static content too long for a QR code at its error-correction level, and accepts it at a lower one', async () => {
    const text = 'é'.repeat(1000); // 2000 bytes: over the 1273 bytes level H holds, under the 2953 of level L
    await expectFieldError(await post({ name: 'Too long', type: 'text', mode: 'static', content: { text }, style: { error_correction: 'H' } }), 'content');
    await expectFieldError(await post({ name: 'Too long', mode: 'static', destination_url: `https://example.com/${'a'.repeat(2000)}`, style: { error_correction: 'H' } }), 'destination_url');
    const fits = await createQr(srv, token, { name: 'Fits', type: 'text', mode: 'static', content: { text }, style: { error_correction: 'L' } });
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${fits.id}`, { token, body: { style: { error_correction: 'H' } } }), 'style.error_correction');
    expect((await json<{ data: QrView }>(await get(fits.id))).data.style.error_correction).toBe('L');
    // the text limit is 2000 characters; digits pack tighter than bytes, so 2000 of them fit at level H too
    await createQr(srv, token, { name: 'Digits', type: 'text', mode: 'static', content: { text: '7'.repeat(2000) }, style: { error_correction: 'H' } });
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    await expectError(await srv.request('POST', '/api/v1/qr', { token, body: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  });

  it('reports every bad field at once, one details entry each', async () => {
    const body = await expectError(await post({ name: '', destination_url: 'javascript:void(0)', tags: 'not-a-list' }), 400);
    expect(body.error.details?.map((detail) => detail.field).sort()).toEqual(['destination_url', 'name', 'tags']);
  });
});

describe("the plan's QR code limit", () => {
  it('answers 403 qr_limit_reached once the workspace holds max_qr_codes, and allows a create again after a delete', async () => {
    const small = await srv.createWorkspace('Tiny plan');
    await srv.running.app.services.workspaces.setPlan(small.workspace, 'tiny');
    const { secret } = await srv.createKey({ workspace: small.workspace });
    const first = await createQr(srv, secret, { name: 'one', destination_url: 'https://example.com/1' });
    await createQr(srv, secret, { name: 'two', destination_url: 'https://example.com/2' });
    const refused = await expectError(await srv.request('POST', '/api/v1/qr', { token: secret, body: { name: 'three', destination_url: 'https://example.com/3' } }), 403, 'qr_limit_reached');
    expect(refused.error.message).toContain('2');
    expect((await srv.request('DELETE', `/api/v1/qr/${first.id}`, { token: secret })).status).toBe(200);
    await createQr(srv, secret, { name: 'three', destination_url: 'https://example.com/3' });
  });
});

describe('idempotent creates', () => {
  const body = { name: 'Retried by Zapier', destination_url: 'https://example.com/retry' };
  const countNamed = async (name: string) => (await json<{ data: QrView[] }>(await srv.request('GET', `/api/v1/qr?search=${encodeURIComponent(name)}&limit=100`, { token }))).data.length;

  it('returns the first result for a retry with the same key and body, marked Idempotent-Replayed, and makes one code', async () => {
    const first = await post(body, { 'Idempotency-Key': 'retry-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await post(body, { 'Idempotency-Key': 'retry-1' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<{ data: QrView }>(second)).data.id).toBe((await json<{ data: QrView }>(first)).data.id);
    expect(await countNamed(body.name)).toBe(1);
  });

  it('treats the same body with its fields in another order as the same request', async () => {
    const first = await createQr(srv, token, { name: 'Field order', destination_url: 'https://example.com/order', tags: ['x'] }, { 'Idempotency-Key': 'order-1' });
    const second = await post({ tags: ['x'], destination_url: 'https://example.com/order', name: 'Field order' }, { 'Idempotency-Key': 'order-1' });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<{ data: QrView }>(second)).data.id).toBe(first.id);
  });

  it('makes one code for concurrent identical requests with the same key', async () => {
    const concurrent = { name: 'Concurrent retry', destination_url: 'https://example.com/concurrent' };
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(concurrent, { 'Idempotency-Key': 'concurrent-1' })));
    const bodies = await Promise.all(responses.map((response) => json<{ data: QrView }>(response)));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(201));
    expect(new Set(bodies.map((b) => b.data.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    expect(await countNamed(concurrent.name)).toBe(1);
  });

  it('answers 409 idempotency_conflict when the key is reused with a different body', async () => {
    await createQr(srv, token, { name: 'Conflict', destination_url: 'https://example.com/a' }, { 'Idempotency-Key': 'conflict-1' });
    await expectError(await post({ name: 'Conflict', destination_url: 'https://example.com/b' }, { 'Idempotency-Key': 'conflict-1' }), 409, 'idempotency_conflict');
    expect(await countNamed('Conflict')).toBe(1);
  });

  it('treats keys of different workspaces as different keys', async () => {
    const other = await srv.createWorkspace('Other idempotency');
    const { secret } = await srv.createKey({ workspace: other.workspace });
    const mine = await createQr(srv, token, { name: 'Shared key', destination_url: 'https://example.com/' }, { 'Idempotency-Key': 'shared-key' });
    const theirs = await createQr(srv, secret, { name: 'Shared key', destination_url: 'https://example.com/' }, { 'Idempotency-Key': 'shared-key' });
    expect(theirs.id).not.toBe(mine.id);
  });

  it('makes a new code for a key first used more than 24 hours ago', async () => {
    const daily = { name: 'Daily retry', destination_url: 'https://example.com/daily' };
    const first = await createQr(srv, token, daily, { 'Idempotency-Key': 'daily-1' });
    clock.advance(23 * 3600_000);
    const replay = await post(daily, { 'Idempotency-Key': 'daily-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<{ data: QrView }>(replay)).data.id).toBe(first.id);
    clock.advance(3600_000);
    const later = await post(daily, { 'Idempotency-Key': 'daily-1' });
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect((await json<{ data: QrView }>(later)).data.id).not.toBe(first.id);
    expect(await countNamed(daily.name)).toBe(2);
  });

  it('refuses an Idempotency-Key longer than 255 characters with 400', async () => {
    await expectError(await post(body, { 'Idempotency-Key': 'k'.repeat(256) }), 400, 'validation_error');
  });
});

describe('reading, updating and deleting a QR code', () => {
  it('gets a code by id and answers 404 for an unknown id', async () => {
    const qr = await createQr(srv, token, { name: 'Get me', destination_url: 'https://example.com/get' });
    const response = await get(qr.id);
    expect(response.status).toBe(200);
    expect((await json<{ data: QrView }>(response)).data).toEqual(qr);
    await expectError(await get('qr_doesnotexist'), 404, 'not_found');
  });

  it.each(['PUT', 'PATCH'])('%s changes only the fields given and keeps the others', async (method) => {
    const qr = await createQr(srv, token, { name: `Before ${method}`, destination_url: 'https://example.com/before', tags: ['keep'], style: { foreground: '#222222', margin: 2 } });
    clock.advance(60_000);
    const response = await srv.request(method, `/api/v1/qr/${qr.id}`, { token, body: { destination_url: 'https://example.com/after', style: { error_correction: 'Q' } } });
    expect(response.status).toBe(200);
    const updated = (await json<{ data: QrView }>(response)).data;
    expect(updated).toMatchObject({
      id: qr.id,
      name: `Before ${method}`,
      destination_url: 'https://example.com/after',
      tags: ['keep'],
      short_code: qr.short_code,
      status: 'active',
      style: { foreground: '#222222', background: '#ffffff', margin: 2, error_correction: 'Q' },
      created_at: qr.created_at,
    });
    expect(Date.parse(updated.updated_at)).toBe(Date.parse(qr.updated_at) + 60_000);
    expect((await json<{ data: QrView }>(await get(qr.id))).data).toEqual(updated);
  });

  it('changes name, status and tags together', async () => {
    const qr = await createQr(srv, token, { name: 'Several', destination_url: 'https://example.com/' });
    const response = await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { name: 'Renamed', status: 'paused', tags: ['a', 'b', 'a'] } });
    expect((await json<{ data: QrView }>(response)).data).toMatchObject({ name: 'Renamed', status: 'paused', tags: ['a', 'b'], destination_url: 'https://example.com/' });
  });

  it.each([
    ['type', 'text'],
    ['mode', 'static'],
    ['short_code', 'vanity9'],
    ['id', 'qr_other'],
  ])('answers 400 immutable_field when %s would change', async (field, value) => {
    const qr = await createQr(srv, token, { name: 'Immutable', destination_url: 'https://example.com/' });
    const body = await expectError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { [field]: value } }), 400, 'immutable_field');
    expect(body.error.details).toEqual([{ field, message: 'cannot be changed' }]);
    expect((await json<{ data: QrView }>(await get(qr.id))).data).toEqual(qr);
  });

  it('accepts an unchanged immutable field, as clients that send the whole object do', async () => {
    const qr = await createQr(srv, token, { name: 'Round trip', destination_url: 'https://example.com/' });
    const response = await srv.request('PUT', `/api/v1/qr/${qr.id}`, { token, body: { type: 'url', mode: 'dynamic', short_code: qr.short_code, name: 'Round trip 2' } });
    expect(response.status).toBe(200);
    expect((await json<{ data: QrView }>(response)).data.name).toBe('Round trip 2');
  });

  it('refuses server-owned fields and unsafe destinations in an update', async () => {
    const qr = await createQr(srv, token, { name: 'Update guard', destination_url: 'https://example.com/' });
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { scan_count: 99 } }), 'scan_count');
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { destination_url: 'javascript:alert(1)' } }), 'destination_url');
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${qr.id}`, { token, body: { name: '' } }), 'name');
    expect((await json<{ data: QrView }>(await get(qr.id))).data.destination_url).toBe('https://example.com/');
  });

  it('changes the content of a static code and revalidates it', async () => {
    const qr = await createQr(srv, token, { name: 'Guest wifi', type: 'wifi', mode: 'static', content: { ssid: 'Old', password: 'old-pass' } });
    const response = await srv.request('PUT', `/api/v1/qr/${qr.id}`, { token, body: { content: { ssid: 'New', encryption: 'nopass' } } });
    expect(response.status).toBe(200);
    expect((await json<{ data: QrView }>(response)).data.content).toEqual({ ssid: 'New', encryption: 'nopass', hidden: false });
    await expectFieldError(await srv.request('PUT', `/api/v1/qr/${qr.id}`, { token, body: { content: { ssid: 'x'.repeat(33) } } }), 'content.ssid');
    expect((await json<{ data: QrView }>(await get(qr.id))).data.content).toEqual({ ssid: 'New', encryption: 'nopass', hidden: false });
  });

  it('refuses content for a dynamic code and a destination for a non-url code', async () => {
    const dynamic = await createQr(srv, token, { name: 'Dyn', destination_url: 'https://example.com/' });
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${dynamic.id}`, { token, body: { content: { text: 'x' } } }), 'content');
    const text = await createQr(srv, token, { name: 'Txt', type: 'text', mode: 'static', content: { text: 'hi' } });
    await expectFieldError(await srv.request('PATCH', `/api/v1/qr/${text.id}`, { token, body: { destination_url: 'https://example.com/' } }), 'destination_url');
  });

  it('answers 404 when updating or deleting an unknown code', async () => {
    await expectError(await srv.request('PATCH', '/api/v1/qr/qr_missing', { token, body: { name: 'x' } }), 404);
    await expectError(await srv.request('DELETE', '/api/v1/qr/qr_missing', { token }), 404);
  });

  it('deletes a code: the answer names it, GET then answers 404, its short link 410, and a second delete 404', async () => {
    const qr = await createQr(srv, token, { name: 'Delete me', destination_url: 'https://example.com/gone' });
    expect((await scan(srv, qr.short_code!)).status).toBe(302);
    const response = await srv.request('DELETE', `/api/v1/qr/${qr.id}`, { token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { id: qr.id, deleted: true } });
    await expectError(await get(qr.id), 404, 'not_found');
    const link = await scan(srv, qr.short_code!);
    expect(link.status).toBe(410);
    expect(link.headers.get('content-type')).toContain('text/html');
    await expectError(await srv.request('DELETE', `/api/v1/qr/${qr.id}`, { token }), 404);
  });

  it("never reissues a deleted code's short code", async () => {
    const deleted = await createQr(srv, token, { name: 'Tombstoned', destination_url: 'https://example.com/' });
    expect((await srv.request('DELETE', `/api/v1/qr/${deleted.id}`, { token })).status).toBe(200);
    // the generator offers the deleted code first: the new code must skip it
    offeredShortCodes.push(deleted.short_code!);
    const fresh = await createQr(srv, token, { name: 'Fresh', destination_url: 'https://example.com/fresh' });
    expect(offeredShortCodes).toEqual([]);
    expect(fresh.short_code).not.toBe(deleted.short_code);
    expect(fresh.short_code).toMatch(/^[0-9A-Za-z]{7}$/);
    expect((await scan(srv, deleted.short_code!)).status).toBe(410);
    // nor one a live code holds
    offeredShortCodes.push(fresh.short_code!);
    const another = await createQr(srv, token, { name: 'Another', destination_url: 'https://example.com/another' });
    expect(offeredShortCodes).toEqual([]);
    expect(another.short_code).not.toBe(fresh.short_code);
    expect((await scan(srv, fresh.short_code!)).headers.get('location')).toBe('https://example.com/fresh');
  });
});
