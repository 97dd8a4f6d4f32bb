import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import { MIGRATIONS, migratorOf } from './migrations.js';

/** The server the PostgreSQL tests use; each test file makes (and drops) a database of its own on it. */
export const TEST_DATABASE_VARIABLE = 'QRFLOW_TEST_DATABASE_URL';
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  /** A pool on the test database, for checks and for emptying it between tests. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Whether the tests can reach PostgreSQL: the URL to use, or the reason they cannot. In CI (CI=true) the PostgreSQL
 * suites must run, so callers turn `reason` into a failure there and into a skip elsewhere.
 */
export async function probeTestServer(): Promise<{ url: string } | { reason: string }> {
  const url = process.env[TEST_DATABASE_VARIABLE] || DEFAULT_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { url };
  } catch (error) {
    return { reason: `no PostgreSQL at ${redact(url)} (${(error as Error).message}); set ${TEST_DATABASE_VARIABLE}=postgres://user@host:port/db to a server where the user may create databases` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates a database with a random name on the server of `serverUrl`. */
export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `qrflow_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}

const probed = probeTestServer();

/**
 * A describe block that runs against a real PostgreSQL: skipped with a line naming the variable when no server
 * answers, and failing instead in CI (CI=true), which must run it.
 */
export async function describePostgres(name: string, body: (serverUrl: string) => void): Promise<void> {
  const server = await probed;
  if ('url' in server) {
    describe(name, () => body(server.url));
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('runs in CI, which must reach PostgreSQL', () => {
        throw new Error(`The PostgreSQL suite cannot run: ${server.reason}`);
      });
    });
  } else {
    console.log(`PostgreSQL suite "${name}" skipped: ${server.reason}`);
    describe.skip(name, () => {
      it('needs a PostgreSQL server', () => undefined);
    });
  }
}

/** Brings a test database to the schema of an older release: every migration whose name sorts before `name`. */
export async function migrateBefore(pool: pg.Pool, name: string): Promise<void> {
  const { error } = await migratorOf(pool, Object.fromEntries(Object.entries(MIGRATIONS).filter(([migration]) => migration < name))).migrateToLatest();
  if (error) throw error;
}
