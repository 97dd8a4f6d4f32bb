import type { QrRecord } from '../store/records.js';
import type { QrView } from './schemas.js';

interface Held {
  record: QrRecord;
  scanCount: number;
  state: string;
  json: string;
}

/**
 * Codes' views as JSON, remembered for the list pages (a page of 20 is ~14 KB, and `JSON.stringify` of it was a
 * fifth of a list request). A view is a function of its record, its scan count and its state (the time's part:
 * scheduled, live, expired), and the process's public URL. An entry is used only when the record it was made from
 * has the same own fields, each the same value or the very same object (records are never changed in place: a
 * write stores a new one), and the same scan count and state; anything else makes the JSON again. A store that
 * hands out new objects for every read (PostgreSQL) simply never hits. At most `max` codes, least recently used
 * dropped first.
 */
export class ViewJsonCache {
  private readonly held = new Map<string, Held>();

  constructor(private readonly max = 2000) {}

  get size(): number {
    return this.held.size;
  }

  /** The view's JSON, as `JSON.stringify(view)` gives it. */
  json(record: QrRecord, view: QrView): string {
    const held = this.held.get(record.id);
    if (held && held.scanCount === view.scan_count && held.state === view.state && sameFields(held.record, record)) {
      // most recently used last
      this.held.delete(record.id);
      this.held.set(record.id, held);
      return held.json;
    }
    const json = JSON.stringify(view);
    if (held) this.held.delete(record.id);
    this.held.set(record.id, { record, scanCount: view.scan_count, state: view.state, json });
    if (this.held.size > this.max) this.held.delete(this.held.keys().next().value as string);
    return json;
  }
}

/** Whether two records have the same own fields, each the same value (or object) in both. */
function sameFields(a: QrRecord, b: QrRecord): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let fields = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key)) continue;
    if (x[key] !== y[key] || !Object.hasOwn(y, key)) return false;
    fields++;
  }
  for (const key in y) if (Object.hasOwn(y, key)) fields--;
  return fields === 0;
}
