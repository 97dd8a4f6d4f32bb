import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const PATH = /^\/__diagnostics\/eventloop(?:\?(.*))?$/;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `GET /__diagnostics/eventloop[?reset=1]`: event-loop delay percentiles (ms) since the last reset, and the answering
 * process's pid (so a benchmark can tell which of QRFLOW_WORKERS processes a keep-alive connection reached). Only built when QRFLOW_DIAGNOSTICS=true, and only answers clients on the loopback interface;
 * anything else falls through (returns false) to the normal routes, which answer 404.
 */
export function eventLoopDiagnostics(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith('/__diagnostics/')) return false;
    const match = PATH.exec(url);
    if (!match || req.method !== 'GET' || !LOOPBACK.has(req.socket.remoteAddress ?? '')) return false;
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const body = JSON.stringify({
      pid: process.pid,
      count: histogram.count,
      min_ms: histogram.count > 0 ? ms(histogram.min) : null,
      mean_ms: ms(histogram.mean),
      p50_ms: ms(histogram.percentile(50)),
      p99_ms: ms(histogram.percentile(99)),
      max_ms: ms(histogram.max),
    });
    if (new URLSearchParams(match[1] ?? '').get('reset') === '1') histogram.reset();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
}
