import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { KeyService } from '../keys/service.js';
import { DataFileLockedError } from '../store/embedded/lock.js';
import { CorruptDataError } from '../store/embedded/wal.js';
import { openStore } from '../store/open-store.js';
import { CoherentReads } from '../store/coherent-reads.js';
import { SharedRedis } from '../redis/client.js';
import { migrateStore } from '../store/migrate-store.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import type { Store } from '../store/store.js';
import type { AdminAnswer } from './admin-socket.js';
import { runOnServer, ServerUnreachableError } from './remote.js';
import { ALL_SCOPES, type Role, type Scope } from '../store/records.js';
import { loadPlans } from '../workspaces/plans.js';
import { WorkspaceService } from '../workspaces/service.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

class UsageError extends Error {}

/** Thrown out of a command that the running server ran instead: its answer is the command's output. */
class AnsweredByServer extends Error {
  constructor(readonly answer: AdminAnswer) {
    super('answered by the server');
  }
}

/** The services the commands use: the server's own when it runs a command sent on its admin socket. */
export interface CliServices {
  workspaces: WorkspaceService;
  keys: KeyService;
}

/** How long the CLI waits for a data file held by a process that does not answer on the admin socket (another CLI command, a server starting). */
const LOCK_WAIT_MS = 5000;

/**
 * Runs the admin CLI and returns the exit code (0 ok, 1 failure, 2 bad arguments). Without `services` it opens the
 * data file, or, when a running server holds it, sends the command to that server's admin socket.
 */
export async function runCli(argv: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, services?: CliServices): Promise<number> {
  let exitCode = 0;
  const program = new Command('qrflow')
    .description('qrflow admin CLI: workspaces, members, plans and API keys')
    .addOption(new Option('--data <file>', 'the data file (default: QRFLOW_DATA_FILE or ./data/qrflow.json)'))
    .option('--json', 'print exactly one JSON object on stdout')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  const print = (human: string, json: Record<string, unknown>) => {
    if (program.opts().json) io.out(JSON.stringify(json) + '\n');
    else io.out(human + '\n');
  };

  async function withServices<T>(task: (services: CliServices) => Promise<T>): Promise<T> {
    if (services) return task(services);
    const config = loadConfig(env);
    const dataFile = program.opts().data ? path.resolve(program.opts().data as string) : config.dataFile;
    // with QRFLOW_DATABASE_URL set the CLI works on PostgreSQL, beside running servers (no lock there)
    const store = await openOrForward(() => openStore({ dataFile, databaseUrl: config.databaseUrl }), dataFile);
    const logger = pino({ level: 'silent' });
    // beside servers on PostgreSQL with Redis: the CLI's changes bump the generations those servers check, so that
    // a plan changed here is obeyed by their next request (without Redis they see it within 5 s)
    const redis = config.databaseUrl && config.redisUrl ? new SharedRedis(config.redisUrl, config.redisPrefix, logger) : undefined;
    await redis?.started;
    const ctx: Context = { store: redis ? new CoherentReads(store, redis).store : store, config: { ...config, dataFile }, clock: systemClock, plans: loadPlans(config.plansFile), logger };
    const workspaces = new WorkspaceService(ctx);
    try {
      return await task({ workspaces, keys: new KeyService(ctx, workspaces) });
    } finally {
      await store.close();
      await redis?.close();
    }
  }

  /** Opens the store, or, when a server holds the data file, has that server run this command (AnsweredByServer). */
  async function openOrForward(open: () => Promise<Store>, dataFile: string): Promise<Store> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return await open();
      } catch (error) {
        if (!(error instanceof DataFileLockedError)) throw error;
        let answer: AdminAnswer;
        try {
          answer = await runOnServer(dataFile, argv, error.pid);
        } catch (failure) {
          // nothing answers: the holder may be another CLI command or a server still starting, so wait a little
          if (!(failure instanceof ServerUnreachableError) || failure.answered || Date.now() > deadline) throw failure;
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        throw new AnsweredByServer(answer);
      }
    }
  }

  const parseScopes = (value: string | undefined): Scope[] | undefined => {
    if (value === undefined) return undefined;
    const scopes = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const scope of scopes) if (!ALL_SCOPES.includes(scope as Scope)) throw new UsageError(`Unknown scope "${scope}". Scopes: ${ALL_SCOPES.join(', ')}.`);
    return scopes as Scope[];
  };

  const parseRole = (value: string): Role => {
    if (value !== 'owner' && value !== 'admin' && value !== 'member') throw new UsageError('--role must be owner, admin or member.');
    return value;
  };

  program
    .command('init')
    .description('create a workspace and its owner')
    .requiredOption('--workspace <name>', 'workspace name')
    .requiredOption('--email <email>', "the owner's email")
    .requiredOption('--password <password>', "the owner's password (10+ characters)")
    .option('--plan <plan>', 'plan', 'team')
    .action(async (opts: { workspace: string; email: string; password: string; plan: string }) => {
      await withServices(async ({ workspaces }) => {
        const { workspace, user } = await workspaces.create({ name: opts.workspace, plan: opts.plan, email: opts.email, password: opts.password });
        print(`Created workspace ${workspace.name} (${workspace.id}) on the ${workspace.plan} plan, owner ${user.email}.`, { workspace, user: { id: user.id, email: user.email, role: 'owner' } });
      });
    });

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key and print its secret once')
    .requiredOption('--workspace <id|name>', 'workspace id or name')
    .requiredOption('--name <name>', 'a name saying where the key is used, e.g. Zapier-Integration')
    .option('--scopes <list>', `comma-separated scopes (default: all of ${ALL_SCOPES.join(',')})`)
    .option('--expires-at <iso>', 'expiry as an ISO-8601 date-time')
    .addOption(new Option('--mode <mode>', 'live, or test for a test-mode key (qr_test_…) that sees only test data').choices(['live', 'test']))
    .option('--test', 'same as --mode test')
    .action(async (opts: { workspace: string; name: string; scopes?: string; expiresAt?: string; mode?: 'live' | 'test'; test?: boolean }) => {
      const scopes = parseScopes(opts.scopes);
      if (opts.test && opts.mode === 'live') throw new UsageError('--test and --mode live contradict each other; give one.');
      const mode = opts.test ? 'test' : (opts.mode ?? 'live');
      await withServices(async ({ workspaces, keys: keyService }) => {
        const workspace = await workspaces.find(opts.workspace);
        const { key, secret } = await keyService.create(workspace, { name: opts.name, scopes, expires_at: opts.expiresAt, mode }, 'cli');
        print(`Created ${mode === 'test' ? 'test-mode ' : ''}key ${key.name} (${key.id}).\nSecret (shown once, store it now):\n${secret}`, { key, secret });
      });
    });
  keys
    .command('list')
    .description('list the keys of a workspace')
    .requiredOption('--workspace <id|name>', 'workspace id or name')
    .action(async (opts: { workspace: string }) => {
      await withServices(async ({ workspaces, keys: keyService }) => {
        const list = await keyService.list(await workspaces.find(opts.workspace));
        const lines = list.map((k) => `${k.id}  ${k.prefix}…  ${k.status.padEnd(8)}  ${k.name}${k.mode === 'test' ? ' (test mode)' : ''}  last used ${k.last_used_at ?? 'never'}`);
        print(lines.length ? lines.join('\n') : 'No keys.', { keys: list });
      });
    });
  for (const action of ['pause', 'resume', 'revoke', 'renew'] as const) {
    keys
      .command(action)
      .description(`${action} a key`)
      .argument('<key-id>', 'the key id (key_…)')
      .requiredOption('--workspace <id|name>', 'workspace id or name')
      .action(async (keyId: string, opts: { workspace: string }) => {
        await withServices(async ({ workspaces, keys: keyService }) => {
          const workspace = await workspaces.find(opts.workspace);
          if (action === 'renew') {
            const { key, secret } = await keyService.renew(workspace, keyId);
            print(`Renewed key ${key.name} (${key.id}); the old secret no longer works.\nNew secret (shown once):\n${secret}`, { key, secret });
            return;
          }
          const key = await keyService[action](workspace, keyId);
          print(`Key ${key.name} (${key.id}) is now ${key.status}.`, { key });
        });
      });
  }

  program
    .command('members')
    .description('manage members')
    .command('add')
    .description('add a new user to a workspace')
    .requiredOption('--workspace <id|name>', 'workspace id or name')
    .requiredOption('--email <email>', 'email')
    .requiredOption('--password <password>', 'password (10+ characters)')
    .option('--role <role>', 'owner, admin or member', 'member')
    .action(async (opts: { workspace: string; email: string; password: string; role: string }) => {
      const role = parseRole(opts.role);
      await withServices(async ({ workspaces }) => {
        const workspace = await workspaces.find(opts.workspace);
        const { user, member } = await workspaces.addMember(workspace, { email: opts.email, password: opts.password, role });
        print(`Added ${user.email} to ${workspace.name} as ${member.role}.`, { member: { id: member.id, user_id: user.id, email: user.email, role: member.role, workspace_id: workspace.id } });
      });
    });

  program
    .command('plan')
    .description('manage the plan of a workspace')
    .command('set')
    .description('set the plan (and status) of a workspace')
    .requiredOption('--workspace <id|name>', 'workspace id or name')
    .requiredOption('--plan <plan>', 'plan name')
    .addOption(new Option('--status <status>', 'plan status').choices(['active', 'expired']))
    .action(async (opts: { workspace: string; plan: string; status?: 'active' | 'expired' }) => {
      await withServices(async ({ workspaces }) => {
        const workspace = await workspaces.setPlan(await workspaces.find(opts.workspace), opts.plan, opts.status);
        print(`Workspace ${workspace.name} is on the ${workspace.plan} plan (${workspace.plan_status}).`, { workspace });
      });
    });

  program
    .command('migrate-store')
    .description('copy an embedded deployment (every record and every scan) into PostgreSQL; run it with the server stopped')
    .option('--from <file>', 'the data file (default: --data, QRFLOW_DATA_FILE or ./data/qrflow.json)')
    .option('--to <url>', 'the PostgreSQL URL (default: QRFLOW_DATABASE_URL)')
    .addHelpText(
      'after',
      '\nThe server must be stopped: the data file is opened with its lock. Safe to run again: records and scans already\ncopied are skipped, so a second run copies nothing and an interrupted run is completed by the next one.\nThe counts are checked at the end; a mismatch exits 1.',
    )
    .action(async (opts: { from?: string; to?: string }) => {
      const config = loadConfig(env);
      const dataFile = opts.from ? path.resolve(opts.from) : program.opts().data ? path.resolve(program.opts().data as string) : config.dataFile;
      const databaseUrl = opts.to ?? config.databaseUrl;
      if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError('--to must be a postgres:// URL (or set QRFLOW_DATABASE_URL).');
      const reports = await migrateStore(dataFile, databaseUrl);
      const wrong = reports.filter((r) => r.verified !== r.source);
      const copied = reports.reduce((sum, r) => sum + r.copied, 0);
      const lines = reports.map((r) => `${r.name.padEnd(14)} ${String(r.source).padStart(9)} in the data file  ${String(r.copied).padStart(9)} copied  ${String(r.present).padStart(9)} already there  ${String(r.verified).padStart(9)} in PostgreSQL${r.verified === r.source ? '' : '  MISMATCH'}`);
      const summary = wrong.length
        ? `Mismatch in ${wrong.map((r) => r.name).join(', ')}: PostgreSQL does not hold exactly what the data file does.`
        : copied === 0
          ? 'Nothing new to copy: PostgreSQL already holds every record and scan of the data file.'
          : `Copied ${copied} records and scans; PostgreSQL now holds everything in the data file.`;
      print([...lines, summary].join('\n'), { collections: reports, copied, ok: wrong.length === 0 });
      if (wrong.length) exitCode = 1;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof AnsweredByServer) {
      io.out(error.answer.stdout);
      io.err(error.answer.stderr);
      return error.answer.exit_code;
    }
    const json = program.opts().json === true || argv.includes('--json');
    const fail = (code: number, errorCode: string, message: string) => {
      if (json) io.out(JSON.stringify({ error: { code: errorCode, message } }) + '\n');
      else io.err(`qrflow: ${message}\n`);
      exitCode = code;
    };
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      if (json) io.out(JSON.stringify({ error: { code: 'usage', message: error.message } }) + '\n');
      return 2;
    }
    if (error instanceof UsageError) {
      fail(2, 'usage', error.message);
      io.err(program.helpInformation());
    } else if (error instanceof ServerUnreachableError) fail(1, 'server_unreachable', error.message);
    else if (error instanceof AppError && error.category === 'validation') fail(2, error.code, error.message);
    else if (isStoreUnavailable(error)) fail(1, 'database_unavailable', `${error.message}: check that PostgreSQL runs and QRFLOW_DATABASE_URL points at it.`);
    else if (error instanceof CorruptDataError) fail(1, 'corrupt_data_file', error.message);
    else if (error instanceof AppError) fail(1, error.code, error.message);
    else fail(1, 'error', (error as Error).message);
  }
  return exitCode;
}
