import type { Config } from '../config.js';
import { LowdbStore, type LowdbStoreOptions } from './embedded/lowdb-store.js';
import { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
import type { JobQueue } from './job-queue.js';
import { PgBossJobQueue } from './postgres/job-queue.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  embedded?: LowdbStoreOptions;
  postgres?: PostgresStoreOptions;
}

/**
 * Opens the store the configuration selects: PostgreSQL when QRFLOW_DATABASE_URL is set (migrated to the latest
 * schema on the way), otherwise the embedded store at QRFLOW_DATA_FILE. The only place that picks an adapter.
 */
export async function openStore(config: Pick<Config, 'dataFile' | 'databaseUrl'>, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.databaseUrl) return PostgresStore.open(config.databaseUrl, options.postgres);
  return LowdbStore.open(config.dataFile, options.embedded);
}

/**
 * The durable job queue named `name` shared by every process on the database (PostgreSQL: pg-boss), or undefined on
 * the embedded store, whose one process keeps such work in memory.
 */
export function openJobQueue(config: Pick<Config, 'databaseUrl'>, name: string, onError: (error: Error) => void): JobQueue | undefined {
  return config.databaseUrl ? new PgBossJobQueue(config.databaseUrl, name, onError) : undefined;
}
