import type { Auth } from './auth/auth.js';
import type { ReadScope } from './store/store.js';

export type { ReadScope };

/**
 * What one authenticated API request carries from the authentication middleware on: what its reads may take
 * from memory, who it is, and what its one shared Redis call already settled.
 */
export interface RequestScope {
  reads: ReadScope;
  auth?: Auth;
  /**
   * The month's API call, when the per-minute limiter's Redis call took it along (UsageMeter.minuteTurn): the
   * count after taking it, or -1 when the allowance was used up.
   */
  allowance?: { used: number };
}

let enabled = false;

/**
 * Turns request scopes on in this process: only with Redis, where they save round trips (without it every read
 * goes to the store, and a scope would be carried for nothing).
 */
export function useRequestScopes(): void {
  enabled = true;
}

/**
 * A new authenticated request's scope (when scopes are on), carried explicitly as `req.scope`: to the reads that
 * may answer from memory, to the per-minute limiter's Redis call and to the monthly meter. Not an
 * AsyncLocalStorage: in this Node its hooks cost every promise and every nextTick of the process, the redirect's
 * included, a sixth of a worker's time.
 */
export function newRequestScope(): RequestScope | undefined {
  return enabled ? { reads: {} } : undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's scope, from authentication on, when scopes are on (see newRequestScope). */
    scope?: RequestScope;
  }
}
