/**
 * `node --import tsx bench/s7-redirect.ts [seconds] [rounds]`: S7's redirect and authenticated-read figures alone
 * (bench/s7.ts): QRFLOW_WORKERS=2 on PostgreSQL and Redis against one embedded process, both on the same seed of
 * 100,000 codes (no scans), in interleaved rounds, with the cores each side used. A fresh database and Redis prefix,
 * dropped after. Not a check: a quick figure for work on the redirect and read paths. `S7_CPU_PROFILE=dir` starts
 * the workers with `--cpu-prof` into that directory (profiles are written when they stop). `S7_CEILING=1` (with the
 * redirect) also measures the machine's ceiling for the ratio (bench/ceiling.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateStore } from '../server/src/store/migrate-store.js';
import { measureCeiling } from './ceiling.js';
import { median, sleep } from './client.js';
import { cpuMeter } from './cpu.js';
import { startServerProcess, type ServerProcess } from './processes.js';
import { clusterEnv, DATABASE_SERVER, dropRedisKeys, profiledCommand } from './s7.js';
import { seedDataDir } from './seed.js';
import { WorkerChannel } from './worker-channel.js';
import { runWrk, type WrkRun } from './wrk.js';

const SECONDS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 3);
const CODES = 100_000;
const CONNECTIONS = 50;
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const PREFIX = `qrflow-bench-redirect-${process.pid}:`;

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-s7-redirect-'));
const name = `qrflow_bench_redirect_${process.pid}`;
const databaseUrl = new URL(DATABASE_SERVER);
databaseUrl.pathname = `/${name}`;
const admin = new pg.Client({ connectionString: DATABASE_SERVER });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const servers: ServerProcess[] = [];
try {
  const seed = await seedDataDir(path.join(workDir, 'seed'), CODES, 0);
  await migrateStore(seed.dataFile, databaseUrl.toString(), { batchSize: 5000 });
  const auth = { Authorization: `Bearer ${seed.apiKey}` };
  const ready = { readyPath: `/api/v1/qr/${seed.codes[5]?.id}`, readyHeaders: auth, readyStatus: 200, timeoutMs: 120_000 };
  const embedded = await startServerProcess({
    name: 'qrflow (embedded)',
    entry: 'server/src/index.ts',
    env: { QRFLOW_DATA_FILE: seed.dataFile, QRFLOW_PLANS_FILE: seed.plansFile, QRFLOW_LOG_LEVEL: 'info' },
    logFile: path.join(workDir, 'embedded.log'),
    ...ready,
  });
  servers.push(embedded);
  fs.mkdirSync(path.join(workDir, 'data'));
  const cluster = await startServerProcess({
    name: 'qrflow (2 workers on PostgreSQL)',
    entry: 'server/src/index.ts',
    env: clusterEnv({ databaseUrl: databaseUrl.toString(), prefix: PREFIX, dataFile: path.join(workDir, 'data', 'qrflow.json'), plansFile: seed.plansFile, logLevel: 'info', diagnostics: true }),
    command: profiledCommand(),
    logFile: path.join(workDir, 'cluster.log'),
    ...ready,
  });
  servers.push(cluster);
  const workers = (await WorkerChannel.open(cluster.url, 2)).map((channel) => {
    channel.close();
    return channel.pid;
  });
  const code = seed.codes[1]?.shortCode;
  const targets: Array<{ key: string; pids: number[]; run: WrkRun }> = [
    { key: 'embedded redirect', pids: [embedded.pid], run: { url: `${embedded.url}/r/${code}`, seconds: SECONDS, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } } },
    { key: 'S7 redirect', pids: workers, run: { url: `${cluster.url}/r/${code}`, seconds: SECONDS, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } } },
    { key: 'embedded read', pids: [embedded.pid], run: { url: `${embedded.url}/api/v1/qr/${seed.codes[2]?.id}`, seconds: SECONDS, connections: CONNECTIONS, headers: auth } },
    { key: 'S7 read', pids: workers, run: { url: `${cluster.url}/api/v1/qr/${seed.codes[2]?.id}`, seconds: SECONDS, connections: CONNECTIONS, headers: auth } },
  ];
  const only = process.env.S7_ONLY;
  const chosen = only ? targets.filter((t) => t.key.endsWith(only)) : targets;
  const figures = new Map<string, number[]>();
  const embeddedRedirects: Array<{ rate: number; cores: number }> = [];
  for (let round = 0; round <= ROUNDS; round++) {
    for (const target of chosen) {
      const measure = cpuMeter(target.pids);
      const result = await runWrk(round === 0 ? { ...target.run, seconds: 1 } : target.run, workDir);
      const cpu = measure();
      const rate = (result.requests - result.statusErrors) / result.durationSeconds;
      console.log(`${round === 0 ? 'warm-up' : `round ${round}`} ${target.key}: ${rate.toFixed(0)}/s, p99 ${result.latencyMs.p99} ms${result.statusErrors ? `, ${result.statusErrors} errors` : ''}; cores: qrflow ${cpu.processes}, postgres ${cpu.postgres}, machine ${cpu.machine}`);
      if (round > 0) figures.set(target.key, [...(figures.get(target.key) ?? []), rate]);
      if (round > 0 && target.key === 'embedded redirect') embeddedRedirects.push({ rate, cores: cpu.processes });
      await sleep(300);
    }
  }
  if (process.env.S7_CEILING && embeddedRedirects.length) {
    const ceiling = await measureCeiling({ embedded: embeddedRedirects, redirectUrl: `${embedded.url}/r/${code}`, headers: { 'User-Agent': BROWSER }, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, workers: 2, workDir, progress: console.log });
    console.log(`ceiling: ${ceiling.ratio.toFixed(2)}× (${median(ceiling.cluster.runs).toFixed(0)} against ${median(ceiling.one.runs).toFixed(0)} req/s, ${ceiling.workMicroseconds} µs of work an answer)`);
  }
  const m = (key: string) => median(figures.get(key) ?? []);
  for (const kind of ['redirect', 'read']) {
    if (!figures.has(`S7 ${kind}`)) continue;
    console.log(`median ${kind}: S7 ${m(`S7 ${kind}`).toFixed(0)}/s, embedded ${m(`embedded ${kind}`).toFixed(0)}/s: ${(m(`S7 ${kind}`) / m(`embedded ${kind}`)).toFixed(2)}×`);
  }
} finally {
  for (const server of servers.reverse()) await server.stop();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  await dropRedisKeys(PREFIX);
  fs.rmSync(workDir, { recursive: true, force: true });
}
