import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { QrView } from '../qr/schemas.js';
import type { WorkspaceRecord } from '../store/records.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { createQr, expectError, json, scan, USER_AGENTS } from '../../../test/helpers/qr.js';

interface FeedEvent {
  id: string;
  type: 'qr.created' | 'qr.updated' | 'qr.deleted' | 'qr.scanned';
  created_at: string;
  data: Record<string, unknown>;
}
interface FeedPage {
  data: FeedEvent[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

const clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ clock });
});

afterAll(async () => {
  await srv.cleanup();
});

/** A fresh workspace and key, so each test reads a feed of its own. */
async function freshWorkspace(): Promise<{ key: string; workspace: WorkspaceRecord }> {
  const { workspace } = await srv.createWorkspace('Feed');
  return { key: (await srv.createKey({ workspace })).secret, workspace };
}

async function feed(key: string, query = ''): Promise<FeedPage> {
  await srv.running.app.services.recorder.drain();
  const response = await srv.request('GET', `/api/v1/events${query}`, { token: key });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as FeedPage;
}

describe('the events feed', () => {
  let key: string;
  let codeA: QrView;
  let renamedA: QrView;
  let codeB: QrView;
  let events: FeedEvent[];

  beforeAll(async () => {
    ({ key } = await freshWorkspace());
    clock.set('2026-06-01T12:00:00Z');
    codeA = await createQr(srv, key, { name: 'Feed A', destination_url: 'https://example.com/a' });
    clock.set('2026-06-01T12:01:00Z');
    renamedA = (await json<{ data: QrView }>(await srv.request('PATCH', `/api/v1/qr/${codeA.id}`, { token: key, body: { name: 'Feed A renamed' } }))).data;
    clock.set('2026-06-01T12:02:00Z');
    await scan(srv, codeA.short_code!, { 'user-agent': USER_AGENTS.iphone, 'cf-ipcountry': 'GB', referer: 'https://social.example.net/post/1' });
    clock.set('2026-06-01T12:02:30Z');
    await scan(srv, codeA.short_code!, { 'user-agent': USER_AGENTS.googlebot });
    clock.set('2026-06-01T12:03:00Z');
    codeB = await createQr(srv, key, { name: 'Feed B', type: 'text', mode: 'static', content: { text: 'b' } });
    clock.set('2026-06-01T12:04:00Z');
    await srv.request('DELETE', `/api/v1/qr/${codeB.id}`, { token: key });
    events = (await feed(key)).data;
  });

  it('lists qr.created, qr.updated, qr.scanned and qr.deleted newest first, without bot scans', () => {
    expect(events.map((event) => [event.type, event.created_at])).toEqual([
      ['qr.deleted', '2026-06-01T12:04:00.000Z'],
      ['qr.created', '2026-06-01T12:03:00.000Z'],
      ['qr.scanned', '2026-06-01T12:02:00.000Z'],
      ['qr.updated', '2026-06-01T12:01:00.000Z'],
      ['qr.created', '2026-06-01T12:00:00.000Z'],
    ]);
    expect(new Set(events.map((event) => event.id)).size).toBe(5);
  });

  it('carries the QR code as it was in qr.created, qr.updated and qr.deleted events', () => {
    const [deleted, createdB, , updated, createdA] = events as [FeedEvent, FeedEvent, FeedEvent, FeedEvent, FeedEvent];
    expect(createdA.id).toMatch(/^evt_[0-9A-Za-z]+$/);
    expect(createdA.data).toEqual(codeA);
    expect(updated.data).toEqual(renamedA);
    expect(updated.data.name).toBe('Feed A renamed');
    expect(createdB.data).toEqual(codeB);
    expect(deleted.data).toMatchObject({ id: codeB.id, name: 'Feed B' });
  });

  it('carries the scan, with its code and current name, in qr.scanned events', () => {
    const scanned = events[2] as FeedEvent;
    const index = /^evt_scan_(\d+)$/.exec(scanned.id)?.[1];
    expect(index).toBeDefined();
    expect(scanned.data).toEqual({
      id: `scn_${index}`,
      qr_id: codeA.id,
      qr_name: 'Feed A renamed',
      scanned_at: '2026-06-01T12:02:00.000Z',
      country: 'GB',
      device: 'mobile',
      os: 'iOS',
      browser: 'Mobile Safari',
      referrer: 'social.example.net',
      is_bot: false,
      // from loopback: no GeoIP answer; a code without variants
      region: null,
      city: null,
      variant: null,
    });
  });

  it('filters by type', async () => {
    expect((await feed(key, '?type=qr.created')).data.map((event) => event.data.id)).toEqual([codeB.id, codeA.id]);
    expect((await feed(key, '?type=qr.scanned')).data.map((event) => event.id)).toEqual([events[2]?.id]);
    expect((await feed(key, '?type=qr.updated')).data.map((event) => event.id)).toEqual([events[3]?.id]);
    expect((await feed(key, '?type=qr.deleted')).data.map((event) => event.id)).toEqual([events[0]?.id]);
    await expectError(await srv.request('GET', '/api/v1/events?type=qr.exploded', { token: key }), 400);
  });

  it('returns only newer events after a stored event id, a scan event id or a time', async () => {
    const ids = events.map((event) => event.id);
    expect((await feed(key, `?after=${events[3]?.id}`)).data.map((event) => event.id)).toEqual(ids.slice(0, 3));
    expect((await feed(key, `?after=${events[2]?.id}`)).data.map((event) => event.id)).toEqual(ids.slice(0, 2));
    expect((await feed(key, `?after=${events[0]?.id}`)).data).toEqual([]);
    expect((await feed(key, '?after=2026-06-01T12:02:00.000Z')).data.map((event) => event.id)).toEqual(ids.slice(0, 2));
    expect((await feed(key, `?after=${events[4]?.id}&type=qr.created`)).data.map((event) => event.id)).toEqual([ids[1]]);
  });

  it("answers 400 for an unknown event id, and for another workspace's event id", async () => {
    await expectError(await srv.request('GET', '/api/v1/events?after=evt_doesnotexist', { token: key }), 400, 'validation_error');
    await expectError(await srv.request('GET', '/api/v1/events?after=evt_scan_999999', { token: key }), 400, 'validation_error');
    const other = await freshWorkspace();
    for (const event of events) await expectError(await srv.request('GET', `/api/v1/events?after=${event.id}`, { token: other.key }), 400);
    expect((await feed(other.key)).data).toEqual([]);
  });
});

describe('paging the events feed', () => {
  it('walks a mix of stored and scan events, some in the same millisecond, with no gaps or repeats', async () => {
    const { key } = await freshWorkspace();
    clock.set('2026-07-01T00:00:00Z');
    const codes: QrView[] = [await createQr(srv, key, { name: 'Burst', destination_url: 'https://example.com/' })];
    // a burst of scans in one millisecond whose numbers cross a power of ten (9 and 10 order differently as text)
    await srv.running.app.services.recorder.drain();
    const firstScan = await srv.running.app.services.scans.count();
    const boundary = 10 ** String(firstScan).length;
    let humanScans = 0;
    for (let n = firstScan; n <= boundary; n++, humanScans++) await scan(srv, codes[0]!.short_code!, { 'user-agent': USER_AGENTS.windowsChrome });
    for (let step = 0; step < 12; step++) {
      clock.advance(step % 3 === 0 ? 0 : 1000); // every third step shares its millisecond with the one before
      codes.push(await createQr(srv, key, { name: `Paged ${step}`, destination_url: 'https://example.com/' }));
      for (const code of codes.slice(-2)) {
        await scan(srv, code.short_code!, { 'user-agent': USER_AGENTS.android });
        humanScans++;
      }
      await scan(srv, codes[0]!.short_code!, { 'user-agent': USER_AGENTS.slackbot });
      if (step % 4 === 1) await srv.request('PATCH', `/api/v1/qr/${codes[0]!.id}`, { token: key, body: { name: `Paged 0 v${step}` } });
    }
    const whole = (await feed(key, '?limit=100')).data;
    expect(whole).toHaveLength(13 + humanScans + 3);
    expect(whole.filter((event) => event.type === 'qr.scanned')).toHaveLength(humanScans);
    // newest first; scans of one millisecond by their number, newest first (evt_scan_11 before evt_scan_8)
    const scanNumber = (event: FeedEvent) => Number(/^evt_scan_(\d+)$/.exec(event.id)?.[1] ?? NaN);
    for (let i = 1; i < whole.length; i++) {
      const [newer, older] = [whole[i - 1] as FeedEvent, whole[i] as FeedEvent];
      expect(newer.created_at >= older.created_at).toBe(true);
      if (newer.created_at === older.created_at && newer.type === 'qr.scanned' && older.type === 'qr.scanned') expect(scanNumber(newer)).toBeGreaterThan(scanNumber(older));
    }
    const burst = whole.filter((event) => event.type === 'qr.scanned' && event.created_at === '2026-07-01T00:00:00.000Z').map(scanNumber);
    expect(burst).toContain(boundary - 1);
    expect(burst).toContain(boundary);

    for (const limit of [1, 4, 7]) {
      const walked: FeedEvent[] = [];
      let cursor: string | null = null;
      do {
        const page: FeedPage = await feed(key, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.data.length).toBeLessThanOrEqual(limit);
        walked.push(...page.data);
        cursor = page.pagination.next_cursor;
        expect(page.pagination.has_more).toBe(cursor !== null);
      } while (cursor && walked.length < 1000);
      expect(walked.map((event) => `${event.created_at} ${event.id}`), `limit ${limit}`).toEqual(whole.map((event) => `${event.created_at} ${event.id}`));
    }
  });

  it('answers 400 invalid_cursor for a garbage cursor and 400 for limits outside 1 to 100', async () => {
    const { key } = await freshWorkspace();
    await expectError(await srv.request('GET', '/api/v1/events?cursor=%%%garbage', { token: key }), 400, 'invalid_cursor');
    await expectError(await srv.request('GET', '/api/v1/events?limit=0', { token: key }), 400);
    await expectError(await srv.request('GET', '/api/v1/events?limit=101', { token: key }), 400);
  });
});
