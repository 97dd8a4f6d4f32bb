import http from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import pino, { type Logger } from 'pino';

/**
 * Express's `res.json` looks up three settings the API never sets (replacer, spaces, escape), negotiates the charset
 * of a type it has just set, and checks ETag freshness with ETags off: ~4% of an API request. This one writes the
 * same bytes and headers.
 */
export function fastJson(this: Response, body: unknown): Response {
  return sendJsonText(this, JSON.stringify(body) ?? '');
}

/** Sends JSON text made beforehand, with the headers `fastJson` sends. */
export function sendJsonText(res: Response, text: string): Response {
  if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
  return res;
}

/**
 * The request and response classes the server is created with. They carry Express's request and response methods
 * from birth, so a request the route table answers never has its prototype swapped. Express swaps it on every
 * request (`Object.setPrototypeOf(req, app.request)`), and that swap alone takes node:http from ~53k to ~12k
 * small JSON answers a second on this machine: V8 stops optimising every later property access on the object.
 *
 * They are function constructors, not `class … extends`: a class deriving from node's function constructors cost
 * the bare node:http redirect ~25% of its rate (measured: ~66k → ~49k a second), these cost nothing measurable.
 */
export const ApiRequest = function ApiRequest(this: http.IncomingMessage, socket: Socket) {
  http.IncomingMessage.call(this, socket);
} as unknown as typeof http.IncomingMessage;

export const ApiResponse = function ApiResponse(this: http.ServerResponse, req: http.IncomingMessage, options?: http.ServerOptions) {
  (http.ServerResponse as unknown as (this: http.ServerResponse, req: http.IncomingMessage, options?: http.ServerOptions) => void).call(this, req, options);
} as unknown as typeof http.ServerResponse;

for (const [subclass, base, methods] of [
  [ApiRequest, http.IncomingMessage, express.request],
  [ApiResponse, http.ServerResponse, express.response],
] as const) {
  Object.setPrototypeOf(subclass.prototype, base.prototype);
  Object.setPrototypeOf(subclass, base);
  Object.defineProperties(subclass.prototype, Object.getOwnPropertyDescriptors(methods));
}
Object.defineProperty(ApiResponse.prototype, 'json', { value: fastJson, writable: true, configurable: true });

/** For `http.createServer(serverClasses, listener)`. */
export const serverClasses = { IncomingMessage: ApiRequest, ServerResponse: ApiResponse } as const satisfies http.ServerOptions;

/**
 * Does what Express's `app.handle` and router do to a request before the first middleware (circular references,
 * `app`, `locals`, `originalUrl`, `baseUrl`), so Express's methods work on it. A request from a server created
 * without `serverClasses` gets Express's prototypes instead, the slow but equivalent way.
 */
export function adopt(app: Express, incoming: http.IncomingMessage, outgoing: http.ServerResponse): { req: Request; res: Response } {
  if (!(incoming instanceof ApiRequest)) Object.setPrototypeOf(incoming, app.request);
  if (!(outgoing instanceof ApiResponse)) Object.setPrototypeOf(outgoing, app.response);
  const req = incoming as Request;
  const res = outgoing as Response;
  req.app = app;
  res.app = app;
  req.res = res;
  res.req = req;
  res.locals = Object.create(null) as Record<string, unknown>;
  req.originalUrl = req.url;
  req.baseUrl = '';
  return { req, res };
}

export interface RouteTableParts {
  /** Answers what `dispatch` does not match (docs, 404). */
  app: Express;
  /** The request log; runs first on every request. */
  log: RequestHandler;
  /** The route table: answers, or calls `next()` when no route matches, or `next(error)`. */
  dispatch: RequestHandler;
  /** The same error handler the Express app ends with. */
  handleError: ErrorRequestHandler;
  logger: Logger;
}

/**
 * A node:http listener that runs the request log and the route table on Express's terms without Express's router:
 * a thrown or passed error goes to the error handler, no match goes on to the Express app. If the error handler
 * itself throws, it does what Express's finalhandler does: logs, answers 500 (or closes the socket when the
 * headers are out), and never takes the process down.
 */
export function routeTableListener(parts: RouteTableParts): (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => void {
  const { app, log, dispatch } = parts;
  return (incoming, outgoing) => {
    const { req, res } = adopt(app, incoming, outgoing);
    log(req, res, ignore);
    try {
      dispatch(req, res, (error?: unknown) => {
        if (error !== undefined && error !== null) fail(parts, req, res, error);
        else app(req, res);
      });
    } catch (error) {
      fail(parts, req, res, error);
    }
  };
}

// top level, not closures made per request: under tsx (esbuild's keepNames) each named closure made is also renamed
function ignore(): undefined {
  return undefined;
}

function fail({ handleError, logger }: RouteTableParts, req: Request, res: Response, error: unknown): void {
  try {
    handleError(error, req, res, ignore);
  } catch (failure) {
    logger.error({ err: failure, original_err: error instanceof Error ? pino.stdSerializers.err(error) : error, request_id: req.requestId }, 'error handler failed');
    if (res.headersSent) res.destroy();
    else res.status(500).end();
  }
}
