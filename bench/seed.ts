import fs from 'node:fs';
import path from 'node:path';
import { encodeScanRecord, SCAN_MAGIC, SCAN_RECORD_BYTES } from '../server/src/store/embedded/scan-log.js';
import { hashPassword } from '../server/src/auth/passwords.js';
import { displayPrefix, generateKeySecret, hashSecret } from '../server/src/keys/key-format.js';
import { BASE62, newId } from '../server/src/random.js';
import { DEFAULT_STYLE } from '../server/src/qr/service.js';
import type { ApiKeyRecord, MemberRecord, QrRecord, UserRecord, WorkspaceRecord } from '../server/src/store/records.js';
import type { Plan } from '../server/src/workspaces/plans.js';

/** The first codes get no seeded scans, so a scenario can count its own scans on them exactly. */
export const RESERVED_CODES = 100;

export interface Seed {
  dataFile: string;
  plansFile: string;
  apiKey: string;
  workspaceId: string;
  /** Codes oldest first, as stored. */
  codes: Array<{ id: string; shortCode: string; createdAt: string }>;
  scans: number;
}

/**
 * A plan with limits no benchmark reaches: the limiter and the meter still run on every request (that is part of
 * the stack being measured); they just never answer 429.
 */
const BENCH_PLAN: Plan = {
  name: 'Bench',
  api_access: true,
  requests_per_minute: 1_000_000_000,
  monthly_api_calls: 1_000_000_000_000,
  monthly_image_credits: 1_000_000_000,
  max_qr_codes: 10_000_000,
  max_api_keys: 10,
};

/** Deterministic PRNG (mulberry32), so every run seeds the same shape of data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes a data directory in the store's own formats, without going through the server: the lowdb snapshot
 * (`{format:'qrflow', version:1, collections}`) with one workspace, its owner, one API key and `codeCount` dynamic
 * codes; and the scan log (ScanStore's format, written with its record encoder) with its `.scans.dict` of interned strings.
 */
export async function seedDataDir(dir: string, codeCount: number, scanCount: number): Promise<Seed> {
  fs.mkdirSync(dir, { recursive: true });
  const dataFile = path.join(dir, 'qrflow.json');
  const plansFile = path.join(dir, 'plans.json');
  fs.writeFileSync(plansFile, JSON.stringify({ bench: BENCH_PLAN }));

  const now = Date.now();
  const start = now - 40 * 24 * 3600_000;
  const at = (time: number) => new Date(time).toISOString();
  const workspace: WorkspaceRecord = { id: newId('ws'), name: 'Bench', plan: 'bench', plan_status: 'active', created_at: at(start - 60_000) };
  const user: UserRecord = { id: newId('usr'), email: 'bench@example.test', password_hash: await hashPassword('bench-password-123'), created_at: workspace.created_at };
  const member: MemberRecord = { id: newId('mem'), workspace_id: workspace.id, user_id: user.id, role: 'owner', created_at: workspace.created_at };
  const apiKey = generateKeySecret();
  const key: ApiKeyRecord = {
    id: newId('key'),
    workspace_id: workspace.id,
    name: 'Bench-Key',
    prefix: displayPrefix(apiKey),
    hash: hashSecret(apiKey),
    scopes: ['qr:read', 'qr:write', 'analytics:read', 'webhooks:write'],
    status: 'active',
    expires_at: null,
    created_at: workspace.created_at,
    created_by: user.id,
    last_used_at: null,
    revoked_at: null,
    renewals: [],
  };

  const qrcodes: QrRecord[] = new Array(codeCount);
  const shortCodes = new Set<string>();
  // ids from a seeded PRNG rather than the CSPRNG: a million calls of randomBytes would dominate seeding
  const random = prng(7);
  const base62 = (length: number) => {
    let out = '';
    for (let k = 0; k < length; k++) out += BASE62[Math.floor(random() * 62)];
    return out;
  };
  // spread creation over the ten days before the first scan; ascending, as the store keeps them
  const step = Math.max(1, Math.floor((10 * 24 * 3600_000) / Math.max(1, codeCount)));
  for (let i = 0; i < codeCount; i++) {
    let shortCode = base62(7);
    while (shortCodes.has(shortCode)) shortCode = base62(7);
    shortCodes.add(shortCode);
    const created = at(start + i * step);
    qrcodes[i] = {
      id: `qr_${base62(14)}`,
      workspace_id: workspace.id,
      name: `Bench code ${i}`,
      type: 'url',
      mode: 'dynamic',
      destination_url: `https://example.com/landing/${i}`,
      content: null,
      short_code: shortCode,
      status: 'active',
      tags: i % 10 === 0 ? ['campaign'] : [],
      style: { ...DEFAULT_STYLE },
      created_at: created,
      updated_at: created,
    };
  }
  const snapshot = {
    format: 'qrflow',
    version: 1,
    collections: { workspaces: [workspace], users: [user], members: [member], keys: [key], qrcodes },
  };
  fs.writeFileSync(dataFile, JSON.stringify(snapshot));

  writeScans(dataFile, workspace.id, qrcodes, scanCount, start + 10 * 24 * 3600_000, now - 60_000);
  return {
    dataFile,
    plansFile,
    apiKey,
    workspaceId: workspace.id,
    codes: qrcodes.map((qr) => ({ id: qr.id, shortCode: qr.short_code as string, createdAt: qr.created_at })),
    scans: scanCount,
  };
}

const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'unknown'];
const DEVICES = ['desktop', 'mobile', 'tablet', 'bot'];
const SYSTEMS = ['Windows', 'macOS', 'iOS', 'Android', 'Linux'];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge'];
const REFERRERS = ['direct', 'google.com', 't.co', 'news.ycombinator.com'];

/** `scanCount` scans in time order over codes past RESERVED_CODES, in ScanStore's file format. */
function writeScans(dataFile: string, workspaceId: string, qrcodes: QrRecord[], scanCount: number, from: number, to: number): void {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (value: string) => {
    let id = ids.get(value);
    if (id === undefined) {
      strings.push(value);
      id = strings.length; // id 0 is the empty string, implicit in the file
      ids.set(value, id);
    }
    return id;
  };
  const random = prng(42);
  const workspace = intern(workspaceId);
  const [countries, devices, systems, browsers, referrers] = [COUNTRIES, DEVICES, SYSTEMS, BROWSERS, REFERRERS].map((list) => list.map(intern)) as [number[], number[], number[], number[], number[]];
  const botDevice = intern('bot');
  const codeIds = qrcodes.map((qr) => intern(qr.id));
  const pick = (list: number[]) => list[Math.floor(random() * list.length)] as number;
  const buffer = Buffer.alloc(SCAN_MAGIC.length + scanCount * SCAN_RECORD_BYTES);
  SCAN_MAGIC.copy(buffer, 0);
  const span = to - from;
  const eligible = qrcodes.length - RESERVED_CODES;
  for (let n = 0; n < scanCount && eligible > 0; n++) {
    // skewed towards the newest codes, as real traffic is
    const codeIndex = RESERVED_CODES + Math.floor(Math.sqrt(random()) * eligible);
    const device = pick(devices);
    encodeScanRecord(buffer, SCAN_MAGIC.length + n * SCAN_RECORD_BYTES, {
      time: from + Math.floor((n / scanCount) * span),
      qr: codeIds[codeIndex] as number,
      workspace,
      visitor: Math.floor(random() * 2 ** 32),
      country: pick(countries),
      device,
      os: pick(systems),
      browser: pick(browsers),
      referrer: pick(referrers),
      flags: device === botDevice ? 1 : 0,
    });
  }
  fs.writeFileSync(`${dataFile}.scans`, buffer);
  fs.writeFileSync(`${dataFile}.scans.dict`, strings.map((value) => JSON.stringify(value) + '\n').join(''));
}
