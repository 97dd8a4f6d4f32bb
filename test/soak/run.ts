import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnServer, writeUnlimitedPlansFile } from '../helpers/child-server.js';
import { startTestServer } from '../helpers/server.js';
import { startReceiver } from '../crash/receiver.js';

/**
 * `npm run test:soak`: a steady mixed load against the real server process, then checks that nothing failed,
 * resident memory grew by less than 10 % after warm-up, and the process holds no more file descriptors at the
 * end than after warm-up. QRFLOW_SOAK_SECONDS (default 60) and QRFLOW_SOAK_RATE (requests/s, default 100).
 */
const SECONDS = Number(process.env.QRFLOW_SOAK_SECONDS ?? 60);
const RATE = Number(process.env.QRFLOW_SOAK_RATE ?? 100);
const WARM_UP_SECONDS = 10;
const MAX_IN_FLIGHT = 32;
const RSS_GROWTH_LIMIT = 0.1;
/** Sockets come and go with the load and the keep-alive pools: this many more at the end than after warm-up is noise. */
const SOCKET_SLACK = 4;

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}
/** Open descriptors of the process: files (which must not grow at all) and sockets. */
function fdsOf(pid: number): { files: number; sockets: number } {
  let files = 0;
  let sockets = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      else files++;
    } catch {
      // closed while we looked
    }
  }
  return { files, sockets };
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-soak-'));
const dataFile = path.join(dataDir, 'qrflow.json');
const env = { QRFLOW_PLANS_FILE: writeUnlimitedPlansFile(dataDir), QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'true', QRFLOW_LOG_LEVEL: 'warn' };
const setup = await startTestServer({ dataDir, env, plan: 'unlimited' });
const key = (await setup.createKey({ name: 'Soak' })).secret;
const session = await setup.login();
await setup.stop();

const receiver = await startReceiver();
const server = await spawnServer({ dataFile, env });
const failures: string[] = [];
const counts = new Map<string, number>();
let errors = 0;
let behind = 0;

async function call(method: string, urlPath: string, body?: unknown, token = key): Promise<any> {
  const response = await fetch(`${server.url}${urlPath}`, {
    method,
    redirect: 'manual',
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Version/17.4 Mobile/15E148 Safari/604.1' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const kind = `${method} ${urlPath.replace(/qr_\w+/, ':id').replace(/\/r\/\w+/, '/r/:code').replace(/\?.*/, '')}`;
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  if (response.status >= 400) {
    errors++;
    if (failures.length < 20) failures.push(`${kind} answered ${response.status}: ${text.slice(0, 200)}`);
    return null;
  }
  return text.startsWith('{') ? JSON.parse(text) : text;
}

await call('POST', '/api/v1/webhooks', { url: `${receiver.url}/hook/base`, events: ['qr.created', 'qr.deleted'] });
const live: Array<{ id: string; short_code: string }> = [];
for (let i = 0; i < 20; i++) live.push((await call('POST', '/api/v1/qr', { name: `soak-${i}`, destination_url: `https://example.com/${i}` })).data);
let created = 0;

/** One request of the mix; the QR count stays flat (each create is matched by a delete). */
async function operation(n: number): Promise<void> {
  const pick = live[n % live.length] as { id: string; short_code: string };
  switch (n % 20) {
    case 0:
    case 1: {
      const result = await call('POST', '/api/v1/qr', { name: `soak-${++created}`, destination_url: `https://example.com/c/${created}`, tags: ['soak'] });
      if (result) live.push(result.data);
      return;
    }
    case 2:
    case 3: {
      const doomed = live.length > 20 ? live.shift() : undefined;
      if (doomed) await call('DELETE', `/api/v1/qr/${doomed.id}`);
      return;
    }
    case 4:
    case 5:
      await call('PATCH', `/api/v1/qr/${pick.id}`, { destination_url: `https://example.com/u/${n}` });
      return;
    case 6:
    case 7:
      await call('GET', '/api/v1/qr?limit=20');
      return;
    case 8:
      await call('GET', `/api/v1/qr/${pick.id}/image?format=svg&size=${64 + (n % 8) * 8}`);
      return;
    case 9:
      await call('GET', `/api/v1/qr/${pick.id}/analytics?interval=day`);
      return;
    case 10:
      await call('GET', '/api/v1/events?limit=20');
      return;
    case 11:
      await call('GET', '/api/v1/usage', undefined, session);
      return;
    case 12:
      await call('GET', `/api/v1/qr/${pick.id}`);
      return;
    default:
      await call('GET', `/r/${pick.short_code}`);
  }
}

const samples: Array<{ at: number; rss: number; fds: { files: number; sockets: number } }> = [];
const started = Date.now();
const total = (WARM_UP_SECONDS + SECONDS) * 1000;
let issued = 0;
let inFlight = 0;
const sampler = setInterval(() => samples.push({ at: Date.now() - started, rss: rssOf(server.pid), fds: fdsOf(server.pid) }), 1000);
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed >= total) {
      clearInterval(tick);
      resolve();
      return;
    }
    // steady rate: catch up to where the clock says we should be, never more than MAX_IN_FLIGHT at once
    const due = Math.floor((elapsed / 1000) * RATE);
    while (issued < due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        behind += due - issued;
        issued = due;
        break;
      }
      const n = issued++;
      inFlight++;
      operation(n)
        .catch((error: unknown) => {
          errors++;
          if (failures.length < 20) failures.push(`request ${n} failed: ${(error as Error).message}`);
        })
        .finally(() => inFlight--);
    }
  }, 10);
});
while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
// settle: let timers flush, then the last samples
await new Promise((resolve) => setTimeout(resolve, 2000));
samples.push({ at: Date.now() - started, rss: rssOf(server.pid), fds: fdsOf(server.pid) });
clearInterval(sampler);

const warm = samples.filter((s) => s.at >= WARM_UP_SECONDS * 1000 && s.at < (WARM_UP_SECONDS + 5) * 1000);
const end = samples.slice(-5);
const rssWarm = median(warm.map((s) => s.rss));
const rssEnd = median(end.map((s) => s.rss));
const rssPeak = Math.max(...samples.filter((s) => s.at >= WARM_UP_SECONDS * 1000).map((s) => s.rss));
const filesWarm = Math.max(...warm.map((s) => s.fds.files));
const socketsWarm = Math.max(...warm.map((s) => s.fds.sockets));
const { files: filesEnd, sockets: socketsEnd } = (end[end.length - 1] as (typeof samples)[number]).fds;
const growth = (rssEnd - rssWarm) / rssWarm;
const requests = [...counts.values()].reduce((a, b) => a + b, 0);
await server.stop();
await receiver.close();

console.log(`soak: ${SECONDS} s at ${RATE} requests/s after ${WARM_UP_SECONDS} s of warm-up; ${requests} requests (${[...counts.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`);
console.log(`errors: ${errors}; requests skipped because ${MAX_IN_FLIGHT} were in flight: ${behind}; webhook deliveries received: ${receiver.received.length}`);
console.log(`RSS: ${mb(rssWarm)} after warm-up, ${mb(rssEnd)} at the end (${(growth * 100).toFixed(1)} %), peak ${mb(rssPeak)}; file descriptors: ${filesWarm} files + ${socketsWarm} sockets after warm-up, ${filesEnd} files + ${socketsEnd} sockets at the end`);
if (errors > 0) console.log(failures.join('\n'));
const problems = [
  ...(errors > 0 ? [`${errors} requests failed`] : []),
  ...(growth >= RSS_GROWTH_LIMIT ? [`RSS grew ${(growth * 100).toFixed(1)} % (limit ${RSS_GROWTH_LIMIT * 100} %)`] : []),
  ...(filesEnd > filesWarm ? [`open files grew from ${filesWarm} to ${filesEnd}`] : []),
  ...(socketsEnd > socketsWarm + SOCKET_SLACK ? [`open sockets grew from ${socketsWarm} to ${socketsEnd}`] : []),
  ...(behind > requests * 0.05 ? [`the server fell behind: ${behind} requests could not be issued at the steady rate`] : []),
];
fs.rmSync(dataDir, { recursive: true, force: true });
console.log(problems.length ? `FAILED: ${problems.join('; ')}` : 'soak passed');
process.exit(problems.length ? 1 : 0);
