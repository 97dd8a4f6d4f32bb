import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '../context.js';
import type { EventService } from '../events/service.js';
import { EmbeddedScans } from '../store/embedded/scans.js';
import type { OrphanCount, Scan, ScanStorage } from '../store/scans.js';
import { StoreUnavailableError } from '../store/unavailable.js';
import { ScanRecorder, visitorHash, type Hit } from './recorder.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

/** An embedded scan storage that can be switched "down": appends and orphan counts then fail as PostgreSQL's do. */
function flakyStorage(): { storage: ScanStorage; down: (value: boolean) => void; appends: () => number } {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-recorder-'));
  directories.push(directory);
  const inner = new EmbeddedScans(path.join(directory, 'qrflow.json'));
  let isDown = false;
  let appends = 0;
  const storage: ScanStorage = Object.assign(Object.create(inner) as ScanStorage, {
    append: (scans: Scan[]) => {
      appends++;
      return isDown ? Promise.reject(new StoreUnavailableError('ECONNREFUSED')) : inner.append(scans);
    },
    addOrphans: (counts: OrphanCount[]) => (isDown ? Promise.reject(new StoreUnavailableError('ECONNREFUSED')) : inner.addOrphans(counts)),
  });
  return { storage, down: (value) => (isDown = value), appends: () => appends };
}

function recorderOn(storage: ScanStorage, options: ConstructorParameters<typeof ScanRecorder>[3]) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-recorder-salt-'));
  directories.push(directory);
  const ctx = {
    config: { dataFile: path.join(directory, 'qrflow.json') },
    logger,
    clock: { now: () => Date.parse('2026-05-04T10:00:00Z') },
    store: { findMany: async () => [], get: async () => undefined, commit: async () => undefined },
  } as unknown as Context;
  const recorder = new ScanRecorder(ctx, storage, {} as EventService, options);
  return { recorder, lines };
}

const hit = (n: number): Hit => ({ time: Date.parse('2026-05-04T10:00:00Z') + n, qrId: 'qr_a', workspaceId: 'ws_1', ip: '10.0.0.1', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)', country: 'unknown', referer: '' });

it('keeps scans while the storage is unavailable and writes them, in order, once it returns', async () => {
  const { storage, down } = flakyStorage();
  const { recorder, lines } = recorderOn(storage, { intervalMs: 60_000, retryDelayMs: 50, maxRetryDelayMs: 200 });
  down(true);
  for (let n = 0; n < 30; n++) recorder.hit(hit(n));
  recorder.orphan({ time: hit(0).time, reason: 'paused', workspaceId: 'ws_1', qrId: 'qr_p', userAgent: hit(0).userAgent });
  await recorder.drain();
  expect(recorder.bufferedScans).toBe(30);
  expect(lines.join('')).toContain('scan storage unavailable: scans kept in memory, retrying');
  // within the backoff nothing is tried; after it, the next pass writes everything
  down(false);
  await new Promise((resolve) => setTimeout(resolve, 80));
  await recorder.drain();
  expect(recorder.bufferedScans).toBe(0);
  expect(await storage.humanCount('qr_a')).toBe(30);
  const times: number[] = [];
  for await (const scan of storage.newestOfWorkspace('ws_1', Infinity, -Infinity)) times.push(scan.time);
  expect(times).toEqual(Array.from({ length: 30 }, (_, n) => hit(29 - n).time));
  expect((await storage.orphans({ workspaceId: 'ws_1', fromDay: 0, toDay: 100_000, includeBots: false })).get('paused')).toBe(1);
  expect(recorder.droppedScans).toBe(0);
  await recorder.stop();
});

it('drain() waits for the scans queued before it even when another drain took them into a pass of its own', async () => {
  const { storage } = flakyStorage();
  let written = 0;
  // a storage that takes a while to make scans durable, as PostgreSQL's batches do
  const slow: ScanStorage = Object.assign(Object.create(storage) as ScanStorage, {
    append: async (scans: Scan[]) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const ids = await storage.append(scans);
      written += scans.length;
      return ids;
    },
  });
  const { recorder } = recorderOn(slow, { intervalMs: 60_000 });
  for (let n = 0; n < 5; n++) recorder.hit(hit(n));
  const first = recorder.drain(); // a pass with the first five, waiting on the storage
  for (let n = 5; n < 10; n++) recorder.hit(hit(n));
  // the timer's drain asks first, then a caller's: when the first pass ends, the timer's takes the five queued meanwhile
  const timer = recorder.drain();
  const caller = recorder.drain();
  await caller;
  expect(written).toBe(10);
  await Promise.all([first, timer]);
  await recorder.stop();
});

it('backs off between attempts, doubling up to its limit', async () => {
  const { storage, down, appends } = flakyStorage();
  const { recorder, lines } = recorderOn(storage, { intervalMs: 60_000, retryDelayMs: 100, maxRetryDelayMs: 400 });
  down(true);
  recorder.hit(hit(0));
  await recorder.drain();
  expect(appends()).toBe(1);
  // still within the first 100 ms: not tried again
  await recorder.drain();
  expect(appends()).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 120));
  await recorder.drain();
  expect(appends()).toBe(2);
  const waits = lines.filter((line) => line.includes('retrying')).map((line) => (JSON.parse(line) as { retry_in_ms: number }).retry_in_ms);
  expect(waits).toEqual([100, 200]);
  down(false);
  await recorder.stop();
  expect(await storage.humanCount('qr_a')).toBe(1);
});

it('drops the oldest scans past its bound, says so and counts them', async () => {
  const { storage, down } = flakyStorage();
  const { recorder, lines } = recorderOn(storage, { intervalMs: 60_000, maxBufferedScans: 10, retryDelayMs: 1 });
  down(true);
  for (let n = 0; n < 25; n++) recorder.hit(hit(n));
  await recorder.drain();
  expect(recorder.bufferedScans).toBe(10);
  expect(recorder.droppedScans).toBe(15);
  const warn = lines.map((line) => JSON.parse(line) as { level: number; msg: string; dropped?: number }).find((line) => line.msg.includes('scan buffer full'));
  expect(warn).toMatchObject({ level: 40, dropped: 15 });
  down(false);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await recorder.drain();
  const kept: number[] = [];
  for await (const scan of storage.newestOfWorkspace('ws_1', Infinity, -Infinity)) kept.push(scan.time);
  // the newest ten survived
  expect(kept.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, n) => hit(15 + n).time));
  await recorder.stop();
});

describe('visitor salts', () => {
  const day = Date.parse('2026-05-04T10:00:00Z');
  const embedded = () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-recorder-salts-'));
    directories.push(directory);
    return path.join(directory, 'qrflow.json');
  };

  it('are the scan storage\'s: two recorders on one storage (two hosts on one database) hash a visitor alike, today and tomorrow', async () => {
    const storage = new EmbeddedScans(embedded());
    const [one, two] = [recorderOn(storage, { intervalMs: 60_000 }).recorder, recorderOn(storage, { intervalMs: 60_000 }).recorder];
    await Promise.all([one.ready(), two.ready()]);
    for (const time of [day, day + 86_400_000]) expect(one.visitorOf(time, '10.0.0.1', 'UA')).toBe(two.visitorOf(time, '10.0.0.1', 'UA'));
    expect(one.visitorOf(day, '10.0.0.1', 'UA')).not.toBe(one.visitorOf(day + 86_400_000, '10.0.0.1', 'UA'));
    await Promise.all([one.stop(), two.stop()]);
    // a restart the same day keeps counting the same visitors once
    const again = recorderOn(storage, { intervalMs: 60_000 }).recorder;
    await again.ready();
    expect(again.visitorOf(day, '10.0.0.1', 'UA')).toBe(one.visitorOf(day, '10.0.0.1', 'UA'));
    await again.stop();
    await storage.close();
  });

  it('keep the salt file of an older release working the same day', async () => {
    const dataFile = embedded();
    const salt = Buffer.alloc(32, 7);
    fs.writeFileSync(`${dataFile}.salt`, JSON.stringify({ day: '2026-05-04', salt: salt.toString('base64') }), { mode: 0o600 });
    const storage = new EmbeddedScans(dataFile);
    const { recorder } = recorderOn(storage, { intervalMs: 60_000 });
    await recorder.ready();
    expect(recorder.visitorOf(day, '10.0.0.1', 'UA')).toBe(visitorHash(salt, '10.0.0.1', 'UA'));
    expect(JSON.parse(fs.readFileSync(`${dataFile}.salt`, 'utf8')).salts['2026-05-04']).toBe(salt.toString('base64'));
    expect(fs.statSync(`${dataFile}.salt`).mode & 0o777).toBe(0o600);
    await recorder.stop();
    await storage.close();
  });

  it('hash a day not loaded ahead (the storage unavailable) with a salt of their own, stored once the storage answers', async () => {
    const { storage, down } = flakyStorage();
    let failing = true;
    const salts = Object.assign(Object.create(storage) as ScanStorage, {
      daySalt: (d: number, candidate: Buffer) => (failing ? Promise.reject(new StoreUnavailableError('ECONNREFUSED')) : storage.daySalt(d, candidate)),
    });
    down(false);
    const { recorder, lines } = recorderOn(salts, { intervalMs: 60_000 });
    await recorder.ready();
    expect(lines.join('')).toContain('visitor salt: could not be read from the scan storage, retrying');
    // the storage answers again; a hit of today comes before the next attempt to load the salts
    failing = false;
    const before = recorder.visitorOf(day, '10.0.0.1', 'UA');
    await new Promise((resolve) => setImmediate(resolve));
    await recorder.ready();
    // the salt made here was offered and kept (the storage had none): the hash stays, and it is the storage's
    expect(recorder.visitorOf(day, '10.0.0.1', 'UA')).toBe(before);
    expect(visitorHash(await storage.daySalt(Math.floor(day / 86_400_000), Buffer.alloc(32)), '10.0.0.1', 'UA')).toBe(before);
    await recorder.stop();
  });
});

describe('what a smart code\'s decision worked out', () => {
  it('is recorded as given when its salt is still the day\'s, and worked out again when the salt was replaced since', async () => {
    const { storage } = flakyStorage();
    const { recorder } = recorderOn(storage, { intervalMs: 60_000 });
    await recorder.ready();
    const first = hit(0);
    const stamp = recorder.visitorStamp(first.time, first.ip, first.userAgent);
    expect(stamp.hash).toBe(recorder.visitorOf(first.time, first.ip, first.userAgent));
    // the batch takes the stamp's hash without hashing again: a marked hash shows it did
    recorder.hit({ ...first, visitor: { hash: (stamp.hash ^ 1) >>> 0, salt: stamp.salt } });
    // a stamp made with a salt that is no longer the day's (a provisional one the stored one replaced) is not trusted
    recorder.hit({ ...hit(1), visitor: { hash: 12345, salt: Buffer.alloc(32, 9) } });
    const place = { country: 'FR', region: 'Île-de-France', city: 'Paris' };
    const agent = { device: 'tablet', os: 'iOS', browser: 'Mobile Safari', bot: false };
    recorder.hit({ ...hit(2), country: 'FR', place, agent });
    await recorder.drain();
    const scans: Array<{ time: number; visitor: number; device: string; region: string | null; city: string | null }> = [];
    for await (const scan of storage.newestOfWorkspace('ws_1', Infinity, -Infinity)) scans.push(scan);
    scans.reverse();
    expect(scans.map((scan) => scan.visitor)).toEqual([(stamp.hash ^ 1) >>> 0, stamp.hash, stamp.hash]);
    expect(scans.map((scan) => scan.device)).toEqual(['mobile', 'mobile', 'tablet']);
    expect(scans.map((scan) => [scan.region, scan.city])).toEqual([[null, null], [null, null], ['Île-de-France', 'Paris']]);
    await recorder.stop();
  });
});
