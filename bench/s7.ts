/**
 * S7 (issue 14 §6): qrflow on PostgreSQL and Redis with QRFLOW_WORKERS=2 on this machine, against one embedded
 * process measured in the same run (interleaved rounds). A fresh database and Redis prefix per run, dropped after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createClient } from 'redis';
import { displayPrefix, generateKeySecret, hashSecret } from '../server/src/keys/key-format.js';
import { newId } from '../server/src/random.js';
import { migrateStore } from '../server/src/store/migrate-store.js';
import type { ApiKeyRecord, WorkspaceRecord } from '../server/src/store/records.js';
import { median, sleep } from './client.js';
import { measureCeiling } from './ceiling.js';
import { cpuMeter, type CpuShare } from './cpu.js';
import { memoryOf, startServerProcess, type ServerProcess } from './processes.js';
import { limitCheck, ratioCheck, type Check } from './report.js';
import { NINETY_DAY_QUERY, seedScansOnOneCode } from './scan-seed.js';
import type { Seed } from './seed.js';
import { ChannelLostError, WorkerChannel } from './worker-channel.js';
import { runWrk, type WrkResult, type WrkRun } from './wrk.js';

const WORKERS = 2;
const ANALYTICS_SCANS = 1_000_000;
/** Reserved codes (no scans in the embedded seed) used by S7 alone. */
const ANALYTICS_CODE = 50;
const CHANGE_CODE = 60;

export interface S7Options {
  quick: boolean;
  seconds: number;
  rounds: number;
  connections: number;
  workDir: string;
  /** The embedded seed directory (its qrflow.json and plans.json are copied into PostgreSQL, without scans). */
  seedDir: string;
  seed: Seed;
  /** The one embedded qrflow process of the main run: the baseline. */
  embeddedUrl: string;
  embeddedPid: number;
  browser: string;
  progress: (message: string) => void;
}

export type S7Outcome = { skipped: string } | { checks: Check[]; details: Record<string, unknown> };

export const DATABASE_SERVER = process.env.QRFLOW_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.QRFLOW_BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

/** The environment of S7's qrflow: QRFLOW_WORKERS=2 on this database and Redis prefix (also s7-creates.ts, s7-redirect.ts). */
/**
 * The server command with `--cpu-prof` into `S7_CPU_PROFILE` (a directory) when that is set: node:cluster forks the
 * workers with the primary's execArgv, so each writes its profile when it stops. Undefined: the usual command.
 */
export function profiledCommand(): { file: string; args: string[] } | undefined {
  const dir = process.env.S7_CPU_PROFILE;
  return dir ? { file: process.execPath, args: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, '--import', 'tsx', 'server/src/index.ts'] } : undefined;
}

export function clusterEnv(options: { databaseUrl: string; prefix: string; dataFile: string; plansFile: string; logLevel: string; diagnostics?: boolean }): Record<string, string> {
  return {
    QRFLOW_DATABASE_URL: options.databaseUrl,
    QRFLOW_REDIS_URL: REDIS_URL,
    QRFLOW_REDIS_PREFIX: options.prefix,
    QRFLOW_WORKERS: String(WORKERS),
    QRFLOW_DATA_FILE: options.dataFile,
    QRFLOW_PLANS_FILE: options.plansFile,
    QRFLOW_LOG_LEVEL: options.logLevel,
    ...(options.diagnostics ? { QRFLOW_DIAGNOSTICS: 'true' } : {}),
  };
}

/** Why S7 cannot run here (PostgreSQL or Redis not answering), or undefined. */
async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_SERVER, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    return `no PostgreSQL at ${DATABASE_SERVER} (${(error as Error).message}); set QRFLOW_BENCH_DATABASE_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = createClient({ url: REDIS_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(error as Error).message}); set QRFLOW_BENCH_REDIS_URL`;
  } finally {
    if (redis.isOpen) redis.destroy();
  }
  return undefined;
}

/** Runs S7; never leaves its database, Redis keys or processes behind. */
export async function runS7(options: S7Options): Promise<S7Outcome> {
  const problem = await unreachable();
  if (problem) return { skipped: problem };
  const { progress, seed, embeddedPid } = options;
  const code = (i: number) => seed.codes[i] as Seed['codes'][number];
  const auth = { Authorization: `Bearer ${seed.apiKey}` };
  const name = `qrflow_bench_s7_${process.pid}`;
  const prefix = `qrflow-bench-s7-${process.pid}:`;
  const databaseUrl = new URL(DATABASE_SERVER);
  databaseUrl.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: DATABASE_SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const dir = path.join(options.workDir, 's7');
  let cluster: ServerProcess | undefined;
  let channels: WorkerChannel[] = [];
  try {
    // ---- seeding: the embedded seed's records (no scans) by migrate-store, then 1M scans on one code in SQL ----
    fs.mkdirSync(path.join(dir, 'records'), { recursive: true });
    // QRFLOW_DATA_FILE's directory (on PostgreSQL nothing of the scans is kept there: the visitor salt is in the database)
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.copyFileSync(path.join(options.seedDir, 'qrflow.json'), path.join(dir, 'records', 'qrflow.json'));
    const emptyAuth = { Authorization: `Bearer ${addEmptyWorkspace(path.join(dir, 'records', 'qrflow.json'))}` };
    fs.copyFileSync(path.join(options.seedDir, 'plans.json'), path.join(dir, 'plans.json'));
    let started = performance.now();
    progress(`S7: copying the seed's records into PostgreSQL database ${name} (qrflow migrate-store)`);
    const copied = await migrateStore(path.join(dir, 'records', 'qrflow.json'), databaseUrl.toString(), { batchSize: 5000 });
    const mismatch = copied.find((report) => report.verified !== report.source);
    if (mismatch) throw new Error(`migrate-store verified ${mismatch.verified} of ${mismatch.source} ${mismatch.name}`);
    const migrateSeconds = (performance.now() - started) / 1000;
    progress(`S7: records copied in ${migrateSeconds.toFixed(1)} s; seeding ${ANALYTICS_SCANS.toLocaleString('en-US')} scans on one code`);
    const loadAtStart = os.loadavg()[0] as number;
    const scanSeed = await seedScansOnOneCode(databaseUrl.toString(), { qrId: code(ANALYTICS_CODE).id, workspaceId: seed.workspaceId }, ANALYTICS_SCANS);
    progress(`S7: scans seeded in ${scanSeed.scansSeconds.toFixed(1)} s, roll-ups in ${scanSeed.rollupsSeconds.toFixed(1)} s`);

    // ---- the two processes: node:cluster's primary and QRFLOW_WORKERS=2 workers on one port ----
    started = performance.now();
    cluster = await startServerProcess({
      name: 'qrflow S7 (2 workers on PostgreSQL)',
      entry: 'server/src/index.ts',
      env: clusterEnv({ databaseUrl: databaseUrl.toString(), prefix, dataFile: path.join(dir, 'data', 'qrflow.json'), plansFile: path.join(dir, 'plans.json'), logLevel: 'info', diagnostics: true }),
      logFile: path.join(dir, 'server.log'),
      readyPath: `/api/v1/qr/${code(5).id}`,
      readyHeaders: auth,
      readyStatus: 200,
      timeoutMs: 120_000,
    });
    channels = await WorkerChannel.open(cluster.url, WORKERS);
    const readySeconds = (performance.now() - started) / 1000;
    progress(`S7: ${WORKERS} workers (pids ${channels.map((c) => c.pid).join(', ')}) up on ${cluster.url} ${readySeconds.toFixed(1)} s after spawn; logs at ${path.join(dir, 'server.log')}`);

    // ---- throughput, interleaved with the embedded baseline ----
    const targets: Array<{ key: string; run: (seconds: number) => WrkRun }> = [
      { key: 'embedded-redirect', run: (s) => ({ url: `${options.embeddedUrl}/r/${code(1).shortCode}`, seconds: s, connections: options.connections, headers: { 'User-Agent': options.browser } }) },
      { key: 'S7-redirect', run: (s) => ({ url: `${cluster!.url}/r/${code(1).shortCode}`, seconds: s, connections: options.connections, headers: { 'User-Agent': options.browser } }) },
      { key: 'embedded-read', run: (s) => ({ url: `${options.embeddedUrl}/api/v1/qr/${code(2).id}`, seconds: s, connections: options.connections, headers: auth }) },
      { key: 'S7-read', run: (s) => ({ url: `${cluster!.url}/api/v1/qr/${code(2).id}`, seconds: s, connections: options.connections, headers: auth }) },
      { key: 'S7-create', run: (s) => ({ url: `${cluster!.url}/api/v1/qr`, seconds: s, connections: options.connections, headers: auth, script: 'create' }) },
      // not a target: the same creates in a workspace that starts with no codes (what the plan's count costs)
      { key: 'S7-create-empty-workspace', run: (s) => ({ url: `${cluster!.url}/api/v1/qr`, seconds: s, connections: options.connections, headers: emptyAuth, script: 'create' }) },
    ];
    const results = new Map<string, WrkResult[]>(targets.map((t) => [t.key, []]));
    const warmRedirects: WrkResult[] = [];
    const cpu = new Map<string, CpuShare[]>();
    const measure = async (target: (typeof targets)[number], seconds: number, keep: boolean) => {
      const meter = cpuMeter(target.key.startsWith('embedded') ? [embeddedPid] : channels.map((c) => c.pid));
      const result = await runWrk(target.run(seconds), options.workDir);
      const share = meter();
      if (keep) cpu.set(target.key, [...(cpu.get(target.key) ?? []), share]);
      if (keep) results.get(target.key)?.push(result);
      else if (target.key === 'S7-redirect') warmRedirects.push(result);
      progress(`S7 ${keep ? '' : 'warm-up '}${target.key}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyMs.p99} ms${result.statusErrors ? `, ${result.statusErrors} error responses` : ''}${result.socketErrors ? `, ${result.socketErrors} socket errors` : ''}; cores: qrflow ${share.processes}, PostgreSQL ${share.postgres}, machine ${share.machine}`);
      await sleep(300);
    };
    for (const target of targets) await measure(target, 1, false);
    const codesBefore = await countCodes(databaseUrl.toString(), seed.workspaceId);
    for (let round = 1; round <= options.rounds; round++) {
      progress(`S7 round ${round}/${options.rounds}`);
      for (const target of targets) await measure(target, options.seconds, true);
    }
    const codesAfter = await countCodes(databaseUrl.toString(), seed.workspaceId);
    await sleep(1500); // the scan batches (at most about a second behind)
    const redirectScans = await scansOf(databaseUrl.toString(), code(1).id);
    const redirectAnswers = [...(results.get('S7-redirect') ?? []), ...warmRedirects].reduce((sum, r) => sum + r.requests, 0);
    progress(`S7 scans recorded for the redirect runs: ${redirectScans.toLocaleString('en-US')} for ${redirectAnswers.toLocaleString('en-US')} answers counted by wrk`);

    // ---- the machine's ceiling for the redirect ratio: two processes of a bare server as costly as qrflow, no store ----
    const embeddedRedirects = (results.get('embedded-redirect') ?? []).map((r, i) => ({ rate: (r.requests - r.statusErrors) / r.durationSeconds, cores: cpu.get('embedded-redirect')?.[i]?.processes ?? NaN }));
    const ceiling = await measureCeiling({
      embedded: embeddedRedirects,
      redirectUrl: `${options.embeddedUrl}/r/${code(1).shortCode}`,
      headers: { 'User-Agent': options.browser },
      connections: options.connections,
      seconds: options.seconds,
      rounds: options.rounds,
      workers: WORKERS,
      workDir: dir,
      progress,
    });
    const ceilingFigure = `${ceiling.ratio.toFixed(2)}× one (${median(ceiling.cluster.runs).toFixed(0)} against ${median(ceiling.one.runs).toFixed(0)} req/s)`;
    progress(`S7 ceiling: ${WORKERS} processes of the baseline reach ${ceilingFigure}`);

    // ---- a destination change seen by every worker: quiet, then under 50 clients creating codes ----
    for (const channel of channels) await channel.reconnect(); // their connections idled through the wrk runs
    const changeCode = code(CHANGE_CODE);
    const quiet = await changeDelays(channels, changeCode, auth, options.browser, { samples: options.quick ? 40 : 200 });
    progress(`S7 change seen by both workers (quiet): ${changeNote(quiet)}, p99 ${percentile(quiet.delays, 99).toFixed(1)} ms over ${quiet.delays.length} changes`);
    const loadSeconds = options.quick ? 4 : 10;
    const [createsDuringChanges, loaded] = await Promise.all([
      runWrk({ url: `${cluster.url}/api/v1/qr`, seconds: loadSeconds, connections: options.connections, headers: auth, script: 'create' }, options.workDir),
      sleep(300).then(() => changeDelays(channels, changeCode, auth, options.browser, { untilMs: (loadSeconds - 0.8) * 1000, first: quiet.next })),
    ]);
    progress(`S7 change seen by both workers (under ${createsDuringChanges.requestsPerSecond.toFixed(0)} creates/s): ${changeNote(loaded)}, p99 ${percentile(loaded.delays, 99).toFixed(1)} ms over ${loaded.delays.length} changes`);

    // ---- the 90-day analytics query on the code with 1M scans, through the workers in turn ----
    const query = new URLSearchParams({ from: NINETY_DAY_QUERY.from as string, to: NINETY_DAY_QUERY.to as string, interval: NINETY_DAY_QUERY.interval, tz: NINETY_DAY_QUERY.tz, include_bots: String(NINETY_DAY_QUERY.include_bots) });
    const analyticsPath = `/api/v1/qr/${code(ANALYTICS_CODE).id}/analytics?${query}`;
    const analyticsRuns = options.quick ? 7 : 21;
    const analyticsMs: number[] = [];
    let analyticsAnswer: { total_scans?: number; unique_scans?: number; timeseries?: unknown[] } = {};
    for (let run = -WORKERS; run < analyticsRuns; run++) {
      const channel = channels[(run + WORKERS) % WORKERS] as WorkerChannel;
      const answer = await reliably(channel, () => {
        const t = performance.now();
        return channel.request('GET', analyticsPath, auth).then((a) => ({ a, ms: performance.now() - t }));
      });
      if (answer.a.status !== 200) throw new Error(`analytics answered ${answer.a.status}: ${answer.a.body.slice(0, 300)}`);
      if (run < 0) analyticsAnswer = (JSON.parse(answer.a.body) as { data: typeof analyticsAnswer }).data; // a first query on each worker, not timed
      else analyticsMs.push(answer.ms);
    }
    progress(`S7 90-day analytics: median ${median(analyticsMs).toFixed(1)} ms (${analyticsAnswer.total_scans?.toLocaleString('en-US')} scans, ${analyticsAnswer.unique_scans?.toLocaleString('en-US')} unique, ${analyticsAnswer.timeseries?.length} days)`);
    const workerMemory = channels.map((c) => ({ pid: c.pid, ...memoryOf(c.pid) }));

    // ---- figures ----
    const rps = (key: string) => {
      const runs = (results.get(key) ?? []).map((r) => r.requestsPerSecond);
      return { value: median(runs), unit: 'req/s', runs };
    };
    const errorsOf = (key: string) => (results.get(key) ?? []).reduce((sum, r) => sum + r.statusErrors + r.socketErrors, 0);
    const withErrors = (check: Check, ...keys: string[]) => {
      const errors = keys.reduce((sum, key) => sum + errorsOf(key), 0);
      return errors ? { ...check, pass: false, note: [check.note, `${errors} error responses or socket errors`].filter(Boolean).join('; ') } : check;
    };
    const creates = (results.get('S7-create') ?? []).map((r) => (r.requests - r.statusErrors) / r.durationSeconds);
    const answered = (results.get('S7-create') ?? []).reduce((sum, r) => sum + r.requests - r.statusErrors, 0);
    const ms = (values: number[], p: number) => ({ value: percentile(values, p), unit: 'ms' });
    const emptyCreates = (results.get('S7-create-empty-workspace') ?? []).map((r) => (r.requests - r.statusErrors) / r.durationSeconds);
    const checks: Check[] = [
      withErrors(
        ratioCheck('S7', `GET /r/:code, ${WORKERS} workers on PostgreSQL + Redis, scans recorded`, rps('S7-redirect'), { name: 'one embedded process', ...rps('embedded-redirect') }, 1.4, `${redirectScans.toLocaleString('en-US')} scans in PostgreSQL for ${redirectAnswers.toLocaleString('en-US')} answers counted by wrk; this machine's ceiling, ${WORKERS} processes of bare node:http doing the embedded process's ${ceiling.embeddedMicroseconds.toFixed(1)} µs of CPU a request with no store: ${ceilingFigure}`),
        'S7-redirect',
        'embedded-redirect',
      ),
      withErrors(ratioCheck('S7', `GET /api/v1/qr/:id (S2's request), ${WORKERS} workers`, rps('S7-read'), { name: 'one embedded process', ...rps('embedded-read') }, 1.2), 'S7-read', 'embedded-read'),
      withErrors(
        limitCheck('S7', `POST /api/v1/qr, ${options.connections} clients, each 201 after its commit`, { value: median(creates), unit: 'creates/s', runs: creates }, '>=', 2000, `in the seeded workspace of ${seed.codes.length.toLocaleString('en-US')} codes; ${(codesAfter - codesBefore).toLocaleString('en-US')} rows added in PostgreSQL for ${answered.toLocaleString('en-US')} 201s counted by wrk; in a workspace that started empty: ${median(emptyCreates).toFixed(0)} creates/s`),
        'S7-create',
      ),
      limitCheck('S7', `destination change seen by both workers, p99 (PATCH answered → both redirect to it; ${quiet.delays.length} changes, quiet)`, ms(quiet.delays, 99), '<=', 1000, changeNote(quiet)),
      limitCheck('S7', `the same under ${options.connections} clients creating codes (${loaded.delays.length} changes, ${createsDuringChanges.requestsPerSecond.toFixed(0)} creates/s meanwhile)`, ms(loaded.delays, 99), '<=', 1000, changeNote(loaded)),
      limitCheck('S7', `90-day analytics over HTTP, a code with ${ANALYTICS_SCANS.toLocaleString('en-US')} scans, median of ${analyticsRuns}`, { value: median(analyticsMs), unit: 'ms', runs: analyticsMs }, '<=', 50),
    ];
    const details = {
      database: `a fresh database on ${new URL(DATABASE_SERVER).host}, dropped after`,
      redis_prefix: prefix,
      workers: channels.map((c) => c.pid),
      seed_seconds: { migrate_store: round(migrateSeconds), scans: round(scanSeed.scansSeconds), rollups: round(scanSeed.rollupsSeconds) },
      ready_seconds: round(readySeconds),
      wrk: Object.fromEntries(results),
      cpu_cores: { note: 'average cores used during each run: by the qrflow process(es) measured, by all postgres processes, by the whole machine (wrk and anything else included)', ...Object.fromEntries(cpu) },
      redirect_scans: { recorded: redirectScans, answers_counted_by_wrk: redirectAnswers },
      redirect_ceiling: { note: 'bench/ceiling.ts: bare node:http answering as the redirect did, with the embedded process\'s CPU a request as work and no store; one process against node:cluster workers, same wrk load', ...ceiling },
      creates: { rows_before: codesBefore, rows_after: codesAfter, answered_201_counted_by_wrk: answered },
      change_feed: {
        quiet: { after_answer_ms: quiet.delays.map(round), after_sent_ms: quiet.fromSent.map(round), patch_ms: quiet.acks.map(round) },
        under_creates: { after_answer_ms: loaded.delays.map(round), after_sent_ms: loaded.fromSent.map(round), patch_ms: loaded.acks.map(round), creates: createsDuringChanges },
        connections_replaced: quiet.replaced + loaded.replaced,
      },
      analytics: { path: analyticsPath, runs_ms: analyticsMs.map(round), total_scans: analyticsAnswer.total_scans, unique_scans: analyticsAnswer.unique_scans },
      worker_memory_mb: workerMemory,
      load_average_1m: { at_seeding: round(loadAtStart), at_end: round(os.loadavg()[0] as number), cores: os.availableParallelism() },
    };
    return { checks, details };
  } finally {
    for (const channel of channels) channel.close();
    await cluster?.stop();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((error: unknown) => progress(`S7: could not drop ${name}: ${(error as Error).message}`));
    await admin.end();
    await dropRedisKeys(prefix).catch((error: unknown) => progress(`S7: could not delete Redis keys ${prefix}*: ${(error as Error).message}`));
  }
}

/**
 * Changes the code's destination through each worker in turn and polls its redirect through every worker (each on
 * its own connection) until all send the new destination; a sample's delay is from the PATCH's answer (the change is
 * committed) to the last worker's first redirect to the new destination, polled every 2 ms. `samples` changes, or as
 * many as fit in `untilMs`.
 */
async function changeDelays(channels: WorkerChannel[], qr: { id: string; shortCode: string }, auth: Record<string, string>, browser: string, limit: { samples?: number; untilMs?: number; first?: number }) {
  /** PATCH answered → the last worker redirecting to the new destination (0 when all did at once). */
  const delays: number[] = [];
  /** PATCH sent → the same moment: the above plus the PATCH's own latency. */
  const fromSent: number[] = [];
  const acks: number[] = [];
  let replaced = 0;
  const began = performance.now();
  let n = limit.first ?? 0;
  while (limit.samples !== undefined ? delays.length < limit.samples : performance.now() - began < (limit.untilMs ?? 0)) {
    n++;
    const destination = `https://example.com/s7-change/${n}`;
    const writer = channels[n % channels.length] as WorkerChannel;
    try {
      const sent = performance.now();
      const patched = await writer.request('PATCH', `/api/v1/qr/${qr.id}`, auth, JSON.stringify({ destination_url: destination }));
      if (patched.status !== 200) throw new Error(`PATCH answered ${patched.status}: ${patched.body.slice(0, 300)}`);
      const acked = performance.now() - sent;
      const seen = await Promise.all(
        channels.map(async (channel) => {
          for (;;) {
            const answer = await channel.request('GET', `/r/${qr.shortCode}`, { 'User-Agent': browser });
            if (answer.headers.location === destination) return performance.now() - sent;
            if (performance.now() - sent > 10_000) return Infinity; // a miss, counted as such
            await sleep(2);
          }
        }),
      );
      const last = Math.max(...seen);
      fromSent.push(last);
      delays.push(Math.max(0, last - acked));
      acks.push(acked);
    } catch (error) {
      if (!(error instanceof ChannelLostError)) throw error;
      // a connection was replaced mid-sample (and may have reached the other worker): rebind and take another sample
      replaced++;
      for (const channel of channels) await channel.reconnect();
    }
    await sleep(10);
  }
  return { delays, fromSent, acks, replaced, next: n };
}

function changeNote(samples: { delays: number[]; fromSent: number[]; acks: number[] }): string {
  return `p50 ${median(samples.delays).toFixed(1)} ms, max ${Math.max(...samples.delays).toFixed(1)} ms; from the PATCH sent: p99 ${percentile(samples.fromSent, 99).toFixed(1)} ms (PATCH p99 ${percentile(samples.acks, 99).toFixed(1)} ms)`;
}

/** Retries a request once over a re-bound connection when the channel's connection was replaced. */
async function reliably<T>(channel: WorkerChannel, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof ChannelLostError)) throw error;
    await channel.reconnect();
    return send();
  }
}

/** Adds a workspace with no codes, on the bench plan, and an API key of its own to the snapshot; returns the key. */
export function addEmptyWorkspace(snapshotFile: string): string {
  const snapshot = JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as { collections: { workspaces: WorkspaceRecord[]; keys: ApiKeyRecord[] } };
  const [owner] = snapshot.collections.workspaces;
  const [ownerKey] = snapshot.collections.keys;
  if (!owner || !ownerKey) throw new Error('the seed has no workspace or key to copy');
  const workspace: WorkspaceRecord = { ...owner, id: newId('ws'), name: 'Bench (empty)' };
  const secret = generateKeySecret();
  snapshot.collections.workspaces.push(workspace);
  snapshot.collections.keys.push({ ...ownerKey, id: newId('key'), workspace_id: workspace.id, prefix: displayPrefix(secret), hash: hashSecret(secret) });
  fs.writeFileSync(snapshotFile, JSON.stringify(snapshot));
  return secret;
}

/** Scans PostgreSQL holds for a code (its roll-up totals, written with each batch). */
async function scansOf(connectionString: string, qrId: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('SELECT coalesce(sum(humans + bots), 0) AS n FROM scan_totals WHERE qr_id = $1', [qrId])).rows[0]?.n);
  } finally {
    await client.end();
  }
}

async function countCodes(connectionString: string, workspaceId: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM qrcodes WHERE workspace_id = $1', [workspaceId])).rows[0]?.n);
  } finally {
    await client.end();
  }
}

/** Deletes every key of a Redis prefix. */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
  } finally {
    redis.destroy();
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] as number;
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}
