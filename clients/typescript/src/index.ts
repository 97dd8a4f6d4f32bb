/**
 * @qrflow/client: a typed client for qrflow's REST API. The types (schema.d.ts) are generated from the server's
 * OpenAPI document; requests go through openapi-fetch, so every path, parameter, body and answer is checked by
 * TypeScript. Three helpers on top: an authenticated client, paging through cursor-paged lists, and retrying 429s
 * after Retry-After.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
export type QrflowClient = Client<paths>;
/** The error model every 4xx and 5xx of the API answers with. */
export type ErrorBody = components['schemas']['Error'];
export type QrCode = components['schemas']['QrCode'];

export interface QrflowClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The server's URL, e.g. `https://qr.example.com` (no `/api/v1`). */
  baseUrl: string;
  /** An API key (`qr_live_…` or `qr_test_…`), or a `qrs_` session token for the management endpoints. */
  apiKey: string;
}

/** A client whose every request carries `Authorization: Bearer <apiKey>`. */
export function createQrflowClient({ baseUrl, apiKey, headers, ...rest }: QrflowClientOptions): QrflowClient {
  if (!apiKey || apiKey.trim() === '') throw new TypeError('createQrflowClient needs an apiKey (qr_live_…, qr_test_… or a qrs_ session token).');
  return createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, ''), headers: { ...headers, Authorization: `Bearer ${apiKey}` } });
}

/** An answer of the API in the error model, thrown by the helpers below. */
export class QrflowError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: ErrorBody['error']['details'];
  /** Seconds from Retry-After (429, 503), when sent. */
  readonly retryAfter: number | undefined;

  constructor(response: Response, body: unknown) {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    super(error?.message ?? `HTTP ${response.status}`);
    this.name = 'QrflowError';
    this.status = response.status;
    this.code = error?.code ?? 'http_error';
    this.requestId = (body as Partial<ErrorBody> | undefined)?.request_id ?? response.headers.get('x-request-id') ?? undefined;
    this.details = error?.details;
    this.retryAfter = retryAfterSeconds(response);
  }
}

/** Retry-After in seconds (the API sends whole seconds; an HTTP date is accepted too), or undefined. */
export function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** What openapi-fetch's methods resolve to. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or a thrown QrflowError. */
export function unwrap<T>(answer: Answer<T>): T {
  if (answer.error !== undefined || answer.data === undefined) throw new QrflowError(answer.response, answer.error);
  return answer.data;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Longest wait accepted, in seconds; a longer Retry-After (e.g. the monthly allowance) is not waited for (default 60). */
  maxWaitSeconds?: number;
  /** How to wait (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Calls `request` and, while it answers 429 with a Retry-After no longer than `maxWaitSeconds`, waits that long and
 * calls it again. Returns the last answer: a 429 that was not retried is the caller's to handle (its `error.code`
 * says which limit: `rate_limited` for the minute, `monthly_quota_exceeded` for the month).
 */
export async function withRetry<A extends Answer<unknown>>(request: () => Promise<A>, options: RetryOptions = {}): Promise<A> {
  const { retries = 3, maxWaitSeconds = 60, sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  for (let attempt = 0; ; attempt++) {
    const answer = await request();
    if (answer.response.status !== 429 || attempt >= retries) return answer;
    const wait = retryAfterSeconds(answer.response);
    if (wait === undefined || wait > maxWaitSeconds) return answer;
    await sleep(wait * 1000);
  }
}

/** A cursor-paged answer: `{ data: T[], pagination: { has_more, next_cursor } }`. */
interface Page<T> {
  data: T[];
  pagination: { has_more: boolean; next_cursor: string | null };
}

/**
 * Every item of a cursor-paged list, page after page: `fetchPage(cursor)` asks for one page (`cursor` is undefined
 * for the first). Throws QrflowError on an error answer.
 *
 *     for await (const code of paginate((cursor) => qrflow.GET('/api/v1/qr', { params: { query: { limit: 100, cursor } } }))) { … }
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Answer<Page<T>>>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = unwrap(await fetchPage(cursor));
    yield* page.data;
    cursor = page.pagination.has_more && page.pagination.next_cursor ? page.pagination.next_cursor : undefined;
  } while (cursor !== undefined);
}
