import { bump, emptyBreakdowns, periodIndex, UNKNOWN, VisitorDays, type Scan, type ScanStorage, type ScanTally, type ScanTallyQuery, type StoredScan, type OrphanCount, type OrphanQuery, type OrphanReason } from '../scans.js';
import { OrphanLog } from './orphans.js';
import { DaySaltFile } from './salts.js';
import { ScanStore, splitLocation } from './scan-log.js';

/**
 * The embedded scan storage: the scan log beside the data file (`scan-log.ts`), opened on first use so that CLI
 * commands that never read scans do not load them. A scan's id is its position in the log.
 */
export class EmbeddedScans implements ScanStorage {
  private opening: Promise<ScanStore> | undefined;
  private closed = false;
  private orphanCounts: OrphanLog | undefined;
  private readonly salts: DaySaltFile;

  constructor(private readonly dataFile: string) {
    this.salts = new DaySaltFile(`${dataFile}.salt`);
  }

  /** The open log (loaded on first call). */
  log(): Promise<ScanStore> {
    if (this.closed) return Promise.reject(new Error('The scan storage is closed.'));
    this.opening ??= ScanStore.open(this.dataFile);
    return this.opening;
  }

  async append(scans: Scan[]): Promise<number[]> {
    const log = await this.log();
    const first = log.size;
    log.append(scans);
    await log.flush();
    return scans.map((_, n) => first + n);
  }

  async flush(): Promise<void> {
    if (this.opening) await (await this.opening).flush();
  }

  async humanCount(qrId: string): Promise<number> {
    return (await this.log()).humanCount(qrId);
  }

  async tally(query: ScanTallyQuery): Promise<ScanTally> {
    const log = await this.log();
    const view = log.view();
    const breakdowns = emptyBreakdowns();
    // counted by string id first (no string per scan), named at the end
    const byId = { country: new Map<number, number>(), device: new Map<number, number>(), os: new Map<number, number>(), browser: new Map<number, number>(), referrer: new Map<number, number>() };
    const byVariant = new Map<number, number>();
    const byLocation = new Map<number, number>();
    const count = (map: Map<number, number>, id: number) => map.set(id, (map.get(id) ?? 0) + 1);
    const starts = query.periodStarts;
    const periods = starts.map(() => ({ scans: 0, unique: 0 }));
    const visitorDays = new VisitorDays();
    let total = 0;
    // scans come in time order: the period moves forward, looked up again only for a scan out of order
    let period = 0;
    let periodEnd = -Infinity;
    let periodStart = Infinity;
    for (const i of log.scansOf(query.qrId, query.from, query.to)) {
      if (!query.includeBots && (view.flags[i] as number) & 1) continue;
      total++;
      const time = view.time[i] as number;
      if (time >= periodEnd || time < periodStart) {
        period = periodIndex(starts, time);
        periodStart = period === 0 ? -Infinity : (starts[period] as number);
        periodEnd = starts[period + 1] ?? Infinity;
      }
      const counted = periods[period];
      if (counted) counted.scans++;
      visitorDays.add(time, period, view.visitor[i] as number);
      count(byId.country, view.country[i] as number);
      count(byId.device, view.device[i] as number);
      count(byId.os, view.os[i] as number);
      count(byId.browser, view.browser[i] as number);
      count(byId.referrer, view.referrer[i] as number);
      count(byVariant, view.variant[i] as number);
      count(byLocation, view.location[i] as number);
    }
    for (const dimension of Object.keys(byId) as Array<keyof typeof byId>) {
      for (const [id, n] of byId[dimension]) bump(breakdowns[dimension], view.string(id), n);
    }
    for (const [stored, n] of byVariant) if (stored !== 0) bump(breakdowns.variant, String(stored - 1), n);
    for (const [id, n] of byLocation) {
      const { region, city } = splitLocation(view.string(id));
      bump(breakdowns.region, region || UNKNOWN, n);
      bump(breakdowns.city, city || UNKNOWN, n);
    }
    visitorDays.addTo(periods);
    return { total, unique: visitorDays.total, periods, breakdowns };
  }

  async *newestOfWorkspace(workspaceId: string, maxTime: number, minTime: number): AsyncIterable<StoredScan> {
    const log = await this.log();
    for (const i of log.newestOfWorkspace(workspaceId, maxTime)) {
      if (log.timeAt(i) < minTime) break;
      if (log.isBot(i)) continue;
      const scan = log.scanAt(i);
      if (scan) yield { id: i, ...scan };
    }
  }

  async get(id: number): Promise<StoredScan | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const scan = (await this.log()).scanAt(id);
    return scan && { id, ...scan };
  }

  async *export(fromId: number, batchSize: number): AsyncIterable<StoredScan[]> {
    const log = await this.log();
    for (let start = Math.max(0, fromId); start < log.size; start += batchSize) {
      const batch: StoredScan[] = [];
      for (let i = start; i < Math.min(log.size, start + batchSize); i++) batch.push({ id: i, ...(log.scanAt(i) as Scan) });
      yield batch;
    }
  }

  async count(): Promise<number> {
    return (await this.log()).size;
  }

  /** The orphan counts (loaded on first use). */
  private orphanLog(): OrphanLog {
    if (this.closed) throw new Error('The scan storage is closed.');
    this.orphanCounts ??= OrphanLog.open(this.dataFile);
    return this.orphanCounts;
  }

  async daySalt(day: number, candidate: Buffer): Promise<Buffer> {
    if (this.closed) throw new Error('The scan storage is closed.');
    return this.salts.salt(day, candidate);
  }

  async addOrphans(counts: OrphanCount[]): Promise<void> {
    await this.orphanLog().append(counts);
  }

  /** Every orphan count, summed per scope, day and reason (for `qrflow migrate-store`). */
  async exportOrphans(): Promise<OrphanCount[]> {
    return this.orphanLog().all();
  }

  async orphans(query: OrphanQuery): Promise<Map<OrphanReason, number>> {
    return this.orphanLog().tally(query);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opening) await (await this.opening).close();
  }
}
