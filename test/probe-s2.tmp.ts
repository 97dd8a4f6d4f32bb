import pg from 'pg';
import { startTestServer } from './helpers/server.js';
import { createTestDatabase } from '../server/src/store/postgres/test-database.js';
import { createQr } from './helpers/qr.js';
const counts: string[] = [];
const orig = pg.Client.prototype.query;
(pg.Client.prototype as any).query = function (this: unknown, ...args: any[]) { const q = args[0]; counts.push(typeof q === 'string' ? q : q?.text ?? q?.name ?? String(q)); return (orig as any).apply(this, args); };
const db = await createTestDatabase('postgres://postgres@127.0.0.1:5432/test');
const server = await startTestServer({ env: { QRFLOW_DATABASE_URL: db.url, QRFLOW_REDIS_URL: 'redis://127.0.0.1:6379', QRFLOW_REDIS_PREFIX: 'probe:' } });
const { secret } = await server.createKey();
const code = await createQr(server, secret, { name: 'x', destination_url: 'https://example.com/' });
for (let i = 0; i < 3; i++) await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret });
await new Promise((r) => setTimeout(r, 1500));
for (const label of ['GET', 'POST']) {
  counts.length = 0;
  const r = label === 'GET' ? await server.request('GET', `/api/v1/qr/${code.id}`, { token: secret }) : await server.request('POST', '/api/v1/qr', { token: secret, body: { name: 'y', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/' } });
  console.log(label, r.status, counts.length);
  for (const c of counts) console.log('  ', c.replace(/\s+/g, ' ').slice(0, 200));
}
await server.cleanup();
await db.drop();
process.exit(0);
