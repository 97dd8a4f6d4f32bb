import fs from 'node:fs';
import path from 'node:path';
import type { Adapter } from 'lowdb';

/** Owner-only: the store's files hold password hashes, key hashes and webhook secrets. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A lowdb adapter for a JSON document that only its owner can read: written to a temporary file created 0600,
 * fsynced, then renamed over the document, so no reader ever sees a partial or world-readable version.
 */
export class PrivateJsonFile<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    const temporary = path.join(path.dirname(this.file), `.${path.basename(this.file)}.tmp`);
    const handle = await fs.promises.open(temporary, 'w', PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE); // a temporary file left by an older version keeps its mode when reopened
      await handle.writeFile(JSON.stringify(data));
      await handle.sync(); // the content is on disk before the rename makes it the document
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, this.file);
  }
}

/** Makes an existing file owner-only if it is not (files written by older versions were world-readable). */
export function makePrivate(file: string): void {
  try {
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch {
    // missing, or not ours to change: the warning about the directory covers it
  }
}

/** A warning when others can list or enter the directory holding the data files, or undefined. */
export function dataDirectoryWarning(dataFile: string): string | undefined {
  const directory = path.dirname(path.resolve(dataFile));
  let mode: number;
  try {
    mode = fs.statSync(directory).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `The data directory ${directory} is open to other users (mode ${mode.toString(8).padStart(4, '0')}). Its files are owner-only, but their names and sizes show; make it private with: chmod 700 ${directory}`;
}
