// `npm start` (TypeScript through tsx) against the compiled build (`npm run build`, `node server/dist/index.js`):
// start-up to the first served request, RSS, and the request rate of GET /api/v1/qr/:id and GET /r/:code,
// interleaved A B A B on fresh copies of one seed. Needs wrk and a build: npm run build -w server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, sleep } from './client.js';
import { memoryOf, REPO_ROOT, startServerProcess } from './processes.js';
import { seedDataDir } from './seed.js';
import { runWrk, wrkVersion } from './wrk.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CODES = 10_000;
const SCANS = 100_000;

const variants = [
  { name: 'npm start', command: { file: 'npm', args: ['start'] } },
  { name: 'node server/dist/index.js', command: { file: process.execPath, args: ['server/dist/index.js'] } },
];

async function main(): Promise<void> {
  if (!wrkVersion()) throw new Error('needs wrk: apt-get install -y wrk');
  if (!fs.existsSync(path.join(REPO_ROOT, 'server/dist/index.js'))) throw new Error('needs the build: npm run build -w server');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-production-'));
  try {
    const seed = await seedDataDir(path.join(workDir, 'seed'), CODES, SCANS);
    const code = seed.codes[CODES - 1] as (typeof seed.codes)[number];
    const auth = { Authorization: `Bearer ${seed.apiKey}` };
    const results = new Map<string, { readyMs: number[]; rssMb: number[]; api: number[]; redirect: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of variants) {
        const dir = path.join(workDir, `${round}-${variant.name.replace(/\W+/g, '-')}`);
        fs.cpSync(path.join(workDir, 'seed'), dir, { recursive: true });
        const server = await startServerProcess({
          name: variant.name,
          entry: '',
          command: variant.command,
          env: { QRFLOW_DATA_FILE: path.join(dir, 'qrflow.json'), QRFLOW_PLANS_FILE: path.join(dir, 'plans.json'), QRFLOW_LOG_LEVEL: 'info' },
          logFile: path.join(dir, 'server.log'),
          readyPath: `/api/v1/qr/${code.id}`,
          readyHeaders: auth,
          readyStatus: 200,
        });
        await sleep(1000);
        // npm start's server is npm's grandchild (npm, then node after sh's exec): measure the node process
        const lock = Number(fs.readFileSync(path.join(dir, 'qrflow.json.lock'), 'utf8'));
        const rss = memoryOf(lock)?.rssMb ?? NaN;
        const api = await runWrk({ url: `${server.url}/api/v1/qr/${code.id}`, seconds: SECONDS, connections: 50, headers: auth }, workDir);
        const redirect = await runWrk({ url: `${server.url}/r/${code.shortCode}`, seconds: SECONDS, connections: 50 }, workDir);
        await server.stop();
        const entry = results.get(variant.name) ?? { readyMs: [], rssMb: [], api: [], redirect: [] };
        entry.readyMs.push(server.readyMs);
        entry.rssMb.push(rss);
        entry.api.push(api.requestsPerSecond);
        entry.redirect.push(redirect.requestsPerSecond);
        results.set(variant.name, entry);
        process.stderr.write(`round ${round + 1} ${variant.name}: ready ${server.readyMs.toFixed(0)} ms, RSS ${rss.toFixed(0)} MB, API ${api.requestsPerSecond.toFixed(0)} req/s (errors ${api.statusErrors + api.socketErrors}), redirect ${redirect.requestsPerSecond.toFixed(0)} req/s\n`);
      }
    }
    console.log(`| | start-up to first request | RSS | GET /api/v1/qr/:id | GET /r/:code |\n|---|---:|---:|---:|---:|`);
    for (const [name, r] of results) {
      console.log(`| \`${name}\` | ${(median(r.readyMs) / 1000).toFixed(2)} s | ${median(r.rssMb).toFixed(0)} MB | ${Math.round(median(r.api)).toLocaleString('en-US')} req/s | ${Math.round(median(r.redirect)).toLocaleString('en-US')} req/s |`);
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
