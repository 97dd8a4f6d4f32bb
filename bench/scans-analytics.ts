/**
 * `npm run bench:scans [-- --quick] [-- --check]`: issue 14's analytics figure. A 90-day analytics query (daily series,
 * Europe/Paris, bots left out) on one code with 1,000,000 scans, answered from PostgreSQL (roll-ups) and, as the
 * same-run baseline, from the embedded scan log holding the same scans; runs interleaved, medians quoted, and the two
 * answers compared to the row. Needs PostgreSQL (QRFLOW_BENCH_DATABASE_URL, default the test server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { AnalyticsService } from '../server/src/analytics/service.js';
import { EmbeddedScans } from '../server/src/store/embedded/scans.js';
import { PostgresStore } from '../server/src/store/postgres/postgres-store.js';
import { median } from './client.js';
import { REPO_ROOT } from './processes.js';
import { NINETY_DAY_QUERY, SCANS_SPAN_DAYS, seedScansOnOneCode } from './scan-seed.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const CHECK = args.has('--check');
const SCANS = 1_000_000;
const RUNS = QUICK ? 7 : 21;
const SERVER = process.env.QRFLOW_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const QUERY = NINETY_DAY_QUERY;
const TARGET_MS = 50;
const RESULTS = path.join(REPO_ROOT, 'bench', 'results', QUICK ? 'scans-quick.json' : 'scans-latest.json');
const began = performance.now();
const progress = (message: string) => process.stderr.write(`[bench:scans ${((performance.now() - began) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);

async function main(): Promise<number> {
  const name = `qrflow_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-bench-scans-'));
  let store: PostgresStore | undefined;
  let embedded: EmbeddedScans | undefined;
  try {
    store = await PostgresStore.open(url.toString(), { poolSize: 6 });
    progress(`seeding ${SCANS.toLocaleString('en-US')} scans on one code over ${SCANS_SPAN_DAYS} days with generate_series`);
    const { scansSeconds: seededScans, rollupsSeconds: rolledUp } = await seedScansOnOneCode(url.toString(), { qrId: 'qr_bench', workspaceId: 'ws_bench' }, SCANS);
    progress(`seeded in ${seededScans.toFixed(1)} s, roll-ups in ${rolledUp.toFixed(1)} s; copying the same scans into an embedded scan log`);
    embedded = new EmbeddedScans(path.join(workDir, 'qrflow.json'));
    for await (const batch of store.scans.export(0, 100_000)) await embedded.append(batch);

    const clock = { now: () => Date.parse('2026-09-03T00:00:00Z') };
    const onPostgres = new AnalyticsService(store.scans, clock);
    const onEmbedded = new AnalyticsService(embedded, clock);
    const [a, b] = [await onPostgres.compute('qr_bench', QUERY), await onEmbedded.compute('qr_bench', QUERY)];
    const same = isDeepStrictEqual(a, b);
    progress(`answers equal: ${same} (total ${a.total_scans.toLocaleString('en-US')} scans, ${a.unique_scans.toLocaleString('en-US')} unique, ${a.timeseries.length} days)`);
    const postgresMs: number[] = [];
    const embeddedMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let t = performance.now();
      await onPostgres.compute('qr_bench', QUERY);
      postgresMs.push(performance.now() - t);
      t = performance.now();
      await onEmbedded.compute('qr_bench', QUERY);
      embeddedMs.push(performance.now() - t);
    }
    const pgMedian = median(postgresMs);
    const embeddedMedian = median(embeddedMs);
    const pass = same && pgMedian <= TARGET_MS;
    const row = (label: string, value: number) => `| ${label} | ${value.toFixed(1)} ms |`;
    console.log(`| 90-day analytics, 1M scans on one code (${RUNS} runs, interleaved) | median |\n|---|---:|`);
    console.log(row('PostgreSQL (roll-ups)', pgMedian));
    console.log(row('embedded scan log (same-run baseline)', embeddedMedian));
    console.log(`\nratio PostgreSQL / embedded ${(pgMedian / embeddedMedian).toFixed(2)}×; target ≤ ${TARGET_MS} ms and answers equal to the row: ${pass ? 'pass' : 'FAIL'}`);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(
      RESULTS,
      JSON.stringify(
        { when: new Date().toISOString(), quick: QUICK, scans: SCANS, query: QUERY, seed_seconds: { scans: seededScans, rollups: rolledUp }, answers_equal: same, postgres_ms: { median: pgMedian, runs: postgresMs }, embedded_ms: { median: embeddedMedian, runs: embeddedMs }, target_ms: TARGET_MS, pass, machine: { cpus: os.cpus().length, node: process.version } },
        null,
        2,
      ) + '\n',
    );
    return CHECK && !pass ? 1 : 0;
  } catch (error) {
    console.error(error);
    return 1;
  } finally {
    await embedded?.close();
    await store?.close();
    fs.rmSync(workDir, { recursive: true, force: true });
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
