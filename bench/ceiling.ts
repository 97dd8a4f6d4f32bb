/**
 * The ceiling of S7's redirect ratio on this machine: what two processes of *any* server reach against one under the
 * same wrk load, when each request costs the CPU that one embedded qrflow process spent a redirect in this run, with
 * no store and no scans at all (bench/baselines/ceiling.ts). Not a check: the measure of what the 1.4× target asks
 * of the machine, reported beside the S7 redirect figure.
 */
import http from 'node:http';
import path from 'node:path';
import { median, sleep } from './client.js';
import { childrenOf, cpuMeter, type CpuShare } from './cpu.js';
import { startServerProcess, type ServerProcess } from './processes.js';
import { runWrk, type WrkRun } from './wrk.js';

export interface CeilingOptions {
  /** The embedded qrflow's redirect runs of this bench run: its rate and the cores its process used in each. */
  embedded: Array<{ rate: number; cores: number }>;
  /** A redirect URL of that process, fetched once for the status and headers the baseline answers with. */
  redirectUrl: string;
  /** The request headers and load of the S7 redirect runs. */
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  rounds: number;
  workers: number;
  workDir: string;
  progress: (line: string) => void;
}

export interface Ceiling {
  /** CPU a redirect costs the embedded process (median over its runs) and the bare baseline, in µs. */
  embeddedMicroseconds: number;
  bareMicroseconds: number;
  /** The work added to each of the baseline's answers (µs as measured at its start), so that one process of it spends the embedded process's CPU a request. */
  workMicroseconds: number;
  one: { runs: number[]; cpu: CpuShare[] };
  cluster: { runs: number[]; cpu: CpuShare[] };
  /** Median of the cluster's runs over the median of the single process's. */
  ratio: number;
}

/** The status and headers of one answer (without those node:http writes itself). */
function sampleAnswer(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        res.resume();
        const kept: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name) || value === undefined) continue;
          kept[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: kept });
      })
      .on('error', reject);
  });
}

const microseconds = (share: { rate: number; cores: number }) => (share.cores / share.rate) * 1e6;

export async function measureCeiling(options: CeilingOptions): Promise<Ceiling> {
  const answer = await sampleAnswer(options.redirectUrl, options.headers);
  const servers: ServerProcess[] = [];
  const start = async (workers: number, workMicroseconds: number) => {
    const server = await startServerProcess({
      name: `ceiling baseline (${workers} process${workers > 1 ? 'es' : ''})`,
      entry: 'bench/baselines/ceiling.ts',
      env: { CEILING_WORKERS: String(workers), CEILING_WORK_US: String(workMicroseconds), CEILING_STATUS: String(answer.status), CEILING_HEADERS: JSON.stringify(answer.headers) },
      logFile: path.join(options.workDir, `ceiling-${workers}.log`),
      readyPath: '/',
      readyStatus: answer.status,
    });
    servers.push(server);
    const pids = workers > 1 ? await workerPids(server.pid, workers) : [server.pid];
    return { server, pids };
  };
  const run = (url: string, seconds: number): WrkRun => ({ url: `${url}/r/ceiling`, seconds, connections: options.connections, headers: options.headers });
  const measure = async (target: { server: ServerProcess; pids: number[] }, seconds: number) => {
    const meter = cpuMeter(target.pids);
    const result = await runWrk(run(target.server.url, seconds), options.workDir);
    const cpu = meter();
    await sleep(300);
    return { rate: (result.requests - result.statusErrors) / result.durationSeconds, cpu };
  };
  try {
    const embeddedMicroseconds = median(options.embedded.map(microseconds));
    const bare = await start(1, 0);
    await measure(bare, 1); // warm-up
    const bareRun = await measure(bare, Math.max(2, Math.round(options.seconds / 2)));
    const bareMicroseconds = microseconds({ rate: bareRun.rate, cores: bareRun.cpu.processes });
    await bare.server.stop();
    // the work's speed is measured at the baseline's start, alone; under load a microsecond of it may cost more or
    // less: the single process is measured and the work corrected until its CPU a request is the embedded process's
    let workMicroseconds = Math.max(0, embeddedMicroseconds - bareMicroseconds);
    let one = await start(1, workMicroseconds);
    for (let step = 0; step < 3; step++) {
      await measure(one, 1);
      const check = await measure(one, Math.max(2, Math.round(options.seconds / 2)));
      const measured = microseconds({ rate: check.rate, cores: check.cpu.processes });
      options.progress(`S7 ceiling: a redirect costs the embedded process ${embeddedMicroseconds.toFixed(1)} µs of CPU, bare node:http ${bareMicroseconds.toFixed(1)} µs, the baseline with ${workMicroseconds.toFixed(1)} µs of work ${measured.toFixed(1)} µs`);
      if (Math.abs(measured - embeddedMicroseconds) <= 0.03 * embeddedMicroseconds || measured <= bareMicroseconds) break;
      workMicroseconds = Math.max(0, workMicroseconds * ((embeddedMicroseconds - bareMicroseconds) / (measured - bareMicroseconds)));
      await one.server.stop();
      one = await start(1, workMicroseconds);
    }
    const many = await start(options.workers, workMicroseconds);
    await measure(one, 1);
    await measure(many, 1);
    const result: Ceiling = { embeddedMicroseconds, bareMicroseconds, workMicroseconds: Math.round(workMicroseconds * 10) / 10, one: { runs: [], cpu: [] }, cluster: { runs: [], cpu: [] }, ratio: NaN };
    for (let round = 1; round <= options.rounds; round++) {
      for (const [side, target] of [['one', one], ['cluster', many]] as const) {
        const { rate, cpu } = await measure(target, options.seconds);
        result[side].runs.push(rate);
        result[side].cpu.push(cpu);
        options.progress(`S7 ceiling round ${round} ${side === 'one' ? 'one process' : `${options.workers} workers`}: ${rate.toFixed(0)} req/s; cores: server ${cpu.processes}, machine ${cpu.machine}`);
      }
    }
    result.ratio = median(result.cluster.runs) / median(result.one.runs);
    return result;
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}

/** node:cluster's workers of `pid`, once all `count` have started. */
async function workerPids(pid: number, count: number): Promise<number[]> {
  for (let tries = 0; tries < 500; tries++) {
    const pids = childrenOf(pid);
    if (pids.length >= count) return pids;
    await sleep(10);
  }
  throw new Error(`the ceiling baseline ${pid} did not start ${count} workers`);
}
