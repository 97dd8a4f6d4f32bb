// Folds a rotated write-ahead log into the snapshot, off the main thread. Plain JavaScript so it runs in a worker.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';

const { dataFile, logFile } = workerData;
try {
  const db = new Low(new DataFile(dataFile, { parse: JSON.parse, stringify: JSON.stringify }), null);
  await db.read();
  const collections = new Map();
  for (const [name, records] of Object.entries(db.data?.collections ?? {})) {
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
  db.data = { format: 'qrflow', version: 1, collections: Object.fromEntries([...collections].map(([name, table]) => [name, [...table.values()]])) };
  await db.write();
  const handle = fs.openSync(dataFile, 'r');
  fs.fsyncSync(handle);
  fs.closeSync(handle);
  parentPort.postMessage({ ok: true });
} catch (error) {
  parentPort.postMessage({ ok: false, error: String(error?.message ?? error) });
}
