import { AsyncLocalStorage } from 'node:async_hooks';
import type { Auth } from './auth/auth.js';

/** CoherentReads' state for one request (see store/coherent-reads.ts). */
export interface ReadScope {
  workspaceId?: string;
  /** Until `confirmed`, the generations the key was held at (tentative); then the generations seen in Redis. */
  generation?: string | undefined;
  confirmed?: boolean;
  /** Whether authentication took anything from memory (else it read it all from the database). */
  fromMemory?: boolean;
  /** Whether authentication read its key from the database without a generation to hold it at (first sight). */
  keyUntrusted?: boolean;
  /** The generations another Redis call of this request brought along (undefined value: that call failed). */
  observed?: { value: string | undefined };
}

/**
 * What one authenticated API request carries through its asynchronous work, from the authentication middleware
 * on: what its reads may take from memory, who it is, and what its one shared Redis call already settled.
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

const scopes = new AsyncLocalStorage<RequestScope>();
let enabled = false;

/**
 * Turns request scopes on in this process. They cost every promise a little (about a fifth of a small request's
 * time on the embedded store), so they run only where they pay: with Redis, where they save round trips.
 */
export function useRequestScopes(): void {
  enabled = true;
}

/**
 * Runs an API request's work in its scope (when scopes are on). Outside one (the redirect, background work, the
 * CLI, or a process without Redis) every read goes to the store and every limit makes its own Redis call.
 */
export function inRequestScope<T>(work: () => T): T {
  return enabled ? scopes.run({ reads: {} }, work) : work();
}

/** The current request's scope, if any. */
export function requestScope(): RequestScope | undefined {
  return scopes.getStore();
}
