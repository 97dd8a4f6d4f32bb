/**
 * `node --import tsx bench/s8-smart.ts [seconds] [rounds]`: S8's figure alone (bench/run.ts): one embedded process,
 * S8's smart code against a plain code in interleaved rounds, with the CPU time each costs a request. Not a check: a
 * quick figure for work on the smart redirect. `S8_VISITORS=1` sends most requests as a new visitor (bench/lua/
 * visitors.lua: 50,000 addresses through X-Forwarded-For, 20 user agents), so nothing the redirect keeps of a
 * visitor (the split's hash, the GeoIP answer) is found again; S8 itself is one visitor, as wrk is.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, postJson } from './client.js';
import { cpuMeter } from './cpu.js';
import { startServerProcess } from './processes.js';
import { S8_SMART_CODE } from './s8-smart-code.js';
import { seedDataDir } from './seed.js';
import { runWrk, type WrkRun } from './wrk.js';

const SECONDS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 3);
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const visitors = process.env.S8_VISITORS === '1';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-s8-'));
try {
  const seed = await seedDataDir(path.join(workDir, 'seed'), 10_000, 0);
  const auth = { Authorization: `Bearer ${seed.apiKey}` };
  const server = await startServerProcess({
    name: 'qrflow (embedded)',
    entry: 'server/src/index.ts',
    env: { QRFLOW_DATA_FILE: seed.dataFile, QRFLOW_PLANS_FILE: seed.plansFile, QRFLOW_LOG_LEVEL: 'info', ...(visitors ? { QRFLOW_TRUST_PROXY: 'loopback' } : {}) },
    logFile: path.join(workDir, 'server.log'),
    readyPath: `/api/v1/qr/${seed.codes[5]?.id}`,
    readyHeaders: auth,
    readyStatus: 200,
    timeoutMs: 60_000,
  });
  try {
    const smart = (await postJson<{ data: { short_code: string } }>(`${server.url}/api/v1/qr`, auth, S8_SMART_CODE)).data.short_code;
    const run = (code: string | undefined, seconds: number): WrkRun => ({
      url: `${server.url}/r/${code}`,
      seconds,
      connections: 50,
      headers: { 'User-Agent': BROWSER },
      ...(visitors ? { script: 'visitors' } : {}),
    });
    const figures = { plain: [] as number[], smart: [] as number[] };
    for (let round = 0; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [key, code] of [['plain', seed.codes[6]?.shortCode], ['smart', smart]] as const) {
        const measure = cpuMeter([server.pid]);
        const result = await runWrk(run(code, round === 0 ? 1 : SECONDS), workDir);
        const cpuPerRequest = (measure().processes * result.durationSeconds) / result.requests;
        if (round === 0) continue; // a warm-up second of each
        figures[key].push(result.requestsPerSecond);
        line.push(`${key} ${Math.round(result.requestsPerSecond)} req/s (${(cpuPerRequest * 1e6).toFixed(1)} µs of CPU a request)`);
      }
      if (round > 0) console.log(`round ${round}: ${line.join(', ')}, ratio ${((figures.smart.at(-1) as number) / (figures.plain.at(-1) as number)).toFixed(2)}`);
    }
    console.log(`median: plain ${Math.round(median(figures.plain))} req/s, smart ${Math.round(median(figures.smart))} req/s, ratio ${(median(figures.smart) / median(figures.plain)).toFixed(2)}${visitors ? ' (a new visitor on most requests)' : ''}`);
  } finally {
    await server.stop();
  }
} finally {
  fs.rmSync(workDir, { recursive: true, force: true });
}
