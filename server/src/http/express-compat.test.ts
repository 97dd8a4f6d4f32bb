import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { adopt, ApiRequest, ApiResponse, routeTableListener, serverClasses } from './express-compat.js';

const app = express();
app.set('query parser', 'simple');

/** Answers with what Express's request methods saw, through Express's response methods. */
function listener(incoming: http.IncomingMessage, outgoing: http.ServerResponse): void {
  const { req, res } = adopt(app, incoming, outgoing);
  const own = Object.getPrototypeOf(req) === ApiRequest.prototype && Object.getPrototypeOf(res) === ApiResponse.prototype;
  res.set('X-Own-Classes', String(own));
  if (req.path === '/png') {
    res.type('png').send(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    return;
  }
  res.status(201).json({ path: req.path, query: req.query, agent: req.get('user-agent'), ip: req.ip, originalUrl: req.originalUrl, locals: typeof res.locals });
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(options: http.ServerOptions, handle: http.RequestListener = listener): Promise<string> {
  const server = http.createServer(options, handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Express methods without the prototype swap', () => {
  it('gives requests on a server created with serverClasses Express request and response methods, on their own classes', async () => {
    const base = await serve(serverClasses);
    const response = await fetch(`${base}/items/?a=1&b=two`, { headers: { 'User-Agent': 'compat-test' } });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-own-classes')).toBe('true');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ path: '/items/', query: { a: '1', b: 'two' }, agent: 'compat-test', ip: '127.0.0.1', originalUrl: '/items/?a=1&b=two', locals: 'object' });

    const png = await fetch(`${base}/png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer())).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  });

  it('falls back to Express prototypes on a plain node:http server, with the same answers', async () => {
    const [own, plain] = await Promise.all([serve(serverClasses), serve({})]);
    const ask = (base: string) => fetch(`${base}/x?q=1`, { headers: { 'User-Agent': 'same' } });
    const [a, b] = await Promise.all([ask(own), ask(plain)]);
    expect(b.headers.get('x-own-classes')).toBe('false');
    expect(b.status).toBe(a.status);
    expect(b.headers.get('content-length')).toBe(a.headers.get('content-length'));
    expect(await b.json()).toEqual(await a.json());
  });
});

describe('routeTableListener', () => {
  const fallback = express();
  fallback.use((_req, res) => {
    res.status(404).json({ from: 'express' });
  });
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const log: RequestHandler = (_req, res, next) => {
    res.setHeader('X-Logged', 'yes');
    next();
  };
  const dispatch: RequestHandler = (req, res, next) => {
    if (req.path === '/ok') res.json({ ok: true });
    else if (req.path === '/throws') throw new Error('thrown in a route');
    else if (req.path === '/passes') next(new Error('passed to next'));
    else if (req.path === '/half') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
      next(new Error('after the headers'));
    } else next();
  };
  const handled: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).json({ handled: error.message });
  };
  const broken: ErrorRequestHandler = () => {
    throw new Error('the error handler broke');
  };

  it('logs, answers from the route table, hands errors to the error handler and the rest to Express', async () => {
    const base = await serve(serverClasses, routeTableListener({ app: fallback, log, dispatch, handleError: handled, logger }));
    const ok = await fetch(`${base}/ok`);
    expect(ok.headers.get('x-logged')).toBe('yes');
    expect(await ok.json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/throws`)).json()).toEqual({ handled: 'thrown in a route' });
    expect(await (await fetch(`${base}/passes`)).json()).toEqual({ handled: 'passed to next' });
    const other = await fetch(`${base}/elsewhere`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ from: 'express' });
  });

  it('survives an error handler that throws: 500 with an empty body, or a closed socket once headers are out, and a log line', async () => {
    lines.length = 0;
    const base = await serve(serverClasses, routeTableListener({ app: fallback, log, dispatch, handleError: broken, logger }));
    const thrown = await fetch(`${base}/throws`);
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).toBe('');
    await expect(fetch(`${base}/half`).then((response) => response.text())).rejects.toThrow();
    expect((await fetch(`${base}/ok`)).status).toBe(200);
    const failures = lines.filter((line) => line.msg === 'error handler failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ err: { message: 'the error handler broke' }, original_err: { message: 'thrown in a route' } });
  });
});
