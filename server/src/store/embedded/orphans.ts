import fs from 'node:fs';
import type { OrphanCount, OrphanQuery, OrphanReason } from '../scans.js';
import { ORPHAN_REASONS } from '../scans.js';

interface Tally {
  humans: number;
  bots: number;
}

/** One line of the file: [day, workspace or null, reason, humans, bots], an increment. */
type Line = [number, string | null, string, number, number];

/**
 * Orphan scan counts of the embedded store, in `<dataFile>.orphans`: one JSON line per increment, appended and
 * fsynced at each batch, summed in memory by (scope, day, reason) when opened. A file with many more lines than
 * counts is rewritten compacted (to a temporary file, fsynced, renamed) when it is opened; a torn last line is cut.
 */
export class OrphanLog {
  private readonly counts = new Map<string, Tally>();

  private constructor(private readonly file: string) {}

  static open(dataFile: string): OrphanLog {
    const log = new OrphanLog(`${dataFile}.orphans`);
    let lines = 0;
    if (fs.existsSync(log.file)) {
      const text = fs.readFileSync(log.file, 'utf8');
      let start = 0;
      while (start < text.length) {
        const end = text.indexOf('\n', start);
        if (end === -1) {
          fs.truncateSync(log.file, Buffer.byteLength(text.slice(0, start)));
          break;
        }
        const line = JSON.parse(text.slice(start, end)) as Line;
        log.add(line[0], line[1], line[2] as OrphanReason, line[3], line[4]);
        lines++;
        start = end + 1;
      }
    }
    if (lines > 2 * log.counts.size + 1000) log.compact();
    return log;
  }

  private static key(scope: string | null, day: number, reason: string): string {
    return JSON.stringify([day, scope, reason]);
  }

  private add(day: number, scope: string | null, reason: OrphanReason, humans: number, bots: number): void {
    const key = OrphanLog.key(scope, day, reason);
    const tally = this.counts.get(key) ?? { humans: 0, bots: 0 };
    tally.humans += humans;
    tally.bots += bots;
    this.counts.set(key, tally);
  }

  private compact(): void {
    const temporary = `${this.file}.compact`;
    const text = [...this.counts].map(([key, tally]) => JSON.stringify([...(JSON.parse(key) as [number, string | null, string]), tally.humans, tally.bots]) + '\n').join('');
    const fd = fs.openSync(temporary, 'w', 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, this.file);
  }

  /** Adds counts: on disk (fsynced) first, then in memory. */
  async append(counts: OrphanCount[]): Promise<void> {
    const valid = counts.filter((c) => Number.isSafeInteger(c.day) && (ORPHAN_REASONS as readonly string[]).includes(c.reason) && c.humans + c.bots > 0);
    if (valid.length === 0) return;
    const text = valid.map((c) => JSON.stringify([c.day, c.workspaceId, c.reason, c.humans, c.bots] satisfies Line) + '\n').join('');
    const handle = await fs.promises.open(this.file, 'a', 0o600);
    try {
      await handle.write(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    for (const c of valid) this.add(c.day, c.workspaceId, c.reason, c.humans, c.bots);
  }

  /** Every count, summed (for `qrflow migrate-store`). */
  all(): OrphanCount[] {
    return [...this.counts].map(([key, tally]) => {
      const [day, workspaceId, reason] = JSON.parse(key) as [number, string | null, OrphanReason];
      return { day, workspaceId, reason, humans: tally.humans, bots: tally.bots };
    });
  }

  tally(query: OrphanQuery): Map<OrphanReason, number> {
    const out = new Map<OrphanReason, number>();
    // a range of days is short (at most two years): ask for each day rather than scan every scope's counts
    for (let day = query.fromDay; day < query.toDay; day++) {
      for (const reason of ORPHAN_REASONS) {
        const tally = this.counts.get(OrphanLog.key(query.workspaceId, day, reason));
        if (!tally) continue;
        const n = tally.humans + (query.includeBots ? tally.bots : 0);
        if (n > 0) out.set(reason, (out.get(reason) ?? 0) + n);
      }
    }
    return out;
  }
}
