import type {
  AfterResponseMiddleware,
  BeforeRequestMiddleware,
  HttpResponse,
  RawHttpResponse,
  ZObject,
} from 'zapier-platform-core';

import { normalizeBaseUrl } from './common/api.js';

interface ServerError {
  code: string;
  message: string;
  details?: { field: string; message: string }[];
  requestId?: string;
}

/** Adds the API key, but only to requests bound for the connected qrflow server. */
export const addBearerToken: BeforeRequestMiddleware = (request, _z, bundle) => {
  const apiKey = bundle.authData?.api_key;
  const baseUrl = bundle.authData?.base_url;
  if (apiKey && baseUrl && isForServer(request.url, baseUrl)) {
    request.headers = { ...request.headers, Authorization: `Bearer ${apiKey}` };
  }
  request.headers = { Accept: 'application/json', ...request.headers };
  return request;
};

function isForServer(url: string, baseUrl: string): boolean {
  try {
    return url.startsWith(`${normalizeBaseUrl(baseUrl)}/`);
  } catch {
    return false;
  }
}

/**
 * Turns qrflow's error JSON into the Zapier error that tells the user what to do. The app sets
 * `throwForThrottlingEarly: false`, so 429s reach this function instead of core's generic ThrottledError.
 */
export const mapServerErrors: AfterResponseMiddleware = async (response, z) => {
  if (response.status < 400) return response;
  // Searches ask for 404s so they can answer "nothing found"; every other failure is still mapped.
  if (response.status === 404 && response.skipThrowForStatus) return response;

  const error = await readServerError(response);
  // The request ID goes last: it is what qrflow support asks for, not what the user acts on.
  const withReference = (text: string) => (error.requestId ? `${text} (request ${error.requestId})` : text);

  switch (response.status) {
    case 400:
      throw new z.errors.Error(withReference(invalidFieldsMessage(error)), error.code, 400);
    case 401:
      throw new z.errors.ExpiredAuthError(withReference(`${error.message} ${reconnectHint(error.code)}`));
    case 403:
      throw new z.errors.Error(withReference(`${error.message} ${forbiddenHint(error.code)}`.trim()), error.code, 403);
    case 404:
      throw new z.errors.Error(withReference(`${error.message} ${notFoundHint(response.request.url)}`.trim()), error.code, 404);
    case 409:
      throw new z.errors.Error(withReference(`${error.message} ${conflictHint(error.code)}`.trim()), error.code, 409);
    case 429:
      return throwForTooManyRequests(z, response, error, withReference);
    default:
      throw new z.errors.Error(withReference(error.message), error.code, response.status);
  }
};

function throwForTooManyRequests(
  z: ZObject,
  response: HttpResponse | RawHttpResponse,
  error: ServerError,
  withReference: (text: string) => string,
): never {
  const retryAfter = retryAfterSeconds(response);
  if (error.code === 'monthly_quota_exceeded' || error.code === 'image_credits_exhausted') {
    const resetsAt =
      retryAfter === undefined ? 'at the start of next month (UTC)' : `at ${new Date(Date.now() + retryAfter * 1000).toISOString()}`;
    throw new z.errors.HaltedError(
      withReference(
        `${error.message} The monthly allowance resets ${resetsAt}; retrying before then will not help. ` +
          'Upgrade the qrflow plan to continue now.',
      ),
    );
  }
  // rate_limited and any other 429: wait as long as the server asks, then Zapier retries the step.
  throw new z.errors.ThrottledError(withReference(error.message), retryAfter ?? 60);
}

function retryAfterSeconds(response: HttpResponse | RawHttpResponse): number | undefined {
  const header = response.getHeader('retry-after');
  if (!header) return undefined;
  const seconds = Number.parseInt(header, 10);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function readServerError(response: HttpResponse | RawHttpResponse): Promise<ServerError> {
  let text = '';
  try {
    text = response.request.raw ? await (response as RawHttpResponse).text() : (response as HttpResponse).content;
  } catch {
    text = '';
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const envelope = body as { error?: Partial<ServerError>; request_id?: string } | undefined;
  const requestId = envelope?.request_id ?? response.getHeader('x-request-id') ?? undefined;
  if (envelope?.error && typeof envelope.error.message === 'string') {
    return {
      code: envelope.error.code ?? `http_${response.status}`,
      message: envelope.error.message,
      details: Array.isArray(envelope.error.details) ? envelope.error.details : undefined,
      requestId,
    };
  }
  return { code: `http_${response.status}`, message: `The qrflow server answered HTTP ${response.status}.`, requestId };
}

function invalidFieldsMessage(error: ServerError): string {
  if (!error.details?.length) return error.message;
  const fields = error.details.map((detail) => `${detail.field || '(body)'}: ${detail.message}`).join('; ');
  return `qrflow rejected the input. Invalid fields: ${fields}`;
}

function reconnectHint(code: string): string {
  if (code === 'api_key_paused') {
    return 'The API key is paused: resume it in qrflow (API Settings, or `npx qrflow keys resume`), then retry.';
  }
  return 'Reconnect your qrflow account in Zapier with a valid API key (create one in API Settings or with `npx qrflow keys create`).';
}

function notFoundHint(url: string | undefined): string {
  if (/\/api\/v1\/qr\/[^/?]+/.test(url ?? '')) return 'Check that the QR code still exists in this qrflow workspace.';
  if (/\/api\/v1\/webhooks\/[^/?]+/.test(url ?? '')) return 'The webhook no longer exists in qrflow; turn the Zap off and on to subscribe again.';
  return '';
}

function conflictHint(code: string): string {
  return code === 'idempotency_conflict'
    ? 'The Idempotency Key was already used for a different QR code in the last 24 hours: map a value unique to each trigger item, or leave it empty.'
    : '';
}

function forbiddenHint(code: string): string {
  switch (code) {
    case 'plan_upgrade_required':
      return 'Your qrflow plan does not include this feature: upgrade the workspace plan, then retry.';
    case 'subscription_inactive':
      return 'The qrflow subscription for this workspace is not active: renew it in billing, then retry.';
    case 'insufficient_scope':
      return 'The connected API key lacks a scope this step needs: reconnect with a key that has qr:read, qr:write, analytics:read and webhooks:write.';
    case 'qr_limit_reached':
      return 'The workspace has as many QR codes as its plan allows: delete unused codes or upgrade the plan.';
    default:
      return '';
  }
}

export const befores = [addBearerToken];
export const afters = [mapServerErrors];
