import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

/** One scan, as recorded. Strings are interned; raw IPs are never kept. */
export interface Scan {
  time: number;
  qrId: string;
  workspaceId: string;
  /** Salted (daily) hash of the visitor, 32 bits. */
  visitor: number;
  country: string;
  device: string;
  os: string;
  browser: string;
  referrer: string;
  bot: boolean;
}

const RECORD_BYTES = 40;
const MAGIC = Buffer.from('QRFSCAN1');

/** Growable typed-array columns: ~29 bytes a scan in memory. */
class Columns {
  size = 0;
  time = new Float64Array(1024);
  qr = new Uint32Array(1024);
  workspace = new Uint32Array(1024);
  visitor = new Uint32Array(1024);
  country = new Uint16Array(1024);
  device = new Uint16Array(1024);
  os = new Uint16Array(1024);
  browser = new Uint16Array(1024);
  referrer = new Uint32Array(1024);
  flags = new Uint8Array(1024);

  ensure(capacity: number): void {
    if (capacity <= this.time.length) return;
    let next = this.time.length;
    while (next < capacity) next *= 2;
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(array: T): T => {
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
  country: Uint16Array;
  device: Uint16Array;
  os: Uint16Array;
  browser: Uint16Array;
  referrer: Uint32Array;
  flags: Uint8Array;
  string(id: number): string;
}

/**
 * Every scan, in an append-only file of fixed 32-byte records plus a dictionary file of interned strings,
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
    let buffer = Buffer.alloc(0);
    if (fs.existsSync(recordsFile)) {
      buffer = fs.readFileSync(recordsFile);
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
    c.country[i] = buffer.readUInt16LE(offset + 20);
    c.device[i] = buffer.readUInt16LE(offset + 22);
    c.os[i] = buffer.readUInt16LE(offset + 24);
    c.browser[i] = buffer.readUInt16LE(offset + 26);
    c.referrer[i] = buffer.readUInt32LE(offset + 28);
    c.flags[i] = buffer.readUInt8(offset + 32);
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
      const offset = n * RECORD_BYTES;
      buffer.writeDoubleLE(scan.time, offset);
      buffer.writeUInt32LE(qr, offset + 8);
      buffer.writeUInt32LE(c.workspace[i] as number, offset + 12);
      buffer.writeUInt32LE(c.visitor[i] as number, offset + 16);
      buffer.writeUInt16LE(c.country[i] as number, offset + 20);
      buffer.writeUInt16LE(c.device[i] as number, offset + 22);
      buffer.writeUInt16LE(c.os[i] as number, offset + 24);
      buffer.writeUInt16LE(c.browser[i] as number, offset + 26);
      buffer.writeUInt32LE(c.referrer[i] as number, offset + 28);
      buffer.writeUInt8(c.flags[i] as number, offset + 32);
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
