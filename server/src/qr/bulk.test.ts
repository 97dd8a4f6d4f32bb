import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json } from '../../../test/helpers/qr.js';
import { startReceiver, waitFor, type Receiver } from '../webhooks/test-receiver.js';
import type { WorkspaceRecord } from '../store/records.js';
import type { QrView } from './schemas.js';

interface Item {
  index: number;
  status: number;
  data?: any;
  error?: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

let srv: TestServer;
let plansDir: string;
let receiver: Receiver;

beforeAll(async () => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-bulk-'));
  const plansFile = path.join(plansDir, 'plans.json');
  const base = { api_access: true, requests_per_minute: 6000, monthly_image_credits: 100, max_api_keys: 20, max_domains: 1 };
  fs.writeFileSync(
    plansFile,
    JSON.stringify({
      five_codes: { ...base, name: 'Five codes', monthly_api_calls: 100_000, max_qr_codes: 5 },
      ten_calls: { ...base, name: 'Ten calls', monthly_api_calls: 10, max_qr_codes: 1000 },
    }),
  );
  srv = await startTestServer({ plan: 'business', env: { QRFLOW_PLANS_FILE: plansFile, QRFLOW_DOMAIN_VERIFICATION: 'off' } });
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await srv?.cleanup();
  fs.rmSync(plansDir, { recursive: true, force: true });
});

async function fresh(plan = 'business'): Promise<{ key: string; workspace: WorkspaceRecord }> {
  const { workspace } = await srv.createWorkspace(`Bulk ${Math.random().toString(36).slice(2, 8)}`, plan);
  return { key: (await srv.createKey({ workspace })).secret, workspace };
}

async function bulk(method: string, key: string, body: unknown, headers?: Record<string, string>): Promise<{ items: Item[]; response: Response }> {
  const response = await srv.request(method, '/api/v1/qr/bulk', { token: key, body, ...(headers ? { headers } : {}) });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return { items: (JSON.parse(text) as { data: Item[] }).data, response };
}

const good = (n: number, extra: Record<string, unknown> = {}) => ({ name: `Bulk ${n}`, destination_url: `https://example.com/bulk/${n}`, ...extra });

describe('POST /api/v1/qr/bulk', () => {
  it('creates the good items and answers each bad one with its own error, in order', async () => {
    const { key } = await fresh();
    const { items } = await bulk('POST', key, {
      items: [good(0), { name: 'No destination' }, good(2, { tags: ['spring'] }), { name: 'Bad scheme', destination_url: 'javascript:alert(1)' }, 'not an object', good(5, { unknown_field: 1 }), good(6, { domain: 'go.not-mine.com' })],
    });
    expect(items.map((i) => [i.index, i.status])).toEqual([[0, 201], [1, 400], [2, 201], [3, 400], [4, 400], [5, 400], [6, 400]]);
    expect(items[0]?.data).toMatchObject({ name: 'Bulk 0', mode: 'dynamic', short_url: expect.stringContaining('/r/') });
    expect(items[1]?.error?.details?.map((d) => d.field)).toContain('destination_url');
    expect(items[3]?.error?.code).toBe('validation_error');
    expect(items[6]?.error?.code).toBe('domain_not_available');
    const listed = await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token: key }));
    expect(listed.data.map((q) => q.name).sort()).toEqual(['Bulk 0', 'Bulk 2']);
    // the created codes redirect
    const created = items[2]?.data as QrView;
    expect((await fetch(`${srv.baseUrl}/r/${created.short_code}`, { redirect: 'manual' })).headers.get('location')).toBe('https://example.com/bulk/2');
  });

  it('creates codes on a custom domain', async () => {
    const { key } = await fresh();
    expect((await srv.request('POST', '/api/v1/domains', { token: key, body: { hostname: 'go.bulk-domain.com' } })).status).toBe(201);
    const { items } = await bulk('POST', key, { items: [good(0, { domain: 'go.bulk-domain.com' }), good(1, { domain: 'go.bulk-domain.com' })] });
    expect(items.every((i) => i.status === 201 && String(i.data.short_url).startsWith('https://go.bulk-domain.com/'))).toBe(true);
  });

  it('checks every item without creating anything with ?dry_run=true', async () => {
    const { key } = await fresh('five_codes');
    const response = await srv.request('POST', '/api/v1/qr/bulk?dry_run=true', { token: key, body: { items: [good(0), { name: 'Bad' }, good(2), good(3), good(4), good(5), good(6)] } });
    expect(response.status).toBe(200);
    const { data } = await json<{ data: Item[] }>(response);
    expect(data.map((i) => i.status)).toEqual([200, 400, 200, 200, 200, 200, 403]);
    expect(data[0]?.data).toEqual({ valid: true });
    const listed = await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token: key }));
    expect(listed.data).toEqual([]);
  });

  it('is safe to retry with the same Idempotency-Key: the same results, nothing created twice', async () => {
    const { key } = await fresh();
    const body = { items: [good(0), { name: 'Bad' }, good(2)] };
    const first = await bulk('POST', key, body, { 'idempotency-key': 'import-2026-03' });
    const [again, third] = await Promise.all([bulk('POST', key, body, { 'idempotency-key': 'import-2026-03' }), bulk('POST', key, body, { 'idempotency-key': 'import-2026-03' })]);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(third.items.map((i) => i.data?.id ?? i.error?.code)).toEqual(first.items.map((i) => i.data?.id ?? i.error?.code));
    expect(again.items.map((i) => i.data?.id ?? i.error?.code)).toEqual(first.items.map((i) => i.data?.id ?? i.error?.code));
    const listed = await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token: key }));
    expect(listed.data).toHaveLength(2);
    // the key with another body is a conflict, as for single creates
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: key, body: { items: [good(9)] }, headers: { 'idempotency-key': 'import-2026-03' } }), 409, 'idempotency_conflict');
  });

  it('counts items against the plan\'s code limit in order: past it, each valid item answers 403', async () => {
    const { key } = await fresh('five_codes');
    await createQr(srv, key, good(100));
    await createQr(srv, key, good(101));
    const { items } = await bulk('POST', key, { items: [good(0), { name: 'Bad' }, good(2), good(3), good(4), good(5)] });
    expect(items.map((i) => i.status)).toEqual([201, 400, 201, 201, 403, 403]);
    expect(items[4]?.error?.code).toBe('qr_limit_reached');
    const listed = await json<{ data: QrView[] }>(await srv.request('GET', '/api/v1/qr?limit=100', { token: key }));
    expect(listed.data).toHaveLength(5);
  });

  it("counts every item as an API call: items past the month's allowance answer 429", async () => {
    const { key } = await fresh('ten_calls');
    // three single calls, then a bulk of nine: its first seven items fit in the ten calls
    for (let i = 0; i < 3; i++) expect((await srv.request('GET', '/api/v1/qr', { token: key })).status).toBe(200);
    const { items } = await bulk('POST', key, { items: Array.from({ length: 9 }, (_, n) => good(n)) });
    expect(items.map((i) => i.status)).toEqual([201, 201, 201, 201, 201, 201, 201, 429, 429]);
    expect(items[7]?.error?.code).toBe('monthly_quota_exceeded');
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: key, body: { items: [good(1)] } }), 429, 'monthly_quota_exceeded');
  });

  it('bounds the call: 1 to 100 items', async () => {
    const { key } = await fresh();
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: key, body: { items: [] } }), 400);
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: key, body: { items: Array.from({ length: 101 }, (_, n) => good(n)) } }), 400);
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: key, body: [good(1)] }), 400);
  });

  it('sends one webhook event, and one feed event, per created code', async () => {
    const { key } = await fresh();
    expect((await srv.request('POST', '/api/v1/webhooks', { token: key, body: { url: receiver.url('/bulk-created'), events: ['qr.created', 'qr.updated', 'qr.deleted'] } })).status).toBe(201);
    const { items } = await bulk('POST', key, { items: [good(0), good(1), { name: 'Bad' }, good(3)] });
    const ids = items.filter((i) => i.status === 201).map((i) => i.data.id as string).sort();
    const received = await waitFor(() => {
      const got = receiver.received.filter((r) => r.path === '/bulk-created' && r.body.type === 'qr.created');
      return got.length >= 3 && got;
    }, 'three qr.created deliveries');
    expect(received.map((r) => r.body.data.id as string).sort()).toEqual(ids);
    const feed = await json<{ data: Array<{ type: string; data: { id: string } }> }>(await srv.request('GET', '/api/v1/events?limit=100', { token: key }));
    expect(feed.data.filter((e) => e.type === 'qr.created').map((e) => e.data.id).sort()).toEqual(ids);

    const updated = await bulk('PATCH', key, { ids, set: { status: 'paused' } });
    expect(updated.items.every((i) => i.status === 200)).toBe(true);
    await waitFor(() => receiver.received.filter((r) => r.path === '/bulk-created' && r.body.type === 'qr.updated').length === 3, 'three qr.updated deliveries');
    await bulk('DELETE', key, { ids });
    await waitFor(() => receiver.received.filter((r) => r.path === '/bulk-created' && r.body.type === 'qr.deleted').length === 3, 'three qr.deleted deliveries');
  });
});

describe('PATCH /api/v1/qr/bulk', () => {
  it('updates codes by id with per-item results; unknown and other workspaces\' ids are 404s', async () => {
    const { key } = await fresh();
    const other = await fresh();
    const a = await createQr(srv, key, good(0));
    const b = await createQr(srv, key, good(1));
    const foreign = await createQr(srv, other.key, good(2));
    const { items } = await bulk('PATCH', key, { ids: [a.id, 'qr_doesnotexist', foreign.id, b.id], set: { destination_url: 'https://example.com/moved', tags: ['moved'] } });
    expect(items.map((i) => i.status)).toEqual([200, 404, 404, 200]);
    expect(items[0]?.data).toMatchObject({ id: a.id, destination_url: 'https://example.com/moved', tags: ['moved'] });
    expect((await fetch(`${srv.baseUrl}/r/${b.short_code}`, { redirect: 'manual' })).headers.get('location')).toBe('https://example.com/moved');
    const untouched = await json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${foreign.id}`, { token: other.key }));
    expect(untouched.data.destination_url).toBe('https://example.com/bulk/2');
  });

  it('updates every code with a tag, and answers per item what cannot change', async () => {
    const { key } = await fresh();
    const spring = [await createQr(srv, key, good(0, { tags: ['spring'] })), await createQr(srv, key, good(1, { tags: ['spring', 'print'] }))];
    await createQr(srv, key, { name: 'Static', mode: 'static', destination_url: 'https://example.com/s', tags: ['spring'] });
    await createQr(srv, key, good(3, { tags: ['autumn'] }));
    const { items } = await bulk('PATCH', key, { tag: 'spring', set: { status: 'paused' } });
    expect(items).toHaveLength(3);
    expect(items.every((i) => i.status === 200 && i.data.status === 'paused')).toBe(true);
    const moved = await bulk('PATCH', key, { tag: 'spring', set: { domain: null, status: 'active' } });
    // a static code has no link to move
    expect(moved.items.find((i) => i.status === 400)?.error?.details?.[0]?.field).toBe('domain');
    expect(moved.items.filter((i) => i.status === 200).map((i) => i.data.id).sort()).toEqual(spring.map((q) => q.id).sort());
    expect(moved.items.filter((i) => i.status === 400)).toHaveLength(1);
  });

  it('refuses a body naming both ids and tag, neither, an empty set, or too many ids', async () => {
    const { key } = await fresh();
    const a = await createQr(srv, key, good(0));
    for (const body of [{ ids: [a.id], tag: 'x', set: { status: 'paused' } }, { set: { status: 'paused' } }, { ids: [a.id], set: {} }, { ids: [a.id], set: { short_code: 'abc' } }, { ids: Array.from({ length: 101 }, (_, n) => `qr_${n}`), set: { status: 'paused' } }, { ids: [a.id, a.id], set: { status: 'paused' } }]) {
      await expectError(await srv.request('PATCH', '/api/v1/qr/bulk', { token: key, body }), 400);
    }
  });
});

describe('DELETE /api/v1/qr/bulk', () => {
  it('deletes codes by id with per-item results; their links answer 410', async () => {
    const { key } = await fresh();
    const a = await createQr(srv, key, good(0));
    const b = await createQr(srv, key, good(1));
    const { items } = await bulk('DELETE', key, { ids: [a.id, 'qr_missing', b.id] });
    expect(items).toEqual([{ index: 0, status: 200, data: { id: a.id, deleted: true } }, expect.objectContaining({ index: 1, status: 404 }), { index: 2, status: 200, data: { id: b.id, deleted: true } }]);
    expect((await fetch(`${srv.baseUrl}/r/${a.short_code}`, { redirect: 'manual' })).status).toBe(410);
    const again = await bulk('DELETE', key, { ids: [a.id] });
    expect(again.items[0]?.status).toBe(404);
  });

  it('needs the qr:write scope', async () => {
    const { workspace } = await fresh();
    const reader = (await srv.createKey({ workspace, scopes: ['qr:read'] })).secret;
    await expectError(await srv.request('DELETE', '/api/v1/qr/bulk', { token: reader, body: { ids: ['qr_x'] } }), 403);
    await expectError(await srv.request('POST', '/api/v1/qr/bulk', { token: reader, body: { items: [good(0)] } }), 403);
  });
});
