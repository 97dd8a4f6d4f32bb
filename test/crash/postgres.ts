import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, probeTestServer } from '../../server/src/store/postgres/test-database.js';
import { spawnServer, writeUnlimitedPlansFile, type ChildServer } from '../helpers/child-server.js';
import { startTestServer } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startReceiver } from './receiver.js';

/**
 * The crash campaign on PostgreSQL: two server processes on one database (through a TCP proxy this process
 * controls), mixed writes sent to either, SIGKILL of one of them at random moments (then started again), and the
 * database connection cut once for a while. Checked at the end, in the database itself: every write answered 2xx
 * is there (a code created, its last acknowledged change), no write answered 4xx is, no short code twice, and every
 * acknowledged create's qr.created event reached the receiver (at least once; repeats are counted, not failed).
 */
export interface PostgresCampaignOptions {
  kills: number;
  seed?: number;
  /** Load before each kill, drawn in [min, max] ms. */
  loadMs?: [number, number];
  /** How long the database connection is cut, once, mid-campaign (ms). */
  cutMs?: number;
  log?: (line: string) => void;
}

export interface PostgresCampaignResult {
  seed: number;
  kills: number;
  acknowledgedWrites: number;
  rejectedWrites: number;
  unavailableAnswers: number;
  uncertainWrites: number;
  webhooks: { expected: number; delivered: number; duplicates: number };
  failures: string[];
  skipped?: string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CodeModel {
  id: string;
  name: string;
  /** The destination of the last acknowledged change, and one sent without a clear answer (either is fine). */
  destination: string;
  maybe: string | undefined;
  busy: boolean;
}

export async function runPostgresCrashCampaign(options: PostgresCampaignOptions): Promise<PostgresCampaignResult> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = mulberry32(seed);
  const log = options.log ?? (() => undefined);
  const [loadMin, loadMax] = options.loadMs ?? [400, 1500];
  const failures: string[] = [];
  const fail = (message: string) => {
    failures.push(message);
    log(`FAIL ${message}`);
  };
  const result: PostgresCampaignResult = { seed, kills: 0, acknowledgedWrites: 0, rejectedWrites: 0, unavailableAnswers: 0, uncertainWrites: 0, webhooks: { expected: 0, delivered: 0, duplicates: 0 }, failures };

  const server = await probeTestServer();
  if (!('url' in server)) {
    if (process.env.CI === 'true') fail(server.reason);
    return { ...result, skipped: server.reason };
  }
  const database = await createTestDatabase(server.url);
  const target = new URL(server.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const receiver = await startReceiver();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-crash-pg-'));
  const plansFile = writeUnlimitedPlansFile(dataDir);
  const children: Array<ChildServer | undefined> = [undefined, undefined];
  const outputs: string[] = [];
  try {
    const env = { QRFLOW_DATABASE_URL: proxy.via(database.url), QRFLOW_PLANS_FILE: plansFile, QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' };
    fs.mkdirSync(path.join(dataDir, 'setup'));
    // set-up in this process: a workspace on an unlimited plan, a key, a subscription to qr.created
    const setup = await startTestServer({ dataDir: path.join(dataDir, 'setup'), env: { ...env, QRFLOW_DATABASE_URL: database.url }, plan: 'unlimited' });
    const token = (await setup.createKey({ name: 'crash-pg' })).secret;
    const hook = await setup.request('POST', '/api/v1/webhooks', { token, body: { url: `${receiver.url}/hook/base`, events: ['qr.created'] } });
    if (hook.status !== 201) throw new Error(`set-up webhook failed: ${hook.status} ${await hook.text()}`);
    receiver.secrets.set('/hook/base', ((await hook.json()) as { data: { secret: string } }).data.secret);
    await setup.running.close();

    // each process keeps its scan log in a directory of its own (scans are not in PostgreSQL yet)
    const spawn = async (slot: number) => {
      fs.mkdirSync(path.join(dataDir, `p${slot}`), { recursive: true });
      children[slot] = await spawnServer({ dataFile: path.join(dataDir, `p${slot}`, 'qrflow.json'), env, startTimeoutMs: 60_000 });
      outputs.push('');
    };
    await Promise.all([spawn(0), spawn(1)]);

    const noAnswer = new Map<string, number>();
    const codes = new Map<string, CodeModel>();
    const uncertainNames = new Set<string>();
    const rejectedNames = new Set<string>();
    let counter = 0;
    const pick = (): ChildServer | undefined => {
      const alive = children.filter((child): child is ChildServer => child !== undefined);
      return alive[Math.floor(random() * alive.length)];
    };
    const call = async (method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any } | 'no answer'> => {
      const child = pick();
      if (!child) return 'no answer';
      try {
        const response = await fetch(`${child.url}${urlPath}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(20_000),
        });
        const text = await response.text();
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON
        }
        if (response.status >= 500 && json?.error?.code !== 'database_unavailable') fail(`${method} ${urlPath} answered ${response.status}: ${text.slice(0, 200)}`);
        if (response.status === 503) result.unavailableAnswers++;
        return { status: response.status, json };
      } catch (error) {
        const reason = String((error as Error).cause ?? (error as Error).message).replace(/:\d+$/, '').slice(0, 80);
        noAnswer.set(reason, (noAnswer.get(reason) ?? 0) + 1);
        // a process killed under the request; do not spin on it
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 'no answer';
      }
    };

    const create = async () => {
      const name = `crash-pg-${seed}-${++counter}`;
      uncertainNames.add(name);
      const answer = await call('POST', '/api/v1/qr', { name, destination_url: `https://example.com/${name}` });
      // no answer, or 503 (the cut may come while the COMMIT is on the wire): either outcome is fine
      if (answer === 'no answer' || answer.status === 503) return;
      uncertainNames.delete(name);
      if (answer.status !== 201) return fail(`create answered ${answer.status}`);
      result.acknowledgedWrites++;
      codes.set(answer.json.data.id, { id: answer.json.data.id, name, destination: answer.json.data.destination_url, maybe: undefined, busy: false });
    };
    const update = async () => {
      const idle = [...codes.values()].filter((code) => !code.busy && code.maybe === undefined);
      const code = idle[Math.floor(random() * idle.length)];
      if (!code) return create();
      code.busy = true;
      const destination = `https://example.com/changed/${++counter}`;
      code.maybe = destination;
      try {
        const answer = await call('PATCH', `/api/v1/qr/${code.id}`, { destination_url: destination });
        if (answer === 'no answer' || answer.status === 503) return;
        if (answer.status !== 200) return fail(`update answered ${answer.status}`);
        result.acknowledgedWrites++;
        code.destination = destination;
        code.maybe = undefined;
      } finally {
        code.busy = false;
      }
    };
    const rejected = async () => {
      const name = `rejected-${seed}-${++counter}`;
      rejectedNames.add(name);
      const answer = await call('POST', '/api/v1/qr', { name, destination_url: 'javascript:alert(1)' });
      if (answer === 'no answer' || answer.status === 503) return;
      if (answer.status !== 400) fail(`a rejected create answered ${answer.status}`);
      else result.rejectedWrites++;
    };

    let stopping = false;
    const writer = async () => {
      while (!stopping) {
        const dice = random();
        if (dice < 0.5) await create();
        else if (dice < 0.85) await update();
        else await rejected();
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    const cutAfter = Math.max(1, Math.floor(options.kills / 2));
    for (let kill = 1; kill <= options.kills; kill++) {
      await new Promise((resolve) => setTimeout(resolve, loadMin + random() * (loadMax - loadMin)));
      for (const child of children) if (child && child.process.exitCode !== null) fail(`process ${child.pid} ended by itself (not killed):\n${child.output().slice(-2000)}`);
      const slot = random() < 0.5 ? 0 : 1;
      const victim = children[slot] as ChildServer;
      children[slot] = undefined;
      await victim.kill9();
      outputs.push(victim.output());
      result.kills++;
      log(`kill ${kill}/${options.kills}: process ${slot} (pid ${victim.pid}); starting it again`);
      await spawn(slot);
      if (kill === cutAfter) {
        const cutMs = options.cutMs ?? 1500;
        log(`cutting the database connection for ${cutMs} ms`);
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, cutMs));
        proxy.restore();
      }
    }
    stopping = true;
    await Promise.all(writers);
    for (const child of children) if (child && child.process.exitCode !== null) fail(`process ${child.pid} ended by itself (not killed):\n${child.output().slice(-2000)}`);
    log(`requests without an answer: ${JSON.stringify([...noAnswer])}`);
    result.uncertainWrites = uncertainNames.size + [...codes.values()].filter((code) => code.maybe !== undefined).length;

    // the checks, in the database itself
    const { rows } = await database.pool.query<{ id: string; data: { name: string; destination_url: string } }>('SELECT id, data FROM qrcodes');
    const stored = new Map(rows.map((row) => [row.id, row]));
    for (const code of codes.values()) {
      const row = stored.get(code.id);
      if (!row) fail(`acknowledged create ${code.id} (${code.name}) is missing`);
      else if (row.data.destination_url !== code.destination && row.data.destination_url !== code.maybe) fail(`${code.id} holds ${row.data.destination_url}; acknowledged ${code.destination}${code.maybe ? ` or unanswered ${code.maybe}` : ''}`);
    }
    for (const row of rows) {
      if (rejectedNames.has(row.data.name)) fail(`${row.id} exists, but its create was rejected`);
      else if (!codes.has(row.id) && !uncertainNames.has(row.data.name)) fail(`${row.id} (${row.data.name}) exists but no create of it was sent`);
    }
    // a short link is its route key (the domain, or none, and the short code): the same code twice is a duplicate
    const duplicated = await database.pool.query<{ link: string }>("SELECT coalesce(data->>'domain', '') || '/' || (data->>'short_code') AS link FROM qrcodes WHERE data->>'short_code' IS NOT NULL GROUP BY 1 HAVING count(*) > 1");
    for (const row of duplicated.rows) fail(`short link ${row.link} is held twice`);

    // every acknowledged create's event arrives, after the last kill, from either process
    const expected = [...codes.values()];
    const deadline = Date.now() + 90_000;
    const missing = () => expected.filter((code) => !receiver.has('qr.created', code.id));
    while (missing().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    result.webhooks.expected = expected.length;
    result.webhooks.delivered = expected.length - missing().length;
    for (const code of missing().slice(0, 5)) fail(`the qr.created event of ${code.id} (an acknowledged create) was never delivered`);
    result.webhooks.duplicates = receiver.duplicates().length;
    for (const bad of receiver.badSignatures) fail(`a delivery to ${bad} carried a signature that does not verify`);
    return result;
  } finally {
    for (const child of children) {
      if (!child) continue;
      await child.stop();
      outputs.push(child.output());
    }
    await receiver.close();
    await proxy.close();
    await database.drop().catch(() => undefined);
    if (failures.length === 0) fs.rmSync(dataDir, { recursive: true, force: true });
    else {
      outputs.forEach((text, i) => fs.writeFileSync(path.join(dataDir, `server-output-${i + 1}.log`), text));
      log(`server logs kept for inspection in ${dataDir}`);
    }
  }
}
