import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { authenticate, requireRole, requireScope, type Authenticator } from '../auth/middleware.js';
import { MethodNotAllowedError, ValidationError } from '../errors.js';
import { parse } from '../validation.js';
import type { AnyRoute } from './route.js';
import { describeMiddleware, type Answer } from './answers.js';
import { openApiPath, registerOperation } from '../docs/operations.js';

export { openApiPath };

/**
 * Runs middleware in order as one Express handler, with Express 5's rules (a throw or a rejected promise goes to
 * the error handler), so a route's six steps cost one router layer instead of six.
 */
export function compose(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, done) => {
    const run: Run = { handlers, index: 0, req, res, done, next: undefined as unknown as (error?: unknown) => void };
    run.next = stepOf(run);
    run.next();
  };
}

interface Run {
  handlers: readonly RequestHandler[];
  index: number;
  req: Request;
  res: Response;
  done: (error?: unknown) => void;
  next: (error?: unknown) => void;
}

/**
 * A request's `next`: returned, not declared, so that it has no name to keep (under tsx, esbuild's keepNames renames
 * every named closure as it is made, which costs a request ~1 %).
 */
function stepOf(run: Run): (error?: unknown) => void {
  return (error) => {
    if (error !== undefined && error !== null) {
      run.done(error);
      return;
    }
    const handler = run.handlers[run.index++];
    if (!handler) {
      run.done();
      return;
    }
    try {
      const result: unknown = handler(run.req, run.res, run.next);
      if (result instanceof Promise) result.catch((rejected: unknown) => run.done(rejected ?? new Error('Rejected promise')));
    } catch (thrown) {
      run.done(thrown);
    }
  };
}

export interface MountOptions {
  authenticator: Authenticator;
  /** Middleware for every authenticated route, after authentication: rate limits, monthly allowance, usage. */
  afterAuth: RequestHandler[];
  /** Parses JSON bodies; runs first on routes that take a body, and only on those. */
  bodyParser: RequestHandler;
  /** Right after authentication: the CSRF checks for state changes made with the console's session cookie. */
  csrf?: RequestHandler;
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RequestHandler;
}

/** `/api/v1/qr/:id` -> a regexp with Express 5's defaults: case-insensitive, optional trailing slash, `[^/]+` params. */
function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}/?$`, 'i'), names };
}

/** The 400s of the input step: the schemas (and the path's percent-encoding, which the dispatcher decodes first). */
function validationAnswers(route: AnyRoute): Answer[] {
  const inputs = [route.params && 'path', route.query && 'query string', route.body && 'body'].filter(Boolean);
  if (inputs.length === 0) return [];
  return [{ status: 400, codes: route.params ? ['validation_error', 'invalid_path'] : ['validation_error'], when: `The ${inputs.join(', ')} does not match the schema (one \`details\` entry per bad field)` }];
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ValidationError(`The path segment "${value.slice(0, 100)}" is not valid percent-encoding.`, undefined, 'invalid_path');
  }
}

/**
 * Compiles the route table into one dispatcher with Express's middleware signature and describes each route in the
 * OpenAPI registry. It matches method and path itself (the table is ours, and a linear walk of Express's router
 * through ~40 routes, each a layer, cost a tenth of an API request), then runs the route's steps as one composed
 * handler; `next()` means no route matched. HEAD is served by GET; OPTIONS answers 204 with `Allow`; a known path
 * with another method answers 405 with `Allow`.
 */
export function mountRoutes(registry: OpenAPIRegistry, routes: readonly AnyRoute[], options: MountOptions): RequestHandler {
  const compiled: CompiledRoute[] = [];
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.body) chain.push(options.bodyParser);
    if (route.auth !== 'none') {
      chain.push(authenticate(options.authenticator, route.auth));
      if (options.csrf) chain.push(options.csrf);
      chain.push(...options.afterAuth);
      if (route.scope) chain.push(requireScope(route.scope));
      if (route.roles) chain.push(requireRole(...route.roles));
    }
    if (route.before) chain.push(...route.before);
    chain.push(
      describeMiddleware(
        async (req: Request, res: Response) => {
          const input = {
            params: route.params ? parse(route.params, req.params, 'path') : req.params,
            query: route.query ? parse(route.query, req.query, 'query string') : req.query,
            body: route.body ? parse(route.body, req.body ?? {}, 'request body') : undefined,
          };
          await route.handler(req, res, input as never);
        },
        { answers: validationAnswers(route) },
      ),
    );
    compiled.push({ method: route.method.toUpperCase(), ...compilePath(route.path), handler: compose(chain) });
    registerOperation(registry, route, chain);
  }

  return (req, res, next) => {
    const path = req.path;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let allowed: string[] | undefined;
    for (const route of compiled) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (route.method !== method) {
        (allowed ??= []).push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < route.names.length; i++) params[route.names[i] as string] = decodeParam(match[i + 1] as string);
      req.params = params;
      route.handler(req, res, next);
      return;
    }
    if (!allowed) return next();
    if (allowed.includes('GET')) allowed.push('HEAD');
    allowed.sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allowed.join(', '));
      res.status(204).end();
      return;
    }
    throw new MethodNotAllowedError(req.method, path, allowed);
  };
}

export { z };
