import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

import { storedVariant, type Scan } from '../scans.js';

export type { Scan };

/**
 * The scan log: an 8-byte magic, then fixed-size little-endian records. Version 2 (`QRFSCAN2`, 48 bytes) keeps
 * every interned string id in 32 bits: version 1 (`QRFSCAN1`, 40 bytes) had 16-bit country, device, OS and browser
 * ids, which overflow once a workspace has interned more than 65,535 strings (code ids share the dictionary).
 * A version-1 log is rewritten as version 2 when it is opened.
 *
 * A version-2 record: time f64 @0; code, workspace, visitor, country, device, OS, browser, referrer u32 @8..36;
 * flags u8 @40 (bit 0: bot); variant u8 @41 (0: none, n + 1: variant n); two spare bytes; location u32 @44 (the
 * dictionary id of `region + "\0" + city`, 0: neither known). The variant and location came later into bytes that
 * every writer had left zero, so records written before them read as "no variant, no location" with no upgrade.
 */
export const SCAN_MAGIC = Buffer.from('QRFSCAN2');
export const SCAN_RECORD_BYTES = 48;
const MAGIC = SCAN_MAGIC;
const RECORD_BYTES = SCAN_RECORD_BYTES;
const MAGIC_V1 = Buffer.from('QRFSCAN1');
const RECORD_BYTES_V1 = 40;

/** One scan record with its strings as dictionary ids (id 0 is the empty string). */
export interface ScanRecord {
  time: number;
  qr: number;
  workspace: number;
  visitor: number;
  country: number;
  device: number;
  os: number;
  browser: number;
  referrer: number;
  flags: number;
  /** 0: no variant; n + 1: variant n. */
  variant?: number;
  /** Dictionary id of `region\0city`; 0: no location. */
  location?: number;
}

/** A location's dictionary string: region and city joined by NUL (never part of either); '' when neither is known. */
export function locationString(region: string | null, city: string | null): string {
  return region || city ? `${region ?? ''}\0${city ?? ''}` : '';
}

/** The region and city of a location string. */
export function splitLocation(value: string): { region: string | null; city: string | null } {
  const nul = value.indexOf('\0');
  if (nul === -1) return { region: null, city: null };
  return { region: value.slice(0, nul) || null, city: value.slice(nul + 1) || null };
}

/** Writes one version-2 record at `offset`. */
export function encodeScanRecord(buffer: Buffer, offset: number, r: ScanRecord): void {
  buffer.writeDoubleLE(r.time, offset);
  buffer.writeUInt32LE(r.qr, offset + 8);
  buffer.writeUInt32LE(r.workspace, offset + 12);
  buffer.writeUInt32LE(r.visitor, offset + 16);
  buffer.writeUInt32LE(r.country, offset + 20);
  buffer.writeUInt32LE(r.device, offset + 24);
  buffer.writeUInt32LE(r.os, offset + 28);
  buffer.writeUInt32LE(r.browser, offset + 32);
  buffer.writeUInt32LE(r.referrer, offset + 36);
  buffer.writeUInt8(r.flags, offset + 40);
  buffer.writeUInt8(r.variant ?? 0, offset + 41);
  buffer.writeUInt32LE(r.location ?? 0, offset + 44);
}

function decodeV1(buffer: Buffer, offset: number): ScanRecord {
  return {
    time: buffer.readDoubleLE(offset),
    qr: buffer.readUInt32LE(offset + 8),
    workspace: buffer.readUInt32LE(offset + 12),
    visitor: buffer.readUInt32LE(offset + 16),
    country: buffer.readUInt16LE(offset + 20),
    device: buffer.readUInt16LE(offset + 22),
    os: buffer.readUInt16LE(offset + 24),
    browser: buffer.readUInt16LE(offset + 26),
    referrer: buffer.readUInt32LE(offset + 28),
    flags: buffer.readUInt8(offset + 32),
  };
}

/** Rewrites a version-1 scan log as version 2: a temporary file, fsynced, then renamed over the old one. */
function upgradeV1(file: string, buffer: Buffer): Buffer {
  const count = Math.floor((buffer.length - MAGIC_V1.length) / RECORD_BYTES_V1);
  const out = Buffer.alloc(MAGIC.length + count * RECORD_BYTES);
  MAGIC.copy(out, 0);
  for (let i = 0; i < count; i++) encodeScanRecord(out, MAGIC.length + i * RECORD_BYTES, decodeV1(buffer, MAGIC_V1.length + i * RECORD_BYTES_V1));
  const temporary = `${file}.upgrade`;
  const fd = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.writeSync(fd, out);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  return out;
}

/** Growable typed-array columns: ~42 bytes a scan in memory. */
class Columns {
  size = 0;
  time = new Float64Array(1024);
  qr = new Uint32Array(1024);
  workspace = new Uint32Array(1024);
  visitor = new Uint32Array(1024);
  country = new Uint32Array(1024);
  device = new Uint32Array(1024);
  os = new Uint32Array(1024);
  browser = new Uint32Array(1024);
  referrer = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  variant = new Uint8Array(1024);
  location = new Uint32Array(1024);

  ensure(capacity: number): void {
    if (capacity <= this.time.length) return;
    let next = this.time.length;
    while (next < capacity) next *= 2;
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(array: T): T => {
      const bigger = new (array.constructor as new (n: number) => T)(next);
      bigger.set(array);
      return bigger;
    };
    this.time = grow(this.time);
    this.qr = grow(this.qr);
    this.workspace = grow(this.workspace);
    this.visitor = grow(this.visitor);
    this.country = grow(this.country);
    this.device = grow(this.device);
    this.os = grow(this.os);
    this.browser = grow(this.browser);
    this.referrer = grow(this.referrer);
    this.flags = grow(this.flags);
    this.variant = grow(this.variant);
    this.location = grow(this.location);
  }
}

/** A growable list of scan indexes for one code, in time order. */
interface PerCode {
  indexes: Uint32Array;
  length: number;
  humans: number;
}

function addTo(map: Map<number, PerCode>, key: number, i: number, human: boolean): void {
  let entry = map.get(key);
  if (!entry) map.set(key, (entry = { indexes: new Uint32Array(4), length: 0, humans: 0 }));
  if (entry.length === entry.indexes.length) {
    const bigger = new Uint32Array(entry.indexes.length * 2);
    bigger.set(entry.indexes);
    entry.indexes = bigger;
  }
  entry.indexes[entry.length++] = i;
  if (human) entry.humans++;
}

/** A view over recorded scans that analytics reads. */
export interface ScanView {
  time: Float64Array;
  visitor: Uint32Array;
  country: Uint32Array;
  device: Uint32Array;
  os: Uint32Array;
  browser: Uint32Array;
  referrer: Uint32Array;
  flags: Uint8Array;
  variant: Uint8Array;
  location: Uint32Array;
  string(id: number): string;
}

/**
 * Every scan, in an append-only file of fixed 48-byte records plus a dictionary file of interned strings,
 * and in memory as typed-array columns indexed by code. Appends are buffered and written in bulk.
 */
export class ScanStore {
  private readonly columns = new Columns();
  private readonly strings: string[] = [''];
  private readonly stringIds = new Map<string, number>([['', 0]]);
  private readonly byCode = new Map<number, PerCode>();
  private readonly byWorkspace = new Map<number, PerCode>();
  private pendingRecords: Buffer[] = [];
  private pendingDict: string[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly records: FileHandle,
    private readonly dict: FileHandle,
  ) {}

  /** Loads `<dataFile>.scans` and `<dataFile>.scans.dict`; a torn tail (crash mid-append) is cut off. */
  static async open(dataFile: string): Promise<ScanStore> {
    const recordsFile = `${dataFile}.scans`;
    const dictFile = `${dataFile}.scans.dict`;
    const strings: string[] = [''];
    if (fs.existsSync(dictFile)) {
      const text = fs.readFileSync(dictFile, 'utf8');
      let start = 0;
      while (start < text.length) {
        const end = text.indexOf('\n', start);
        if (end === -1) {
          fs.truncateSync(dictFile, Buffer.byteLength(text.slice(0, start)));
          break;
        }
        const value: unknown = JSON.parse(text.slice(start, end));
        if (typeof value !== 'string') throw new Error(`The scan dictionary ${dictFile} is damaged.`);
        strings.push(value);
        start = end + 1;
      }
    }
    let buffer: Buffer = Buffer.alloc(0);
    if (fs.existsSync(recordsFile)) {
      buffer = fs.readFileSync(recordsFile);
      if (buffer.length >= MAGIC_V1.length && buffer.subarray(0, MAGIC_V1.length).equals(MAGIC_V1)) buffer = upgradeV1(recordsFile, buffer);
      if (buffer.length > 0 && !buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`The scan log ${recordsFile} is not a qrflow scan log.`);
      const whole = buffer.length < MAGIC.length ? 0 : MAGIC.length + Math.floor((buffer.length - MAGIC.length) / RECORD_BYTES) * RECORD_BYTES;
      if (whole !== buffer.length) {
        fs.truncateSync(recordsFile, whole);
        buffer = buffer.subarray(0, whole);
      }
    }
    const records = await open(recordsFile, 'a', 0o600);
    if (buffer.length === 0) await records.write(MAGIC);
    const dict = await open(dictFile, 'a', 0o600);
    const store = new ScanStore(records, dict);
    for (let i = 1; i < strings.length; i++) store.intern(strings[i] as string, false);
    const count = buffer.length > MAGIC.length ? (buffer.length - MAGIC.length) / RECORD_BYTES : 0;
    store.columns.ensure(count + 1);
    for (let i = 0; i < count; i++) store.load(buffer, MAGIC.length + i * RECORD_BYTES);
    store.indexLoaded();
    return store;
  }

  /**
   * Indexes every loaded scan by code and by workspace in two passes (count, then fill), so each code's list is
   * one exact-size view of a shared array instead of a chain of doubling copies: ~3x faster start-up at 1M scans.
   */
  private indexLoaded(): void {
    const c = this.columns;
    const build = (map: Map<number, PerCode>, keys: Uint32Array) => {
      let size = this.strings.length;
      for (let i = 0; i < c.size; i++) if ((keys[i] as number) >= size) size = (keys[i] as number) + 1;
      const counts = new Uint32Array(size);
      for (let i = 0; i < c.size; i++) counts[keys[i] as number] = (counts[keys[i] as number] as number) + 1;
      const all = new Uint32Array(c.size);
      const entries: PerCode[] = new Array(size);
      let start = 0;
      for (let key = 0; key < size; key++) {
        const n = counts[key] as number;
        if (n === 0) continue;
        const entry: PerCode = { indexes: all.subarray(start, start + n), length: 0, humans: 0 };
        entries[key] = entry;
        map.set(key, entry);
        start += n;
      }
      for (let i = 0; i < c.size; i++) {
        const entry = entries[keys[i] as number] as PerCode;
        entry.indexes[entry.length++] = i;
        if (!((c.flags[i] as number) & 1)) entry.humans++;
      }
    };
    build(this.byCode, c.qr);
    build(this.byWorkspace, c.workspace);
  }

  private intern(value: string, persist = true): number {
    let id = this.stringIds.get(value);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(value);
      this.stringIds.set(value, id);
      if (persist) this.pendingDict.push(JSON.stringify(value) + '\n');
    }
    return id;
  }

  private load(buffer: Buffer, offset: number): void {
    const c = this.columns;
    const i = c.size++;
    c.time[i] = buffer.readDoubleLE(offset);
    const qr = buffer.readUInt32LE(offset + 8);
    c.qr[i] = qr;
    c.workspace[i] = buffer.readUInt32LE(offset + 12);
    c.visitor[i] = buffer.readUInt32LE(offset + 16);
    c.country[i] = buffer.readUInt32LE(offset + 20);
    c.device[i] = buffer.readUInt32LE(offset + 24);
    c.os[i] = buffer.readUInt32LE(offset + 28);
    c.browser[i] = buffer.readUInt32LE(offset + 32);
    c.referrer[i] = buffer.readUInt32LE(offset + 36);
    c.flags[i] = buffer.readUInt8(offset + 40);
    c.variant[i] = buffer.readUInt8(offset + 41);
    c.location[i] = buffer.readUInt32LE(offset + 44);
  }

  private index(qr: number, i: number): void {
    const human = !((this.columns.flags[i] as number) & 1);
    addTo(this.byCode, qr, i, human);
    addTo(this.byWorkspace, this.columns.workspace[i] as number, i, human);
  }

  /** Records scans now (visible to counts and analytics at once) and queues them for the next bulk write. */
  append(scans: Scan[]): void {
    if (this.closed || scans.length === 0) return;
    const c = this.columns;
    c.ensure(c.size + scans.length);
    const buffer = Buffer.alloc(scans.length * RECORD_BYTES);
    scans.forEach((scan, n) => {
      const i = c.size++;
      const qr = this.intern(scan.qrId);
      c.time[i] = scan.time;
      c.qr[i] = qr;
      c.workspace[i] = this.intern(scan.workspaceId);
      c.visitor[i] = scan.visitor >>> 0;
      c.country[i] = this.intern(scan.country);
      c.device[i] = this.intern(scan.device);
      c.os[i] = this.intern(scan.os);
      c.browser[i] = this.intern(scan.browser);
      c.referrer[i] = this.intern(scan.referrer);
      c.flags[i] = scan.bot ? 1 : 0;
      const variant = storedVariant(scan.variant);
      c.variant[i] = variant === null ? 0 : variant + 1;
      c.location[i] = this.intern(locationString(scan.region ?? null, scan.city ?? null));
      encodeScanRecord(buffer, n * RECORD_BYTES, {
        time: scan.time,
        qr,
        workspace: c.workspace[i] as number,
        visitor: c.visitor[i] as number,
        country: c.country[i] as number,
        device: c.device[i] as number,
        os: c.os[i] as number,
        browser: c.browser[i] as number,
        referrer: c.referrer[i] as number,
        flags: c.flags[i] as number,
        variant: c.variant[i] as number,
        location: c.location[i] as number,
      });
      this.index(qr, i);
    });
    this.pendingRecords.push(buffer);
  }

  /** Writes queued scans: the dictionary first, so a record never refers to a string that is not on disk. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pendingRecords.length === 0 && this.pendingDict.length === 0) return Promise.resolve();
    const dict = this.pendingDict.join('');
    const records = Buffer.concat(this.pendingRecords);
    this.pendingDict = [];
    this.pendingRecords = [];
    this.flushing = (async () => {
      if (dict) {
        await this.dict.write(dict);
        await this.dict.datasync();
      }
      if (records.length) {
        await this.records.write(records);
        await this.records.datasync();
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Non-bot scans of a code. */
  humanCount(qrId: string): number {
    const id = this.stringIds.get(qrId);
    return id === undefined ? 0 : (this.byCode.get(id)?.humans ?? 0);
  }

  /** Indexes (into the columns) of a code's scans with from <= time < to, in time order. */
  scansOf(qrId: string, from: number, to: number): number[] {
    const id = this.stringIds.get(qrId);
    const perCode = id === undefined ? undefined : this.byCode.get(id);
    if (!perCode) return [];
    const out: number[] = [];
    const { indexes, length } = perCode;
    const time = this.columns.time;
    // binary search for the first scan at or after `from` (append order is time order)
    let low = 0;
    let high = length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((time[indexes[mid] as number] as number) < from) low = mid + 1;
      else high = mid;
    }
    for (let k = low; k < length; k++) {
      const i = indexes[k] as number;
      const t = time[i] as number;
      if (t >= to) break;
      if (t >= from) out.push(i);
    }
    return out;
  }

  /** Indexes of a workspace's scans with time <= maxTime, newest first (append order is time order). */
  *newestOfWorkspace(workspaceId: string, maxTime = Infinity): Generator<number> {
    const id = this.stringIds.get(workspaceId);
    const list = id === undefined ? undefined : this.byWorkspace.get(id);
    if (!list) return;
    const time = this.columns.time;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((time[list.indexes[mid] as number] as number) <= maxTime) low = mid + 1;
      else high = mid;
    }
    for (let k = low - 1; k >= 0; k--) yield list.indexes[k] as number;
  }

  isBot(i: number): boolean {
    return ((this.columns.flags[i] as number) & 1) === 1;
  }

  timeAt(i: number): number {
    return this.columns.time[i] as number;
  }

  get size(): number {
    return this.columns.size;
  }

  qrIdAt(i: number): string {
    return this.strings[this.columns.qr[i] as number] as string;
  }

  /** One recorded scan, by index. */
  scanAt(i: number): Scan | undefined {
    if (i < 0 || i >= this.columns.size) return undefined;
    const c = this.columns;
    const str = (id: number | undefined) => this.strings[id as number] ?? '';
    return {
      time: c.time[i] as number,
      qrId: str(c.qr[i]),
      workspaceId: str(c.workspace[i]),
      visitor: c.visitor[i] as number,
      country: str(c.country[i]),
      device: str(c.device[i]),
      os: str(c.os[i]),
      browser: str(c.browser[i]),
      referrer: str(c.referrer[i]),
      bot: ((c.flags[i] as number) & 1) === 1,
      variant: (c.variant[i] as number) === 0 ? null : (c.variant[i] as number) - 1,
      ...splitLocation(str(c.location[i])),
    };
  }

  view(): ScanView {
    const c = this.columns;
    return {
      time: c.time,
      visitor: c.visitor,
      country: c.country,
      device: c.device,
      os: c.os,
      browser: c.browser,
      referrer: c.referrer,
      flags: c.flags,
      variant: c.variant,
      location: c.location,
      string: (id) => this.strings[id] ?? '',
    };
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.records.close();
    await this.dict.close();
  }
}
