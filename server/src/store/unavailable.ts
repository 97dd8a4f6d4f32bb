/**
 * The storage cannot be reached (PostgreSQL down, a connection cut, a pool or query timeout). A read failed; a
 * write was not applied, unless the cut came while its COMMIT was on the wire (a retry with the same
 * Idempotency-Key is then safe). HTTP answers it with 503 `database_unavailable` and Retry-After;
 * the embedded store never throws it. The cause stays on the error for logs, never in a response.
 */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`The database is unavailable (${reason})`, options);
    this.name = 'StoreUnavailableError';
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}
