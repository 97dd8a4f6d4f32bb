import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createQrflowClient, paginate, QrflowError, retryAfterSeconds, unwrap, withRetry } from '@qrflow/client';
import { CreateQrBody } from '../../server/src/qr/schemas.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The ```ts blocks of the README's client section, in order: one program. */
function readmeProgram(): string {
  const start = README.indexOf('## API contract and typed client');
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  expect(blocks.length).toBe(4);
  return `${blocks.join('\n')}\nexport {};\n`;
}

function plansFile(plans: Record<string, unknown>): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-client-plans-')), 'plans.json');
  fs.writeFileSync(file, JSON.stringify(plans));
  return file;
}

const EXISTING_CODES = 250;
/** Calls the README program makes before its usage request: create, 3 pages of 100, analytics. */
const CALLS_BEFORE_USAGE = 1 + Math.ceil((EXISTING_CODES + 1) / 100) + 1;

describe("the README's client examples, against a real server", () => {
  let srv: TestServer;
  let file: string;
  beforeAll(async () => {
    // a month of exactly the calls the program makes before asking for usage, which then answers 429
    const plans = plansFile({ counted: { name: 'Counted', api_access: true, requests_per_minute: 1000, monthly_api_calls: CALLS_BEFORE_USAGE, monthly_image_credits: 10, max_qr_codes: 1000, max_api_keys: 5 } });
    srv = await startTestServer({ env: { QRFLOW_PLANS_FILE: plans }, plan: 'counted' });
    const { qr } = srv.running.app.services;
    const plan = srv.running.app.ctx.plans.counted!;
    for (let i = 0; i < EXISTING_CODES; i++) await qr.create(srv.workspace, plan, CreateQrBody.parse({ name: `Existing ${i}`, destination_url: `https://example.com/${i}` }));
    file = path.join(ROOT, 'test/client', `.readme-example-${process.pid}.ts`);
    fs.writeFileSync(file, readmeProgram());
  });
  afterAll(async () => {
    fs.rmSync(file, { force: true });
    await srv.cleanup();
  });

  it('type-checks against the generated types', () => {
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: ['node'],
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000);

  it('creates a code, pages through all codes, reads analytics and meets the monthly 429 with its Retry-After', async () => {
    const { secret } = await srv.createKey({ name: 'README client' });
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    process.env.QRFLOW_URL = srv.baseUrl;
    process.env.QRFLOW_API_KEY = secret;
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      log.mockRestore();
      delete process.env.QRFLOW_URL;
      delete process.env.QRFLOW_API_KEY;
    }
    const created = /^created (qr_\w+) (\S+)$/.exec(lines[0] ?? '');
    expect(created, lines.join('\n')).not.toBeNull();
    expect(created?.[2]).toMatch(new RegExp(`^${srv.baseUrl}/r/[0-9A-Za-z]+$`));
    expect(lines).toContain('found Spring menu');
    expect(lines).toContain(`codes ${EXISTING_CODES + 1}`);
    // 30 days back from now, in day buckets of Europe/Paris: the first and last are partial
    expect(lines.filter((line) => /^scans 0 unique 0 days 3[01]$/.test(line)), lines.join('\n')).toHaveLength(1);
    const limited = /^limited monthly_quota_exceeded retry after (\d+) s$/.exec(lines.at(-1) ?? '');
    expect(limited, lines.join('\n')).not.toBeNull();
    // the allowance resets at the next UTC month: far beyond maxWaitSeconds, so not waited for
    const now = new Date();
    const toNextMonth = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000;
    expect(Math.abs(Number(limited?.[1]) - toNextMonth)).toBeLessThan(30);
  }, 120_000);
});

describe('the client helpers, against a real server', () => {
  let srv: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    const plans = plansFile({
      slow: { name: 'Slow', api_access: true, requests_per_minute: 2, monthly_api_calls: 1000, monthly_image_credits: 0, max_qr_codes: 10, max_api_keys: 5 },
      roomy: { name: 'Roomy', api_access: true, requests_per_minute: 1000, monthly_api_calls: 1000, monthly_image_credits: 0, max_qr_codes: 10, max_api_keys: 5 },
    });
    srv = await startTestServer({ env: { QRFLOW_PLANS_FILE: plans }, plan: 'slow' });
    apiKey = (await srv.createKey()).secret;
  });
  afterAll(async () => {
    await srv.cleanup();
  });

  it('withRetry waits the per-minute Retry-After before each retry, then hands back the 429', async () => {
    const qrflow = createQrflowClient({ baseUrl: `${srv.baseUrl}/`, apiKey });
    expect(unwrap(await qrflow.GET('/api/v1/me')).data.workspace.id).toBe(srv.workspace.id);
    unwrap(await qrflow.GET('/api/v1/me'));
    const waits: number[] = [];
    const answer = await withRetry(() => qrflow.GET('/api/v1/me'), { retries: 2, sleep: async (ms) => void waits.push(ms) });
    expect(answer.response.status).toBe(429);
    expect(answer.error?.error.code).toBe('rate_limited');
    const retryAfter = retryAfterSeconds(answer.response)!;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(waits).toHaveLength(2);
    for (const wait of waits) expect(wait / 1000).toBeGreaterThanOrEqual(retryAfter);
    // nothing waits longer than asked: a 60-second limit with maxWaitSeconds 0 comes back at once
    const impatient: number[] = [];
    expect((await withRetry(() => qrflow.GET('/api/v1/me'), { maxWaitSeconds: 0, sleep: async (ms) => void impatient.push(ms) })).response.status).toBe(429);
    expect(impatient).toEqual([]);
  });

  it('unwrap throws the error model as a QrflowError', async () => {
    // a 401 comes before the limit of a workspace: the slow plan's minute, used up above, does not matter
    const qrflow = createQrflowClient({ baseUrl: srv.baseUrl, apiKey: 'qr_live_notAKeyAtAll' });
    const error = await (async () => unwrap(await qrflow.GET('/api/v1/me')))().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(QrflowError);
    expect(error).toMatchObject({ status: 401, code: 'malformed_api_key' });
    expect((error as QrflowError).requestId).toMatch(/^req_/);
    expect(() => createQrflowClient({ baseUrl: srv.baseUrl, apiKey: '' })).toThrow(/apiKey/);
  });

  it('paginate follows next_cursor to the end, and throws on an error page', async () => {
    // a workspace of its own, whose per-minute limit is not used up
    const { workspace } = await srv.createWorkspace('Paging', 'roomy');
    const { qr } = srv.running.app.services;
    const plan = srv.running.app.ctx.plans.roomy!;
    for (let i = 0; i < 5; i++) await qr.create(workspace, plan, CreateQrBody.parse({ name: `Paged ${i}`, destination_url: `https://example.com/p/${i}` }));
    const pages: Array<string | undefined> = [];
    const seen: string[] = [];
    const qrflow = createQrflowClient({ baseUrl: srv.baseUrl, apiKey: (await srv.createKey({ workspace })).secret });
    for await (const code of paginate((cursor) => {
      pages.push(cursor);
      return qrflow.GET('/api/v1/qr', { params: { query: { limit: 2, cursor } } });
    })) seen.push(code.name);
    // each code once (codes made in the same millisecond have no order of their own)
    expect([...seen].sort()).toEqual(['Paged 0', 'Paged 1', 'Paged 2', 'Paged 3', 'Paged 4']);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBeUndefined();
    const bad = paginate(() => qrflow.GET('/api/v1/qr', { params: { query: { limit: 2, cursor: 'not-a-cursor' } } }));
    await expect(bad.next()).rejects.toMatchObject({ status: 400 });
  });
});
