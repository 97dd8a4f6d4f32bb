import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Scan, ScanStore } from './scan-log.js';

let dir: string;
let dataFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-scans-'));
  dataFile = path.join(dir, 'qrflow.json');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function scan(overrides: Partial<Scan> = {}): Scan {
  return {
    time: Date.UTC(2026, 10, 1),
    qrId: 'qr_a',
    workspaceId: 'ws_a',
    visitor: 0xdeadbeef,
    country: 'DE',
    device: 'mobile',
    os: 'Android',
    browser: 'Chrome',
    referrer: 'example.com',
    bot: false,
    variant: null,
    region: null,
    city: null,
    ...overrides,
  };
}

describe('ScanStore', () => {
  it('keeps every field of a scan across a reopen', async () => {
    const store = await ScanStore.open(dataFile);
    store.append([scan(), scan({ qrId: 'qr_b', bot: true, country: 'unknown', time: Date.UTC(2026, 10, 2) })]);
    await store.close();

    const reopened = await ScanStore.open(dataFile);
    expect(reopened.size).toBe(2);
    expect(reopened.scanAt(0)).toEqual(scan());
    expect(reopened.scanAt(1)).toEqual(scan({ qrId: 'qr_b', bot: true, country: 'unknown', time: Date.UTC(2026, 10, 2) }));
    expect(reopened.humanCount('qr_a')).toBe(1);
    expect(reopened.humanCount('qr_b')).toBe(0);
    await reopened.close();
  });

  it('records values interned after more than 65,535 other strings (code ids share the dictionary)', async () => {
    const store = await ScanStore.open(dataFile);
    const codes = 70_000;
    const batch: Scan[] = [];
    for (let n = 0; n < codes; n++) batch.push(scan({ qrId: `qr_${n}`, visitor: n }));
    store.append(batch);
    // strings first seen now get ids above 70,000
    const late = scan({ qrId: 'qr_late', country: 'NZ', device: 'tablet', os: 'HarmonyOS', browser: 'Huawei Browser' });
    store.append([late]);
    expect(store.scanAt(codes)).toEqual(late);
    await store.close();

    const reopened = await ScanStore.open(dataFile);
    expect(reopened.size).toBe(codes + 1);
    expect(reopened.scanAt(codes)).toEqual(late);
    expect(reopened.scanAt(12_345)).toEqual(scan({ qrId: 'qr_12345', visitor: 12_345 }));
    await reopened.close();
  });

  it('upgrades a version-1 log (16-bit ids) in place and appends to it afterwards', async () => {
    const strings = ['qr_old', 'ws_a', 'FR', 'desktop', 'Linux', 'Firefox', 'news.example'];
    fs.writeFileSync(`${dataFile}.scans.dict`, strings.map((value) => JSON.stringify(value) + '\n').join(''));
    const v1 = Buffer.alloc(8 + 40);
    v1.write('QRFSCAN1', 0, 'latin1');
    v1.writeDoubleLE(Date.UTC(2025, 0, 1), 8);
    v1.writeUInt32LE(1, 16); // qr_old
    v1.writeUInt32LE(2, 20); // ws_a
    v1.writeUInt32LE(7, 24); // visitor
    v1.writeUInt16LE(3, 28); // FR
    v1.writeUInt16LE(4, 30); // desktop
    v1.writeUInt16LE(5, 32); // Linux
    v1.writeUInt16LE(6, 34); // Firefox
    v1.writeUInt32LE(7, 36); // news.example
    v1.writeUInt8(0, 40);
    fs.writeFileSync(`${dataFile}.scans`, v1);

    const store = await ScanStore.open(dataFile);
    const old = { time: Date.UTC(2025, 0, 1), qrId: 'qr_old', workspaceId: 'ws_a', visitor: 7, country: 'FR', device: 'desktop', os: 'Linux', browser: 'Firefox', referrer: 'news.example', bot: false, variant: null, region: null, city: null };
    expect(store.scanAt(0)).toEqual(old);
    expect(fs.readFileSync(`${dataFile}.scans`).subarray(0, 8).toString('latin1')).toBe('QRFSCAN2');
    store.append([scan()]);
    await store.close();

    const reopened = await ScanStore.open(dataFile);
    expect(reopened.size).toBe(2);
    expect(reopened.scanAt(0)).toEqual(old);
    expect(reopened.scanAt(1)).toEqual(scan());
    await reopened.close();
  });

  it('cuts a torn record off the end of the log and refuses a file that is not a scan log', async () => {
    const store = await ScanStore.open(dataFile);
    store.append([scan(), scan({ qrId: 'qr_b' })]);
    await store.close();
    const size = fs.statSync(`${dataFile}.scans`).size;
    fs.truncateSync(`${dataFile}.scans`, size - 5);

    const reopened = await ScanStore.open(dataFile);
    expect(reopened.size).toBe(1);
    expect(reopened.scanAt(0)).toEqual(scan());
    await reopened.close();

    fs.writeFileSync(`${dataFile}.scans`, 'not a scan log at all, just text');
    await expect(ScanStore.open(dataFile)).rejects.toThrow(/is not a qrflow scan log/);
  });

  it('keeps variant, region and city across a reopen, and reads records written before them as having none', async () => {
    const store = await ScanStore.open(dataFile);
    store.append([scan(), scan({ variant: 0, region: 'Bavaria', city: 'Munich' }), scan({ variant: 9, region: 'Hesse', city: null }), scan({ variant: 3, region: null, city: 'Vaduz' })]);
    await store.close();
    // a record of a log written before the fields: bytes 41-47 are zero, as every writer left them
    const bytes = fs.readFileSync(`${dataFile}.scans`);
    const plain = bytes.subarray(8, 8 + 48);
    expect([...plain.subarray(41, 48)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const reopened = await ScanStore.open(dataFile);
    expect(reopened.scanAt(0)).toEqual(scan());
    expect(reopened.scanAt(1)).toEqual(scan({ variant: 0, region: 'Bavaria', city: 'Munich' }));
    expect(reopened.scanAt(2)).toEqual(scan({ variant: 9, region: 'Hesse', city: null }));
    expect(reopened.scanAt(3)).toEqual(scan({ variant: 3, region: null, city: 'Vaduz' }));
    await reopened.close();
  });
});
