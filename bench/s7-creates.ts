/**
 * `node --import tsx bench/s7-creates.ts [seconds] [rounds]`: S7's create figure alone (bench/s7.ts): 50 clients
 * POSTing /api/v1/qr to QRFLOW_WORKERS=2 on PostgreSQL and Redis, in the seeded workspace of 100,000 codes and in
 * one that starts empty, in interleaved rounds. A fresh database and Redis prefix, dropped after. Not a check: a
 * quick figure for work on the write path (the full `npm run bench` takes the same figure among the others);
 * `S7_CPU_PROFILE=dir` profiles the workers as in bench/s7-redirect.ts; `S7_IDEMPOTENT=1` sends every create with an
 * Idempotency-Key of its own, as the connectors do (`lua/create-idempotent.lua`); `S7_LOG_LEVEL` sets the workers'
 * log level (the full run's is info: every request logged; warn unless set). Each round also gives the CPU time a
 * create cost the workers and PostgreSQL, steadier than the rate where the machine's speed wanders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateStore } from '../server/src/store/migrate-store.js';
import { median, sleep } from './client.js';
import { childrenOf, cpuMeter } from './cpu.js';
import { startServerProcess, type ServerProcess } from './processes.js';
import { addEmptyWorkspace, clusterEnv, DATABASE_SERVER, dropRedisKeys, profiledCommand } from './s7.js';
import { seedDataDir } from './seed.js';
import { runWrk } from './wrk.js';

const SECONDS = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 3);
const CODES = 100_000;
const CONNECTIONS = 50;
const IDEMPOTENT = process.env.S7_IDEMPOTENT === '1';
const PREFIX = `qrflow-bench-creates-${process.pid}:`;

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-s7-creates-'));
const name = `qrflow_bench_creates_${process.pid}`;
const databaseUrl = new URL(DATABASE_SERVER);
databaseUrl.pathname = `/${name}`;
const admin = new pg.Client({ connectionString: DATABASE_SERVER });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
let cluster: ServerProcess | undefined;
try {
  const seed = await seedDataDir(path.join(workDir, 'seed'), CODES, 0);
  const emptyKey = addEmptyWorkspace(seed.dataFile);
  await migrateStore(seed.dataFile, databaseUrl.toString(), { batchSize: 5000 });
  fs.mkdirSync(path.join(workDir, 'data'));
  cluster = await startServerProcess({
    name: 'qrflow (2 workers on PostgreSQL)',
    entry: 'server/src/index.ts',
    env: clusterEnv({ databaseUrl: databaseUrl.toString(), prefix: PREFIX, dataFile: path.join(workDir, 'data', 'qrflow.json'), plansFile: seed.plansFile, logLevel: process.env.S7_LOG_LEVEL ?? 'warn' }),
    command: profiledCommand(),
    logFile: path.join(workDir, 'server.log'),
    readyPath: `/api/v1/qr/${seed.codes[5]?.id}`,
    readyHeaders: { Authorization: `Bearer ${seed.apiKey}` },
    readyStatus: 200,
    timeoutMs: 120_000,
  });
  const targets = { seeded: seed.apiKey, empty: emptyKey };
  const figures: Record<string, number[]> = { seeded: [], empty: [] };
  /** CPU seconds a create cost, by qrflow's workers and by PostgreSQL, per round. */
  const cpu = { qrflow: [] as number[], postgres: [] as number[] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [target, key] of Object.entries(targets)) {
      const meter = cpuMeter(childrenOf(cluster.pid));
      const result = await runWrk({ url: `${cluster.url}/api/v1/qr`, seconds: round === 0 ? 2 : SECONDS, connections: CONNECTIONS, headers: { Authorization: `Bearer ${key}` }, script: IDEMPOTENT ? 'create-idempotent' : 'create' }, workDir);
      const rate = (result.requests - result.statusErrors) / result.durationSeconds;
      const cores = meter();
      // CPU time a create cost (µs): a figure steadier than the rate where the machine's speed wanders
      const perCreate = (used: number) => ((used * 1e6) / rate).toFixed(0);
      console.log(`${round === 0 ? 'warm-up ' : `round ${round} `}${target}: ${rate.toFixed(0)} creates/s, p99 ${result.latencyMs.p99} ms${result.statusErrors ? `, ${result.statusErrors} error responses` : ''}; CPU a create: qrflow ${perCreate(cores.processes)} µs, PostgreSQL ${perCreate(cores.postgres)} µs (machine ${cores.machine} cores busy); load ${os.loadavg()[0]?.toFixed(1)}`);
      if (round > 0) {
        figures[target]?.push(rate);
        cpu.qrflow.push(cores.processes / rate);
        cpu.postgres.push(cores.postgres / rate);
      }
      await sleep(300);
    }
  }
  console.log(`median: seeded workspace (${CODES.toLocaleString('en-US')} codes) ${median(figures.seeded ?? []).toFixed(0)} creates/s, empty workspace ${median(figures.empty ?? []).toFixed(0)} creates/s; CPU a create (median of both): qrflow ${(median(cpu.qrflow) * 1e6).toFixed(0)} µs, PostgreSQL ${(median(cpu.postgres) * 1e6).toFixed(0)} µs`);
} finally {
  await cluster?.stop();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  await dropRedisKeys(PREFIX);
  fs.rmSync(workDir, { recursive: true, force: true });
}
