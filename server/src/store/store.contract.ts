import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRecord, EventRecord, MemberRecord, QrRecord, UserRecord, WorkspaceRecord } from './records.js';
import { CapExceededError, StaleRecordError, type Store, UniqueViolationError, type WriteOp } from './store.js';
import type { IdempotencyRecord, UsageRecord } from './records.js';

/** How the contract suite reaches one adapter's storage. */
export interface StoreHarness {
  /** Opens a store on the current storage; called again after close() it must see what was written. */
  open(): Promise<Store>;
  /** Gives the next test empty storage (every store of the last test is closed by then). */
  reset(): Promise<void>;
}

const T0 = '2026-03-01T00:00:00.000Z';

export function workspace(id: string, name = `Workspace ${id}`): WorkspaceRecord {
  return { id, name, plan: 'team', plan_status: 'active', created_at: T0 };
}

export function user(id: string, email: string): UserRecord {
  return { id, email, password_hash: 'scrypt$x', created_at: T0 };
}

export function member(id: string, workspaceId: string, userId: string): MemberRecord {
  return { id, workspace_id: workspaceId, user_id: userId, role: 'member', created_at: T0 };
}

export function apiKey(id: string, workspaceId: string, hash: string): ApiKeyRecord {
  return {
    id, workspace_id: workspaceId, name: `Key ${id}`, prefix: 'qr_live_abcd', hash, scopes: ['qr:read'], status: 'active', expires_at: null,
    created_at: T0, created_by: 'test', last_used_at: null, revoked_at: null, renewals: [],
  };
}

export function qr(id: string, workspaceId: string, createdAt: string, shortCode: string | null = null, tags: string[] = []): QrRecord {
  return {
    id, workspace_id: workspaceId, name: `QR ${id}`, type: 'url', mode: shortCode ? 'dynamic' : 'static', destination_url: 'https://example.com/',
    content: null, short_code: shortCode, domain: null, route_key: shortCode, status: 'active', tags, style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
    created_at: createdAt, updated_at: createdAt,
  };
}

function event(id: string, workspaceId: string, createdAt: string): EventRecord {
  return { id, workspace_id: workspaceId, type: 'qr.created', created_at: createdAt, data: { n: id } };
}

const at = (second: number) => new Date(Date.UTC(2026, 2, 1, 0, 0, second)).toISOString();

/** The behaviour every Store adapter must have, whatever keeps the data. */
export function describeStoreContract(adapter: string, makeHarness: () => StoreHarness): void {
  describe(`Store contract: ${adapter}`, () => {
    const harness = makeHarness();
    const open: Store[] = [];

    async function openStore(): Promise<Store> {
      const store = await harness.open();
      open.push(store);
      return store;
    }

    async function reopen(store: Store): Promise<Store> {
      open.splice(open.indexOf(store), 1);
      await store.close();
      return openStore();
    }

    beforeEach(async () => {
      await harness.reset();
    });

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close().catch(() => undefined);
    });

    it('get answers a copy of the committed record, and undefined for an unknown id', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'workspaces', put: workspace('ws_1') }]);
      const first = await store.get('workspaces', 'ws_1');
      expect(first).toEqual(workspace('ws_1'));
      (first as WorkspaceRecord).name = 'changed';
      expect((await store.get('workspaces', 'ws_1'))?.name).toBe('Workspace ws_1');
      expect(await store.get('workspaces', 'ws_missing')).toBeUndefined();
    });

    it('keeps fields the record type does not list yet (new optional fields need no migration)', async () => {
      const store = await openStore();
      const withMode = { ...apiKey('key_1', 'ws_1', 'h1'), mode: 'test', nested: { a: [1, 2, { b: null }] } };
      await store.commit([{ collection: 'keys', put: withMode as ApiKeyRecord }]);
      const again = await reopen(store);
      expect(await again.get('keys', 'key_1')).toEqual(withMode);
    });

    it('findUnique follows puts and deletes, and compares emails and names without regard to case', async () => {
      const store = await openStore();
      await store.commit([
        { collection: 'users', put: user('u_1', 'Ada@Example.com') },
        { collection: 'workspaces', put: workspace('ws_1', 'Acme') },
        { collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'abc123') },
      ]);
      expect((await store.findUnique('users', 'email', 'ada@example.com'))?.id).toBe('u_1');
      expect((await store.findUnique('workspaces', 'name', 'ACME'))?.id).toBe('ws_1');
      expect((await store.findUnique('qrcodes', 'route_key', 'abc123'))?.id).toBe('qr_1');
      expect(await store.findUnique('qrcodes', 'route_key', 'ABC123')).toBeUndefined(); // short codes are case-sensitive

      await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'xyz789') }]);
      expect(await store.findUnique('qrcodes', 'route_key', 'abc123')).toBeUndefined();
      expect((await store.findUnique('qrcodes', 'route_key', 'xyz789'))?.id).toBe('qr_1');

      await store.commit([{ collection: 'users', delete: 'u_1' }]);
      expect(await store.findUnique('users', 'email', 'ada@example.com')).toBeUndefined();
    });

    it('findMany and countMany answer the records of a multi index, following puts and deletes', async () => {
      const store = await openStore();
      await store.commit([
        { collection: 'members', put: member('m_1', 'ws_1', 'u_1') },
        { collection: 'members', put: member('m_2', 'ws_1', 'u_2') },
        { collection: 'members', put: member('m_3', 'ws_2', 'u_1') },
      ]);
      expect((await store.findMany('members', 'workspace_id', 'ws_1')).map((m) => m.id).sort()).toEqual(['m_1', 'm_2']);
      expect((await store.findMany('members', 'user_id', 'u_1')).map((m) => m.id).sort()).toEqual(['m_1', 'm_3']);
      expect(await store.countMany('members', 'workspace_id', 'ws_1')).toBe(2);
      await store.commit([{ collection: 'members', delete: 'm_2' }, { collection: 'members', put: { ...member('m_3', 'ws_1', 'u_1') } }]);
      expect((await store.findMany('members', 'workspace_id', 'ws_1')).map((m) => m.id).sort()).toEqual(['m_1', 'm_3']);
      expect(await store.countMany('members', 'workspace_id', 'ws_2')).toBe(0);
      expect(await store.findMany('members', 'workspace_id', 'ws_none')).toEqual([]);
    });

    it('all answers every record of a collection, and countByWorkspace counts per workspace', async () => {
      const store = await openStore();
      await store.commit([
        { collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1)) },
        { collection: 'qrcodes', put: qr('qr_2', 'ws_1', at(2)) },
        { collection: 'qrcodes', put: qr('qr_3', 'ws_2', at(3)) },
      ]);
      expect((await store.all('qrcodes')).map((q) => q.id).sort()).toEqual(['qr_1', 'qr_2', 'qr_3']);
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(2);
      expect(await store.countByWorkspace('qrcodes', 'ws_2')).toBe(1);
      expect(await store.countByWorkspace('events', 'ws_1')).toBe(0);
      expect(await store.all('tombstones')).toEqual([]);
    });

    describe('listPage', () => {
      // 7 codes in ws_1 (two pairs sharing a created_at, told apart by id) and one in ws_2
      async function seeded(): Promise<Store> {
        const store = await openStore();
        await store.commit([
          { collection: 'qrcodes', put: qr('qr_a', 'ws_1', at(1), null, ['x']) },
          { collection: 'qrcodes', put: qr('qr_c', 'ws_1', at(2)) },
          { collection: 'qrcodes', put: qr('qr_b', 'ws_1', at(2), null, ['x']) },
          { collection: 'qrcodes', put: qr('qr_d', 'ws_1', at(3), null, ['x']) },
          { collection: 'qrcodes', put: qr('qr_f', 'ws_1', at(4)) },
          { collection: 'qrcodes', put: qr('qr_E', 'ws_1', at(4), null, ['x']) },
          { collection: 'qrcodes', put: qr('qr_g', 'ws_1', at(5)) },
          { collection: 'qrcodes', put: qr('qr_z', 'ws_2', at(9)) },
        ]);
        return store;
      }
      const ids = (page: { items: Array<{ id: string }> }) => page.items.map((item) => item.id);

      it('lists a workspace newest first by (created_at, id), comparing ids by code point', async () => {
        const store = await seeded();
        const page = await store.listPage('qrcodes', 'ws_1', { limit: 10 });
        // 'qr_E' sorts before 'qr_f' by code point (an uppercase letter is lower), whatever the database locale
        expect(ids(page)).toEqual(['qr_g', 'qr_f', 'qr_E', 'qr_d', 'qr_c', 'qr_b', 'qr_a']);
        expect(page.hasMore).toBe(false);
      });

      it('pages with before (exclusive) and says whether more follow', async () => {
        const store = await seeded();
        const first = await store.listPage('qrcodes', 'ws_1', { limit: 3 });
        expect(ids(first)).toEqual(['qr_g', 'qr_f', 'qr_E']);
        expect(first.hasMore).toBe(true);
        const last = first.items[2] as QrRecord;
        const second = await store.listPage('qrcodes', 'ws_1', { limit: 3, before: { created_at: last.created_at, id: last.id } });
        expect(ids(second)).toEqual(['qr_d', 'qr_c', 'qr_b']);
        expect(second.hasMore).toBe(true);
        const third = await store.listPage('qrcodes', 'ws_1', { limit: 3, before: { created_at: at(2), id: 'qr_b' } });
        expect(ids(third)).toEqual(['qr_a']);
        expect(third.hasMore).toBe(false);
        // exactly a full page left: no more after it
        const exact = await store.listPage('qrcodes', 'ws_1', { limit: 2, before: { created_at: at(2), id: 'qr_c' } });
        expect(ids(exact)).toEqual(['qr_b', 'qr_a']);
        expect(exact.hasMore).toBe(false);
      });

      it('stops at after (exclusive) for newer-than queries', async () => {
        const store = await seeded();
        const page = await store.listPage('qrcodes', 'ws_1', { limit: 10, after: { created_at: at(2), id: 'qr_c' } });
        expect(ids(page)).toEqual(['qr_g', 'qr_f', 'qr_E', 'qr_d']);
        const between = await store.listPage('qrcodes', 'ws_1', { limit: 10, before: { created_at: at(4), id: 'qr_f' }, after: { created_at: at(2), id: 'qr_b' } });
        expect(ids(between)).toEqual(['qr_E', 'qr_d', 'qr_c']);
      });

      it('applies the filter before the limit, across many records', async () => {
        const store = await seeded();
        const page = await store.listPage('qrcodes', 'ws_1', { limit: 2, filter: (record) => record.tags.includes('x') });
        expect(ids(page)).toEqual(['qr_E', 'qr_d']);
        expect(page.hasMore).toBe(true);
        const rest = await store.listPage('qrcodes', 'ws_1', { limit: 2, before: { created_at: at(3), id: 'qr_d' }, filter: (record) => record.tags.includes('x') });
        expect(ids(rest)).toEqual(['qr_b', 'qr_a']);
        expect(rest.hasMore).toBe(false);

        // a match far behind many non-matches is still found
        const ops = Array.from({ length: 1500 }, (_, i) => ({ collection: 'events' as const, put: event(`ev_${String(i).padStart(5, '0')}`, 'ws_1', at(100 + i)) }));
        await store.commit(ops);
        const rare = await store.listPage('events', 'ws_1', { limit: 5, filter: (record) => record.id === 'ev_00003' || record.id === 'ev_00001' });
        expect(ids(rare)).toEqual(['ev_00003', 'ev_00001']);
        expect(rare.hasMore).toBe(false);
      });

      it('lists oldest first, ignoring before and after, and keeps workspaces apart', async () => {
        const store = await seeded();
        const page = await store.listPage('qrcodes', 'ws_1', { limit: 4, order: 'oldest', before: { created_at: at(2), id: 'qr_b' } });
        expect(ids(page)).toEqual(['qr_a', 'qr_b', 'qr_c', 'qr_d']);
        expect(page.hasMore).toBe(true);
        expect(ids(await store.listPage('qrcodes', 'ws_2', { limit: 10 }))).toEqual(['qr_z']);
        expect(ids(await store.listPage('qrcodes', 'ws_none', { limit: 10 }))).toEqual([]);
      });
    });

    it('commit applies all of its ops or none: an op breaking a unique index rolls back the others', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'users', put: user('u_1', 'ada@example.com') }]);
      await expect(
        store.commit([
          { collection: 'workspaces', put: workspace('ws_new') },
          { collection: 'users', delete: 'u_1' },
          { collection: 'users', put: user('u_2', 'grace@example.com') },
          { collection: 'users', put: user('u_3', 'GRACE@example.com') },
        ]),
      ).rejects.toBeInstanceOf(UniqueViolationError);
      expect(await store.get('workspaces', 'ws_new')).toBeUndefined();
      expect(await store.get('users', 'u_1')).toBeDefined();
      expect(await store.findUnique('users', 'email', 'grace@example.com')).toBeUndefined();
      const again = await reopen(store);
      expect((await again.all('users')).map((u) => u.id)).toEqual(['u_1']);
    });

    it('refuses a second record with the same unique value, and allows many without one', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'same') }]);
      const refused = await store.commit([{ collection: 'qrcodes', put: qr('qr_2', 'ws_2', at(2), 'same') }]).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(UniqueViolationError);
      expect(refused).toMatchObject({ collection: 'qrcodes', index: 'route_key' });
      await expect(store.commit([{ collection: 'workspaces', put: workspace('ws_a', 'Acme') }, { collection: 'workspaces', put: workspace('ws_b', 'ACME') }])).rejects.toBeInstanceOf(UniqueViolationError);
      // static codes have no short code: any number of them
      await store.commit([{ collection: 'qrcodes', put: qr('qr_3', 'ws_1', at(3)) }, { collection: 'qrcodes', put: qr('qr_4', 'ws_1', at(4)) }]);
      // a record may keep its own unique value, and a freed value may be taken in the same commit
      await store.commit([{ collection: 'qrcodes', put: { ...qr('qr_1', 'ws_1', at(1), 'same'), name: 'renamed' } }]);
      await store.commit([{ collection: 'qrcodes', delete: 'qr_1' }, { collection: 'qrcodes', put: qr('qr_5', 'ws_1', at(5), 'same') }]);
      expect((await store.findUnique('qrcodes', 'route_key', 'same'))?.id).toBe('qr_5');
    });

    it('commitSoon is seen at once by get, findUnique and findMany, and is durable after close', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }, { collection: 'keys', put: apiKey('key_2', 'ws_1', 'h2') }]);
      store.commitSoon([{ collection: 'keys', put: { ...apiKey('key_1', 'ws_1', 'h1'), last_used_at: at(7) } }]);
      store.commitSoon([{ collection: 'keys', delete: 'key_2' }, { collection: 'keys', put: apiKey('key_3', 'ws_1', 'h3') }]);
      expect((await store.get('keys', 'key_1'))?.last_used_at).toBe(at(7));
      expect((await store.findUnique('keys', 'hash', 'h1'))?.last_used_at).toBe(at(7));
      expect(await store.findUnique('keys', 'hash', 'h2')).toBeUndefined();
      expect(await store.get('keys', 'key_2')).toBeUndefined();
      expect((await store.findMany('keys', 'workspace_id', 'ws_1')).map((k) => k.id).sort()).toEqual(['key_1', 'key_3']);
      expect(await store.countMany('keys', 'workspace_id', 'ws_1')).toBe(2);
      const again = await reopen(store);
      expect((await again.get('keys', 'key_1'))?.last_used_at).toBe(at(7));
      expect(await again.get('keys', 'key_2')).toBeUndefined();
      expect((await again.findUnique('keys', 'hash', 'h3'))?.id).toBe('key_3');
    });

    it('a lookup still running when commitSoon queues a change to its record does not lose the record', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      // another key's queued change, written since: the collection has had queued changes before
      store.commitSoon([{ collection: 'keys', put: apiKey('key_2', 'ws_1', 'h2') }]);
      await store.commit([]);
      const lookup = store.findUnique('keys', 'hash', 'h1');
      const byId = store.get('keys', 'key_1');
      store.commitSoon([{ collection: 'keys', put: { ...apiKey('key_1', 'ws_1', 'h1'), last_used_at: at(3) } }]);
      expect((await lookup)?.id).toBe('key_1');
      expect((await byId)?.id).toBe('key_1');
    });

    it('a commit made after commitSoon is applied after it', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      store.commitSoon([{ collection: 'keys', put: { ...apiKey('key_1', 'ws_1', 'h1'), last_used_at: at(1) } }]);
      await store.commit([{ collection: 'keys', put: { ...apiKey('key_1', 'ws_1', 'h1'), last_used_at: at(1), status: 'paused' } }]);
      expect((await store.get('keys', 'key_1'))?.status).toBe('paused');
      const again = await reopen(store);
      expect((await again.get('keys', 'key_1'))?.status).toBe('paused');
    });

    it('concurrent commits all land, and of two taking the same unique value exactly one wins', async () => {
      const store = await openStore();
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.commit([{ collection: 'qrcodes', put: qr(`qr_${i}`, 'ws_1', at(i), `code${i}`) }])));
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(40);
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.commit([{ collection: 'users', put: user(`u_${i}`, 'race@example.com') }])));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof UniqueViolationError)).toBe(true);
      const again = await reopen(store);
      expect(await again.countByWorkspace('qrcodes', 'ws_1')).toBe(40);
      expect((await again.all('users')).length).toBe(1);
    });

    it('update sets fields of the record as it stands, keeps the others, and follows a changed unique field', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      await store.commit([{ collection: 'keys', update: 'key_1', set: { status: 'paused' } }]);
      await store.commit([{ collection: 'keys', update: 'key_1', set: { last_used_at: at(5), hash: 'h2' } }]);
      const key = await store.get('keys', 'key_1');
      expect(key).toEqual({ ...apiKey('key_1', 'ws_1', 'h1'), status: 'paused', last_used_at: at(5), hash: 'h2' });
      expect(await store.findUnique('keys', 'hash', 'h1')).toBeUndefined();
      expect((await store.findUnique('keys', 'hash', 'h2'))?.id).toBe('key_1');
      // an update of a record that does not exist does nothing, unless it says what to start from
      await store.commit([{ collection: 'keys', update: 'key_none', set: { status: 'paused' } }]);
      expect(await store.get('keys', 'key_none')).toBeUndefined();
      const again = await reopen(store);
      expect((await again.get('keys', 'key_1'))?.status).toBe('paused');
    });

    it('concurrent updates of different fields of one record all land (no whole-record overwrite)', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      await Promise.all([
        store.commit([{ collection: 'keys', update: 'key_1', set: { last_used_at: at(7) } }]),
        store.commit([{ collection: 'keys', update: 'key_1', set: { status: 'paused' } }]),
        store.commit([{ collection: 'keys', update: 'key_1', set: { name: 'Renamed' } }]),
      ]);
      const key = await store.get('keys', 'key_1');
      expect([key?.last_used_at, key?.status, key?.name]).toEqual([at(7), 'paused', 'Renamed']);
    });

    it('increments are exact under concurrency, create the record from ifMissing, and reach numbers inside objects', async () => {
      const store = await openStore();
      const start: UsageRecord = { id: 'ws_1:2026-03', workspace_id: 'ws_1', month: '2026-03', api_calls: 0, image_credits: 0, by_key: {} };
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.commit([{ collection: 'usage', update: start.id, ifMissing: start, increment: { api_calls: 1, [`by_key.key_${i % 2}`]: 1, image_credits: i % 4 === 0 ? 2 : 0 } }]),
        ),
      );
      const again = await reopen(store);
      expect(await again.get('usage', start.id)).toEqual({ ...start, api_calls: 40, image_credits: 20, by_key: { key_0: 20, key_1: 20 } });
      expect((await again.findMany('usage', 'workspace_id', 'ws_1')).length).toBe(1);
    });

    it('append keeps the last items of an array field, in order', async () => {
      const store = await openStore();
      const start = { id: 'key_1', workspace_id: 'ws_1', entries: [] };
      const entry = (n: number) => ({ time: at(n), method: 'GET', path: `/p/${n}`, status: 200, ip: '127.0.0.1' });
      for (let n = 0; n < 6; n++) await store.commit([{ collection: 'key_activity', update: 'key_1', ifMissing: start, append: { field: 'entries', items: [entry(2 * n), entry(2 * n + 1)], keepLast: 5 } }]);
      expect((await store.get('key_activity', 'key_1'))?.entries.map((e) => e.path)).toEqual(['/p/7', '/p/8', '/p/9', '/p/10', '/p/11']);
    });

    it('expect makes an update conditional: of racing updates expecting the same state one applies, the others reject applying nothing', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          store.commit([
            { collection: 'keys', update: 'key_1', expect: { renewals: [], hash: 'h1' }, set: { renewals: [i], hash: `h_new_${i}` } },
            { collection: 'workspaces', put: workspace(`ws_side_${i}`) },
          ]),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StaleRecordError)).toBe(true);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect(await store.get('keys', 'key_1')).toMatchObject({ renewals: [winner], hash: `h_new_${winner}` });
      // the losers' other ops were not applied either
      expect((await store.all('workspaces')).map((w) => w.id)).toEqual([`ws_side_${winner}`]);
      // expecting a record that does not exist is stale too
      await expect(store.commit([{ collection: 'keys', update: 'key_none', expect: { status: 'active' }, set: { status: 'paused' } }])).rejects.toBeInstanceOf(StaleRecordError);
    });

    it('commitSoon takes field-level updates: seen at once, applied over the record as written, durable after close', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'keys', put: apiKey('key_1', 'ws_1', 'h1') }]);
      store.commitSoon([{ collection: 'keys', update: 'key_1', set: { last_used_at: at(9) } }]);
      expect((await store.get('keys', 'key_1'))?.last_used_at).toBe(at(9));
      expect((await store.findUnique('keys', 'hash', 'h1'))?.last_used_at).toBe(at(9));
      expect((await store.findMany('keys', 'workspace_id', 'ws_1'))[0]?.last_used_at).toBe(at(9));
      // a commit changing another field meanwhile is kept when the queued update is written
      await store.commit([{ collection: 'keys', update: 'key_1', set: { status: 'paused' } }]);
      store.commitSoon([{ collection: 'keys', update: 'key_gone', set: { last_used_at: at(9) } }]);
      expect(() => store.commitSoon([{ collection: 'keys', update: 'key_1', expect: { status: 'active' }, set: { name: 'x' } }])).toThrow();
      const again = await reopen(store);
      expect(await again.get('keys', 'key_1')).toMatchObject({ status: 'paused', last_used_at: at(9) });
      expect(await again.get('keys', 'key_gone')).toBeUndefined();
    });

    it('insert refuses an id already taken, applying nothing of its commit', async () => {
      const store = await openStore();
      const claim = { id: 'ws_1:key-1', workspace_id: 'ws_1', request_hash: 'a', status: 0, body: null, created_at: at(1) };
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => store.commit([{ collection: 'workspaces', put: workspace(`ws_x${i}`) }, { collection: 'idempotency', insert: { ...claim, request_hash: `h${i}` } }])),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as UniqueViolationError);
      expect(rejected.every((error) => error instanceof UniqueViolationError && error.index === 'id')).toBe(true);
      expect((await store.all('workspaces')).length).toBe(1);
    });

    it('deleting an unknown id is no error, and a closed store refuses writes', async () => {
      const store = await openStore();
      await store.ping();
      await store.commit([{ collection: 'qrcodes', delete: 'qr_never' }]);
      open.splice(open.indexOf(store), 1);
      await store.close();
      await expect(store.commit([{ collection: 'workspaces', put: workspace('ws_late') }])).rejects.toThrow(/closed/);
      await expect(store.ping()).rejects.toThrow(/closed/);
    });

    it('a cap bounds the codes a workspace holds once the commit is applied: past it the commit rejects whole, and a delete makes room', async () => {
      const store = await openStore();
      const cap = (workspaceId: string, atMost: number): WriteOp => ({ collection: 'qrcodes', cap: workspaceId, atMost });
      await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'c1') }, { collection: 'qrcodes', put: qr('qr_2', 'ws_1', at(2), 'c2') }, cap('ws_1', 2)]);
      const refused = await store.commit([cap('ws_1', 2), { collection: 'qrcodes', put: qr('qr_3', 'ws_1', at(3), 'c3') }, { collection: 'events', put: event('evt_3', 'ws_1', at(3)) }]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(CapExceededError);
      expect(refused).toMatchObject({ collection: 'qrcodes', workspaceId: 'ws_1', atMost: 2, wouldHold: 3 });
      // nothing of it applied
      expect(await store.get('qrcodes', 'qr_3')).toBeUndefined();
      expect(await store.get('events', 'evt_3')).toBeUndefined();
      // changing a code it holds adds none; the test partition and other workspaces count apart
      await store.commit([{ collection: 'qrcodes', put: { ...qr('qr_1', 'ws_1', at(1), 'c1'), name: 'renamed' } }, cap('ws_1', 2)]);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_t1', 'ws_1:test', at(4), 'testc1') }, { collection: 'qrcodes', put: qr('qr_t2', 'ws_1:test', at(5), 'testc2') }, cap('ws_1:test', 2)]);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_o', 'ws_2', at(6)) }, cap('ws_2', 1)]);
      // a delete and a create in one commit fit; so does a create after a delete
      await store.commit([{ collection: 'qrcodes', delete: 'qr_2' }, { collection: 'qrcodes', put: qr('qr_4', 'ws_1', at(7), 'c4') }, cap('ws_1', 2)]);
      await expect(store.commit([{ collection: 'qrcodes', put: qr('qr_5', 'ws_1', at(8), 'c5') }, cap('ws_1', 2)])).rejects.toBeInstanceOf(CapExceededError);
      await store.commit([{ collection: 'qrcodes', delete: 'qr_4' }]);
      await store.commit([{ collection: 'qrcodes', put: qr('qr_5', 'ws_1', at(8), 'c5') }, cap('ws_1', 2)]);
      const again = await reopen(store);
      expect(await again.countByWorkspace('qrcodes', 'ws_1')).toBe(2);
      expect(await again.countByWorkspace('qrcodes', 'ws_1:test')).toBe(2);
      expect(await again.countByWorkspace('qrcodes', 'ws_2')).toBe(1);
      await expect(again.commit([{ collection: 'qrcodes', put: qr('qr_6', 'ws_1', at(9), 'c6') }, cap('ws_1', 2)])).rejects.toBeInstanceOf(CapExceededError);
    });

    it('of concurrent creates under a cap of N exactly N land, and the count stays exact', async () => {
      const store = await openStore();
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => store.commit([{ collection: 'qrcodes', put: qr(`qr_${i}`, 'ws_1', at(i), `code${i}`) }, { collection: 'events', put: event(`evt_${i}`, 'ws_1', at(i)) }, { collection: 'qrcodes', cap: 'ws_1', atMost: 7 }])),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof CapExceededError)).toBe(true);
      expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(7);
      // each landed create has its event, and no refused one has
      const landed = (await store.listPage('qrcodes', 'ws_1', { limit: 100 })).items.map((code) => code.id.slice(3)).sort();
      expect((await store.listPage('events', 'ws_1', { limit: 100 })).items.map((e) => e.id.slice(4)).sort()).toEqual(landed);
    });

    it('concurrent commits are each all or nothing on their own: one rejected (unique, stale, cap) never fails the others', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'users', put: user('u_taken', 'taken@example.com') }, { collection: 'workspaces', put: workspace('ws_v') }, { collection: 'qrcodes', put: qr('qr_full', 'ws_full', at(0)) }, { collection: 'qrcodes', put: qr('qr_held', 'ws_2', at(0), 'held') }]);
      // each good commit also counts itself in a shared record: written again after a refused one, it still counts once
      const tally: UsageRecord = { id: 'ws_1:2026-03', workspace_id: 'ws_1', month: '2026-03', api_calls: 0, image_credits: 0, by_key: {} };
      const good = (i: number): WriteOp[] => [
        { collection: 'qrcodes', put: qr(`qr_${i}`, 'ws_1', at(i), `code${i}`) },
        { collection: 'usage', update: tally.id, ifMissing: tally, increment: { api_calls: 1 } },
        { collection: 'events', put: event(`evt_${i}`, 'ws_1', at(i)) },
      ];
      const bad: Record<number, { ops: WriteOp[]; error: new (...args: never[]) => Error }> = {
        3: { ops: [{ collection: 'users', put: user('u_new', 'TAKEN@example.com') }, { collection: 'events', put: event('evt_bad3', 'ws_1', at(3)) }], error: UniqueViolationError },
        7: { ops: [{ collection: 'events', put: event('evt_bad7', 'ws_1', at(7)) }, { collection: 'workspaces', update: 'ws_v', expect: { plan: 'free' }, set: { name: 'never' } }], error: StaleRecordError },
        11: { ops: [{ collection: 'qrcodes', put: qr('qr_bad11', 'ws_full', at(11)) }, { collection: 'qrcodes', cap: 'ws_full', atMost: 1 }], error: CapExceededError },
        15: { ops: [{ collection: 'qrcodes', put: qr('qr_bad15', 'ws_1', at(15), 'held') }], error: UniqueViolationError },
      };
      for (let round = 0; round < 3; round++) {
        const commits = Array.from({ length: 20 }, (_, i) => bad[i]?.ops ?? good(i));
        const results = await Promise.allSettled(commits.map((ops) => store.commit(ops)));
        for (const [i, result] of results.entries()) {
          if (bad[i]) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(bad[i].error);
          else expect(result.status).toBe('fulfilled');
        }
        expect(await store.countByWorkspace('qrcodes', 'ws_1')).toBe(16);
        await store.commit(Array.from({ length: 20 }, (_, i): WriteOp[] => [{ collection: 'qrcodes', delete: `qr_${i}` }, { collection: 'events', delete: `evt_${i}` }]).flat());
      }
      const again = await reopen(store);
      expect(await again.get('users', 'u_new')).toBeUndefined();
      expect((await again.get('workspaces', 'ws_v'))?.name).toBe('Workspace ws_v');
      expect(await again.get('qrcodes', 'qr_bad11')).toBeUndefined();
      expect(await again.countByWorkspace('qrcodes', 'ws_full')).toBe(1);
      expect(await again.countByWorkspace('qrcodes', 'ws_1')).toBe(0);
      expect((await again.get('usage', tally.id))?.api_calls).toBe(3 * 16);
      for (const id of ['evt_bad3', 'evt_bad7']) expect(await again.get('events', id)).toBeUndefined();
    });

    it('concurrent creates made of inserts, absent checks and a cap (as the API makes them): exactly N land under a cap of N, and one breaking a rule is refused alone', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'tombstones', put: { id: 'gone1', workspace_id: 'ws_1', qr_id: 'qr_old', deleted_at: T0 } }, { collection: 'qrcodes', put: qr('qr_taken', 'ws_2', at(0), 'held') }]);
      const create = (workspaceId: string, atMost: number, i: number, id = `qr_${i}`, route = `code${i}`): WriteOp[] => [
        { collection: 'qrcodes', insert: qr(id, workspaceId, at(i), route) },
        { collection: 'tombstones', absent: route },
        { collection: 'events', put: event(`evt_${i}`, workspaceId, at(i)) },
        { collection: 'qrcodes', cap: workspaceId, atMost },
      ];
      const capped = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => store.commit(create('ws_1', 20, i))));
      expect(capped.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
      expect(capped.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof CapExceededError)).toBe(true);

      const bad: Record<number, { ops: WriteOp[]; index: string }> = {
        33: { ops: create('ws_3', 100, 33, 'qr_taken'), index: 'id' },
        35: { ops: create('ws_3', 100, 35, 'qr_35', 'held'), index: 'route_key' },
        38: { ops: create('ws_3', 100, 38, 'qr_38', 'gone1'), index: 'id' },
      };
      const numbers = Array.from({ length: 12 }, (_, i) => 30 + i);
      const mixed = await Promise.allSettled(numbers.map((i) => store.commit(bad[i]?.ops ?? create('ws_3', 100, i))));
      for (const [position, i] of numbers.entries()) {
        if (bad[i]) expect((mixed[position] as PromiseRejectedResult).reason).toMatchObject({ index: bad[i].index });
        else expect(mixed[position]?.status).toBe('fulfilled');
      }

      const again = await reopen(store);
      for (const [workspaceId, count] of [['ws_1', 20], ['ws_3', 9]] as const) {
        expect(await again.countByWorkspace('qrcodes', workspaceId)).toBe(count);
        const landed = (await again.listPage('qrcodes', workspaceId, { limit: 100 })).items.map((code) => code.id.slice(3)).sort();
        expect(landed).toHaveLength(count);
        // each landed create has its event, and no refused one has
        expect((await again.listPage('events', workspaceId, { limit: 100 })).items.map((e) => e.id.slice(4)).sort()).toEqual(landed);
      }
      expect((await again.get('qrcodes', 'qr_taken'))?.workspace_id).toBe('ws_2');
    });

    it('concurrent idempotent creates (a claimed key updated in the commit that expects the claim): each lands with its final record, one whose claim changed is refused alone', async () => {
      const store = await openStore();
      const claim = (i: number): IdempotencyRecord => ({ id: `ws_1:key${i}`, workspace_id: 'ws_1', request_hash: `h${i}`, status: 0, body: null, created_at: at(i) });
      await Promise.all(Array.from({ length: 24 }, (_, i) => store.commit([{ collection: 'idempotency', insert: claim(i) }])));
      // another request took key 5 over, and key 9's claim expired and was dropped, before their creates committed
      await store.commit([{ collection: 'idempotency', update: 'ws_1:key5', set: { request_hash: 'other' } }]);
      await store.commit([{ collection: 'idempotency', delete: 'ws_1:key9' }]);
      const create = (i: number): WriteOp[] => [
        { collection: 'qrcodes', insert: qr(`qr_${i}`, 'ws_1', at(i), `code${i}`) },
        { collection: 'tombstones', absent: `code${i}` },
        { collection: 'events', put: event(`evt_${i}`, 'ws_1', at(i)) },
        { collection: 'qrcodes', cap: 'ws_1', atMost: 100 },
        { collection: 'idempotency', update: `ws_1:key${i}`, expect: { created_at: at(i), status: 0, request_hash: `h${i}` }, set: { status: 201, body: { id: `qr_${i}` } } },
      ];
      const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => store.commit(create(i))));
      for (const [i, result] of results.entries()) {
        if (i === 5 || i === 9) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StaleRecordError);
        else expect(result.status).toBe('fulfilled');
      }
      const again = await reopen(store);
      const landed = (await again.listPage('qrcodes', 'ws_1', { limit: 100 })).items.map((code) => Number(code.id.slice(3))).sort((a, b) => a - b);
      expect(landed).toEqual(Array.from({ length: 24 }, (_, i) => i).filter((i) => i !== 5 && i !== 9));
      expect((await again.listPage('events', 'ws_1', { limit: 100 })).items).toHaveLength(22);
      for (const i of landed) expect(await again.get('idempotency', `ws_1:key${i}`)).toEqual({ ...claim(i), status: 201, body: { id: `qr_${i}` } });
      expect(await again.get('idempotency', 'ws_1:key5')).toEqual({ ...claim(5), request_hash: 'other' });
      expect(await again.get('idempotency', 'ws_1:key9')).toBeUndefined();
    });

    it('absent makes a commit conditional on no record holding an id, as the ops before it leave them', async () => {
      const store = await openStore();
      await store.commit([{ collection: 'tombstones', put: { id: 'gone1', workspace_id: 'ws_1', qr_id: 'qr_old', deleted_at: T0 } }]);
      const refused = await store.commit([{ collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'gone1') }, { collection: 'tombstones', absent: 'gone1' }]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UniqueViolationError);
      expect(refused).toMatchObject({ collection: 'tombstones', index: 'id' });
      expect(await store.get('qrcodes', 'qr_1')).toBeUndefined();
      await store.commit([{ collection: 'tombstones', delete: 'gone1' }, { collection: 'qrcodes', put: qr('qr_1', 'ws_1', at(1), 'gone1') }, { collection: 'tombstones', absent: 'gone1' }]);
      expect((await store.get('qrcodes', 'qr_1'))?.route_key).toBe('gone1');
    });
  });
}
