import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { adopt, ApiRequest, ApiResponse, serverClasses } from './express-compat.js';

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

async function serve(options: http.ServerOptions): Promise<string> {
  const server = http.createServer(options, listener);
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
