import path from 'node:path';
import { z } from 'zod';
import { defaultConsoleDir } from './console/dir.js';

/** Environment variables qrflow reads; parsed once, typed, and validated at start-up. */
const EnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  QRFLOW_DATA_FILE: z.string().min(1).default('./data/qrflow.json'),
  QRFLOW_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL').optional(),
  QRFLOW_PLANS_FILE: z.string().min(1).optional(),
  QRFLOW_PUBLIC_URL: z.string().url().optional(),
  QRFLOW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  QRFLOW_TRUST_PROXY: z.string().optional(),
  QRFLOW_COUNTRY_HEADER: z.string().min(1).default('cf-ipcountry'),
  QRFLOW_WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  QRFLOW_REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  QRFLOW_RATE_LIMIT_REDIS_URL: z.string().url().optional(),
  QRFLOW_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, '1 to 64 letters, digits or : . _ -').default('qrflow:'),
  QRFLOW_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  QRFLOW_SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 90).default(24 * 7),
  QRFLOW_DIAGNOSTICS: z.enum(['true', 'false']).default('false'),
  QRFLOW_CONSOLE_DIR: z.string().min(1).optional(),
  QRFLOW_SIGNUP: z.enum(['open', 'closed']).default('closed'),
  QRFLOW_DEFAULT_PLAN: z.string().min(1).max(64).default('team'),
  QRFLOW_SESSION_IDLE_MINUTES: z.coerce.number().positive().max(60 * 24 * 90).default(60),
  QRFLOW_CSRF_SECRET: z.string().min(32).optional(),
});

export interface Config {
  host: string;
  port: number;
  dataFile: string;
  /** PostgreSQL for records instead of the embedded store (scans stay in files beside `dataFile` for now). */
  databaseUrl: string | undefined;
  plansFile: string | undefined;
  /** The base of short links and of the OpenAPI server; without QRFLOW_PUBLIC_URL, the address the server listens on. */
  publicUrl: string;
  /** Whether QRFLOW_PUBLIC_URL set publicUrl (otherwise startServer fills in the port actually bound, e.g. for PORT=0). */
  publicUrlFromEnv: boolean;
  logLevel: z.infer<typeof EnvSchema>['QRFLOW_LOG_LEVEL'];
  trustProxy: string | undefined;
  countryHeader: string;
  webhookAllowPrivate: boolean;
  /** Redis for everything shared between processes: per-minute and login limits, monthly allowances (QRFLOW_REDIS_URL). */
  redisUrl: string | undefined;
  /** The same URL, under the name of the older QRFLOW_RATE_LIMIT_REDIS_URL (an alias of QRFLOW_REDIS_URL). */
  rateLimitRedisUrl: string | undefined;
  /** Every Redis key qrflow writes starts with this (several deployments, or test runs, can share one Redis). */
  redisPrefix: string;
  /** Server processes `npm start` runs on this host (node:cluster); more than one needs QRFLOW_DATABASE_URL. */
  workers: number;
  sessionTtlMs: number;
  /** Serves event-loop delay figures on /__diagnostics/eventloop to loopback clients (for bench/); off by default. */
  diagnostics: boolean;
  /** The built console (web/dist), served at `/`. */
  consoleDir: string;
  /** `open` lets anyone create a workspace with POST /api/v1/setup; `closed` only while none exists. */
  signup: 'open' | 'closed';
  /** The plan of workspaces created by POST /api/v1/setup. */
  defaultPlan: string;
  /** A session ends after this long without a request, besides its absolute lifetime. */
  sessionIdleMs: number;
  /** Signs CSRF tokens; without QRFLOW_CSRF_SECRET a random one per process (tokens then end with a restart). */
  csrfSecret: string | undefined;
}

export class ConfigError extends Error {}

/** Parses the environment (process.env by default) into a Config, or throws a ConfigError naming the bad variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.QRFLOW_REDIS_URL && e.QRFLOW_RATE_LIMIT_REDIS_URL && e.QRFLOW_REDIS_URL !== e.QRFLOW_RATE_LIMIT_REDIS_URL) {
    throw new ConfigError('Invalid configuration: QRFLOW_REDIS_URL and QRFLOW_RATE_LIMIT_REDIS_URL (its older name) name different servers; set only QRFLOW_REDIS_URL.');
  }
  const redisUrl = e.QRFLOW_REDIS_URL ?? e.QRFLOW_RATE_LIMIT_REDIS_URL;
  if (e.QRFLOW_WORKERS > 1 && !e.QRFLOW_DATABASE_URL) {
    throw new ConfigError(`Invalid configuration: QRFLOW_WORKERS=${e.QRFLOW_WORKERS} needs QRFLOW_DATABASE_URL: the embedded store is one process's (its data file is locked); run one process, or move to PostgreSQL.`);
  }
  const publicUrl = (e.QRFLOW_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, '');
  return {
    host: e.HOST,
    port: e.PORT,
    dataFile: path.resolve(e.QRFLOW_DATA_FILE),
    databaseUrl: e.QRFLOW_DATABASE_URL || undefined,
    plansFile: e.QRFLOW_PLANS_FILE ? path.resolve(e.QRFLOW_PLANS_FILE) : undefined,
    publicUrl,
    publicUrlFromEnv: e.QRFLOW_PUBLIC_URL !== undefined,
    logLevel: e.QRFLOW_LOG_LEVEL,
    trustProxy: e.QRFLOW_TRUST_PROXY,
    countryHeader: e.QRFLOW_COUNTRY_HEADER.toLowerCase(),
    webhookAllowPrivate: e.QRFLOW_WEBHOOK_ALLOW_PRIVATE === 'true',
    redisUrl,
    rateLimitRedisUrl: redisUrl,
    redisPrefix: e.QRFLOW_REDIS_PREFIX,
    workers: e.QRFLOW_WORKERS,
    sessionTtlMs: e.QRFLOW_SESSION_TTL_HOURS * 3600_000,
    diagnostics: e.QRFLOW_DIAGNOSTICS === 'true',
    consoleDir: e.QRFLOW_CONSOLE_DIR ? path.resolve(e.QRFLOW_CONSOLE_DIR) : defaultConsoleDir(),
    signup: e.QRFLOW_SIGNUP,
    defaultPlan: e.QRFLOW_DEFAULT_PLAN,
    sessionIdleMs: e.QRFLOW_SESSION_IDLE_MINUTES * 60_000,
    csrfSecret: e.QRFLOW_CSRF_SECRET,
  };
}
