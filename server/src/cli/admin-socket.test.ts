import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { isWellFormedKey } from '../keys/key-format.js';
import { LowdbStore } from '../store/embedded/lowdb-store.js';
import { adminSocketPath, MAX_REQUEST_BYTES } from './admin-socket.js';
import { runCli } from './cli.js';

const BIN = fileURLToPath(new URL('../../bin/qrflow.js', import.meta.url));
const PASSWORD = 'socket-password-1';

let server: TestServer | undefined;
const directories: string[] = [];

afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

async function cli(dataFile: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--data', dataFile, ...args], { out: (text) => (out += text), err: (text) => (err += text) }, {});
  return { code, out, err };
}

async function cliJson<T>(dataFile: string, ...args: string[]): Promise<{ code: number; json: T }> {
  const result = await cli(dataFile, '--json', ...args);
  const lines = result.out.split('\n').filter(Boolean);
  expect(lines, `stdout of ${args.join(' ')}: ${result.out}${result.err}`).toHaveLength(1);
  return { code: result.code, json: JSON.parse(lines[0] as string) as T };
}

/** Sends raw bytes on the admin socket and returns what the server answered. */
function rawRequest(socketPath: string, payload: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.createConnection({ path: socketPath }, () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(error)));
  });
}

interface KeyJson {
  key: { id: string; name: string; status: string; prefix: string };
  secret: string;
}

describe('the qrflow CLI on a running server', () => {
  it('runs every command on the server through the admin socket, and the server sees each change at once', async () => {
    server = await startTestServer();
    const { dataFile } = server;

    const init = await cliJson<{ workspace: { id: string; name: string; plan: string } }>(dataFile, 'init', '--workspace', 'Live Co', '--email', 'live@example.test', '--password', PASSWORD, '--plan', 'business');
    expect(init.code).toBe(0);
    expect(init.json.workspace).toMatchObject({ name: 'Live Co', plan: 'business' });
    // the owner made by the CLI can log in to the running server
    const token = await server.login('live@example.test', PASSWORD);

    const created = await cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Live Co', '--name', 'From-CLI');
    expect(created.code).toBe(0);
    expect(isWellFormedKey(created.json.secret)).toBe(true);
    expect((await server.request('GET', '/api/v1/me', { token: created.json.secret })).status).toBe(200);

    const listed = await cli(dataFile, 'keys', 'list', '--workspace', 'Live Co');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(created.json.key.id);
    expect(listed.out).not.toContain(created.json.secret);

    // the running server's own key service is used: a pause takes effect on the next request
    expect((await cliJson<KeyJson>(dataFile, 'keys', 'pause', created.json.key.id, '--workspace', 'Live Co')).json.key.status).toBe('paused');
    expect(((await (await server.request('GET', '/api/v1/me', { token: created.json.secret })).json()) as { error: { code: string } }).error.code).toBe('api_key_paused');
    expect((await cliJson<KeyJson>(dataFile, 'keys', 'resume', created.json.key.id, '--workspace', 'Live Co')).json.key.status).toBe('active');
    const renewed = await cliJson<KeyJson>(dataFile, 'keys', 'renew', created.json.key.id, '--workspace', 'Live Co');
    expect((await server.request('GET', '/api/v1/me', { token: created.json.secret })).status).toBe(401);
    expect((await server.request('GET', '/api/v1/me', { token: renewed.json.secret })).status).toBe(200);
    expect((await cliJson<KeyJson>(dataFile, 'keys', 'revoke', created.json.key.id, '--workspace', 'Live Co')).json.key.status).toBe('revoked');
    expect((await server.request('GET', '/api/v1/me', { token: renewed.json.secret })).status).toBe(401);

    const member = await cliJson<{ member: { role: string } }>(dataFile, 'members', 'add', '--workspace', 'Live Co', '--email', 'admin@example.test', '--password', PASSWORD, '--role', 'admin');
    expect(member.json.member.role).toBe('admin');
    await server.login('admin@example.test', PASSWORD);

    const plan = await cliJson<{ workspace: { plan: string; plan_status: string } }>(dataFile, 'plan', 'set', '--workspace', 'Live Co', '--plan', 'enterprise', '--status', 'expired');
    expect(plan.json.workspace).toMatchObject({ plan: 'enterprise', plan_status: 'expired' });
    const me = (await (await server.request('GET', '/api/v1/me', { token })).json()) as { data: { workspace: { plan: string; plan_status: string } } };
    expect(me.data.workspace).toMatchObject({ plan: 'enterprise', plan_status: 'expired' });

    // failures come back with the server's exit codes and messages
    const unknown = await cli(dataFile, 'keys', 'list', '--workspace', 'Nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/workspace "Nope" was not found/);
    const shortPassword = await cliJson<{ error: { code: string; message: string } }>(dataFile, 'init', '--workspace', 'Short', '--email', 'short@example.test', '--password', 'short');
    expect(shortPassword.code).toBe(2);
    expect(shortPassword.json.error.message).toMatch(/10 to 256 characters/);
    // and the command log names the command, never its arguments
    expect(server.logs()).toMatch(/"command":"keys create"/);
    expect(server.logs()).not.toContain(PASSWORD);
  });

  it('loses nothing when the CLI writes while the API takes concurrent writes, across a restart', async () => {
    server = await startTestServer();
    const { dataFile, dataDir } = server;
    const { secret } = await server.createKey({ name: 'Load' });
    expect((await cliJson(dataFile, 'init', '--workspace', 'Cli Co', '--email', 'cli@example.test', '--password', PASSWORD, '--plan', 'enterprise')).code).toBe(0);

    let stopLoad = false;
    const codeIds: string[] = [];
    const failures: string[] = [];
    const load = async () => {
      while (!stopLoad) {
        const response = await server!.request('POST', '/api/v1/qr', { token: secret, body: { name: `load ${codeIds.length}`, destination_url: 'https://example.com/load' } });
        if (response.status === 201) codeIds.push(((await response.json()) as { data: { id: string } }).data.id);
        else failures.push(`${response.status} ${await response.text()}`);
      }
    };
    const loadWorkers = Array.from({ length: 6 }, load);

    const keyIds: string[] = [];
    // CLI commands in this process, a few at once, and two real `qrflow` processes beside them
    const cliWriter = async (worker: number) => {
      for (let i = 0; i < 6; i++) {
        const { code, json } = await cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Cli Co', '--name', `cli-${worker}-${i}`);
        expect(code).toBe(0);
        keyIds.push(json.key.id);
        const list = await cliJson<{ keys: Array<{ id: string }> }>(dataFile, 'keys', 'list', '--workspace', 'Cli Co');
        expect(list.json.keys.map((k) => k.id)).toContain(json.key.id);
      }
    };
    const bin = async (name: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--json', '--data', dataFile, 'keys', 'create', '--workspace', 'Cli Co', '--name', name], { timeout: 60_000, env: { PATH: process.env.PATH ?? '' } });
      keyIds.push((JSON.parse(stdout) as KeyJson).key.id);
    };
    await Promise.all([cliWriter(1), cliWriter(2), cliWriter(3), bin('bin-1'), bin('bin-2')]);
    stopLoad = true;
    await Promise.all(loadWorkers);

    expect(failures).toEqual([]);
    expect(keyIds).toHaveLength(20);
    expect(codeIds.length).toBeGreaterThan(0);
    const workspaceId = server.workspace.id;
    await server.stop();
    server = undefined;
    directories.push(dataDir);

    const store = await LowdbStore.open(dataFile);
    try {
      const cliWorkspace = await store.findUnique('workspaces', 'name', 'Cli Co');
      const keys = await store.findMany('keys', 'workspace_id', cliWorkspace!.id);
      expect(keys.map((k) => k.id).sort()).toEqual([...keyIds].sort());
      const codes = (await store.all('qrcodes')).filter((c) => c.workspace_id === workspaceId);
      expect(codes.map((c) => c.id).sort()).toEqual([...codeIds].sort());
    } finally {
      await store.close();
    }
  }, 120_000);

  it('listens on an owner-only socket beside the data file, removed when the server stops and replaced when stale', async () => {
    server = await startTestServer();
    const socketPath = adminSocketPath(server.dataFile);
    expect(socketPath).toBe(`${server.dataFile}.sock`);
    expect(server.running.adminSocket?.path).toBe(socketPath);
    const stat = fs.statSync(socketPath);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    await server.stop();
    expect(fs.existsSync(socketPath)).toBe(false);

    // a socket file left by a killed server does not stop the next one
    const stale = net.createServer();
    await new Promise<void>((resolve) => stale.listen(socketPath, resolve));
    await new Promise<void>((resolve) => {
      // closing a listening Unix socket removes it, so keep a copy of the file: a hard link survives the close
      fs.linkSync(socketPath, `${socketPath}.keep`);
      stale.close(() => resolve());
    });
    fs.renameSync(`${socketPath}.keep`, socketPath);
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    server = await server.restart();
    expect((await cliJson<{ keys: unknown[] }>(server.dataFile, 'keys', 'list', '--workspace', server.workspace.id)).code).toBe(0);
  });

  it('answers a malformed, oversized or misdirected request with an error and keeps serving', async () => {
    server = await startTestServer();
    const socketPath = adminSocketPath(server.dataFile);
    const garbage = JSON.parse(await rawRequest(socketPath, 'not json\n')) as { exit_code: number; stderr: string };
    expect(garbage.exit_code).toBe(2);
    expect(garbage.stderr).toMatch(/one JSON line/);

    const huge = await rawRequest(socketPath, JSON.stringify({ argv: ['x'.repeat(MAX_REQUEST_BYTES * 2)], data_file: server.dataFile }) + '\n');
    expect(huge === '' || (JSON.parse(huge) as { exit_code: number }).exit_code === 2).toBe(true);

    const elsewhere = JSON.parse(await rawRequest(socketPath, JSON.stringify({ argv: ['keys', 'list', '--workspace', 'x'], data_file: '/somewhere/else.json' }) + '\n')) as { exit_code: number; stderr: string };
    expect(elsewhere.exit_code).toBe(1);
    expect(elsewhere.stderr).toContain(server.dataFile);

    expect((await cliJson<{ keys: unknown[] }>(server.dataFile, 'keys', 'list', '--workspace', server.workspace.id)).code).toBe(0);
  });

  it('says exactly what to do when a process holds the data file but does not answer on the socket', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-socket-'));
    directories.push(directory);
    const dataFile = path.join(directory, 'qrflow.json');
    // a live process that is not a server holds the lock (like an older qrflow, or a stuck one)
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(`${dataFile}.lock`, String(holder.pid), { mode: 0o600 });
      const result = await cliJson<{ error: { code: string; message: string } }>(dataFile, 'keys', 'list', '--workspace', 'Acme');
      expect(result.code).toBe(1);
      expect(result.json.error.code).toBe('server_unreachable');
      expect(result.json.error.message).toContain(dataFile);
      expect(result.json.error.message).toContain(`${dataFile}.sock`);
      expect(result.json.error.message).toContain(`kill ${holder.pid}`);
      const human = await cli(dataFile, 'keys', 'list', '--workspace', 'Acme');
      expect(human.err).toMatch(/^qrflow: The data file .* is held by process \d+/);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 30_000);

  it('waits for another CLI command holding the data file instead of failing', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-socket-'));
    directories.push(directory);
    const dataFile = path.join(directory, 'qrflow.json');
    expect((await cliJson(dataFile, 'init', '--workspace', 'Acme', '--email', 'acme@example.test', '--password', PASSWORD)).code).toBe(0);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', `parallel-${i}`)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const listed = await cliJson<{ keys: Array<{ name: string }> }>(dataFile, 'keys', 'list', '--workspace', 'Acme');
    expect(listed.json.keys.map((k) => k.name).sort()).toEqual(['parallel-0', 'parallel-1', 'parallel-2', 'parallel-3']);
  });
});
