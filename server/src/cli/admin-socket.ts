import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

/** Largest request a client may send on the admin socket (the argv of one command, as JSON). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** How long a connection may take to send its request before it is closed. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Connections served at once; more are refused (the CLI says the server is busy). */
const MAX_CONNECTIONS = 16;
/** sun_path holds 108 bytes on Linux and 104 on macOS, terminator included. */
const MAX_SOCKET_PATH_BYTES = 100;

/** What the CLI sends: one JSON line. */
export interface AdminRequest {
  argv: string[];
  data_file: string;
}

/** What the server answers: one JSON line, then it closes the connection. */
export interface AdminAnswer {
  stdout: string;
  stderr: string;
  exit_code: number;
}

/**
 * The admin socket of a data file: `<data file>.sock` beside it, or, when that path is too long for a Unix socket,
 * a name derived from it in a private per-user directory under the system's temp directory.
 */
export function adminSocketPath(dataFile: string): string {
  const beside = `${dataFile}.sock`;
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES) return beside;
  const digest = createHash('sha256').update(dataFile).digest('hex').slice(0, 24);
  return path.join(os.tmpdir(), `qrflow-${process.getuid?.() ?? 'user'}`, `${digest}.sock`);
}

/** The same file, however it was named (symlinks, relative paths). */
export function sameFile(a: string, b: string): boolean {
  const real = (file: string) => {
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  };
  return real(a) === real(b);
}

export interface AdminSocket {
  path: string;
  /** Stops accepting commands, waits for those running, and removes the socket file. */
  close: () => Promise<void>;
}

/** The command words of an argv, for the log: never option values, which may be passwords. */
function commandOf(argv: readonly string[]): string {
  const words = new Set(['init', 'keys', 'members', 'plan', 'create', 'list', 'pause', 'resume', 'revoke', 'renew', 'add', 'set']);
  return argv.filter((word) => words.has(word)).slice(0, 2).join(' ') || '(none)';
}

function parseRequest(line: string): AdminRequest | undefined {
  try {
    const value = JSON.parse(line) as Partial<AdminRequest>;
    if (!Array.isArray(value.argv) || value.argv.length > 100 || !value.argv.every((word) => typeof word === 'string')) return undefined;
    if (typeof value.data_file !== 'string') return undefined;
    return { argv: value.argv, data_file: value.data_file };
  } catch {
    return undefined;
  }
}

/** Removes a socket file left by a process that is gone; the caller holds the data file's lock, so no live server owns it. */
function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket; move it aside so that the CLI can reach the server`);
  fs.unlinkSync(socketPath);
}

/**
 * Listens on the admin socket of `dataFile` (owner-only, mode 0600) and answers each command with `run`, which
 * runs the CLI's own commands against the live store. Local only: a Unix socket, never a network port.
 */
export async function listenAdminSocket(options: { dataFile: string; logger: Logger; run: (argv: string[]) => Promise<AdminAnswer> }): Promise<AdminSocket> {
  const socketPath = adminSocketPath(options.dataFile);
  if (socketPath !== `${options.dataFile}.sock`) {
    fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
    const stat = fs.statSync(path.dirname(socketPath));
    if (stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0) throw new Error(`${path.dirname(socketPath)} must be a directory only this user can use (chmod 700)`);
  }
  removeStaleSocket(socketPath);
  const running = new Set<Promise<void>>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const task = serve(socket).finally(() => running.delete(task));
    running.add(task);
  });
  server.maxConnections = MAX_CONNECTIONS;

  async function serve(socket: net.Socket): Promise<void> {
    const answer = (reply: AdminAnswer) => new Promise<void>((resolve) => socket.end(JSON.stringify(reply) + '\n', () => resolve()));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    const line = await new Promise<string | undefined>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REQUEST_BYTES) {
          socket.removeAllListeners('data');
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
        if (chunk.includes(0x0a)) resolve(Buffer.concat(chunks).toString('utf8').split('\n')[0]);
      });
      socket.on('end', () => resolve(chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined));
      socket.on('close', () => resolve(undefined));
    });
    if (socket.destroyed) return;
    const request = line === undefined ? undefined : parseRequest(line);
    if (!request) {
      await answer({ stdout: '', stderr: `qrflow: the admin socket takes one JSON line of at most ${MAX_REQUEST_BYTES} bytes: {"argv": [...], "data_file": "..."}\n`, exit_code: 2 });
      return;
    }
    socket.setTimeout(0);
    if (!sameFile(request.data_file, options.dataFile)) {
      await answer({ stdout: '', stderr: `qrflow: this server holds ${options.dataFile}, not ${request.data_file}\n`, exit_code: 1 });
      return;
    }
    const started = Date.now();
    const reply = await options.run(request.argv).catch((error: unknown) => {
      options.logger.error({ err: error }, 'admin command failed');
      return { stdout: '', stderr: 'qrflow: the server could not run this command (see its log)\n', exit_code: 1 };
    });
    options.logger.info({ command: commandOf(request.argv), exit_code: reply.exit_code, duration_ms: Date.now() - started }, 'admin command');
    await answer(reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // the socket file is created by bind(2) with the process umask: make it owner-only from its first instant
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  fs.chmodSync(socketPath, 0o600);
  const inode = fs.statSync(socketPath).ino;

  let closing: Promise<void> | undefined;
  return {
    path: socketPath,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...running]);
        try {
          // only our own socket: never one that a later server put in its place
          if (fs.statSync(socketPath).ino === inode) fs.unlinkSync(socketPath);
        } catch {
          // already gone
        }
      })()),
  };
}
