import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test/helpers/server.js';
import { LowdbStore } from './lowdb-store.js';
import { dataDirectoryWarning } from './private-file.js';
import type { QrRecord } from '../records.js';

const directories: string[] = [];
let server: TestServer | undefined;

afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

function tempDirectory(mode = 0o700): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-modes-'));
  fs.chmodSync(directory, mode);
  directories.push(directory);
  return directory;
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

function qr(i: number): QrRecord {
  const time = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    id: `qr_${String(i).padStart(6, '0')}`, workspace_id: 'ws_1', name: `code ${i}`, type: 'url', mode: 'dynamic',
    destination_url: `https://example.com/${i}`, content: null, short_code: `c${String(i).padStart(6, '0')}`, status: 'active', tags: [],
    style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' }, created_at: time, updated_at: time,
  };
}

describe('data file modes', () => {
  it('creates every file of the store owner-only (0600) under a permissive umask, the snapshot included', async () => {
    const file = path.join(tempDirectory(), 'qrflow.json');
    const umask = process.umask(0o000);
    try {
      const store = await LowdbStore.open(file);
      await store.commit([{ collection: 'qrcodes', put: qr(1) }]);
      expect(modeOf(`${file}.lock`)).toBe(0o600);
      expect(modeOf(`${file}.wal`)).toBe(0o600);
      await store.compact();
      expect(modeOf(file)).toBe(0o600);
      await store.close();
      expect(modeOf(file)).toBe(0o600);
    } finally {
      process.umask(umask);
    }
  });

  it('writes the snapshot of a background compaction owner-only too', async () => {
    const file = path.join(tempDirectory(), 'qrflow.json');
    const umask = process.umask(0o000);
    try {
      const store = await LowdbStore.open(file);
      for (let i = 0; i < 20; i++) await store.commit([{ collection: 'qrcodes', put: qr(i) }]);
      await store.compactInBackground();
      expect((JSON.parse(fs.readFileSync(file, 'utf8')) as { collections: { qrcodes: unknown[] } }).collections.qrcodes).toHaveLength(20);
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}.wal`)).toBe(0o600);
      await store.close();
    } finally {
      process.umask(umask);
    }
  });

  it('makes a world-readable snapshot left by an older version owner-only when it opens it', async () => {
    const file = path.join(tempDirectory(), 'qrflow.json');
    const store = await LowdbStore.open(file);
    await store.commit([{ collection: 'qrcodes', put: qr(1) }]);
    await store.close();
    fs.chmodSync(file, 0o644);
    const reopened = await LowdbStore.open(file);
    expect(modeOf(file)).toBe(0o600);
    expect(await reopened.get('qrcodes', qr(1).id)).toMatchObject({ id: qr(1).id });
    await reopened.close();
  });

  it('creates a missing data directory owner-only (0700)', async () => {
    const file = path.join(tempDirectory(), 'nested', 'data', 'qrflow.json');
    const umask = process.umask(0o000);
    try {
      const store = await LowdbStore.open(file);
      await store.close();
    } finally {
      process.umask(umask);
    }
    expect(modeOf(path.dirname(file))).toBe(0o700);
  });

  it('warns about a data directory that other users can open, and not about a private one', async () => {
    const open = tempDirectory(0o755);
    expect(dataDirectoryWarning(path.join(open, 'qrflow.json'))).toMatch(new RegExp(`${open} is open to other users \\(mode 0755\\).*chmod 700 ${open}`));
    expect(dataDirectoryWarning(path.join(tempDirectory(0o700), 'qrflow.json'))).toBeUndefined();

    server = await startTestServer({ dataDir: open });
    const warning = server.logs().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string }).find((line) => line.msg.includes('is open to other users'));
    expect(warning?.level).toBe(40);
  });
});
