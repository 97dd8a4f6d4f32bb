import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STOP_WITHIN_MS = 10_000;

const children = new Set<ChildProcess>();
/** Every process the started commands had once ready, killed after each test whatever happened. */
const spawnedPids: number[] = [];
const directories: string[] = [];

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const pid of spawnedPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

function tempDataFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-start-'));
  directories.push(directory);
  return path.join(directory, 'qrflow.json');
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a command that starts the server and resolves once its output says where it listens. */
async function start(command: string, args: string[], dataFile: string, ready: RegExp = /"msg":"qrflow is listening"/): Promise<Started> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), HOST: '127.0.0.1', PORT: '0', QRFLOW_DATA_FILE: dataFile, QRFLOW_LOG_LEVEL: 'info', QRFLOW_CONSOLE_DIR: path.dirname(dataFile) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match && ready.test(output)) {
        clearTimeout(timer);
        spawnedPids.push(...descendants(child.pid as number));
        resolve(match[1] as string);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

/** Every process below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name is in parentheses and may hold spaces: the fields after it are state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift() as number;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portIsFree(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function stopsCleanly(server: Started, dataFile: string, signal: NodeJS.Signals, pid = server.child.pid as number): Promise<void> {
  const tree = [server.child.pid as number, ...descendants(server.child.pid as number)];
  process.kill(pid, signal);
  const outcome = await Promise.race([server.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_WITHIN_MS))]);
  expect(outcome, `still running ${STOP_WITHIN_MS} ms after ${signal}:\n${server.output()}`).not.toBe('timeout');
  // every process of the tree is gone (a wrapper may exit a moment before or after the server), then nothing is held
  const started = Date.now();
  while (tree.some(isAlive) && Date.now() - started < STOP_WITHIN_MS) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(tree.filter(isAlive)).toEqual([]);
  expect(await portIsFree(server.url)).toBe(true);
  expect(fs.existsSync(`${dataFile}.lock`), `the lock is still there:\n${server.output()}`).toBe(false);
  expect(fs.existsSync(`${dataFile}.sock`), `the socket is still there:\n${server.output()}`).toBe(false);
  expect(server.output()).toMatch(new RegExp(`"signal":"${signal}","msg":"shutting down"`));
}

describe.skipIf(process.platform !== 'linux')('start and stop', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the process npm start started (npm itself) stops the server, frees the port, the lock and the socket, and leaves no process', async (signal) => {
    const dataFile = tempDataFile();
    const started = await start('npm', ['start'], dataFile);
    expect((await fetch(`${started.url}/openapi.json`)).status).toBe(200);
    // without a terminal, stdout carries only the JSON log
    const stdoutLines = started.output().split('\n').filter((line) => line.startsWith('{') || line.startsWith('qrflow is running'));
    expect(stdoutLines.every((line) => line.startsWith('{'))).toBe(true);
    await stopsCleanly(started, dataFile, signal);
    expect((await started.exited).code).toBe(0);
    // the snapshot written on the way out is owner-only
    expect(fs.statSync(dataFile).mode & 0o777).toBe(0o600);
  }, 180_000);

  it.skipIf(!fs.existsSync('/usr/bin/script'))('on a terminal, prints one line saying where the API, console and docs are and how to begin', async () => {
    const dataFile = tempDataFile();
    // script(1) runs the server on a pseudo-terminal
    const started = await start('script', ['-qfec', `${process.execPath} --import tsx server/src/index.ts`, '/dev/null'], dataFile, /qrflow is running: /);
    const line = started.output().split(/\r?\n/).find((text) => text.startsWith('qrflow is running: ')) as string;
    expect(line).toContain(`API ${started.url}/api/v1`);
    expect(line).toContain(`console ${started.url}/`);
    expect(line).toContain(`${started.url}/api-docs`);
    // an empty store: how to begin
    expect(line).toContain('npx qrflow init');
    const serverPid = Number(fs.readFileSync(`${dataFile}.lock`, 'utf8'));
    await stopsCleanly(started, dataFile, 'SIGTERM', serverPid);
  }, 180_000);

  it('the compiled build runs with plain node, no TypeScript loader, image workers included', async () => {
    const outDir = path.join(ROOT, 'server', `.dist-test-${process.pid}`);
    directories.push(outDir);
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'server/tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, timeout: 170_000 });
    expect(fs.existsSync(path.join(outDir, 'images/render-worker.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(outDir, 'store/embedded/compact-worker.mjs'))).toBe(true);
    const dataFile = tempDataFile();
    const started = await start(process.execPath, [path.join(outDir, 'index.js')], dataFile);
    const cli = await promisify(execFile)(process.execPath, [path.join(outDir, 'cli/main.js'), '--json', '--data', dataFile, 'init', '--workspace', 'Built', '--email', 'built@example.test', '--password', 'built-password-1'], { cwd: ROOT });
    expect(JSON.parse(cli.stdout).workspace.name).toBe('Built');
    const login = await fetch(`${started.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'built@example.test', password: 'built-password-1' }) });
    const token = ((await login.json()) as { data: { token: string } }).data.token;
    const image = await fetch(`${started.url}/api/v1/generate?data=hello&format=png&size=128`, { headers: { authorization: `Bearer ${token}` } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    await stopsCleanly(started, dataFile, 'SIGTERM');
  }, 240_000);
});
