import { describe, expect, it } from 'vitest';
import type { QrRecord } from '../store/records.js';
import type { QrView } from './schemas.js';
import { ViewJsonCache } from './view-json.js';

/** A record and a view made from it (the cache only reads the view's scan count and state, and serialises it). */
function code(id: string, fields: Partial<QrRecord> = {}): QrRecord {
  return { id, workspace_id: 'ws_1', name: `Code ${id}`, tags: [], style: { margin: 4 }, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', ...fields } as unknown as QrRecord;
}
const viewOf = (record: QrRecord, scans = 0, state = 'live') => ({ ...record, scan_count: scans, state }) as unknown as QrView;

describe('ViewJsonCache', () => {
  it('gives JSON.stringify of the view, and the JSON remembered only while record, scan count and state are the same', () => {
    const cache = new ViewJsonCache();
    const record = code('qr_1');
    const first = cache.json(record, viewOf(record));
    expect(first).toBe(JSON.stringify(viewOf(record)));
    // a shallow copy of the same record (what a store's list gives): the same fields, the same nested objects
    const stale = viewOf(record, 0, 'live');
    (stale as { name: string }).name = 'not serialised again';
    expect(cache.json({ ...record }, stale)).toBe(first);
    const cases: Array<[QrRecord, QrView]> = [
      [{ ...record, name: 'Renamed' }, viewOf({ ...record, name: 'Renamed' })],
      // the same content in a new object is not taken on trust
      [{ ...record, style: { margin: 4 } } as unknown as QrRecord, viewOf({ ...record, style: { margin: 5 } } as unknown as QrRecord)],
      [{ ...record, domain: 'qr.example.com' }, viewOf({ ...record, domain: 'qr.example.com' })],
      [record, viewOf(record, 1)],
      [record, viewOf(record, 0, 'expired')],
    ];
    for (const [changed, view] of cases) expect(cache.json(changed, view)).toBe(JSON.stringify(view));
  });

  it('holds at most its bound, the least recently used dropped first', () => {
    const cache = new ViewJsonCache(3);
    const records = ['a', 'b', 'c', 'd'].map((id) => code(id));
    for (const record of records.slice(0, 3)) cache.json(record, viewOf(record));
    cache.json(records[0] as QrRecord, viewOf(records[0] as QrRecord)); // a is used again: b is now the oldest
    cache.json(records[3] as QrRecord, viewOf(records[3] as QrRecord));
    expect(cache.size).toBe(3);
    const b = records[1] as QrRecord;
    const changedView = { ...viewOf(b), name: 'made again' } as QrView;
    expect(cache.json(b, changedView)).toBe(JSON.stringify(changedView)); // b was dropped: made again
    const a = records[0] as QrRecord;
    expect(cache.json(a, { ...viewOf(a), name: 'not made again' } as QrView)).toBe(JSON.stringify(viewOf(a)));
  });
});
