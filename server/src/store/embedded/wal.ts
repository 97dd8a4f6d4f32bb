import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Op } from '../store.js';

export class CorruptDataError extends Error {}

/**
 * Reads an append-only log of committed transactions (one JSON line each).
 * A torn last line is a write that was never acknowledged: it is cut off. Damage anywhere else stops start-up.
 */
export function readLog(file: string): Op[][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CorruptDataError(`Cannot read the log ${file}: ${(error as Error).message}`);
  }
  const transactions: Op[][] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    lineNumber++;
    if (end === -1) {
      // torn tail: the write was interrupted before its newline, so it was never acknowledged
      fs.truncateSync(file, Buffer.byteLength(text.slice(0, start)));
      break;
    }
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    try {
      const parsed = JSON.parse(line) as { ops: Op[] };
      if (!Array.isArray(parsed.ops)) throw new Error('no ops');
      transactions.push(parsed.ops);
    } catch {
      throw new CorruptDataError(`The log ${file} is damaged at line ${lineNumber}; qrflow will not start on it. Restore it from a backup or move it aside.`);
    }
  }
  return transactions;
}

/** Appends transactions to the log, grouping those that arrive together into one write and one fsync. */
export class WriteAheadLog {
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  private held: Promise<void> | undefined;
  private bytes: number;

  private constructor(private handle: FileHandle, readonly file: string, private readonly onFatal: (error: Error) => void) {
    this.bytes = fs.statSync(file).size;
  }

  static async open(file: string, onFatal: (error: Error) => void): Promise<WriteAheadLog> {
    return new WriteAheadLog(await open(file, 'a', 0o600), file, onFatal);
  }

  get size(): number {
    return this.bytes;
  }

  /** Resolves once the transaction is on disk. */
  append(ops: Op[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push(JSON.stringify({ ops }) + '\n');
      this.waiters.push({ resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  /** Appends without anyone waiting; it is written with the next group. */
  appendSoon(ops: Op[]): void {
    this.pending.push(JSON.stringify({ ops }) + '\n');
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Writes whatever is pending and waits for it. */
  async flush(): Promise<void> {
    if (!this.flushing && this.pending.length > 0) this.flushing = this.flushLoop();
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // let the requests of this tick join the group
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.held) await this.held;
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending.join('');
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          await this.handle.write(chunk);
          await this.handle.datasync();
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error as Error);
          // memory now holds changes the disk may not: the only safe move is to stop and reload from disk
          this.onFatal(error as Error);
          return;
        }
        this.bytes += Buffer.byteLength(chunk);
        for (const waiter of waiters) waiter.resolve();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Runs `task` with no log write in progress or starting (appends still queue). Used to take a snapshot and then
   * empty the log: everything written before the task began is in the snapshot.
   */
  async exclusive<T>(task: (truncate: () => Promise<void>) => Promise<T>): Promise<T> {
    while (this.flushing) await this.flushing;
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    try {
      return await task(async () => {
        await this.handle.truncate(0);
        await this.handle.datasync();
        this.bytes = 0;
      });
    } finally {
      this.held = undefined;
      release();
      if (this.pending.length > 0 && !this.flushing) this.flushing = this.flushLoop();
    }
  }

  /**
   * Moves the current log aside to `rotatedFile` and starts an empty one, with no write in progress.
   * Everything committed so far is then in the rotated file.
   */
  async rotate(rotatedFile: string): Promise<void> {
    await this.exclusive(async () => {
      await this.handle.close();
      fs.renameSync(this.file, rotatedFile);
      this.handle = await open(this.file, 'a', 0o600);
      this.bytes = 0;
    });
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }
}
