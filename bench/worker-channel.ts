import http from 'node:http';
import type { Socket } from 'node:net';

export interface ChannelAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The connection it came over (a new one may have reached another worker). */
  socket: Socket;
}

/**
 * One keep-alive connection to one of the QRFLOW_WORKERS processes sharing a port. node:cluster hands each new
 * connection to a worker of its choosing, so a channel opens connections until one reaches the wanted worker (its
 * pid, read from /__diagnostics/eventloop) and then sends everything over that connection. Answers over any other
 * connection (the server closed the idle one, and the agent opened another) are refused, so a figure is never
 * credited to the wrong worker.
 */
export class WorkerChannel {
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private verified: Socket | undefined;

  private constructor(
    private readonly baseUrl: string,
    readonly pid: number,
  ) {}

  /** Opens a channel to each of `count` distinct workers behind `baseUrl`. */
  static async open(baseUrl: string, count: number, timeoutMs = 60_000): Promise<WorkerChannel[]> {
    const channels = new Map<number, WorkerChannel>();
    const deadline = Date.now() + timeoutMs;
    while (channels.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${channels.size} of ${count} worker processes answered on ${baseUrl} within ${timeoutMs} ms`);
      const channel = new WorkerChannel(baseUrl, 0);
      const answer = await channel.send('GET', '/__diagnostics/eventloop').catch(() => undefined);
      const pid = answer?.status === 200 ? (JSON.parse(answer.body) as { pid?: number }).pid : undefined;
      if (!answer || typeof pid !== 'number' || channels.has(pid)) {
        channel.close();
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const bound = new WorkerChannel(baseUrl, pid);
      bound.agent = channel.agent;
      bound.verified = answer.socket;
      channels.set(pid, bound);
    }
    return [...channels.values()];
  }

  /** Sends one request over the channel's connection; throws if it went over another connection. */
  async request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<ChannelAnswer> {
    const answer = await this.send(method, path, headers, body);
    if (answer.socket !== this.verified) throw new ChannelLostError(`the connection to worker ${this.pid} was replaced`);
    return answer;
  }

  /** Re-binds to the same worker after its connection closed (new connections until one reaches it). */
  async reconnect(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.agent.destroy();
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const answer = await this.send('GET', '/__diagnostics/eventloop');
      if ((JSON.parse(answer.body) as { pid?: number }).pid === this.pid) {
        this.verified = answer.socket;
        return;
      }
      if (Date.now() > deadline) throw new Error(`worker ${this.pid} could not be reached again within ${timeoutMs} ms`);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<ChannelAnswer> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.baseUrl}${path}`, { method, agent: this.agent, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) }, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket as Socket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(body);
    });
  }
}

export class ChannelLostError extends Error {}
