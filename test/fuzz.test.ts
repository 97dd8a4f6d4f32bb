import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyRoute } from '../server/src/http/route.js';
import type { CollectionName } from '../server/src/store/records.js';
import { writeUnlimitedPlansFile } from './helpers/child-server.js';
import { findSecrets } from './helpers/secrets.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import {
  badAuthorization,
  badContentType,
  badIdempotencyKey,
  forgedCursor,
  fromSchema,
  hostileId,
  hostileValue,
  invalidJsonText,
  jsonSchemaOf,
  oversizedBody,
  withPollutingKey,
} from './fuzz/arbitraries.js';
import { rawRequest, type RawResponse } from './fuzz/raw-http.js';

/**
 * Hostile input over every route of the route table, generated from the routes' own zod schemas and then
 * mutated. Every answer must be a 2xx or a 4xx in the error model; only 2xx answers may change data.
 */
const TOTAL_REQUESTS = Number(process.env.QRFLOW_FUZZ_REQUESTS ?? 2400);
const SEED = Number(process.env.QRFLOW_FUZZ_SEED ?? 20261123);

interface FuzzCase {
  params: Record<string, string>;
  query: Array<[string, string]>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string };
  headers: Array<[string, string]>;
  auth: 'valid' | 'none' | { header: string };
  mutation: string;
}

let srv: TestServer;
let port: number;
let keySecret: string;
let session: string;
const ids = { qr: [] as string[], keys: [] as string[], webhooks: [] as string[] };
const secrets: string[] = [];
const signingSecrets: string[] = [];

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-fuzz-'));
  srv = await startTestServer({ dataDir, env: { QRFLOW_PLANS_FILE: writeUnlimitedPlansFile(dataDir), QRFLOW_LOG_LEVEL: 'warn' }, plan: 'unlimited' });
  port = Number(new URL(srv.baseUrl).port);
  const key = await srv.createKey({ name: 'Fuzz' });
  keySecret = key.secret;
  // the fuzz key itself is never a target: renewing or revoking it would turn the rest of the run into 401s
  ids.keys.push((await srv.createKey({ name: 'Fuzz-Target' })).id, (await srv.createKey({ name: 'Fuzz-Target-2' })).id);
  session = await srv.login();
  secrets.push(keySecret, session, srv.ownerPassword);
  for (const body of [
    { name: 'Fuzz url', destination_url: 'https://example.com/fuzz' },
    { name: 'Fuzz text', type: 'text', mode: 'static', content: { text: 'hello' } },
    { name: 'Fuzz wifi', type: 'wifi', mode: 'static', content: { ssid: 'net', password: 'secret-wifi' } },
  ]) {
    const response = await srv.request('POST', '/api/v1/qr', { token: keySecret, body });
    ids.qr.push(((await response.json()) as { data: { id: string } }).data.id);
  }
  const hook = await srv.request('POST', '/api/v1/webhooks', { token: keySecret, body: { url: 'http://127.0.0.1:9/fuzz', events: ['qr.created'] } });
  ids.webhooks.push(((await hook.json()) as { data: { id: string } }).data.id);
});

afterAll(async () => {
  await srv?.cleanup();
});

/** Collections whose records the API changes; sessions, events, usage and logs change by design. */
const WATCHED: CollectionName[] = ['workspaces', 'users', 'members', 'keys', 'qrcodes', 'tombstones', 'webhooks'];

async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const collection of WATCHED) {
    for (const record of await srv.running.store.all(collection)) {
      const { last_used_at: _lastUsed, ...rest } = record as unknown as Record<string, unknown>;
      out.set(`${collection}/${record.id}`, JSON.stringify(rest));
    }
  }
  return out;
}

function resourceIds(route: AnyRoute): string[] {
  if (route.path.startsWith('/api/v1/keys')) return ids.keys;
  if (route.path.startsWith('/api/v1/webhooks')) return ids.webhooks;
  return ids.qr;
}

function caseFor(route: AnyRoute): fc.Arbitrary<FuzzCase> {
  const paramNames = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string);
  const params = fc.record(Object.fromEntries(paramNames.map((name) => [name, fc.constantFrom(...resourceIds(route))]))) as fc.Arbitrary<Record<string, string>>;
  const query = route.query ? (fromSchema(jsonSchemaOf(route.query)) as fc.Arbitrary<Record<string, unknown>>) : fc.constant({});
  const body = route.body ? fromSchema(jsonSchemaOf(route.body)) : fc.constant(undefined);
  const base = fc.record({ params, query, body });
  const stringify = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined');
  const hasCursor = route.query ? 'cursor' in (jsonSchemaOf(route.query).properties ?? {}) : false;

  type Mutation = (c: FuzzCase) => fc.Arbitrary<FuzzCase>;
  const mutations: Array<{ weight: number; arbitrary: Mutation }> = [
    { weight: 3, arbitrary: (c) => fc.constant({ ...c, mutation: 'none (valid-shaped)' }) },
    {
      weight: 6,
      arbitrary: (c) =>
        fc.tuple(fc.oneof(fc.constantFrom('name', ...Object.keys(c.body.kind === 'json' && c.body.value && typeof c.body.value === 'object' ? c.body.value : {})), fc.string({ maxLength: 12 })), hostileValue).map(([field, value]) => ({
          ...c,
          body: { kind: 'json' as const, value: { ...(c.body.kind === 'json' && typeof c.body.value === 'object' ? (c.body.value as object) : {}), [field]: value } },
          mutation: `body field ${field} = ${stringify(value).slice(0, 60)}`,
        })),
    },
    {
      weight: 3,
      arbitrary: (c) => fc.constantFrom('__proto__', 'constructor', 'prototype' as const).map((key) => ({ ...c, body: { kind: 'raw' as const, text: withPollutingKey(c.body.kind === 'json' ? c.body.value : {}, key as '__proto__') }, mutation: `body with a ${key} key` })),
    },
    { weight: 2, arbitrary: (c) => hostileValue.map((value) => ({ ...c, body: { kind: 'json' as const, value }, mutation: `body = ${stringify(value).slice(0, 60)}` })) },
    { weight: 3, arbitrary: (c) => invalidJsonText.map((text) => ({ ...c, body: { kind: 'raw' as const, text }, mutation: `invalid JSON ${JSON.stringify(text.slice(0, 40))}` })) },
    { weight: 1, arbitrary: (c) => oversizedBody.map((text) => ({ ...c, body: { kind: 'raw' as const, text }, mutation: `oversized body (${text.length} bytes)` })) },
    {
      weight: 4,
      arbitrary: (c) =>
        fc.tuple(fc.oneof(fc.constantFrom(...(c.query.length ? c.query.map(([k]) => k) : ['limit'])), fc.constantFrom('__proto__', 'constructor', '__proto__[x]', 'limit[]', 'a'.repeat(300)), fc.string({ maxLength: 10 })), hostileValue).map(([name, value]) => ({
          ...c,
          query: [...c.query.filter(([k]) => k !== name), [name, stringify(value).slice(0, 4000)] as [string, string]],
          mutation: `query ${name} = ${stringify(value).slice(0, 60)}`,
        })),
    },
    { weight: 1, arbitrary: (c) => fc.constant({ ...c, query: [...c.query, ...c.query, ['limit', '1'], ['limit', '2']] as Array<[string, string]>, mutation: 'repeated query parameters' }) },
    ...(hasCursor ? [{ weight: 3, arbitrary: (c: FuzzCase) => forgedCursor.map((cursor) => ({ ...c, query: [...c.query.filter(([k]) => k !== 'cursor'), ['cursor', cursor] as [string, string]], mutation: `forged cursor ${cursor.slice(0, 40)}` })) }] : []),
    ...(paramNames.length ? [{ weight: 5, arbitrary: (c: FuzzCase) => hostileId.map((id) => ({ ...c, params: Object.fromEntries(paramNames.map((name) => [name, id])), mutation: `id ${id.slice(0, 60)}` })) }] : []),
    { weight: 3, arbitrary: (c) => badContentType.map((type) => ({ ...c, headers: [['Content-Type', type] as [string, string]], mutation: `content-type ${JSON.stringify(type.slice(0, 40))}` })) },
    { weight: 3, arbitrary: (c) => badAuthorization.map((header) => ({ ...c, auth: { header }, mutation: `authorization ${JSON.stringify(header.slice(0, 40))}` })) },
    { weight: 1, arbitrary: (c) => fc.constant({ ...c, auth: 'none' as const, mutation: 'no authorization' }) },
    { weight: 2, arbitrary: (c) => badIdempotencyKey.map((key) => ({ ...c, headers: [['Idempotency-Key', key] as [string, string]], mutation: `idempotency-key ${JSON.stringify(key.slice(0, 40))}` })) },
    { weight: 1, arbitrary: (c) => fc.constantFrom('gzip', 'deflate', 'br', 'x-unknown').map((encoding) => ({ ...c, headers: [['Content-Encoding', encoding] as [string, string]], mutation: `content-encoding ${encoding} on a plain body` })) },
    { weight: 1, arbitrary: (c) => fc.constant({ ...c, body: { kind: 'raw' as const, text: '' }, mutation: 'empty body' }) },
  ];

  return base.chain(({ params: p, query: q, body: b }) => {
    const start: FuzzCase = {
      params: p,
      query: Object.entries(q).map(([k, v]) => [k, stringify(v)] as [string, string]),
      body: b === undefined ? { kind: 'none' } : { kind: 'json', value: b },
      headers: [],
      auth: 'valid',
      mutation: '',
    };
    return fc.oneof(...mutations.map(({ weight, arbitrary }) => ({ weight, arbitrary: arbitrary(start) })));
  });
}

/** Percent-encodes what a request line cannot carry, leaving deliberate escapes and `../` as they are. */
function target(route: AnyRoute, c: FuzzCase): string {
  // byte-wise, so lone surrogates (which encodeURIComponent refuses) go out as their UTF-8 replacement
  const escape = (value: string, keep: RegExp) => [...Buffer.from(value, 'utf8')].map((byte) => (keep.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  let url = route.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => escape(c.params[name] ?? '', /[\x21-\x7e]/).replace(/[#?]/g, (ch) => encodeURIComponent(ch)));
  if (c.query.length) url += '?' + c.query.map(([k, v]) => `${escape(k, /[A-Za-z0-9._~-]/)}=${escape(v, /[A-Za-z0-9._~-]/)}`).join('&');
  return url;
}

describe('hostile input over every route', () => {
  it(`answers ${TOTAL_REQUESTS}+ generated and mutated requests with 2xx or a 4xx in the error model, and only 2xx changes data`, async () => {
    // deletes last, so the objects they remove are there for the other routes first
    const routes = [...srv.running.app.routes].sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    const perRoute = Math.ceil(TOTAL_REQUESTS / routes.length);
    const before = await snapshot();
    const touched = new Set<string>();
    const violations: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    let logoutSession = await srv.running.app.services.sessions.login(srv.ownerEmail, srv.ownerPassword).then((s) => s.token);

    for (const [index, route] of routes.entries()) {
      const label = `${route.method.toUpperCase()} ${route.path}`;
      const isLogout = route.path === '/api/v1/auth/logout';
      await fc.assert(
        fc.asyncProperty(caseFor(route), async (c) => {
          const headers: Array<[string, string]> = [...c.headers];
          const token = isLogout ? logoutSession : route.auth === 'session' ? session : keySecret;
          if (c.auth === 'valid' && route.auth !== 'none') headers.push(['Authorization', `Bearer ${token}`]);
          else if (typeof c.auth === 'object') headers.push(['Authorization', c.auth.header]);
          let body: string | undefined;
          if (c.body.kind === 'json') body = JSON.stringify(c.body.value) ?? 'null';
          else if (c.body.kind === 'raw') body = c.body.text;
          if (body !== undefined && !headers.some(([name]) => name === 'Content-Type')) headers.push(['Content-Type', 'application/json']);
          const url = target(route, c);
          let response: RawResponse;
          try {
            response = await rawRequest(port, { method: route.method.toUpperCase(), target: url, headers, ...(body !== undefined ? { body } : {}) });
          } catch (error) {
            violations.push(`${label} [${c.mutation}]: no answer (${(error as Error).message})`);
            return true;
          }
          sent++;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const where = `${label} [${c.mutation}] ${url.slice(0, 120)}`;
          if (response.status >= 200 && response.status < 300) {
            if (route.method !== 'get') {
              for (const value of Object.values(c.params)) touched.add(decodeURIComponent(value));
              const id = /"id":"([^"]+)"/.exec(response.body)?.[1];
              if (id) touched.add(id);
              // a member added is a user too
              const userId = /"user_id":"([^"]+)"/.exec(response.body)?.[1];
              if (userId) touched.add(userId);
              const temporaryPassword = /"temporary_password":"([^"]+)"/.exec(response.body)?.[1];
              if (temporaryPassword) secrets.push(temporaryPassword);
              // webhook signing secrets are stored by design (to sign); API key secrets never are
              const secret = /"secret":"(qr_live_[^"]+)"/.exec(response.body)?.[1];
              if (secret) secrets.push(secret);
              const signingSecret = /"secret":"(whsec_[^"]+)"/.exec(response.body)?.[1];
              if (signingSecret) signingSecrets.push(signingSecret);
              const sessionToken = /"token":"(qrs_[^"]+)"/.exec(response.body)?.[1];
              if (sessionToken) secrets.push(sessionToken);
              if (isLogout) logoutSession = (await srv.running.app.services.sessions.login(srv.ownerEmail, srv.ownerPassword)).token;
            }
            return true;
          }
          if (response.status < 400 || response.status >= 500) {
            violations.push(`${where}: answered ${response.status} ${response.body.slice(0, 200)}`);
            return true;
          }
          let parsed: { error?: { code?: unknown; message?: unknown }; request_id?: unknown } | undefined;
          try {
            parsed = JSON.parse(response.body);
          } catch {
            // reported below
          }
          if (
            !parsed ||
            typeof parsed.error?.code !== 'string' ||
            !/^[a-z][a-z0-9_]*$/.test(parsed.error.code) ||
            typeof parsed.error.message !== 'string' ||
            typeof parsed.request_id !== 'string' ||
            response.headers['x-request-id'] !== parsed.request_id ||
            !response.headers['content-type']?.startsWith('application/json')
          ) {
            violations.push(`${where}: ${response.status} not in the error model: ${JSON.stringify(response.headers['content-type'])} ${response.body.slice(0, 200)}`);
          }
          return true;
        }),
        { numRuns: perRoute, seed: SEED + index },
      );
    }

    // the server is still up and answers normally
    const me = await srv.request('GET', '/api/v1/me', { token: keySecret });
    expect(me.status).toBe(200);

    // only 2xx answers changed data
    const after = await snapshot();
    const changed: string[] = [];
    for (const id of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(id) === after.get(id)) continue;
      const [collection, recordId] = id.split('/') as [string, string];
      const record = JSON.parse(after.get(id) ?? before.get(id) ?? '{}') as { qr_id?: string };
      const explained = touched.has(recordId) || (collection === 'tombstones' && record.qr_id !== undefined && touched.has(record.qr_id));
      if (!explained) changed.push(`${id}: ${before.get(id)?.slice(0, 150) ?? '(absent)'} -> ${after.get(id)?.slice(0, 150) ?? '(absent)'}`);
    }

    const histogram = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
    console.log(`fuzz: ${sent} requests over ${routes.length} routes (seed ${SEED}); answers ${histogram}; ${touched.size} objects changed by 2xx answers; ${violations.length} violations`);
    if (process.env.QRFLOW_FUZZ_REPORT) fs.writeFileSync(process.env.QRFLOW_FUZZ_REPORT, violations.join('\n'));
    expect(violations.slice(0, 30)).toEqual([]);
    expect(changed, 'records changed without a 2xx answer').toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(2000);
  }, 300_000);

  it('leaves no key secret, session token or password in the data files or the logs', async () => {
    await srv.stop();
    const { findings } = findSecrets(secrets, { dataDir: srv.dataDir, texts: { 'server logs': srv.logs() } });
    expect(findings).toEqual([]);
    expect(findSecrets(signingSecrets, { texts: { 'server logs': srv.logs() } }).findings).toEqual([]);
  });
});
