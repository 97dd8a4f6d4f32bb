import { DAY_MS } from '../scans.js';
import { PrivateJsonFile } from './private-file.js';

/** `<dataFile>.salt`: the visitor-hash salts of at most yesterday, today and tomorrow (UTC), by ISO date. */
interface SaltDocument {
  salts: Record<string, string>;
}

/** What releases before salts were kept per day wrote: today's salt alone. */
interface LegacySaltDocument {
  day: string;
  salt: string;
}

const isoDate = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * The embedded store's daily visitor salts, in `<dataFile>.salt` (owner-only, replaced atomically). The embedded
 * store is one process's (its data file is locked), so reading and writing the file in turn is insert-if-absent.
 * A file written by an older release (`{day, salt}`) is read as that day's salt, so an upgrade the same day keeps
 * counting the same visitors once.
 */
export class DaySaltFile {
  private readonly file: PrivateJsonFile<SaltDocument | LegacySaltDocument>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.file = new PrivateJsonFile(path);
  }

  salt(day: number, candidate: Buffer): Promise<Buffer> {
    const next = this.queue.then(() => this.saltNow(day, candidate));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async saltNow(day: number, candidate: Buffer): Promise<Buffer> {
    let stored: SaltDocument | LegacySaltDocument | null = null;
    try {
      stored = await this.file.read();
    } catch {
      // unreadable: made again (the salts of today and tomorrow only: visitors already counted today count again)
    }
    const salts: Record<string, string> = stored && 'salts' in stored ? { ...stored.salts } : stored && 'day' in stored ? { [stored.day]: stored.salt } : {};
    const wanted = isoDate(day);
    const oldest = isoDate(day - 1);
    let changed = !(stored && 'salts' in stored);
    for (const date of Object.keys(salts)) {
      if (date < oldest) {
        delete salts[date];
        changed = true;
      }
    }
    let salt = salts[wanted];
    if (salt === undefined) {
      salt = candidate.toString('base64');
      salts[wanted] = salt;
      changed = true;
    }
    if (changed) await this.file.write({ salts });
    return Buffer.from(salt, 'base64');
  }
}
