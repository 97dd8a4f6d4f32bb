import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Servers this process started: killed if it exits without stopping them, so none is left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ChildServer {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Everything the process printed (stdout and stderr), across its life. */
  output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no chance to flush anything. */
  kill9: () => Promise<void>;
  /** SIGTERM and wait for the clean shutdown. */
  stop: () => Promise<void>;
}

/**
 * Starts the real server process (`node --import tsx server/src/index.ts`) on 127.0.0.1 and a port the kernel
 * picks, and resolves once its "qrflow is listening" log line gives the URL.
 */
export async function spawnServer(options: { dataFile: string; env?: Record<string, string>; startTimeoutMs?: number }): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/index.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      QRFLOW_DATA_FILE: options.dataFile,
      ...options.env,
      // the start-up line that gives the URL is logged at info
      QRFLOW_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const chunks: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${chunks.join('')}`)), options.startTimeoutMs ?? 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      chunks.push(text);
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.includes('qrflow is listening')) continue;
        try {
          const parsed = JSON.parse(line) as { url?: string };
          if (parsed.url) {
            clearTimeout(timer);
            resolve(parsed.url);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${chunks.join('')}`));
    });
  });
  return {
    url,
    pid: child.pid as number,
    process: child,
    output: () => chunks.join(''),
    exited,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A plans file with a plan whose limits never get in the way of a load or fuzz run. */
export function writeUnlimitedPlansFile(directory: string): string {
  const file = path.join(directory, 'plans.json');
  const big = 1_000_000_000;
  fs.writeFileSync(
    file,
    JSON.stringify({
      unlimited: { name: 'Unlimited', api_access: true, requests_per_minute: big, monthly_api_calls: big, monthly_image_credits: big, max_qr_codes: big, max_api_keys: 10_000, max_domains: 1_000 },
    }),
  );
  return file;
}
