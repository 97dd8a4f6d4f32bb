/**
 * `node --import tsx bench/scan-writes.ts [--quick] [--busy]`: the scan batch writer's rate on PostgreSQL, roll-ups included.
 * Appends scans as the recorder does (chunks of 5,000, several in flight, as two workers' recorders would) on a few
 * codes over two days: a quarter of the scans from visitors seen before that day (their visitor-day rows are
 * updated), the rest from new ones. Reports scans/s, median of the runs. Needs PostgreSQL
 * (QRFLOW_BENCH_DATABASE_URL, default the test server); makes and drops its own database.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { PostgresStore } from '../server/src/store/postgres/postgres-store.js';
import type { Scan } from '../server/src/store/scans.js';
import { median } from './client.js';

const QUICK = process.argv.includes('--quick');
/** `--busy`: the scans come at 50,000 a second, as under S7's redirect load (a batch's scans of a code share seconds: packed). */
const BUSY = process.argv.includes('--busy');
const SERVER = process.env.QRFLOW_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const PER_RUN = QUICK ? 100_000 : 300_000;
const RUNS = QUICK ? 3 : 5;
const CHUNK = 5000;
/** Writers at once, each a store of its own (two processes). */
const IN_FLIGHT = 2;
const START = Date.parse('2026-06-10T00:00:00Z');

function scansOf(run: number, count: number): Scan[] {
  const out: Scan[] = [];
  // each run writes its own two days: 1 scan every (2 days / count), or with --busy 50,000 a second from its start
  const first = START + run * 2 * 86_400_000;
  const step = BUSY ? 1000 / 50_000 : (2 * 86_400_000) / count;
  for (let n = 0; n < count; n++) {
    const returning = n % 4 === 0;
    out.push({
      time: Math.floor(first + n * step),
      qrId: `qr_w${n % 3}`,
      workspaceId: 'ws_w',
      // a returning visitor is one of the first 5,000 of the run
      visitor: (returning ? (run * 1_000_003 + (n % 5000) * 4) : run * 1_000_003 + n) | 0,
      country: ['US', 'FR', 'DE'][n % 3] as string,
      device: n % 50 === 0 ? 'bot' : 'mobile',
      os: 'iOS',
      browser: 'Safari',
      referrer: 'direct',
      bot: n % 50 === 0,
      variant: null,
      region: null,
      city: null,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const name = `qrflow_bench_writes_${process.pid}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const stores: PostgresStore[] = [];
  try {
    // two stores, as two processes' recorders: their batches meet on the same roll-up rows
    for (let k = 0; k < IN_FLIGHT; k++) stores.push(await PostgresStore.open(url.toString(), { poolSize: 4 }));
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const scans = scansOf(run, PER_RUN);
      const started = performance.now();
      let next = 0;
      const lane = async (store: PostgresStore) => {
        while (next < scans.length) {
          const chunk = scans.slice(next, next + CHUNK);
          next += CHUNK;
          await store.scans.append(chunk);
          await store.scans.flush();
        }
      };
      await Promise.all(stores.map(lane));
      const seconds = (performance.now() - started) / 1000;
      rates.push(PER_RUN / seconds);
      process.stderr.write(`[scan-writes] run ${run + 1}: ${PER_RUN.toLocaleString('en-US')} scans in ${seconds.toFixed(2)} s = ${(PER_RUN / seconds).toFixed(0)} scans/s\n`);
    }
    // the best run as well: on a shared machine it is the least disturbed one
    console.log(`scan write rate (PostgreSQL, roll-ups included, chunks of ${CHUNK}${BUSY ? ', 50,000 scans a second' : ''}): median ${median(rates).toFixed(0)} scans/s, best ${Math.max(...rates).toFixed(0)} scans/s over ${RUNS} runs of ${PER_RUN.toLocaleString('en-US')}`);
  } finally {
    for (const store of stores) await store.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

await main();
