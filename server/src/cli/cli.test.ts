import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { isWellFormedKey } from '../keys/key-format.js';
import { LowdbStore } from '../store/embedded/lowdb-store.js';
import { runCli } from './cli.js';

const BIN = fileURLToPath(new URL('../../bin/qrflow.js', import.meta.url));
const PASSWORD = 'cli-password-123';

const directories: string[] = [];
let server: TestServer | undefined;

afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

function tempDataFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-cli-'));
  directories.push(directory);
  return path.join(directory, 'qrflow.json');
}

interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against `dataFile`, capturing its output. */
async function cli(dataFile: string, ...args: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(['--data', dataFile, ...args], { out: (text) => (out += text), err: (text) => (err += text) }, {});
  return { code, out, err };
}

/** Runs a command with --json and returns its one JSON object, failing unless stdout holds exactly one. */
async function cliJson<T = Record<string, unknown>>(dataFile: string, ...args: string[]): Promise<{ code: number; json: T; err: string }> {
  const result = await cli(dataFile, '--json', ...args);
  const lines = result.out.split('\n').filter(Boolean);
  expect(lines, `stdout of ${args.join(' ')}: ${result.out}`).toHaveLength(1);
  return { code: result.code, json: JSON.parse(lines[0] as string) as T, err: result.err };
}

interface KeyJson {
  key: { id: string; name: string; prefix: string; status: string; scopes: string[]; expires_at: string | null };
  secret: string;
}

async function initWorkspace(dataFile: string, name = 'Acme'): Promise<{ workspace: { id: string; name: string; plan: string } }> {
  const { code, json } = await cliJson<{ workspace: { id: string; name: string; plan: string } }>(dataFile, 'init', '--workspace', name, '--email', `${name.toLowerCase()}@example.test`, '--password', PASSWORD);
  expect(code).toBe(0);
  return json;
}

describe('qrflow CLI', () => {
  it('init creates a workspace (on the team plan by default) and its owner', async () => {
    const dataFile = tempDataFile();
    const { code, json } = await cliJson<{ workspace: Record<string, unknown>; user: Record<string, unknown> }>(dataFile, 'init', '--workspace', 'Acme', '--email', 'Owner@Example.test', '--password', PASSWORD);
    expect(code).toBe(0);
    expect(json.workspace).toMatchObject({ name: 'Acme', plan: 'team', plan_status: 'active' });
    expect(json.user).toMatchObject({ email: 'owner@example.test', role: 'owner' });
    expect(JSON.stringify(json)).not.toContain(PASSWORD);
    expect(JSON.stringify(json)).not.toContain('password_hash');

    const store = await LowdbStore.open(dataFile);
    try {
      expect((await store.findUnique('workspaces', 'name', 'acme'))?.id).toBe(json.workspace.id);
      const user = await store.findUnique('users', 'email', 'owner@example.test');
      expect(user?.password_hash).toMatch(/^scrypt\$/);
    } finally {
      await store.close();
    }
  });

  it('init takes a plan, and prints a human summary without --json', async () => {
    const dataFile = tempDataFile();
    const result = await cli(dataFile, 'init', '--workspace', 'Big Co', '--email', 'big@example.test', '--password', PASSWORD, '--plan', 'enterprise');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Created workspace Big Co \(ws_\w+\) on the enterprise plan, owner big@example.test\./);
  });

  it('keys create prints exactly one JSON object with the secret, which is stored only as a hash', async () => {
    const dataFile = tempDataFile();
    const { workspace } = await initWorkspace(dataFile);
    const { code, json } = await cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Zapier-Integration', '--scopes', 'qr:read,analytics:read', '--expires-at', '2099-01-01T00:00:00Z');
    expect(code).toBe(0);
    expect(isWellFormedKey(json.secret)).toBe(true);
    expect(json.key).toMatchObject({ name: 'Zapier-Integration', prefix: json.secret.slice(0, 12), status: 'active', scopes: ['qr:read', 'analytics:read'], expires_at: '2099-01-01T00:00:00.000Z' });

    const onDisk = fs.readFileSync(dataFile, 'utf8') + (fs.existsSync(`${dataFile}.wal`) ? fs.readFileSync(`${dataFile}.wal`, 'utf8') : '');
    expect(onDisk).toContain(json.key.id);
    expect(onDisk).not.toContain(json.secret);
    // by id too
    expect((await cliJson(dataFile, 'keys', 'create', '--workspace', workspace.id, '--name', 'By-Id')).code).toBe(0);
  });

  it('keys create prints the secret once in human form', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const result = await cli(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Human');
    expect(result.code).toBe(0);
    const secrets = result.out.match(/qr_live_[0-9A-Za-z]{32}/g);
    expect(secrets).toHaveLength(1);
    expect(result.out).toMatch(/shown once/);
  });

  it('keys create --test and --mode test make test-mode keys (qr_test_…), listed as test mode; renewing keeps the mode', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const byFlag = await cliJson<KeyJson & { key: { mode: string } }>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Sandbox', '--test');
    expect(byFlag.code).toBe(0);
    expect(byFlag.json.secret).toMatch(/^qr_test_[0-9A-Za-z]{32}$/);
    expect(isWellFormedKey(byFlag.json.secret)).toBe(true);
    expect(byFlag.json.key).toMatchObject({ mode: 'test', prefix: byFlag.json.secret.slice(0, 12) });
    const byOption = await cliJson<KeyJson & { key: { mode: string } }>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Sandbox-2', '--mode', 'test');
    expect(byOption.json.key.mode).toBe('test');
    const live = await cliJson<KeyJson & { key: { mode: string } }>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Real');
    expect(live.json.key.mode).toBe('live');
    expect(live.json.secret).toMatch(/^qr_live_/);
    const renewed = await cliJson<KeyJson>(dataFile, 'keys', 'renew', byFlag.json.key.id, '--workspace', 'Acme');
    expect(renewed.json.secret).toMatch(/^qr_test_/);
    const listed = await cli(dataFile, 'keys', 'list', '--workspace', 'Acme');
    expect(listed.out).toMatch(/Sandbox \(test mode\)/);
    expect(listed.out).not.toMatch(/Real \(test mode\)/);
    expect((await cli(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Both', '--test', '--mode', 'live')).code).toBe(2);
    expect((await cli(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Bad', '--mode', 'sandbox')).code).toBe(2);
  });

  it('keys list, pause, resume, renew and revoke manage a key, never listing its secret', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const created = (await cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Lifecycle')).json;
    const id = created.key.id;
    const status = async () => {
      const { json } = await cliJson<{ keys: Array<{ id: string; status: string; prefix: string }> }>(dataFile, 'keys', 'list', '--workspace', 'Acme');
      return json.keys.find((k) => k.id === id);
    };

    const listed = await cliJson(dataFile, 'keys', 'list', '--workspace', 'Acme');
    expect(JSON.stringify(listed.json)).not.toContain(created.secret);
    expect((await status())?.status).toBe('active');

    expect((await cliJson<KeyJson>(dataFile, 'keys', 'pause', id, '--workspace', 'Acme')).json.key.status).toBe('paused');
    expect((await status())?.status).toBe('paused');
    expect((await cliJson<KeyJson>(dataFile, 'keys', 'resume', id, '--workspace', 'Acme')).json.key.status).toBe('active');

    const renewed = await cliJson<KeyJson>(dataFile, 'keys', 'renew', id, '--workspace', 'Acme');
    expect(renewed.code).toBe(0);
    expect(isWellFormedKey(renewed.json.secret)).toBe(true);
    expect(renewed.json.secret).not.toBe(created.secret);
    expect((await status())?.prefix).toBe(renewed.json.secret.slice(0, 12));

    expect((await cliJson<KeyJson>(dataFile, 'keys', 'revoke', id, '--workspace', 'Acme')).json.key.status).toBe('revoked');
    expect((await status())?.status).toBe('revoked');
    const resumeRevoked = await cliJson<{ error: { code: string } }>(dataFile, 'keys', 'resume', id, '--workspace', 'Acme');
    expect(resumeRevoked.code).toBe(1);
    expect(resumeRevoked.json.error.code).toBe('key_revoked');
  });

  it('keys list prints a line per key without --json', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    expect((await cli(dataFile, 'keys', 'list', '--workspace', 'Acme')).out).toBe('No keys.\n');
    const { json } = await cliJson<KeyJson>(dataFile, 'keys', 'create', '--workspace', 'Acme', '--name', 'Listed');
    const result = await cli(dataFile, 'keys', 'list', '--workspace', 'Acme');
    expect(result.out).toContain(json.key.id);
    expect(result.out).toContain(json.key.prefix);
    expect(result.out).not.toContain(json.secret);
  });

  it('members add adds a user with a role who can then log in', async () => {
    const dataFile = tempDataFile();
    const { workspace } = await initWorkspace(dataFile);
    const { code, json } = await cliJson<{ member: Record<string, unknown> }>(dataFile, 'members', 'add', '--workspace', 'Acme', '--email', 'admin@example.test', '--password', 'admin-password-1', '--role', 'admin');
    expect(code).toBe(0);
    expect(json.member).toMatchObject({ email: 'admin@example.test', role: 'admin', workspace_id: workspace.id });

    server = await startTestServer({ dataDir: path.dirname(dataFile) });
    const token = await server.login('admin@example.test', 'admin-password-1');
    const me = await server.request('GET', '/api/v1/me', { token });
    expect(((await me.json()) as { data: { user: { role: string } } }).data.user.role).toBe('admin');
  });

  it('plan set changes the plan and status', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const expired = await cliJson<{ workspace: { plan: string; plan_status: string } }>(dataFile, 'plan', 'set', '--workspace', 'Acme', '--plan', 'business', '--status', 'expired');
    expect(expired.code).toBe(0);
    expect(expired.json.workspace).toMatchObject({ plan: 'business', plan_status: 'expired' });
    // status is kept when not given
    const upgraded = await cliJson<{ workspace: { plan: string; plan_status: string } }>(dataFile, 'plan', 'set', '--workspace', 'Acme', '--plan', 'enterprise');
    expect(upgraded.json.workspace).toMatchObject({ plan: 'enterprise', plan_status: 'expired' });
  });

  it('fails with exit code 1 for an unknown workspace, and 2 (a bad argument) for an unknown plan', async () => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const unknownWorkspace = await cli(dataFile, 'keys', 'list', '--workspace', 'Nope');
    expect(unknownWorkspace.code).toBe(1);
    expect(unknownWorkspace.err).toMatch(/workspace "Nope" was not found/);
    const unknownPlan = await cliJson<{ error: { code: string; message: string } }>(dataFile, 'plan', 'set', '--workspace', 'Acme', '--plan', 'platinum');
    expect(unknownPlan.code).toBe(2);
    expect(unknownPlan.json.error.message).toMatch(/platinum/);
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['a missing required option', ['keys', 'create', '--workspace', 'Acme']],
    ['an unknown option', ['keys', 'list', '--workspace', 'Acme', '--colour']],
    ['a missing key id', ['keys', 'pause', '--workspace', 'Acme']],
    ['an invalid plan status', ['plan', 'set', '--workspace', 'Acme', '--plan', 'team', '--status', 'paused']],
    ['an unknown scope', ['keys', 'create', '--workspace', 'Acme', '--name', 'X', '--scopes', 'qr:read,qr:admin']],
    ['an unknown role', ['members', 'add', '--workspace', 'Acme', '--email', 'x@example.test', '--password', PASSWORD, '--role', 'boss']],
  ])('exits 2 with usage for %s', async (_case, args) => {
    const dataFile = tempDataFile();
    const result = await cli(dataFile, ...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/Usage: qrflow/);
    expect(fs.existsSync(dataFile)).toBe(false); // bad arguments touch no data
  });

  it('with --json, exits 2 with one JSON error object for bad arguments', async () => {
    const dataFile = tempDataFile();
    const { code, json } = await cliJson<{ error: { code: string; message: string } }>(dataFile, 'keys', 'create', '--workspace', 'Acme');
    expect(code).toBe(2);
    expect(json.error.code).toBe('usage');
    expect(json.error.message).toMatch(/--name/);
  });

  it('runs on a data file held by a running server through its admin socket, and the change is kept', async () => {
    server = await startTestServer();
    const { secret, id } = await server.createKey({ name: 'Before-CLI' });

    const created = await cliJson<KeyJson>(server.dataFile, 'keys', 'create', '--workspace', server.workspace.id, '--name', 'From-CLI');
    expect(created.code).toBe(0);
    expect((await server.request('GET', '/api/v1/me', { token: created.json.secret })).status).toBe(200);
    expect((await server.request('GET', '/api/v1/me', { token: secret })).status).toBe(200);
    const { dataDir } = server;
    const workspaceId = server.workspace.id;
    await server.stop();
    server = undefined;

    const dataFile = path.join(dataDir, 'qrflow.json');
    directories.push(dataDir);
    const listed = await cliJson<{ keys: Array<{ id: string; name: string }> }>(dataFile, 'keys', 'list', '--workspace', workspaceId);
    expect(listed.code).toBe(0);
    expect(listed.json.keys.map((k) => k.id).sort()).toEqual([id, created.json.key.id].sort());
  });

  it.each([
    ['init', ['init', '--workspace', 'Short', '--email', 'short@example.test', '--password', 'too-short']],
    ['members add', ['members', 'add', '--workspace', 'Acme', '--email', 'short@example.test', '--password', 'too-short']],
  ])('%s with a password under 10 characters exits 2 (a bad argument), saying the rule', async (_case, args) => {
    const dataFile = tempDataFile();
    await initWorkspace(dataFile);
    const human = await cli(dataFile, ...args);
    expect(human.code).toBe(2);
    expect(human.err).toMatch(/The password must be 10 to 256 characters/);
    const json = await cliJson<{ error: { code: string; message: string } }>(dataFile, ...args);
    expect(json.code).toBe(2);
    expect(json.json.error.code).toBe('validation_error');
  });

  it('states the password rule in the help of init', async () => {
    const result = await cli(tempDataFile(), 'init', '--help');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/10\+ characters/);
  });

  it('runs as the real qrflow bin', async () => {
    const dataFile = tempDataFile();
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, '--json', '--data', dataFile, ...args], { timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });
    const init = await run('init', '--workspace', 'Bin Co', '--email', 'bin@example.test', '--password', PASSWORD);
    expect(JSON.parse(init.stdout).workspace).toMatchObject({ name: 'Bin Co' });
    const created = await run('keys', 'create', '--workspace', 'Bin Co', '--name', 'From-Bin');
    expect(created.stdout.trim().split('\n')).toHaveLength(1);
    expect(isWellFormedKey(JSON.parse(created.stdout).secret)).toBe(true);

    const failed = await run('keys', 'create', '--workspace', 'Bin Co').then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout).error.code).toBe('usage');
  });
});
