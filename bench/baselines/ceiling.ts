// Baseline for S7's redirect (bench/ceiling.ts): bare node:http answering every request with the status and headers
// qrflow's redirect sent, after CEILING_WORK_US microseconds of CPU work, in one process or, with CEILING_WORKERS=N,
// in N node:cluster workers on one port. No store, no scans: what two processes of a server that costs as much CPU a
// request as qrflow can reach on this machine under the same load generator.
import cluster from 'node:cluster';
import http from 'node:http';
import { listen } from './listen.js';

const workers = Number(process.env.CEILING_WORKERS ?? 1);

/** A fixed amount of arithmetic (not a spin on the clock, so a process preempted meanwhile still does all of it). */
function work(iterations: number): number {
  let x = 0x9e3779b9;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** Iterations of `work` a microsecond, measured on this process once it has warmed up. */
function iterationsPerMicrosecond(): number {
  work(2_000_000);
  const iterations = 20_000_000;
  const started = process.hrtime.bigint();
  sink ^= work(iterations);
  return iterations / (Number(process.hrtime.bigint() - started) / 1000);
}

let sink = 0;

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const status = Number(process.env.CEILING_STATUS ?? 302);
  const headers = JSON.parse(process.env.CEILING_HEADERS ?? '{"location":"https://example.com/","content-length":"0"}') as Record<string, string>;
  const iterations = Math.round(Number(process.env.CEILING_WORK_US ?? 0) * iterationsPerMicrosecond());
  listen(
    http.createServer((_req, res) => {
      sink ^= work(iterations);
      res.writeHead(status, headers);
      res.end();
    }),
  );
}
