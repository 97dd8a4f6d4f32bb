/**
 * `npm run bench [-- --quick] [-- --check]`: the scenarios of issue 8 against baselines measured in the same run,
 * interleaved (A B A B …), medians quoted. See bench/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeCursor } from '../server/src/http/cursor.js';
import { getJson, median, postJson, sendExactly, sleep } from './client.js';
import { memoryOf, REPO_ROOT, startServerProcess, type ServerProcess } from './processes.js';
import { baselineTable, limitCheck, markdownTable, ratioCheck, type Check } from './report.js';
import { BENCH_DOMAIN, CUSTOM_DOMAIN_CODE, seedDataDir, type Seed } from './seed.js';
import { runS7, type S7Outcome } from './s7.js';
import { S8_SMART_CODE } from './s8-smart-code.js';
import { runWrk, wrkVersion, type WrkResult, type WrkRun } from './wrk.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const CHECK = args.has('--check');
const KEEP = args.has('--keep');
const SECONDS = QUICK ? 2 : 5;
const ROUNDS = 3;
const WARM_SECONDS = 1;
const CONNECTIONS = 50;
const CODES = 100_000;
const SCANS = 1_000_000;
const EXACT_REQUESTS = QUICK ? 5_000 : 20_000;
const STARTUP_TRIALS = QUICK ? 1 : 3;
const COLD_SLICE = 20_000;
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const RESULTS = path.join(REPO_ROOT, 'bench', 'results', QUICK ? 'quick.json' : 'latest.json');

const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const began = performance.now();

interface LoopDelay {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

async function main(): Promise<number> {
  const wrk = wrkVersion();
  if (!wrk) {
    console.error('bench needs wrk (a load generator that leaves the server most of the CPU): apt-get install -y wrk');
    return 2;
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-bench-'));
  const servers: ServerProcess[] = [];
  try {
    progress(`seeding ${CODES.toLocaleString('en-US')} codes and ${SCANS.toLocaleString('en-US')} scans in ${workDir}`);
    const seedStarted = performance.now();
    const seed = await seedDataDir(path.join(workDir, 'seed'), CODES, SCANS);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const auth = { Authorization: `Bearer ${seed.apiKey}` };
    const code = (i: number) => seed.codes[i] as Seed['codes'][number];
    const qrflowEnv = (dir: string) => ({ QRFLOW_DATA_FILE: path.join(dir, 'qrflow.json'), QRFLOW_PLANS_FILE: path.join(dir, 'plans.json'), QRFLOW_LOG_LEVEL: 'info', QRFLOW_DIAGNOSTICS: 'true' });

    // S6 first, alone on the machine (as far as this script is concerned): each trial on a fresh copy of the seed
    const startup: Array<{ readyMs: number; rssMb: number; peakMb: number }> = [];
    for (let trial = 0; trial < STARTUP_TRIALS; trial++) {
      const dir = path.join(workDir, `startup-${trial}`);
      fs.cpSync(path.join(workDir, 'seed'), dir, { recursive: true });
      const server = await startServerProcess({ name: 'qrflow (start-up)', entry: 'server/src/index.ts', env: qrflowEnv(dir), logFile: path.join(dir, 'server.log'), readyPath: `/api/v1/qr/${code(5).id}`, readyHeaders: auth, readyStatus: 200 });
      await sleep(1000);
      const memory = memoryOf(server.pid);
      await server.stop('SIGKILL'); // a disposable copy: no need to wait for the closing snapshot
      startup.push({ readyMs: server.readyMs, rssMb: memory?.rssMb ?? NaN, peakMb: memory?.peakMb ?? NaN });
      progress(`S6 trial ${trial + 1}: first request served ${server.readyMs.toFixed(0)} ms after spawn, RSS ${memory?.rssMb.toFixed(0)} MB`);
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const mainDir = path.join(workDir, 'main');
    fs.cpSync(path.join(workDir, 'seed'), mainDir, { recursive: true });
    const qrflow = await startServerProcess({ name: 'qrflow', entry: 'server/src/index.ts', env: qrflowEnv(mainDir), logFile: path.join(mainDir, 'server.log'), readyPath: `/api/v1/qr/${code(5).id}`, readyHeaders: auth, readyStatus: 200 });
    servers.push(qrflow);
    const baseline = async (name: string, file: string) => {
      const server = await startServerProcess({ name, entry: `bench/baselines/${file}`, logFile: path.join(workDir, `${file}.log`), readyPath: '/' });
      servers.push(server);
      return server;
    };
    const nodeJson = await baseline('node:http JSON', 'node-json.ts');
    const nodeRedirect = await baseline('node:http 302', 'node-redirect.ts');
    const expressJson = await baseline('Express 5 JSON', 'express-json.ts');
    progress(`servers up: qrflow ${qrflow.url} (logs at info level to ${path.join(mainDir, 'server.log')}), baselines ${nodeJson.url} ${nodeRedirect.url} ${expressJson.url}`);

    const deepIndex = CODES - 1 - (3999 * 20 - 1); // the last code of page 3,999 (20 a page, newest first): its cursor opens page 4,000
    const deepCursor = encodeCursor({ created_at: code(deepIndex).createdAt, id: code(deepIndex).id });
    const deepPage = await getJson<{ data: Array<{ id: string }> }>(`${qrflow.url}/api/v1/qr?limit=20&cursor=${deepCursor}`, auth);
    if (deepPage.data[0]?.id !== code(deepIndex - 1).id) throw new Error('the deep cursor does not land on page 4,000');

    // S8: a smart code (5 rules that all miss for the load generator's request, so every one is checked, then an A/B
    // split that hashes the visitor) against a plain code of the same seed, in the same run
    const smartCode = await postJson<{ data: { short_code: string } }>(`${qrflow.url}/api/v1/qr`, auth, S8_SMART_CODE);
    const s8Smart = smartCode.data.short_code;

    let coldNext = 1000;
    const coldIds = () => {
      const file = path.join(workDir, `cold-${coldNext}.txt`);
      fs.writeFileSync(file, seed.codes.slice(coldNext, coldNext + COLD_SLICE).map((c) => c.id).join('\n') + '\n');
      coldNext += COLD_SLICE;
      return file;
    };
    const loopDelay = (reset: boolean) => getJson<LoopDelay>(`${qrflow.url}/__diagnostics/eventloop${reset ? '?reset=1' : ''}`);

    // one entry per measured target; each is run once per round, in this order, baselines next to their scenario
    const targets: Array<{ key: string; run: (seconds: number) => WrkRun; loop?: boolean; probe?: (seconds: number) => WrkRun }> = [
      { key: 'node-redirect', run: (s) => ({ url: `${nodeRedirect.url}/r/abcdefg`, seconds: s, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } }) },
      { key: 'S1', run: (s) => ({ url: `${qrflow.url}/r/${code(1).shortCode}`, seconds: s, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } }) },
      // the same redirect on a verified custom domain: Host names the domain, the path is the bare code
      { key: 'S1-domain', run: (s) => ({ url: `${qrflow.url}/${code(CUSTOM_DOMAIN_CODE).shortCode}`, seconds: s, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER, Host: BENCH_DOMAIN } }) },
      { key: 'S8-plain', run: (s) => ({ url: `${qrflow.url}/r/${code(6).shortCode}`, seconds: s, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } }) },
      { key: 'S8-smart', run: (s) => ({ url: `${qrflow.url}/r/${s8Smart}`, seconds: s, connections: CONNECTIONS, headers: { 'User-Agent': BROWSER } }) },
      { key: 'express-json', run: (s) => ({ url: `${expressJson.url}/json`, seconds: s, connections: CONNECTIONS }) },
      { key: 'S2', run: (s) => ({ url: `${qrflow.url}/api/v1/qr/${code(2).id}`, seconds: s, connections: CONNECTIONS, headers: auth }) },
      { key: 'S3-first', run: (s) => ({ url: `${qrflow.url}/api/v1/qr?limit=20`, seconds: s, connections: CONNECTIONS, headers: auth }) },
      { key: 'S3-deep', run: (s) => ({ url: `${qrflow.url}/api/v1/qr?limit=20&cursor=${deepCursor}`, seconds: s, connections: CONNECTIONS, headers: auth }) },
      { key: 'node-json', run: (s) => ({ url: `${nodeJson.url}/json`, seconds: s, connections: CONNECTIONS }) },
      { key: 'S5-cached', run: (s) => ({ url: `${qrflow.url}/api/v1/qr/${code(3).id}/image?format=png&size=512`, seconds: s, connections: CONNECTIONS, headers: auth }) },
      {
        key: 'S5-cold',
        loop: true,
        run: (s) => ({ url: qrflow.url, seconds: s, connections: CONNECTIONS, headers: auth, script: 'cycle', scriptArgs: [coldIds(), '/api/v1/qr/{id}/image?format=png&size=512'] }),
      },
      {
        key: 'S4',
        loop: true,
        run: (s) => ({ url: `${qrflow.url}/api/v1/qr`, seconds: s, connections: CONNECTIONS, headers: auth, script: 'create' }),
        probe: (s) => ({ url: `${qrflow.url}/r/${code(4).shortCode}`, seconds: s, connections: 2, headers: { 'User-Agent': BROWSER }, script: 'paced' }),
      },
    ];
    const results = new Map<string, WrkResult[]>(targets.map((t) => [t.key, []]));
    const probes: WrkResult[] = [];
    const loops = new Map<string, LoopDelay[]>();
    let s1Completed = 0;

    const measure = async (target: (typeof targets)[number], seconds: number, keep: boolean) => {
      if (target.loop) await loopDelay(true);
      const [result, probe] = await Promise.all([runWrk(target.run(seconds), workDir), target.probe ? runWrk(target.probe(seconds), workDir) : undefined]);
      const loop = target.loop ? await loopDelay(false) : undefined;
      if (target.key === 'S1') s1Completed += result.requests;
      if (keep) {
        results.get(target.key)?.push(result);
        if (probe) probes.push(probe);
        if (loop) loops.set(target.key, [...(loops.get(target.key) ?? []), loop]);
      }
      const extra = `${loop ? `, loop p99 ${loop.p99_ms} ms` : ''}${probe ? `, redirect probe p99 ${probe.latencyMs.p99} ms` : ''}${result.statusErrors ? `, ${result.statusErrors} error responses` : ''}`;
      progress(`${keep ? '' : 'warm-up '}${target.key}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyMs.p99} ms${extra}`);
      await sleep(300);
    };

    for (const target of targets) await measure(target, WARM_SECONDS, false);

    // S1, exactly: a known number of redirects on a code with no scans yet, then its count once the recorder drained
    const exactCode = code(0);
    const statuses = await sendExactly(`${qrflow.url}/r/${exactCode.shortCode}`, EXACT_REQUESTS, CONNECTIONS, { 'User-Agent': BROWSER });
    await sleep(1500);
    const afterExact = await getJson<{ data: { scan_count: number } }>(`${qrflow.url}/api/v1/qr/${exactCode.id}`, auth);
    const analytics = await getJson<{ data: { total_scans: number } }>(`${qrflow.url}/api/v1/qr/${exactCode.id}/analytics`, auth);
    const redirected = statuses.get(302) ?? 0;
    progress(`S1 exact count: sent ${EXACT_REQUESTS}, ${redirected} answered 302, scan_count ${afterExact.data.scan_count}, analytics total_scans ${analytics.data.total_scans}`);

    for (let round = 1; round <= ROUNDS; round++) {
      progress(`round ${round}/${ROUNDS}`);
      for (const target of targets) await measure(target, SECONDS, true);
    }

    await sleep(1500);
    const s1Recorded = (await getJson<{ data: { scan_count: number } }>(`${qrflow.url}/api/v1/qr/${code(1).id}`, auth)).data.scan_count;
    const qrflowMemory = memoryOf(qrflow.pid);

    // S7 last: PostgreSQL + Redis with 2 workers, against this embedded process in rounds of its own (bench/s7.ts)
    const s7: S7Outcome = await runS7({ quick: QUICK, seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, workDir, seedDir: path.join(workDir, 'seed'), seed, embeddedUrl: qrflow.url, embeddedPid: qrflow.pid, browser: BROWSER, progress });
    if ('skipped' in s7) progress(`S7 skipped: ${s7.skipped}`);

    // ---- figures and checks ----
    const rps = (key: string) => {
      const runs = (results.get(key) ?? []).map((r) => r.requestsPerSecond);
      return { value: median(runs), unit: 'req/s', runs };
    };
    const errorsOf = (key: string) => (results.get(key) ?? []).reduce((sum, r) => sum + r.statusErrors, 0);
    const errorNote = (key: string) => (errorsOf(key) ? `${errorsOf(key)} error responses` : undefined);
    const named = (name: string, key: string) => ({ name, ...rps(key) });
    const nodeRedirectRps = named('node:http 302', 'node-redirect');
    const expressRps = named('Express 5 JSON', 'express-json');
    const s2 = named('S2', 'S2');
    const s3First = named('S3 first page', 'S3-first');
    const creates = (results.get('S4') ?? []).map((r) => (r.requests - r.statusErrors) / r.durationSeconds);
    const cold = (results.get('S5-cold') ?? []).map((r) => (r.requests - r.statusErrors) / r.durationSeconds);
    const coldWrapped = (results.get('S5-cold') ?? []).some((r) => r.requests > COLD_SLICE);
    const p99 = (list: LoopDelay[] | undefined) => {
      const runs = (list ?? []).map((l) => l.p99_ms);
      return { value: median(runs), unit: 'ms', runs };
    };
    const withErrors = (check: Check, key: string) => (errorsOf(key) ? { ...check, pass: false, note: [check.note, errorNote(key)].filter(Boolean).join('; ') } : check);

    const checks: Check[] = [
      withErrors(ratioCheck('S1', 'GET /r/:code, scans recorded', rps('S1'), nodeRedirectRps, 0.5), 'S1'),
      withErrors(ratioCheck('S1', 'GET /:code on a custom domain (Host), scans recorded', rps('S1-domain'), nodeRedirectRps, 0.5), 'S1-domain'),
      {
        id: 'S1',
        scenario: `scans recorded = requests sent (${EXACT_REQUESTS.toLocaleString('en-US')} sent one by one over ${CONNECTIONS} connections)`,
        figure: afterExact.data.scan_count,
        unit: 'scans',
        target: `= ${EXACT_REQUESTS.toLocaleString('en-US')} (scan_count and analytics total_scans)`,
        pass: redirected === EXACT_REQUESTS && afterExact.data.scan_count === EXACT_REQUESTS && analytics.data.total_scans === EXACT_REQUESTS,
        note: `analytics total_scans ${analytics.data.total_scans}; wrk runs: ${s1Recorded.toLocaleString('en-US')} recorded for ${s1Completed.toLocaleString('en-US')} answers counted by wrk (it does not count the ≤ ${CONNECTIONS} in flight when it stops)`,
      },
      withErrors(ratioCheck('S8', 'GET /r/:code of a code with 5 rules and an A/B split, against a plain code', rps('S8-smart'), named('S8 plain code', 'S8-plain'), 0.9), 'S8-smart'),
      withErrors(ratioCheck('S2', 'GET /api/v1/qr/:id, full stack', rps('S2'), expressRps, 0.7), 'S2'),
      withErrors(ratioCheck('S3', 'GET /api/v1/qr?limit=20, first page', rps('S3-first'), s2, 0.5), 'S3-first'),
      withErrors(ratioCheck('S3', 'GET /api/v1/qr?limit=20, page 4,000 by cursor', rps('S3-deep'), s2, 0.5), 'S3-deep'),
      withErrors(ratioCheck('S3', 'page 4,000 against the first page', rps('S3-deep'), s3First, 0.9), 'S3-deep'),
      withErrors(limitCheck('S4', `POST /api/v1/qr, ${CONNECTIONS} clients, each durable before its 201`, { value: median(creates), unit: 'creates/s', runs: creates }, '>=', 500), 'S4'),
      limitCheck('S4', 'event-loop delay p99 during the creates', p99(loops.get('S4')), '<=', 50),
      limitCheck('S4', 'GET /r/:code p99 during the creates (2 connections, 10 ms apart)', { value: median(probes.map((p) => p.latencyMs.p99)), unit: 'ms', runs: probes.map((p) => p.latencyMs.p99) }, '<=', 50),
      withErrors(limitCheck('S5', 'PNG 512 px, a different code each request (cold)', { value: median(cold), unit: 'images/s', runs: cold }, '>=', 150, coldWrapped ? 'ran past its slice of distinct codes' : undefined), 'S5-cold'),
      limitCheck('S5', 'event-loop delay p99 during the cold run', p99(loops.get('S5-cold')), '<=', 20),
      withErrors(ratioCheck('S5', 'PNG 512 px, the same code repeated (cached)', { ...rps('S5-cached'), unit: 'images/s' }, expressRps, 0.7), 'S5-cached'),
      limitCheck('S6', `start-up to first served request (${CODES.toLocaleString('en-US')} codes, ${SCANS.toLocaleString('en-US')} scans)`, { value: median(startup.map((s) => s.readyMs / 1000)), unit: 's', runs: startup.map((s) => s.readyMs / 1000) }, '<=', 3, 'from spawn of node, including tsx'),
      limitCheck('S6', 'RSS 1 s after start-up (VmRSS)', { value: median(startup.map((s) => s.rssMb)), unit: 'MB', runs: startup.map((s) => s.rssMb) }, '<=', 600),
      ...('checks' in s7 ? s7.checks : []),
    ];
    const baselines = [named('node:http JSON', 'node-json'), nodeRedirectRps, expressRps];

    const machine = {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      load_generator: `${wrk}, 1 thread, ${CONNECTIONS} connections (keep-alive), loopback only`,
      load_average_at_end: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
    const settings = {
      mode: QUICK ? 'quick' : 'full',
      seconds_per_run: SECONDS,
      rounds: ROUNDS,
      order: targets.map((t) => t.key),
      warm_up_seconds: WARM_SECONDS,
      seed: { codes: CODES, scans: SCANS, seconds: Math.round(seedSeconds * 10) / 10 },
      qrflow: 'node --import tsx server/src/index.ts, QRFLOW_LOG_LEVEL=info with stdout (the pino request log) to a file, QRFLOW_DIAGNOSTICS=true, a plan with limits no run reaches (the rate limiter and meter still run)',
    };
    const document = {
      generated_at: new Date().toISOString(),
      machine,
      settings,
      baselines: baselines.map((b) => ({ name: b.name, median_rps: b.value, runs: b.runs })),
      checks: checks.map((c) => ({ ...c, figure: round(c.figure), ...(c.ratio !== undefined ? { ratio: round(c.ratio) } : {}), ...(c.baseline ? { baseline: { ...c.baseline, value: round(c.baseline.value) } } : {}), ...(c.runs ? { runs: c.runs.map(round) } : {}) })),
      details: {
        startup: startup.map((s) => ({ ready_ms: Math.round(s.readyMs), rss_mb: Math.round(s.rssMb), peak_rss_mb: Math.round(s.peakMb) })),
        qrflow_memory_after_runs_mb: qrflowMemory ? { rss: Math.round(qrflowMemory.rssMb), peak: Math.round(qrflowMemory.peakMb) } : null,
        event_loop: Object.fromEntries(loops),
        wrk: Object.fromEntries([...results].map(([key, runs]) => [key, runs])),
        redirect_probe_during_s4: probes,
        exact_count: { sent: EXACT_REQUESTS, statuses: Object.fromEntries(statuses), scan_count: afterExact.data.scan_count, analytics_total_scans: analytics.data.total_scans },
        s1_wrk_runs: { answers_counted_by_wrk: s1Completed, scans_recorded: s1Recorded },
        s7: 'skipped' in s7 ? { skipped: s7.skipped } : s7.details,
      },
      pass: checks.every((c) => c.pass),
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, JSON.stringify(document, null, 2) + '\n');

    console.log(`## qrflow benchmarks (${settings.mode}: ${ROUNDS} interleaved rounds of ${SECONDS} s, medians)\n`);
    console.log(markdownTable(checks));
    console.log(`\n${baselineTable(baselines)}\n`);
    console.log(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB, ${machine.os}, Node ${machine.node}. Load generator: ${machine.load_generator}.`);
    console.log(`qrflow logs every request at info level (pino) to a file. Results: ${path.relative(REPO_ROOT, RESULTS)}`);
    console.log('skipped' in s7 ? `\nS7 (PostgreSQL + Redis, 2 workers) was skipped: ${s7.skipped}` : `S7: 2 workers (node:cluster, QRFLOW_WORKERS=2) on a fresh PostgreSQL database and Redis prefix, against the embedded process above in ${ROUNDS} rounds of their own.`);
    const failed = checks.filter((c) => !c.pass);
    console.log(failed.length ? `\n${failed.length} of ${checks.length} targets missed.` : `\nAll ${checks.length} targets met.`);
    return CHECK && failed.length ? 1 : 0;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    if (KEEP) progress(`kept ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${(error as Error).stack ?? error}`);
    process.exit(2);
  },
);
