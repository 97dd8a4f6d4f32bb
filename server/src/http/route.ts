import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Role, Scope } from '../store/records.js';
import type { AuthMode } from '../auth/middleware.js';
import type { ResponseHeaderName } from './answers.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  /** Several media types with the same schema (e.g. an image as PNG, SVG, PDF or EPS); wins over contentType. */
  contentTypes?: readonly string[];
  /** The `error.code` values the handler itself answers with (error statuses). */
  codes?: readonly string[];
  /** Response headers the handler itself sets on this answer (middleware's headers are derived, see docs/headers.ts). */
  headers?: readonly ResponseHeaderName[];
}

/** A request body that is not JSON (e.g. an uploaded image), read by the route's own `before` middleware. */
export interface RawRequestBody {
  description: string;
  contentTypes: readonly string[];
}

/**
 * One API route: the single definition Express mounts and the OpenAPI document describes,
 * so docs, validation and the authorization table cannot drift apart.
 */
export interface Route<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: Method;
  /** Express-style path, e.g. `/api/v1/qr/:id`. */
  path: string;
  tag: string;
  summary: string;
  /** The OpenAPI operationId: camelCase, unique across the API. */
  operationId: string;
  description?: string;
  /** `none` for public routes; otherwise the kind of credential accepted. */
  auth: 'none' | AuthMode;
  scope?: Scope;
  roles?: readonly Role[];
  /** OpenAPI security requirements, when they differ from what `auth` implies (e.g. a key that is optional). */
  security?: Array<Record<string, string[]>>;
  query?: Q;
  body?: B;
  params?: P;
  headers?: z.ZodObject;
  /** For the OpenAPI document: a non-JSON body the route reads itself (`body` is for JSON). */
  rawBody?: RawRequestBody;
  responses: Record<number, RouteResponse>;
  /** Extra middleware run after authentication and the plan checks (e.g. image credits). */
  before?: RequestHandler[];
  handler: (req: Request, res: Response, input: { query: z.infer<Q>; body: z.infer<B>; params: z.infer<P> }) => unknown;
}

/** Helper that keeps each route's input types inferred from its schemas. */
export function defineRoute<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType>(route: Route<Q, B, P>): Route<Q, B, P> {
  return route;
}

export type AnyRoute = Route<z.ZodType, z.ZodType, z.ZodType>;
