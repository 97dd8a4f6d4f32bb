import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { behaviourOf, type ResponseHeaderName } from '../http/answers.js';
import type { AnyRoute } from '../http/route.js';
import { ErrorBody } from '../http/schemas.js';
import { ModeHeaders } from '../test-mode/mode.js';
import { headerRefs } from './headers.js';

/** `/api/v1/qr/:id` -> `/api/v1/qr/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

/** One documented status of an operation, gathered from every step that can answer it. */
export interface DocumentedStatus {
  status: number;
  whens: string[];
  codes: Set<string>;
  headers: Set<ResponseHeaderName>;
  /** The body's media types (an error status: the error model as JSON). */
  content?: Record<string, z.ZodType | undefined>;
}

/** The answers of the error handler that any route can reach (http/errors.ts). */
const UNEXPECTED = { when: 'An unexpected failure on the server (logged with the request id; no details are sent)', codes: ['internal_error'] };
const INVALID_CURSOR = { when: 'The cursor is not a `next_cursor` of this list', codes: ['invalid_cursor'] };
const NOT_FOUND = { when: 'The object in the path does not exist in this workspace (another workspace\'s objects answer 404 too)', codes: ['not_found'] };

/**
 * Every status an operation can answer, from the middleware chain the route really runs (each step's
 * describeMiddleware behaviour: its error answers, and the headers it sets on everything after it), then the route's
 * own answers, then the error handler's 500. Headers are declared on each status where they are sent.
 */
export function operationStatuses(route: AnyRoute, chain: readonly RequestHandler[]): Map<number, DocumentedStatus> {
  const statuses = new Map<number, DocumentedStatus>();
  const add = (status: number, when: string | undefined, codes: readonly string[], headers: readonly ResponseHeaderName[]) => {
    let entry = statuses.get(status);
    if (!entry) statuses.set(status, (entry = { status, whens: [], codes: new Set(), headers: new Set() }));
    if (when && !entry.whens.includes(when)) entry.whens.push(when);
    for (const code of codes) entry.codes.add(code);
    for (const header of headers) entry.headers.add(header);
    return entry;
  };
  const method = route.method.toUpperCase();
  const setSoFar: ResponseHeaderName[] = [];
  for (const step of chain) {
    const behaviour = behaviourOf(step);
    for (const answer of behaviour.answers ?? []) {
      if (answer.methods && !answer.methods.includes(method)) continue;
      add(answer.status, answer.when, answer.codes, [...setSoFar, ...(answer.headers ?? [])]);
    }
    setSoFar.push(...(behaviour.sets ?? []));
  }
  // the handler: a path with an id looks the object up in the caller's workspace; a cursor is decoded (http/cursor.ts)
  if (route.params) add(404, NOT_FOUND.when, NOT_FOUND.codes, setSoFar);
  if (route.query && 'cursor' in ((route.query as z.ZodObject).shape ?? {})) add(400, INVALID_CURSOR.when, INVALID_CURSOR.codes, setSoFar);
  for (const [key, response] of Object.entries(route.responses)) {
    const status = Number(key);
    const entry = add(status, response.description, response.codes ?? [], [...setSoFar, ...(response.headers ?? [])]);
    if (status < 400 && response.schema) entry.content = Object.fromEntries((response.contentTypes ?? [response.contentType ?? 'application/json']).map((type) => [type, response.schema]));
    else if (status < 400) entry.content = undefined;
  }
  add(500, UNEXPECTED.when, UNEXPECTED.codes, []);
  for (const entry of statuses.values()) if (entry.status >= 400) entry.content = { 'application/json': ErrorBody };
  return new Map([...statuses.entries()].sort(([a], [b]) => a - b));
}

/** `when; when. Codes: a, b.` */
function describeStatus(entry: DocumentedStatus): string {
  const text = entry.whens.map((when) => when.replace(/\.$/, '')).join('. ');
  if (entry.codes.size === 0) return text;
  return `${text}. \`error.code\`: ${[...entry.codes].map((code) => `\`${code}\``).join(', ')}.`;
}

/** Whether the server accepts the request without a body: the route parses a missing body as `{}` (http/mount.ts). */
export function bodyIsOptional(route: AnyRoute): boolean {
  return route.body !== undefined && route.body.safeParse({}).success;
}

/** Adds a route to the OpenAPI registry, with the statuses and headers its chain can produce. */
export function registerOperation(registry: OpenAPIRegistry, route: AnyRoute, chain: readonly RequestHandler[]): void {
  const responses: Record<string, unknown> = {};
  for (const entry of operationStatuses(route, chain).values()) {
    responses[String(entry.status)] = {
      description: describeStatus(entry),
      headers: headerRefs(entry.headers),
      ...(entry.content ? { content: Object.fromEntries(Object.entries(entry.content).map(([type, schema]) => [type, { schema }])) } : {}),
      ...(entry.codes.size > 0 ? { 'x-error-codes': [...entry.codes] } : {}),
    };
  }
  // sessions choose live or test data per request (see test-mode/mode.ts)
  const headers = route.auth === 'key_or_session' ? (route.headers ?? z.object({})).extend(ModeHeaders.shape) : route.headers;
  registry.registerPath({
    method: route.method,
    path: openApiPath(route.path),
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.security ? { security: route.security } : route.auth === 'none' ? { security: [] } : {}),
    ...(route.scope ? { 'x-required-scope': route.scope } : {}),
    request: {
      ...(route.params ? { params: route.params as z.ZodObject } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(headers ? { headers } : {}),
      ...(route.body ? { body: { content: { 'application/json': { schema: route.body } }, required: !bodyIsOptional(route) } } : {}),
      ...(route.rawBody
        ? { body: { description: route.rawBody.description, content: Object.fromEntries(route.rawBody.contentTypes.map((type) => [type, { schema: z.string().meta({ format: 'binary' }) }])), required: true } }
        : {}),
    },
    responses: responses as never,
  });
}
