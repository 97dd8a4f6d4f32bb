import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { LowdbStore } from './lowdb-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A code as stored before custom domains: no domain, no route_key. */
const oldCode = (id: string, shortCode: string | null) => ({
  id, workspace_id: 'ws_1', name: id, type: 'url', mode: shortCode ? 'dynamic' : 'static', destination_url: 'https://example.com/', content: null,
  short_code: shortCode, status: 'active', tags: [], style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
  created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
});

it('gives codes from before custom domains their route key on open, durably, once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-upgrade-'));
  dirs.push(dir);
  const file = path.join(dir, 'qrflow.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'qrflow', version: 1, collections: { qrcodes: [oldCode('qr_old', 'abc1234'), oldCode('qr_static', null)] } }));
  const store = await LowdbStore.open(file);
  expect(await store.findUnique('qrcodes', 'route_key', 'abc1234')).toMatchObject({ id: 'qr_old', domain: null, route_key: 'abc1234' });
  expect(await store.get('qrcodes', 'qr_static')).toMatchObject({ domain: null, route_key: null });
  // the upgrade is a committed write: a code on a custom domain may now take the same short code
  await store.commit([{ collection: 'qrcodes', put: { ...(await store.get('qrcodes', 'qr_old'))!, id: 'qr_twin', domain: 'go.acme.com', route_key: 'go.acme.com/abc1234' } }]);
  await store.close();
  const walBefore = fs.statSync(`${file}.wal`).size;
  const again = await LowdbStore.open(file);
  expect((await again.findUnique('qrcodes', 'route_key', 'abc1234'))?.id).toBe('qr_old');
  expect((await again.findUnique('qrcodes', 'route_key', 'go.acme.com/abc1234'))?.id).toBe('qr_twin');
  await again.close();
  // nothing left to upgrade: the second open wrote nothing
  expect(fs.statSync(`${file}.wal`).size).toBe(walBefore);
});
