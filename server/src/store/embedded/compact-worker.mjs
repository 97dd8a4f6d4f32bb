// Folds a rotated write-ahead log into the snapshot, off the main thread. Plain JavaScript so it runs in a worker.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

const { dataFile, logFile } = workerData;
try {
  const snapshot = fs.existsSync(dataFile) ? JSON.parse(fs.readFileSync(dataFile, 'utf8')) : null;
  const collections = new Map();
  for (const [name, records] of Object.entries(snapshot?.collections ?? {})) {
    collections.set(name, new Map(records.map((record) => [record.id, record])));
  }
  const text = fs.readFileSync(logFile, 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    for (const op of JSON.parse(line).ops) {
      let table = collections.get(op.collection);
      if (!table) collections.set(op.collection, (table = new Map()));
      if ('put' in op) table.set(op.put.id, op.put);
      else table.delete(op.delete);
    }
  }
  const document = { format: 'qrflow', version: 1, collections: Object.fromEntries([...collections].map(([name, table]) => [name, [...table.values()]])) };
  // like PrivateJsonFile (private-file.ts): an owner-only temporary file, fsynced, renamed over the snapshot
  const temporary = path.join(path.dirname(dataFile), `.${path.basename(dataFile)}.compact.tmp`);
  const handle = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.fchmodSync(handle, 0o600);
    fs.writeFileSync(handle, JSON.stringify(document));
    fs.fsyncSync(handle);
  } finally {
    fs.closeSync(handle);
  }
  fs.renameSync(temporary, dataFile);
  parentPort.postMessage({ ok: true });
} catch (error) {
  parentPort.postMessage({ ok: false, error: String(error?.message ?? error) });
}
