import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const LUA_DIR = path.join(import.meta.dirname, 'lua');

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Responses with a status of 400 or more. */
  statusErrors: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

export interface WrkRun {
  url: string;
  seconds: number;
  connections: number;
  /** A script in bench/lua/ (without .lua); report.lua is appended to it. */
  script?: string;
  scriptArgs?: string[];
  headers?: Record<string, string>;
}

/** wrk's version line, or undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  const result = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (result.error) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.replace(/\s+Copyright.*$/, '').trim();
}

/** Builds `<script>.lua` + report.lua into one file (wrk takes a single script). */
function scriptFile(name: string, workDir: string): string {
  const file = path.join(workDir, `wrk-${name}.lua`);
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, `${fs.readFileSync(path.join(LUA_DIR, `${name}.lua`), 'utf8')}\n${fs.readFileSync(path.join(LUA_DIR, 'report.lua'), 'utf8')}`);
  }
  return file;
}

/** One time-bounded wrk run on one thread (the server keeps most of the two cores). */
export function runWrk(run: WrkRun, workDir: string): Promise<WrkResult> {
  const args = ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--timeout', '10s', '-s', scriptFile(run.script ?? 'get', workDir)];
  for (const [name, value] of Object.entries(run.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(run.url);
  if (run.scriptArgs?.length) args.push('--', ...run.scriptArgs);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (run.seconds + 30) * 1000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (error || !line) {
        reject(new Error(`wrk failed on ${run.url}: ${error?.message ?? 'no summary'}\n${stdout}${stderr}`));
        return;
      }
      const raw = JSON.parse(line.slice('WRK_JSON '.length)) as {
        requests: number;
        duration_us: number;
        errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
        latency_us: Record<'mean' | 'p50' | 'p90' | 'p99' | 'max', number>;
      };
      const durationSeconds = raw.duration_us / 1e6;
      const ms = (us: number) => Math.round(us / 10) / 100;
      resolve({
        requests: raw.requests,
        durationSeconds,
        requestsPerSecond: raw.requests / durationSeconds,
        statusErrors: raw.errors.status,
        socketErrors: raw.errors.connect + raw.errors.read + raw.errors.write + raw.errors.timeout,
        latencyMs: { mean: ms(raw.latency_us.mean), p50: ms(raw.latency_us.p50), p90: ms(raw.latency_us.p90), p99: ms(raw.latency_us.p99), max: ms(raw.latency_us.max) },
      });
    });
  });
}

