import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import type { Role, WorkspaceRecord } from '../../server/src/store/records.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CONSOLE_DIR = path.join(ROOT, 'web', 'dist');
export const SCREENSHOT_DIR = path.join(ROOT, 'test', 'console', 'screenshots');
const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** Debian's Chromium, with the flags this machine needs (no network beyond loopback, no GPU, run as root). */
export const CHROMIUM_PATH = process.env.QRFLOW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 740 };
export const PASSWORD = 'console-password-123';

export interface ConsoleHarness {
  baseUrl: string;
  running: RunningServer;
  browser: Browser;
  /** Every log line the server wrote. */
  logs: () => string;
  /** A fresh browser context (its own cookies) and page. */
  newPage: (viewport?: { width: number; height: number }) => Promise<{ context: BrowserContext; page: Page }>;
  /** Creates a workspace and its owner directly in the store (for tests that do not walk through the first run). */
  createWorkspace: (name?: string) => Promise<{ workspace: WorkspaceRecord; email: string; password: string }>;
  addMember: (workspace: WorkspaceRecord, email: string, role: Role) => Promise<void>;
  /** An API key of the workspace (its secret), made directly by the key service. */
  apiKey: (workspace: WorkspaceRecord, name?: string) => Promise<string>;
  /** Creates a code through the API with a key of the workspace. */
  createQr: (workspace: WorkspaceRecord, body: Record<string, unknown>) => Promise<{ id: string; short_code: string; short_url: string }>;
  close: () => Promise<void>;
}

let counter = 0;

/** Starts the real server on 127.0.0.1:0 with a temporary data file, serving the built console, and a Chromium. */
export async function startConsole(env: Record<string, string> = {}): Promise<ConsoleHarness> {
  if (!fs.existsSync(path.join(CONSOLE_DIR, 'index.html'))) throw new Error('web/dist is missing: run `npm run build -w web` (npm run test:console does)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-console-'));
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    QRFLOW_DATA_FILE: path.join(dataDir, 'qrflow.json'),
    QRFLOW_CONSOLE_DIR: CONSOLE_DIR,
    QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
    QRFLOW_LOG_LEVEL: 'info',
    ...env,
  });
  const running = await startServer(config, { logger: pino({ level: 'info' }, sink) });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
  const contexts: BrowserContext[] = [];
  const keyOf = new Map<string, string>();
  return {
    baseUrl: running.url,
    running,
    browser,
    logs: () => chunks.join(''),
    newPage: async (viewport = DESKTOP) => {
      const context = await browser.newContext({ baseURL: running.url, viewport, acceptDownloads: true, reducedMotion: 'reduce' });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return { context, page };
    },
    createWorkspace: async (name = 'Acme') => {
      const email = `owner${++counter}@example.test`;
      const { workspace } = await running.app.services.workspaces.create({ name: `${name} ${counter}`, plan: 'team', email, password: PASSWORD });
      return { workspace, email, password: PASSWORD };
    },
    addMember: async (workspace, email, role) => {
      await running.app.services.workspaces.addMember(workspace, { email, password: PASSWORD, role });
    },
    apiKey: async (workspace, name = 'Test-Key') => {
      // made by the workspace's owner, as the console would
      const owner = (await running.store.findMany('members', 'workspace_id', workspace.id)).find((member) => member.role === 'owner');
      return (await running.app.services.keys.create(workspace, { name }, owner?.user_id ?? 'test')).secret;
    },
    createQr: async (workspace, body) => {
      const secret = (keyOf.get(workspace.id) ?? keyOf.set(workspace.id, (await running.app.services.keys.create(workspace, { name: 'Fixture-Key' }, 'test')).secret).get(workspace.id))!;
      const response = await callApi(running.url, 'POST', '/api/v1/qr', secret, body);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body.data as { id: string; short_code: string; short_url: string };
    },
    close: async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the login page and waits for the console. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // the sidebar on a desktop, its Menu button on a phone
  await page.getByRole('navigation', { name: 'Console' }).or(page.getByRole('button', { name: 'Menu' })).waitFor();
}

/** Opens a console page from the sidebar (the menu button first on a phone). */
export async function openFromSidebar(page: Page, name: string): Promise<void> {
  const menu = page.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string }>;
}

/** Runs axe-core in the page (injected from node_modules, no CDN) and returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** axe finds nothing serious or critical on the page as it is now. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

/** A screenshot into the git-ignored screenshots folder: the whole page, or what is in view when a dialog is open. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const dialogOpen = (await page.locator('dialog[open]').count()) > 0;
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: !dialogOpen });
}

/** Calls the API from Node with a bearer token (an integration's view of a key). */
export async function callApi(baseUrl: string, method: string, urlPath: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
