import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from './schemas.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

interface Page {
  data: QrView[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

const ORIGINAL_COUNT = 250;
const clock = new ManualClock(Date.parse('2026-04-01T08:00:00Z'));
let srv: TestServer;
let token: string;
/** The original codes, newest first (the order the list must have). */
let originals: QrView[];

beforeAll(async () => {
  srv = await startTestServer({ clock });
  token = (await srv.createKey()).secret;
  const created: QrView[] = [];
  for (let i = 0; i < ORIGINAL_COUNT; i++) {
    // three codes share each millisecond, so ties on created_at are broken by id
    if (i % 3 === 0) clock.advance(1);
    const body: Record<string, unknown> =
      i % 4 === 0
        ? { name: `Menu card ${i}`, type: 'text', mode: 'static', content: { text: `menu ${i}` } }
        : { name: `${i % 2 === 0 ? 'Poster' : 'Flyer'} ${i}`, destination_url: `https://example.com/${i}` };
    if (i % 5 === 0) body.tags = ['campaign', `batch-${i % 3}`];
    if (i % 7 === 0) body.status = 'paused';
    created.push(await createQr(srv, token, body));
  }
  originals = [...created].sort((a, b) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : a.id < b.id ? 1 : -1));
});

afterAll(async () => {
  await srv.cleanup();
});

const list = async (query: string): Promise<Page> => {
  const response = await srv.request('GET', `/api/v1/qr?${query}`, { token });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Page;
};

/** Every page of a listing, following next_cursor; `between` runs after each page. */
async function walk(query: string, between?: (page: Page, index: number) => Promise<void>): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`);
    pages.push(page);
    if (between) await between(page, pages.length - 1);
    cursor = page.pagination.next_cursor;
    expect(page.pagination.has_more).toBe(cursor !== null);
    expect(pages.length).toBeLessThan(200);
  } while (cursor);
  return pages;
}

describe('paging through QR codes', () => {
  it('lists newest first with the default limit of 20', async () => {
    const page = await list('');
    expect(page.pagination).toMatchObject({ limit: 20, has_more: true });
    expect(page.data.map((qr) => qr.id)).toEqual(originals.slice(0, 20).map((qr) => qr.id));
  });

  it('visits every code once, newest first, while codes are created between page fetches', async () => {
    const inserted: string[] = [];
    let insertNumber = 0;
    const pages = await walk('limit=7', async (page) => {
      // a new code now (it sorts before the first page) ...
      clock.advance(1);
      inserted.push((await createQr(srv, token, { name: `Inserted ${++insertNumber}`, destination_url: 'https://example.com/new' })).id);
      // ... and one stamped with the same millisecond as the last item of this page, which sorts on either side of the cursor by id
      const last = page.data[page.data.length - 1];
      if (last) {
        const now = clock.now();
        clock.set(last.created_at);
        inserted.push((await createQr(srv, token, { name: `Inserted tie ${++insertNumber}`, destination_url: 'https://example.com/tie' })).id);
        clock.set(now);
      }
    });
    expect(pages.every((page) => page.data.length <= 7)).toBe(true);
    expect(pages.slice(0, -1).every((page) => page.data.length === 7)).toBe(true);
    const seen = pages.flatMap((page) => page.data.map((qr) => qr.id));
    expect(new Set(seen).size).toBe(seen.length);
    const originalIds = new Set(originals.map((qr) => qr.id));
    expect(seen.filter((id) => originalIds.has(id))).toEqual(originals.map((qr) => qr.id));
    expect(seen.every((id) => originalIds.has(id) || inserted.includes(id))).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(ORIGINAL_COUNT / 7));
    // clean up so the filter tests below see only the original set
    for (const id of inserted) expect((await srv.request('DELETE', `/api/v1/qr/${id}`, { token })).status).toBe(200);
  });

  it('lists newest first: created_at never increases down the list', async () => {
    const pages = await walk('limit=100');
    const times = pages.flatMap((page) => page.data.map((qr) => qr.created_at));
    expect(times).toHaveLength(ORIGINAL_COUNT);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('answers one page with has_more false and no cursor when everything fits', async () => {
    const page = await list('limit=100&tag=batch-0');
    expect(page.pagination).toEqual({ limit: 100, has_more: false, next_cursor: null });
  });

  it('accepts limits of 1 and 100', async () => {
    expect((await list('limit=1')).data).toHaveLength(1);
    expect((await list('limit=100')).data).toHaveLength(100);
  });

  it.each(['0', '101', '-1', '2.5', 'many'])('answers 400 for limit=%s', async (limit) => {
    const body = await expectError(await srv.request('GET', `/api/v1/qr?limit=${limit}`, { token }), 400, 'validation_error');
    expect(body.error.details?.map((detail) => detail.field)).toContain('limit');
  });
});

describe('filtering the list', () => {
  const ids = (items: QrView[]) => items.map((qr) => qr.id);
  const all = async (query: string) => (await walk(`limit=7&${query}`)).flatMap((page) => page.data);

  it('searches names case-insensitively, across pages', async () => {
    const found = await all('search=POSTER');
    expect(ids(found)).toEqual(ids(originals.filter((qr) => qr.name.startsWith('Poster'))));
    expect(found.length).toBeGreaterThan(7);
  });

  it('filters by tag', async () => {
    const found = await all('tag=campaign');
    expect(ids(found)).toEqual(ids(originals.filter((qr) => qr.tags.includes('campaign'))));
    expect(found).toHaveLength(50);
  });

  it('filters by status', async () => {
    const paused = await all('status=paused');
    expect(ids(paused)).toEqual(ids(originals.filter((qr) => qr.status === 'paused')));
    expect(paused).toHaveLength(36);
    expect(await all('status=active')).toHaveLength(ORIGINAL_COUNT - 36);
  });

  it('filters by mode', async () => {
    const statics = await all('mode=static');
    expect(ids(statics)).toEqual(ids(originals.filter((qr) => qr.mode === 'static')));
    expect(statics.every((qr) => qr.type === 'text')).toBe(true);
    expect(await all('mode=dynamic')).toHaveLength(ORIGINAL_COUNT - statics.length);
  });

  it('combines filters', async () => {
    const found = await all('mode=dynamic&status=active&tag=campaign&search=flyer');
    const expected = originals.filter((qr) => qr.mode === 'dynamic' && qr.status === 'active' && qr.tags.includes('campaign') && qr.name.startsWith('Flyer'));
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(found)).toEqual(ids(expected));
  });

  it('answers an empty page for a search that matches nothing', async () => {
    expect(await list('search=no-such-name')).toEqual({ data: [], pagination: { limit: 20, has_more: false, next_cursor: null } });
  });

  it.each([
    ['status=deleted', 'status'],
    ['mode=hybrid', 'mode'],
    ['colour=red', 'colour'],
  ])('answers 400 for %s', async (query, field) => {
    const body = await expectError(await srv.request('GET', `/api/v1/qr?${query}`, { token }), 400);
    expect(body.error.details?.some((detail) => detail.field.includes(field))).toBe(true);
  });
});

describe('cursors', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('answers 400 invalid_cursor for garbage and tampered cursors', async () => {
    const real = (await list('limit=5')).pagination.next_cursor as string;
    const forged = [
      'not a cursor!',
      `${real}!`,
      real.slice(0, real.length - 4),
      encode({ created_at: '2026-04-01T08:00:00Z', id: 'qr_x' }),
      encode(['not-a-date', 'qr_x']),
      encode(['2026-04-01T08:00:00Z', 42]),
      encode(['2026-04-01T08:00:00Z', 'x'.repeat(65)]),
      encode(['2026-04-01T08:00:00Z']),
    ];
    for (const cursor of forged) {
      const body = await expectError(await srv.request('GET', `/api/v1/qr?cursor=${encodeURIComponent(cursor)}`, { token }), 400, 'invalid_cursor');
      expect(body.error.details).toEqual([{ field: 'cursor', message: 'invalid cursor' }]);
    }
  });

  it('answers 400 for a cursor longer than 200 characters', async () => {
    await expectError(await srv.request('GET', `/api/v1/qr?cursor=${'a'.repeat(201)}`, { token }), 400);
  });

  it('continues after the position a cursor names, even when that code has since been deleted', async () => {
    const first = await list('limit=3');
    const cursor = first.pagination.next_cursor as string;
    const lastOfPage = first.data[2] as QrView;
    expect((await srv.request('DELETE', `/api/v1/qr/${lastOfPage.id}`, { token })).status).toBe(200);
    const next = await list(`limit=3&cursor=${cursor}`);
    expect(ids(next.data)).toEqual(ids(originals.slice(3, 6)));
  });
});

function ids(items: QrView[]): string[] {
  return items.map((qr) => qr.id);
}

describe('a page shows each code as it is now', () => {
  it('after a change, a scan and a schedule passing, every listed code is what its own GET answers', async () => {
    // each newer than every code before it, so the three make the first page
    clock.advance(1000);
    const fresh = await createQr(srv, token, { name: 'Cached A', destination_url: 'https://example.com/a', tags: ['x'] });
    clock.advance(1);
    const scanned = await createQr(srv, token, { name: 'Cached B', destination_url: 'https://example.com/b' });
    clock.advance(1);
    const ending = await createQr(srv, token, { name: 'Cached C', destination_url: 'https://example.com/c', valid_until: new Date(clock.now() + 60_000).toISOString() });
    const ids = [ending.id, scanned.id, fresh.id];
    const current = async () => Promise.all(ids.map(async (id) => json<{ data: QrView }>(await srv.request('GET', `/api/v1/qr/${id}`, { token })).then((body) => body.data)));
    // listed twice, so the second page comes from what the first remembered
    for (let i = 0; i < 2; i++) expect((await list('limit=3')).data).toEqual(await current());

    const patched = await srv.request('PATCH', `/api/v1/qr/${fresh.id}`, { token, body: { name: 'Cached A, renamed', tags: ['x', 'y'] } });
    expect(patched.status).toBe(200);
    expect((await scan(srv, scanned.short_code as string, { 'User-Agent': USER_AGENTS.iphone })).status).toBe(302);
    await srv.running.app.services.recorder.drain();
    expect((await current())[1]?.scan_count).toBe(1);
    clock.advance(120_000);
    const page = (await list('limit=3')).data;
    expect(page).toEqual(await current());
    expect(page.map((code) => [code.name, code.tags, code.scan_count, code.state])).toEqual([
      ['Cached C', [], 0, 'expired'],
      ['Cached B', [], 1, 'live'],
      ['Cached A, renamed', ['x', 'y'], 0, 'live'],
    ]);
  });
});
