import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LowdbStore } from './lowdb-store.js';
import type { QrRecord } from '../records.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-compact-'));
  dirs.push(dir);
  return path.join(dir, 'qrflow.json');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function qr(i: number): QrRecord {
  const time = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    id: `qr_${String(i).padStart(6, '0')}`, workspace_id: 'ws_1', name: `code ${i}`, type: 'url', mode: 'dynamic',
    destination_url: `https://example.com/${i}`, content: null, short_code: `c${String(i).padStart(6, '0')}`, status: 'active', tags: [],
    style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' }, created_at: time, updated_at: time,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('background compaction', () => {
  it('folds a log that passed the threshold into the snapshot on a worker thread and keeps every write', async () => {
    const file = tempFile();
    const store = await LowdbStore.open(file, { compactAtBytes: 20_000 });
    for (let i = 0; i < 200; i++) await store.commit([{ collection: 'qrcodes', put: qr(i) }]);
    await store.commit([{ collection: 'qrcodes', delete: qr(3).id }]);
    await until(() => fs.existsSync(file) && !fs.existsSync(`${file}.wal.1`) && fs.statSync(`${file}.wal`).size < 20_000);
    const snapshot = JSON.parse(fs.readFileSync(file, 'utf8')) as { collections: { qrcodes: QrRecord[] } };
    expect(snapshot.collections.qrcodes.length).toBeGreaterThan(20);
    expect(fs.statSync(`${file}.wal`).size).toBeLessThan(20_000);
    // copy the files as they are (an unclean stop) and reopen: nothing lost, the delete kept
    const copy = tempFile();
    for (const suffix of ['', '.wal', '.wal.1']) if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, copy + suffix);
    await store.close();
    const reopened = await LowdbStore.open(copy);
    expect(await reopened.countByWorkspace('qrcodes', 'ws_1')).toBe(199);
    expect(await reopened.get('qrcodes', qr(3).id)).toBeUndefined();
    expect((await reopened.findUnique('qrcodes', 'route_key', qr(199).short_code as string))?.id).toBe(qr(199).id);
    await reopened.close();
  });

  it('replays a rotated log left by an interrupted compaction before the current one', async () => {
    const file = tempFile();
    const first = await LowdbStore.open(file);
    await first.commit([{ collection: 'qrcodes', put: qr(1) }]);
    await first.close(); // snapshot holds qr 1
    // a fold that was interrupted: the rotated log holds qr 2 (then renamed), the current log deletes qr 1
    fs.writeFileSync(`${file}.wal.1`, JSON.stringify({ ops: [{ collection: 'qrcodes', put: { ...qr(2), name: 'renamed' } }] }) + '\n');
    fs.writeFileSync(`${file}.wal`, JSON.stringify({ ops: [{ collection: 'qrcodes', delete: qr(1).id }] }) + '\n');
    const store = await LowdbStore.open(file);
    expect(await store.get('qrcodes', qr(1).id)).toBeUndefined();
    expect((await store.get('qrcodes', qr(2).id))?.name).toBe('renamed');
    expect(fs.existsSync(`${file}.wal.1`)).toBe(false);
    await store.close();
  });
});
