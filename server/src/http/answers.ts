import type { RequestHandler } from 'express';

/** Every response header the API sends on purpose; docs/headers.ts describes each one. */
export const RESPONSE_HEADERS = [
  'X-Request-Id',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'ETag',
  'Cache-Control',
  'Content-Disposition',
  'QR-Preview',
  'Idempotent-Replayed',
  'Set-Cookie',
  'Location',
  'Vary',
  'X-Content-Type-Options',
  'Content-Security-Policy',
  'X-Robots-Tag',
] as const;
export type ResponseHeaderName = (typeof RESPONSE_HEADERS)[number];

/** One error answer a middleware can give instead of passing the request on. */
export interface Answer {
  status: number;
  /** The `error.code` values it answers with. */
  codes: readonly string[];
  /** When, in a few words (goes into the OpenAPI description). */
  when: string;
  /** Headers sent with this answer (besides those of earlier middleware). */
  headers?: readonly ResponseHeaderName[];
  /** Only for these HTTP methods (upper case); all when absent. */
  methods?: readonly string[];
}

/** What a middleware is known to do to a response: answer early with errors, or set headers on what passes. */
export interface Behaviour {
  answers?: readonly Answer[];
  /** Headers set on every response that passes through it (and on its own answers). */
  sets?: readonly ResponseHeaderName[];
}

const BEHAVIOUR = Symbol('qrflow.behaviour');
type Described = RequestHandler & { [BEHAVIOUR]?: Behaviour };

/**
 * Attaches to a middleware what it can answer, beside its code, so the OpenAPI document lists each route's statuses
 * from the middleware the route really runs (http/mount.ts hands each route's chain to docs/operations.ts).
 */
export function describeMiddleware<H extends RequestHandler>(handler: H, behaviour: Behaviour): H {
  const previous = (handler as Described)[BEHAVIOUR];
  (handler as Described)[BEHAVIOUR] = {
    answers: [...(previous?.answers ?? []), ...(behaviour.answers ?? [])],
    sets: [...(previous?.sets ?? []), ...(behaviour.sets ?? [])],
  };
  return handler;
}

/** The behaviour attached by describeMiddleware, or none. */
export function behaviourOf(handler: RequestHandler): Behaviour {
  return (handler as Described)[BEHAVIOUR] ?? {};
}

/** The rate-limit answer of the per-minute limiters and the allowances: 429 with Retry-After. */
export function tooManyRequests(codes: readonly string[], when: string, rateLimitHeaders = true): Answer {
  return { status: 429, codes, when, headers: rateLimitHeaders ? ['Retry-After', 'RateLimit', 'RateLimit-Policy'] : ['Retry-After'] };
}
