import { COLLECTION_NAMES, type CollectionName } from './records.js';
import { LowdbStore } from './embedded/lowdb-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { storableJson } from './postgres/schema.js';
import type { Op } from './store.js';
import type { OrphanCount } from './scans.js';

export interface CollectionReport {
  name: CollectionName | 'scans' | 'orphan_scans';
  /** In the data file. */
  source: number;
  /** Written by this run. */
  copied: number;
  /** Found already in PostgreSQL, identical. */
  present: number;
  /** Of the data file's, how many PostgreSQL holds at the end (must equal `source`). */
  verified: number;
}

export interface MigrateOptions {
  /** Records per transaction, scans per batch. */
  batchSize?: number;
  /** Told after each batch is committed (progress; tests interrupt a run here). */
  onBatch?: (collection: CollectionName | 'scans', done: number) => void;
}

export class MigrationMismatchError extends Error {}

/** A record as comparable text: jsonb does not keep key order, so keys are sorted (and text made storable). */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return storableJson(sort(value));
}

/**
 * Copies an embedded deployment (every record of every collection, every scan, the orphan scan counts) into PostgreSQL. Records are upserted
 * in transactions of `batchSize`, skipping those already there and identical; scans keep their ids (so `evt_scan_N`
 * event ids stay valid) and are skipped when present. So a second run copies nothing, and a run interrupted at any
 * point is completed by the next. The data file is opened with its lock: the server must be stopped.
 */
export async function migrateStore(dataFile: string, databaseUrl: string, options: MigrateOptions = {}): Promise<CollectionReport[]> {
  const batchSize = options.batchSize ?? 1000;
  const from = await LowdbStore.open(dataFile);
  let to: PostgresStore | undefined;
  try {
    to = await PostgresStore.open(databaseUrl);
    await checkScanIds(from, to);
    const reports: CollectionReport[] = [];
    for (const name of COLLECTION_NAMES) {
      const records = (await from.all(name)) as Array<{ id: string }>;
      const existing = new Map(((await to.all(name)) as Array<{ id: string }>).map((record) => [record.id, canonical(record)]));
      const missing = records.filter((record) => existing.get(record.id) !== canonical(record));
      for (let start = 0; start < missing.length; start += batchSize) {
        await to.commit(missing.slice(start, start + batchSize).map((record) => ({ collection: name, put: record }) as Op));
        options.onBatch?.(name, start + batchSize);
      }
      const after = new Map(((await to.all(name)) as Array<{ id: string }>).map((record) => [record.id, canonical(record)]));
      const verified = records.filter((record) => after.get(record.id) === canonical(record)).length;
      reports.push({ name, source: records.length, copied: missing.length, present: records.length - missing.length, verified });
    }
    reports.push(await copyScans(from, to, batchSize, options));
    reports.push(await copyOrphans(from, to, batchSize));
    return reports;
  } finally {
    await to?.close();
    await from.close();
  }
}

/** Scan ids are kept, so the database must hold no scans of its own (from servers that already ran on it). */
async function checkScanIds(from: LowdbStore, to: PostgresStore): Promise<void> {
  const last = await to.scans.maxId();
  if (last === undefined) return;
  const theirs = await to.scans.get(last);
  const ours = await from.scans.get(last);
  if (!theirs || !ours || canonical(theirs) !== canonical(ours)) {
    throw new MigrationMismatchError(`PostgreSQL already holds scans that are not this data file's (scan ${last} differs): migrate into a database no qrflow server has written scans to.`);
  }
}

async function copyScans(from: LowdbStore, to: PostgresStore, batchSize: number, options: MigrateOptions): Promise<CollectionReport> {
  const source = await from.scans.count();
  let copied = 0;
  let done = 0;
  for await (const batch of from.scans.export(0, batchSize)) {
    copied += await to.scans.importScans(batch);
    done += batch.length;
    options.onBatch?.('scans', done);
  }
  const verified = await to.scans.count();
  return { name: 'scans', source, copied, present: source - copied, verified };
}

/** Orphan scan counts: set, not added, per (workspace, day, reason), so a rerun changes nothing. */
async function copyOrphans(from: LowdbStore, to: PostgresStore, batchSize: number): Promise<CollectionReport> {
  const counts = await from.scans.exportOrphans();
  let copied = 0;
  for (let start = 0; start < counts.length; start += batchSize) copied += await to.scans.importOrphans(counts.slice(start, start + batchSize));
  const key = (c: OrphanCount) => JSON.stringify([c.workspaceId, c.day, c.reason, c.humans, c.bots]);
  const there = new Set((await to.scans.exportOrphans()).map(key));
  const verified = counts.filter((c) => there.has(key(c))).length;
  return { name: 'orphan_scans', source: counts.length, copied, present: counts.length - copied, verified };
}
