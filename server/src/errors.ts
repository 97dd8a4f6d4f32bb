/** One entry per invalid field, as sent in `error.details`. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** Base of every error a service may throw; the error middleware maps `category` to an HTTP status. */
export abstract class AppError extends Error {
  abstract readonly category: ErrorCategory;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: string, message: string, options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export type ErrorCategory =
  | 'validation'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'gone'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limit'
  | 'unavailable'
  | 'method_not_allowed';

/** The one status table: every error category and its HTTP status. */
export const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  validation: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  rate_limit: 429,
  unavailable: 503,
};

export class ValidationError extends AppError {
  readonly category = 'validation' as const;
  constructor(message: string, details?: ErrorDetail[], code = 'validation_error') {
    super(code, message, { details });
  }
}

export class AuthenticationError extends AppError {
  readonly category = 'authentication' as const;
}

export class PermissionError extends AppError {
  readonly category = 'permission' as const;
}

export class NotFoundError extends AppError {
  readonly category = 'not_found' as const;
  constructor(what = 'resource', code = 'not_found') {
    super(code, `The ${what} was not found.`);
  }
}

/** A state-changing request on the session cookie without a same-origin Origin and a matching X-CSRF-Token. */
export class CsrfError extends PermissionError {
  constructor(message: string) {
    super('csrf_failed', message);
  }
}

export class GoneError extends AppError {
  readonly category = 'gone' as const;
}

export class ConflictError extends AppError {
  readonly category = 'conflict' as const;
}

export class PayloadTooLargeError extends AppError {
  readonly category = 'payload_too_large' as const;
}

/** A body in a media type the route does not take (e.g. a logo that is neither PNG nor SVG). */
export class UnsupportedMediaTypeError extends AppError {
  readonly category = 'unsupported_media_type' as const;
}

export class RateLimitError extends AppError {
  readonly category = 'rate_limit' as const;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

/** The Retry-After (s) of a 503 `database_unavailable`: about how long a PostgreSQL restart or failover takes. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

export class UnavailableError extends AppError {
  readonly category = 'unavailable' as const;
}

/** A path that exists, asked with a method it does not take; `Allow` lists the ones it does. */
export class MethodNotAllowedError extends AppError {
  readonly category = 'method_not_allowed' as const;
  constructor(method: string, path: string, allowed: readonly string[]) {
    super('method_not_allowed', `${path} does not take ${method}; it takes ${allowed.join(', ')}.`, { headers: { Allow: allowed.join(', ') } });
  }
}

/** The HTTP status of an AppError. */
export function statusOf(error: AppError): number {
  return STATUS_BY_CATEGORY[error.category];
}
