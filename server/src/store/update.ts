import { isDeepStrictEqual } from 'node:util';
import type { CollectionName } from './records.js';
import { StaleRecordError, type UpdateOp } from './store.js';

type AnyRecord = { id: string } & Record<string, unknown>;

/** A value as it reads back from storage (JSON): absent fields and `undefined` are the same. */
function asStored(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * The record an update op leaves, from the record as it stands (undefined: none has the id). Returns undefined
 * when the op does nothing (no record and no `ifMissing`); throws StaleRecordError when `expect` does not hold.
 * Both adapters apply updates through this function, so they agree to the field.
 */
export function applyUpdate(current: AnyRecord | undefined, op: UpdateOp): AnyRecord | undefined {
  const collection = op.collection as CollectionName;
  const base = current ?? (op.ifMissing as AnyRecord | undefined);
  if (op.expect) {
    if (!current) throw new StaleRecordError(collection, op.update);
    for (const [field, value] of Object.entries(op.expect)) {
      if (!isDeepStrictEqual(asStored(current[field]), asStored(value))) throw new StaleRecordError(collection, op.update);
    }
  }
  if (!base) return undefined;
  const next: AnyRecord = { ...base, ...(op.set as Record<string, unknown> | undefined), id: op.update };
  for (const [path, by] of Object.entries(op.increment ?? {})) {
    if (!Number.isFinite(by)) throw new TypeError(`increment of ${path} must be a finite number`);
    const dot = path.indexOf('.');
    if (dot < 0) {
      next[path] = (typeof next[path] === 'number' ? (next[path] as number) : 0) + by;
    } else {
      const field = path.slice(0, dot);
      const key = path.slice(dot + 1);
      const inner = { ...((typeof next[field] === 'object' && next[field] !== null ? next[field] : {}) as Record<string, unknown>) };
      inner[key] = (typeof inner[key] === 'number' ? (inner[key] as number) : 0) + by;
      next[field] = inner;
    }
  }
  if (op.append) {
    const field = op.append.field as string;
    const held = Array.isArray(next[field]) ? (next[field] as unknown[]) : [];
    const joined = [...held, ...op.append.items];
    next[field] = joined.slice(Math.max(0, joined.length - op.append.keepLast));
  }
  return next;
}
