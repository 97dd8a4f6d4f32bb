import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { authenticate, requireRole, requireScope, type Authenticator } from '../auth/middleware.js';
import { parse } from '../validation.js';
import { ErrorBody } from './schemas.js';
import type { AnyRoute } from './route.js';

/** `/api/v1/qr/:id` -> `/api/v1/qr/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Invalid request (one `details` entry per bad field)',
  401: 'Missing, malformed, unknown, paused, revoked or expired credentials',
  403: 'Plan without API access, inactive subscription, missing scope or role',
  404: 'Not found (including objects of other workspaces)',
  429: 'Per-minute rate limit or monthly allowance exceeded (see Retry-After)',
};

export interface MountOptions {
  authenticator: Authenticator;
  /** Middleware for every authenticated route, after authentication: rate limits, monthly allowance, usage. */
  afterAuth: RequestHandler[];
}

/** Mounts each route on the router and describes it in the OpenAPI registry. */
export function mountRoutes(router: Router, registry: OpenAPIRegistry, routes: readonly AnyRoute[], options: MountOptions): void {
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.auth !== 'none') {
      chain.push(authenticate(options.authenticator, route.auth), ...options.afterAuth);
      if (route.scope) chain.push(requireScope(route.scope));
      if (route.roles) chain.push(requireRole(...route.roles));
    }
    if (route.before) chain.push(...route.before);
    chain.push(async (req: Request, res: Response) => {
      const input = {
        params: route.params ? parse(route.params, req.params, 'path') : req.params,
        query: route.query ? parse(route.query, req.query, 'query string') : req.query,
        body: route.body ? parse(route.body, req.body ?? {}, 'request body') : undefined,
      };
      await route.handler(req, res, input as never);
    });
    router[route.method](route.path, ...chain);

    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } } : {}),
      };
    }
    const errorStatuses = route.auth === 'none' ? [400, 404] : [400, 401, 403, 404, 429];
    for (const status of errorStatuses) {
      responses[String(status)] ??= { description: STANDARD_ERRORS[status] as string, content: { 'application/json': { schema: ErrorBody } } };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.security ? { security: route.security } : route.auth === 'none' ? { security: [] } : {}),
      ...(route.scope ? { 'x-required-scope': route.scope } : {}),
      request: {
        ...(route.params ? { params: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.body ? { body: { content: { 'application/json': { schema: route.body } }, required: true } } : {}),
      },
      responses: responses as never,
    });
  }
}

export { z };
