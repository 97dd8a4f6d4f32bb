import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnServer, writeUnlimitedPlansFile, type ChildServer } from '../helpers/child-server.js';
import { startTestServer } from '../helpers/server.js';
import { findSecrets, type SecretFinding } from '../helpers/secrets.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * The crash campaign: a mixed write load against the real server process, SIGKILL at a random moment,
 * restart, and a check of everything the clients were told against what the restarted server has.
 *
 * Loss bounds checked (the documented ones):
 *  - a write answered 2xx is never lost, and a write answered 4xx never appears;
 *  - scans: those answered more than SCAN_WINDOW_MS before the kill are all recorded (200 ms batches + fsync);
 *  - usage counters: key requests answered more than USAGE_WINDOW_MS before the kill are all counted
 *    (flushed each second, plus timer and fsync jitter on a loaded machine).
 */
export const SCAN_WINDOW_MS = 1000;
export const USAGE_WINDOW_MS = 1500;
/** A webhook event may come twice only if its first 2xx was answered this close to a kill. */
export const DUPLICATE_SLACK_MS = 2000;

export interface CampaignOptions {
  kills: number;
  seed?: number;
  /** Load time before each kill is drawn in [min, max] ms. */
  loadMs?: [number, number];
  log?: (line: string) => void;
}

export interface CampaignResult {
  seed: number;
  kills: number;
  acknowledgedWrites: number;
  rejectedWrites: number;
  uncertainWrites: number;
  scansAcknowledged: number;
  scansLostMax: number;
  usageLostMax: number;
  webhooks: { enabled: boolean; expected: number; delivered: number; duplicates: number };
  secrets: { searched: number; findings: SecretFinding[] };
  failures: string[];
}

/** A small seeded PRNG, so a failing campaign can be replayed with its seed (kill timing still varies). */
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

interface QrState {
  name: string;
  destination_url: string;
  tags: string[];
  status: 'active' | 'paused';
}

interface QrModel {
  id: string;
  state: QrState | 'deleted';
  /** The state an unanswered request would have produced; either is acceptable after a kill. */
  maybe?: QrState | 'deleted';
  busy: boolean;
  /** updated_at of every acknowledged update (for matching qr.updated deliveries). */
  updates: string[];
  scanTarget: boolean;
  shortCode: string;
}

interface KeyModel {
  id: string;
  secret: string | null;
  oldSecrets: string[];
  renewals: number;
  /** A renewal was sent and not answered: the secret may have changed to one we never saw. */
  renewUncertain: boolean;
  busy: boolean;
}

interface Timed {
  sentAt: number;
  ackedAt: number | null;
}

const PASSWORD = 'test-password-123';

/** Runs the campaign; never throws for a failed check, it lists it in `failures`. */
export async function runCrashCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = mulberry32(seed);
  const log = options.log ?? (() => {});
  const [loadMin, loadMax] = options.loadMs ?? [400, 1500];
  const failures: string[] = [];
  const fail = (message: string) => {
    failures.push(message);
    log(`FAIL ${message}`);
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-crash-'));
  const dataFile = path.join(dataDir, 'qrflow.json');
  const plansFile = writeUnlimitedPlansFile(dataDir);
  const secrets = new Set<string>([PASSWORD]);
  const outputs: string[] = [];
  let receiver: Receiver | undefined;
  let child: ChildServer | undefined;

  const result: CampaignResult = {
    seed,
    kills: 0,
    acknowledgedWrites: 0,
    rejectedWrites: 0,
    uncertainWrites: 0,
    scansAcknowledged: 0,
    scansLostMax: 0,
    usageLostMax: 0,
    webhooks: { enabled: false, expected: 0, delivered: 0, duplicates: 0 },
    secrets: { searched: 0, findings: [] },
    failures,
  };

  try {
    // set-up in-process: a workspace on an unlimited plan, its owner's session and a data-plane key
    const env = { QRFLOW_PLANS_FILE: plansFile, QRFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' };
    const setup = await startTestServer({ dataDir, env, plan: 'unlimited' });
    const session = await setup.login();
    secrets.add(session);
    const dataKey = await setup.createKey({ name: 'crash-data-plane' });
    secrets.add(dataKey.secret);
    const webhooksAvailable = setup.running.app.routes.some((route) => route.path === '/api/v1/webhooks' && route.method === 'post');
    await setup.stop();

    const qrs = new Map<string, QrModel>();
    const keys = new Map<string, KeyModel>();
    const uncertainCreates = new Map<string, QrState>(); // by marker name
    const uncertainKeyCreates = new Set<string>(); // marker names
    const rejectedNames = new Set<string>();
    const hooks = new Map<string, { path: string; acked: boolean; deleted: boolean; uncertain: boolean }>();
    const uncertainHookPaths = new Set<string>();
    let counter = 0;
    const marker = (kind: string) => `crash-${seed}-${kind}-${++counter}`;

    if (webhooksAvailable) {
      receiver = await startReceiver();
      result.webhooks.enabled = true;
    }

    const spawn = async () => {
      const started = await spawnServer({ dataFile, env });
      outputs.push('');
      return started;
    };
    const api = async (server: ChildServer, method: string, urlPath: string, token: string | null, body?: unknown): Promise<{ status: number; json: any; text: string }> => {
      const response = await fetch(`${server.url}${urlPath}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: response.status, json, text };
    };

    child = await spawn();
    const usageBeforeSetup = await api(child, 'GET', '/api/v1/usage', session);
    const setupRequests: Timed[] = [];
    const setupRequest = async (urlPath: string, body: unknown) => {
      const timing: Timed = { sentAt: Date.now(), ackedAt: null };
      setupRequests.push(timing);
      const answer = await api(child!, 'POST', urlPath, dataKey.secret, body);
      timing.ackedAt = Date.now();
      return answer;
    };

    // scan targets: dynamic codes that are scanned and never deleted
    for (let i = 0; i < 3; i++) {
      const created = await setupRequest('/api/v1/qr', { name: `scan-target-${i}`, destination_url: `https://example.com/target/${i}` });
      if (created.status !== 201) throw new Error(`set-up create failed: ${created.status} ${created.text}`);
      const qr = created.json.data;
      qrs.set(qr.id, { id: qr.id, state: { name: qr.name, destination_url: qr.destination_url, tags: qr.tags, status: qr.status }, busy: false, updates: [], scanTarget: true, shortCode: qr.short_code });
    }
    if (webhooksAvailable && receiver) {
      const created = await setupRequest('/api/v1/webhooks', { url: `${receiver.url}/hook/base`, events: ['qr.created', 'qr.updated', 'qr.deleted'] });
      if (created.status !== 201) throw new Error(`set-up webhook failed: ${created.status} ${created.text}`);
      if (created.json.data.secret) receiver.secrets.set('/hook/base', created.json.data.secret);
      hooks.set(created.json.data.id, { path: '/hook/base', acked: true, deleted: false, uncertain: false });
    }

    const expectedEvents: Array<{ type: string; qrId: string; updatedAt?: string }> = [];
    const killTimes: number[] = [];
    let lifeStats: LifeStats | undefined;

    for (let round = 1; round <= options.kills + 1; round++) {
      const server = child!;
      // 1. usage and scans as the restarted server has them, before any key request of this life
      const usageStart = await api(server, 'GET', '/api/v1/usage', session);
      if (usageStart.status !== 200) throw new Error(`usage read failed: ${usageStart.status} ${usageStart.text}`);
      const scanCounts = async () => {
        let total = 0;
        for (const qr of qrs.values()) {
          if (!qr.scanTarget) continue;
          const got = await api(server, 'GET', `/api/v1/qr/${qr.id}`, session);
          total += got.json?.data?.scan_count ?? 0;
        }
        return total;
      };
      const scansStart = await scanCounts();
      const previous = lifeStats;
      // this life's key requests start now: the checks below make some
      // the first life also made the set-up requests, counted from before them
      const life: LifeStats =
        round === 1
          ? { usageStart: usageBeforeSetup.json.data.api_calls.used, scansStart, keyRequests: setupRequests, scans: [] }
          : { usageStart: usageStart.json.data.api_calls.used, scansStart, keyRequests: [], scans: [] };
      lifeStats = life;
      if (previous) {
        const usageDelta = usageStart.json.data.api_calls.used - previous.usageStart;
        const killAt = killTimes[killTimes.length - 1] as number;
        const usageMin = previous.keyRequests.filter((r) => r.ackedAt !== null && r.ackedAt < killAt - USAGE_WINDOW_MS).length;
        const usageMax = previous.keyRequests.length;
        const usageAcked = previous.keyRequests.filter((r) => r.ackedAt !== null).length;
        result.usageLostMax = Math.max(result.usageLostMax, usageAcked - usageDelta);
        if (usageDelta < usageMin || usageDelta > usageMax) fail(`life ${round - 1}: usage grew by ${usageDelta}; expected between ${usageMin} (answered > ${USAGE_WINDOW_MS} ms before the kill) and ${usageMax} (sent)`);
        const scanDelta = scansStart - previous.scansStart;
        const scanMin = previous.scans.filter((r) => r.ackedAt !== null && r.ackedAt < killAt - SCAN_WINDOW_MS).length;
        const scanAcked = previous.scans.filter((r) => r.ackedAt !== null).length;
        result.scansLostMax = Math.max(result.scansLostMax, scanAcked - scanDelta);
        if (scanDelta < scanMin || scanDelta > previous.scans.length) fail(`life ${round - 1}: ${scanDelta} scans recorded; expected between ${scanMin} (answered > ${SCAN_WINDOW_MS} ms before the kill) and ${previous.scans.length} (sent)`);
        log(`life ${round - 1}: usage +${usageDelta} (answered ${usageAcked}, bound ${usageMin}..${usageMax}); scans +${scanDelta} (answered ${scanAcked}, bound ${scanMin}..${previous.scans.length})`);

        // 2. every acknowledged write is there, no rejected one is
        await verifyQrs(server);
        await verifyKeys(server);
        if (webhooksAvailable) await verifyHooks(server);
      }
      if (round === options.kills + 1) break;

      // 3. the load, until a random moment, then SIGKILL
      let stopping = false;
      const keyRequest = async (method: string, urlPath: string, body?: unknown) => {
        const timing: Timed = { sentAt: Date.now(), ackedAt: null };
        life.keyRequests.push(timing);
        const answer = await api(server, method, urlPath, dataKey.secret, body);
        timing.ackedAt = Date.now();
        if (answer.status === 401 || answer.status === 429) life.keyRequests.splice(life.keyRequests.indexOf(timing), 1);
        return answer;
      };

      const writer = async () => {
        while (!stopping) {
          const dice = random();
          try {
            if (dice < 0.3) await opCreate();
            else if (dice < 0.55) await opUpdate();
            else if (dice < 0.65) await opDelete();
            else if (dice < 0.72) await opRejected();
            else if (dice < 0.8) await keyRequest('GET', '/api/v1/qr?limit=5');
            else if (dice < 0.88) await opRenew();
            else if (dice < 0.92) await opKeyCreate();
            else if (dice < 0.96) await opRejectedKey();
            else if (webhooksAvailable) await opHook();
          } catch {
            // the server died under this request: its effect is uncertain, recorded by the op
          }
        }
      };
      const scanner = async () => {
        const targets = [...qrs.values()].filter((q) => q.scanTarget);
        while (!stopping) {
          const target = targets[Math.floor(random() * targets.length)] as QrModel;
          const timing: Timed = { sentAt: Date.now(), ackedAt: null };
          life.scans.push(timing);
          try {
            const response = await fetch(`${server.url}/r/${target.shortCode}`, {
              redirect: 'manual',
              headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' },
              signal: AbortSignal.timeout(15_000),
            });
            await response.arrayBuffer();
            if (response.status === 302) timing.ackedAt = Date.now();
            else fail(`scan of a target answered ${response.status}`);
          } catch {
            // killed
          }
        }
      };

      async function opCreate() {
        const name = marker('qr');
        const state: QrState = { name, destination_url: `https://example.com/${name}`, tags: random() < 0.5 ? ['crash'] : [], status: random() < 0.8 ? 'active' : 'paused' };
        uncertainCreates.set(name, state);
        const answer = await keyRequest('POST', '/api/v1/qr', state);
        uncertainCreates.delete(name);
        if (answer.status !== 201) return fail(`create answered ${answer.status}: ${answer.text}`);
        result.acknowledgedWrites++;
        const qr = answer.json.data;
        qrs.set(qr.id, { id: qr.id, state, busy: false, updates: [], scanTarget: false, shortCode: qr.short_code });
        expectedEvents.push({ type: 'qr.created', qrId: qr.id });
      }
      function idleQr(): QrModel | undefined {
        const candidates = [...qrs.values()].filter((q) => !q.busy && !q.scanTarget && q.state !== 'deleted');
        return candidates[Math.floor(random() * candidates.length)];
      }
      async function opUpdate() {
        const qr = idleQr();
        if (!qr || qr.state === 'deleted') return;
        const change: Partial<QrState> = {};
        if (random() < 0.6) change.name = `${qr.state.name.replace(/-u\d+$/, '')}-u${++counter}`;
        if (random() < 0.5) change.destination_url = `https://example.com/changed/${counter++}`;
        if (random() < 0.4) change.tags = [`t${counter++}`];
        if (random() < 0.3) change.status = qr.state.status === 'active' ? 'paused' : 'active';
        if (Object.keys(change).length === 0) change.name = `${qr.state.name.replace(/-u\d+$/, '')}-u${++counter}`;
        qr.busy = true;
        qr.maybe = { ...qr.state, ...change };
        try {
          const answer = await keyRequest(random() < 0.5 ? 'PATCH' : 'PUT', `/api/v1/qr/${qr.id}`, change);
          if (answer.status !== 200) return fail(`update answered ${answer.status}: ${answer.text}`);
          result.acknowledgedWrites++;
          qr.state = qr.maybe;
          qr.updates.push(answer.json.data.updated_at);
          expectedEvents.push({ type: 'qr.updated', qrId: qr.id, updatedAt: answer.json.data.updated_at });
          delete qr.maybe;
        } finally {
          qr.busy = false;
        }
      }
      async function opDelete() {
        const qr = idleQr();
        if (!qr) return;
        qr.busy = true;
        qr.maybe = 'deleted';
        try {
          const answer = await keyRequest('DELETE', `/api/v1/qr/${qr.id}`);
          if (answer.status !== 200) return fail(`delete answered ${answer.status}: ${answer.text}`);
          result.acknowledgedWrites++;
          qr.state = 'deleted';
          expectedEvents.push({ type: 'qr.deleted', qrId: qr.id });
          delete qr.maybe;
        } finally {
          qr.busy = false;
        }
      }
      async function opRejected() {
        const name = `rejected-${marker('qr')}`;
        rejectedNames.add(name);
        const qr = idleQr();
        const answer =
          random() < 0.5 || !qr
            ? await keyRequest('POST', '/api/v1/qr', { name, destination_url: 'javascript:alert(1)' })
            : await keyRequest('PATCH', `/api/v1/qr/${qr.id}`, { name, destination_url: 'data:text/html,x' });
        if (answer.status !== 400) return fail(`a rejected write answered ${answer.status}: ${answer.text}`);
        result.rejectedWrites++;
      }
      async function opRenew() {
        const candidates = [...keys.values()].filter((k) => !k.busy && k.secret && !k.renewUncertain && k.renewals < 4);
        const key = candidates[Math.floor(random() * candidates.length)];
        if (!key) return;
        key.busy = true;
        const bad = random() < 0.2;
        if (!bad) key.renewUncertain = true;
        try {
          const answer = await api(server, 'POST', `/api/v1/keys/${key.id}/renew`, session, bad ? { expires_at: 'tomorrow' } : {});
          if (bad) {
            if (answer.status !== 400) fail(`a bad renewal answered ${answer.status}`);
            result.rejectedWrites++;
            return;
          }
          if (answer.status !== 200) return fail(`renew answered ${answer.status}: ${answer.text}`);
          result.acknowledgedWrites++;
          secrets.add(answer.json.data.secret);
          key.oldSecrets.push(key.secret as string);
          key.secret = answer.json.data.secret;
          key.renewals++;
          key.renewUncertain = false;
        } finally {
          key.busy = false;
        }
      }
      async function opKeyCreate() {
        const name = marker('key');
        uncertainKeyCreates.add(name);
        const answer = await api(server, 'POST', '/api/v1/keys', session, { name, password: PASSWORD, scopes: ['qr:read'] });
        uncertainKeyCreates.delete(name);
        if (answer.status !== 201) return fail(`key create answered ${answer.status}: ${answer.text}`);
        result.acknowledgedWrites++;
        secrets.add(answer.json.data.secret);
        keys.set(answer.json.data.id, { id: answer.json.data.id, secret: answer.json.data.secret, oldSecrets: [], renewals: 0, renewUncertain: false, busy: false });
      }
      async function opRejectedKey() {
        const name = `rejected-${marker('key')}`;
        rejectedNames.add(name);
        const answer = await api(server, 'POST', '/api/v1/keys', session, { name, password: 'not-the-password' });
        if (answer.status !== 401) return fail(`a key create with a wrong password answered ${answer.status}`);
        result.rejectedWrites++;
      }
      async function opHook() {
        const live = [...hooks.entries()].filter(([, h]) => h.acked && !h.deleted && !h.uncertain && h.path !== '/hook/base');
        if (live.length >= 10 || (live.length > 2 && random() < 0.5)) {
          const [id, hook] = live[Math.floor(random() * live.length)] as [string, (typeof live)[number][1]];
          hook.uncertain = true;
          const answer = await keyRequest('DELETE', `/api/v1/webhooks/${id}`);
          if (answer.status !== 200 && answer.status !== 204) return fail(`webhook delete answered ${answer.status}: ${answer.text}`);
          result.acknowledgedWrites++;
          hook.deleted = true;
          hook.uncertain = false;
          return;
        }
        const hookPath = `/hook/${marker('hook')}`;
        uncertainHookPaths.add(hookPath);
        const answer = await keyRequest('POST', '/api/v1/webhooks', { url: `${receiver!.url}${hookPath}`, events: ['qr.deleted'] });
        uncertainHookPaths.delete(hookPath);
        if (answer.status !== 201) return fail(`webhook create answered ${answer.status}: ${answer.text}`);
        result.acknowledgedWrites++;
        if (answer.json.data.secret) receiver!.secrets.set(hookPath, answer.json.data.secret);
        hooks.set(answer.json.data.id, { path: hookPath, acked: true, deleted: false, uncertain: false });
      }

      const workers = [writer(), writer(), writer(), writer(), scanner(), scanner()];
      const loadFor = loadMin + random() * (loadMax - loadMin);
      await new Promise((resolve) => setTimeout(resolve, loadFor));
      const killAt = Date.now();
      killTimes.push(killAt);
      stopping = true;
      await server.kill9();
      if (receiver) receiver.kills.push(killAt);
      await Promise.all(workers);
      outputs[outputs.length - 1] = server.output();
      // unanswered updates and deletes: record them as uncertain for the check after restart
      for (const qr of qrs.values()) if (qr.maybe !== undefined) result.uncertainWrites++;
      result.uncertainWrites += uncertainCreates.size + uncertainKeyCreates.size;
      result.kills++;
      log(`kill ${round}/${options.kills} after ${Math.round(loadFor)} ms of load (pid ${server.pid}); restarting`);
      const restartedAt = Date.now();
      child = await spawn();
      log(`restarted in ${Date.now() - restartedAt} ms`);
    }

    // 4. queued deliveries still go out after the last restart, each once
    if (webhooksAvailable && receiver) {
      const deadline = Date.now() + 30_000;
      const missing = () => expectedEvents.filter((e) => !receiver!.has(e.type, e.qrId, e.updatedAt));
      while (missing().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      result.webhooks.expected = expectedEvents.length;
      result.webhooks.delivered = expectedEvents.length - missing().length;
      for (const event of missing().slice(0, 5)) fail(`the ${event.type} event of ${event.qrId} (an acknowledged write) was never delivered`);
      const duplicates = receiver.duplicates();
      result.webhooks.duplicates = duplicates.length;
      for (const duplicate of duplicates) {
        // At-least-once: a 2xx answered around a kill may not be recorded before the process dies, and the event
        // comes again after the restart. Receipt times are taken in this (busy) process, so allow 2 s either side.
        const excused = killTimes.some((kill) => Math.abs(duplicate.firstAt - kill) <= DUPLICATE_SLACK_MS && duplicate.at.some((at) => at > kill));
        if (!excused) {
          const nextKill = killTimes.find((kill) => kill >= duplicate.firstAt);
          fail(`event ${duplicate.eventId} was delivered ${duplicate.times} times to ${duplicate.path} (first ${nextKill === undefined ? 'after the last kill' : `${nextKill - duplicate.firstAt} ms before a kill`}; receipts in lives ${duplicate.at.map((at) => killTimes.filter((kill) => kill < at).length + 1).join(', ')}, ${duplicate.at.map((at) => at - duplicate.firstAt).join('/')} ms apart)`);
        }
      }
      for (const bad of receiver.badSignatures) fail(`a delivery to ${bad} carried a signature that does not verify`);
    }
    const finalServer = child!;
    await finalServer.stop();
    outputs[outputs.length - 1] = finalServer.output();
    child = undefined;

    // 5. secrets: keys and sessions never on disk or in the logs
    const texts: Record<string, string> = Object.fromEntries(outputs.map((text, i) => [`server output, life ${i + 1}`, text]));
    if (receiver) texts['webhook deliveries received'] = receiver.received.map((r) => r.body).join('\n');
    const scan = findSecrets(secrets, { dataDir, texts });
    result.secrets = { searched: scan.searched.length, findings: scan.findings };
    for (const finding of scan.findings) fail(`secret ${finding.secret} found in ${finding.where}`);
    if (receiver) {
      const logScan = findSecrets([...receiver.secrets.values()], { texts: Object.fromEntries(outputs.map((text, i) => [`server output, life ${i + 1}`, text])) });
      for (const finding of logScan.findings) fail(`webhook signing secret ${finding.secret} found in ${finding.where}`);
    }
    return result;

    async function listAll(server: ChildServer): Promise<any[]> {
      const all: any[] = [];
      let cursor: string | null = null;
      do {
        const page = await api(server, 'GET', `/api/v1/qr?limit=100${cursor ? `&cursor=${cursor}` : ''}`, session);
        if (page.status !== 200) throw new Error(`listing failed: ${page.status} ${page.text}`);
        all.push(...page.json.data);
        cursor = page.json.pagination.next_cursor;
      } while (cursor);
      return all;
    }

    function same(actual: any, expected: QrState): boolean {
      return actual.name === expected.name && actual.destination_url === expected.destination_url && actual.status === expected.status && JSON.stringify(actual.tags) === JSON.stringify(expected.tags);
    }

    async function verifyQrs(server: ChildServer): Promise<void> {
      const stored = new Map((await listAll(server)).map((qr) => [qr.id as string, qr]));
      for (const qr of qrs.values()) {
        const actual = stored.get(qr.id);
        stored.delete(qr.id);
        const options = [qr.state, ...(qr.maybe !== undefined ? [qr.maybe] : [])];
        const matched = options.find((option) => (option === 'deleted' ? actual === undefined : actual !== undefined && same(actual, option)));
        if (matched === undefined) {
          fail(`${qr.id} after restart is ${actual ? JSON.stringify({ name: actual.name, destination_url: actual.destination_url, status: actual.status, tags: actual.tags }) : 'missing'}; acknowledged state ${JSON.stringify(qr.state)}${qr.maybe ? `, or unanswered ${JSON.stringify(qr.maybe)}` : ''}`);
          continue;
        }
        // learn the outcome of the unanswered request
        if (qr.maybe !== undefined && matched === qr.maybe) {
          if (qr.maybe === 'deleted') expectedEvents.push({ type: 'qr.deleted', qrId: qr.id });
          else if (actual) expectedEvents.push({ type: 'qr.updated', qrId: qr.id, updatedAt: actual.updated_at });
        }
        qr.state = matched;
        delete qr.maybe;
      }
      for (const [id, actual] of stored) {
        if (rejectedNames.has(actual.name) || String(actual.name).startsWith('rejected-')) {
          fail(`${id} named ${actual.name} exists, but its create was rejected`);
          continue;
        }
        const unanswered = uncertainCreates.get(actual.name);
        if (unanswered && same(actual, unanswered)) {
          uncertainCreates.delete(actual.name);
          qrs.set(id, { id, state: unanswered, busy: false, updates: [], scanTarget: false, shortCode: actual.short_code });
          expectedEvents.push({ type: 'qr.created', qrId: id });
          continue;
        }
        fail(`${id} (${actual.name}) exists but no create of it was sent`);
      }
      for (const qr of qrs.values()) if (typeof qr.state === 'object' && qr.state.name.startsWith('rejected-')) fail(`${qr.id} took a rejected name`);
      uncertainCreates.clear();
    }

    async function verifyKeys(server: ChildServer): Promise<void> {
      const listed = await api(server, 'GET', '/api/v1/keys', session);
      if (listed.status !== 200) throw new Error(`key listing failed: ${listed.status}`);
      const byId = new Map<string, any>(listed.json.data.map((k: any) => [k.id, k]));
      for (const key of keys.values()) {
        if (!byId.has(key.id)) fail(`key ${key.id} (acknowledged) is missing after restart`);
        if (!key.secret) continue;
        const current = await lifeKeyCheck(server, key.secret);
        if (current === 200) {
          key.renewUncertain = false;
        } else if (current === 401 && key.renewUncertain) {
          key.secret = null; // the unanswered renewal went through: its secret was never seen
        } else {
          fail(`key ${key.id}: its latest acknowledged secret answers ${current}`);
        }
        for (const old of key.oldSecrets) {
          const status = await lifeKeyCheck(server, old);
          if (status !== 401) fail(`key ${key.id}: a secret replaced by an acknowledged renewal still answers ${status}`);
        }
      }
      for (const listedKey of byId.values()) {
        if (String(listedKey.name).startsWith('rejected-')) fail(`key ${listedKey.id} named ${listedKey.name} exists, but its create was rejected`);
        if (!keys.has(listedKey.id) && uncertainKeyCreates.has(listedKey.name)) uncertainKeyCreates.delete(listedKey.name);
      }
      uncertainKeyCreates.clear();
    }

    async function lifeKeyCheck(server: ChildServer, secret: string): Promise<number> {
      // counted as a key request of this life when it succeeds
      const timing: Timed = { sentAt: Date.now(), ackedAt: null };
      const answer = await api(server, 'GET', '/api/v1/me', secret);
      timing.ackedAt = Date.now();
      if (answer.status !== 401 && answer.status !== 429) lifeStats?.keyRequests.push(timing);
      return answer.status;
    }

    async function verifyHooks(server: ChildServer): Promise<void> {
      const listed = await api(server, 'GET', '/api/v1/webhooks', session);
      if (listed.status !== 200) throw new Error(`webhook listing failed: ${listed.status} ${listed.text}`);
      const stored = new Map<string, any>(listed.json.data.map((h: any) => [h.id, h]));
      for (const [id, hook] of hooks) {
        const present = stored.has(id);
        if (hook.uncertain) {
          hook.deleted = !present;
          hook.uncertain = false;
        } else if (hook.deleted && present) fail(`webhook ${id} was deleted (acknowledged) but is listed`);
        else if (!hook.deleted && !present) fail(`webhook ${id} (acknowledged) is missing after restart`);
        stored.delete(id);
      }
      for (const [id, actual] of stored) {
        const hookPath = new URL(actual.url).pathname;
        if (uncertainHookPaths.has(hookPath)) hooks.set(id, { path: hookPath, acked: true, deleted: false, uncertain: false });
        else fail(`webhook ${id} (${actual.url}) exists but no create of it was sent`);
      }
      uncertainHookPaths.clear();
    }
  } finally {
    if (child) await child.kill9();
    await receiver?.close();
    if (failures.length === 0) fs.rmSync(dataDir, { recursive: true, force: true });
    else {
      if (child) outputs[outputs.length - 1] = child.output();
      outputs.forEach((text, i) => fs.writeFileSync(path.join(dataDir, `server-life-${i + 1}.log`), text));
      log(`data and server logs kept for inspection in ${dataDir}`);
    }
  }
}

interface LifeStats {
  usageStart: number;
  scansStart: number;
  keyRequests: Timed[];
  scans: Timed[];
}
