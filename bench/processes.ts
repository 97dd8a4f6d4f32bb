import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first answer to the readiness request. */
  readyMs: number;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** One GET with no keep-alive; resolves with the status, or undefined if nothing answered. */
export function probe(url: string, headers: Record<string, string> = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

export interface StartOptions {
  name: string;
  /** A TypeScript entry point, run with `node --import tsx`. */
  entry: string;
  /** Another command instead (e.g. `npm start`, or `node server/dist/index.js`); `entry` is then ignored. */
  command?: { file: string; args: string[] };
  env?: Record<string, string>;
  /** Where stdout and stderr go (the server's logs). */
  logFile: string;
  /** Polled every 10 ms until it answers `readyStatus`. */
  readyPath: string;
  readyHeaders?: Record<string, string>;
  readyStatus?: number;
  timeoutMs?: number;
}

/** Starts a server as a child process on 127.0.0.1 and a free port, and waits until it serves `readyPath`. */
export async function startServerProcess(options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const out = fs.openSync(options.logFile, 'a');
  const started = performance.now();
  const child = spawn(options.command?.file ?? process.execPath, options.command?.args ?? ['--import', 'tsx', options.entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, HOST: '127.0.0.1', PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));
  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`${options.name} exited with ${exited} before it was ready; see ${options.logFile}`);
    const status = await probe(`${url}${options.readyPath}`, options.readyHeaders);
    if (status !== undefined && status === (options.readyStatus ?? status)) break;
    if (status !== undefined && options.readyStatus !== undefined) throw new Error(`${options.name} answered ${status} to ${options.readyPath}, not ${options.readyStatus}; see ${options.logFile}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} was not ready after ${options.timeoutMs ?? 60_000} ms; see ${options.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const readyMs = performance.now() - started;
  return {
    name: options.name,
    pid: child.pid as number,
    url,
    child,
    readyMs,
    stop: async (signal = 'SIGTERM') => {
      if (exited !== undefined) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Resident and peak resident memory of a process, in MB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}
