import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Clock } from '../../server/src/clock.js';
import type { TxtResolver } from '../../server/src/domains/service.js';
import { loadConfig } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { createTestDatabase, type TestDatabase } from '../../server/src/store/postgres/test-database.js';
import type { Scope, WorkspaceRecord } from '../../server/src/store/records.js';

export interface TestServer {
  baseUrl: string;
  dataDir: string;
  dataFile: string;
  running: RunningServer;
  workspace: WorkspaceRecord;
  ownerEmail: string;
  ownerPassword: string;
  /** Every log line the server wrote, as text. */
  logs: () => string;
  createKey: (options?: { name?: string; scopes?: Scope[]; workspace?: WorkspaceRecord }) => Promise<{ id: string; secret: string }>;
  /** Creates another workspace (with its owner) on a plan. */
  createWorkspace: (name: string, plan?: string) => Promise<{ workspace: WorkspaceRecord; email: string; password: string }>;
  login: (email?: string, password?: string) => Promise<string>;
  /** fetch against the server with a bearer token. */
  request: (method: string, urlPath: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }) => Promise<Response>;
  /** Stops the server (the data dir is kept until `cleanup`). */
  stop: () => Promise<void>;
  /** Starts a new server on the same data file. */
  restart: () => Promise<TestServer>;
  cleanup: () => Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: Clock;
  plan?: string;
  dataDir?: string;
  /** Start on an empty store (first run): then `workspace` and the owner's credentials are not usable. */
  empty?: boolean;
  /** Answers custom domains' TXT lookups instead of DNS. */
  resolveTxt?: TxtResolver;
}

let counter = 0;

/**
 * QRFLOW_TEST_STORE=postgres runs every test server on PostgreSQL (a database of its own per data dir, on
 * QRFLOW_TEST_DATABASE_URL's server), to check the whole suite against that adapter.
 */
const databases = new Map<string, TestDatabase>();
async function databaseEnv(dataDir: string, env: Record<string, string> | undefined): Promise<Record<string, string>> {
  if (process.env.QRFLOW_TEST_STORE !== 'postgres' || env?.QRFLOW_DATABASE_URL) return {};
  let database = databases.get(dataDir);
  if (!database) databases.set(dataDir, (database = await createTestDatabase(process.env.QRFLOW_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test')));
  return { QRFLOW_DATABASE_URL: database.url };
}

/** Starts a real qrflow server on 127.0.0.1 and a free port, with a temp data file and a workspace on plan "business". */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-test-'));
  const dataFile = path.join(dataDir, 'qrflow.json');
  const logChunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logChunks.push(String(chunk));
      callback();
    },
  });
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', QRFLOW_DATA_FILE: dataFile, QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'true', QRFLOW_LOG_LEVEL: 'info', ...(await databaseEnv(dataDir, options.env)), ...options.env });
  const running = await startServer(config, { logger: pino({ level: 'info' }, sink), ...(options.clock ? { clock: options.clock } : {}), ...(options.resolveTxt ? { resolveTxt: options.resolveTxt } : {}) });
  const baseUrl = running.url;
  const { workspaces, keys } = running.app.services;
  const ownerPassword = 'test-password-123';
  let workspace: WorkspaceRecord;
  let ownerEmail: string;
  const existing = await running.store.all('workspaces');
  if (options.empty) {
    workspace = undefined as unknown as WorkspaceRecord;
    ownerEmail = '';
  } else if (existing[0]) {
    workspace = existing[0];
    ownerEmail = `owner-${workspace.id}@example.test`;
  } else {
    ownerEmail = `owner${++counter}-${process.pid}@example.test`;
    workspace = (await workspaces.create({ name: `Test workspace ${counter}`, plan: options.plan ?? 'business', email: ownerEmail, password: ownerPassword })).workspace;
  }
  const server: TestServer = {
    baseUrl,
    dataDir,
    dataFile,
    running,
    workspace,
    ownerEmail,
    ownerPassword,
    logs: () => logChunks.join(''),
    createKey: async ({ name = 'Test-Key', scopes, workspace: target } = {}) => {
      const current = (await running.store.get('workspaces', (target ?? workspace).id)) as WorkspaceRecord;
      const { key, secret } = await keys.create(current, { name, scopes }, 'test');
      return { id: key.id, secret };
    },
    createWorkspace: async (name, plan = 'business') => {
      const email = `${name.toLowerCase().replace(/[^a-z0-9]/g, '')}-${++counter}@example.test`;
      const created = await workspaces.create({ name: `${name} ${counter}-${process.pid}`, plan, email, password: ownerPassword });
      return { workspace: created.workspace, email, password: ownerPassword };
    },
    login: async (email = ownerEmail, password = ownerPassword) => {
      const response = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { data: { token: string } }).data.token;
    },
    request: (method, urlPath, { token, body, headers = {} } = {}) =>
      fetch(`${baseUrl}${urlPath}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      }),
    stop: () => running.close(),
    restart: async () => {
      await running.close();
      const next = await startTestServer({ ...options, dataDir });
      return { ...next, workspace, ownerEmail };
    },
    cleanup: async () => {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await databases.get(dataDir)?.drop();
      databases.delete(dataDir);
    },
  };
  return server;
}
