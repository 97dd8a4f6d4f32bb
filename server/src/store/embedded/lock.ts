import fs from 'node:fs';

export class DataFileLockedError extends Error {
  constructor(readonly dataFile: string, readonly pid: number) {
    super(`The data file ${dataFile} is in use by another qrflow process (pid ${pid}). Stop that process first, or point QRFLOW_DATA_FILE / --data at another file.`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on a data file through `<file>.lock` holding our pid.
 * A lock left by a process that no longer runs (kill -9) is taken over.
 */
export function acquireLock(dataFile: string): () => void {
  const lockFile = `${dataFile}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(fs.readFileSync(lockFile, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataFileLockedError(dataFile, pid);
      if (pid === process.pid) throw new DataFileLockedError(dataFile, pid);
      fs.rmSync(lockFile, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`Could not lock ${dataFile}`);
}

/** The pid holding the data file, if a live process does. */
export function lockHolder(dataFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(`${dataFile}.lock`, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
