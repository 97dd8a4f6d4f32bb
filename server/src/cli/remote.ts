import fs from 'node:fs';
import net from 'node:net';
import { adminSocketPath, type AdminAnswer, type AdminRequest } from './admin-socket.js';

/** Largest answer the CLI reads from the server (a long `keys list --json`). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Why the running server could not be asked; `message` says what to do. */
export class ServerUnreachableError extends Error {
  constructor(
    message: string,
    /** false when nothing answers on the socket (missing, refused): the holder may be another CLI, worth a retry. */
    readonly answered: boolean,
  ) {
    super(message);
  }
}

/**
 * Sends one CLI command to the server holding `dataFile` through its admin socket and returns the server's answer.
 * Throws ServerUnreachableError when no server answers there.
 */
export function runOnServer(dataFile: string, argv: string[], holderPid: number): Promise<AdminAnswer> {
  const socketPath = adminSocketPath(dataFile);
  const request: AdminRequest = { argv, data_file: dataFile };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.createConnection({ path: socketPath });
    socket.setTimeout(60_000, () => socket.destroy(new ServerUnreachableError(`The server (pid ${holderPid}) did not answer on ${socketPath} within 60 s. Look at its log; restart it if it is stuck.`, true)));
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) socket.destroy(new ServerUnreachableError(`The server's answer on ${socketPath} is larger than ${MAX_ANSWER_BYTES} bytes.`, true));
      else chunks.push(chunk);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof ServerUnreachableError) return reject(error);
      reject(unreachable(error, socketPath, dataFile, holderPid));
    });
    socket.on('end', () => {
      try {
        const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdminAnswer;
        if (typeof answer.stdout !== 'string' || typeof answer.stderr !== 'string' || !Number.isInteger(answer.exit_code)) throw new Error('bad answer');
        resolve(answer);
      } catch {
        reject(new ServerUnreachableError(`The server (pid ${holderPid}) closed ${socketPath} without a complete answer; it may be stopping. Run the command again; if it was a write, check with a list whether it was done.`, true));
      }
    });
  });
}

function unreachable(error: NodeJS.ErrnoException, socketPath: string, dataFile: string, pid: number): ServerUnreachableError {
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    let owner = '';
    try {
      owner = ` (uid ${fs.statSync(socketPath).uid})`;
    } catch {
      // gone meanwhile
    }
    return new ServerUnreachableError(
      `The server (pid ${pid}) holding ${dataFile} answers only its own user${owner} on ${socketPath}. Run this command as the user that runs the server, e.g. \`sudo -u <that user> npx qrflow …\`.`,
      true,
    );
  }
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
    return new ServerUnreachableError(
      `The data file ${dataFile} is held by process ${pid}, which does not answer on the admin socket ${socketPath}. ` +
        `If it is a qrflow server still starting, run this command again in a moment; if it is an older qrflow or a stuck process, stop it (\`kill ${pid}\`), run this command, then start the server again.`,
      false,
    );
  }
  if (error.code === 'EAGAIN') {
    return new ServerUnreachableError(`The server (pid ${pid}) is busy on ${socketPath}. Run this command again in a moment.`, true);
  }
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
    return new ServerUnreachableError(`The server (pid ${pid}) closed ${socketPath} without a complete answer; it may be stopping. Run the command again; if it was a write, check with a list whether it was done.`, true);
  }
  return new ServerUnreachableError(`Could not reach the server (pid ${pid}) on ${socketPath}: ${error.message}.`, true);
}
