import type { TestServer } from './server.js';

/** One cookie from a Set-Cookie header: its value and its attributes (lower-cased names). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';');
  const index = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of rest) {
    const [name = '', ...value] = part.trim().split('=');
    attributes[name.toLowerCase()] = value.length ? value.join('=') : true;
  }
  return { name: pair.slice(0, index).trim(), value: decodeURIComponent(pair.slice(index + 1).trim()), attributes };
}

/**
 * What a browser on the console's page does with cookies and the CSRF token, for tests over HTTP: keeps the cookies
 * it is sent, sends them back with the page's Origin, and remembers the last CSRF token it got.
 */
export class ConsoleBrowser {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;
  /** The Origin the page's requests carry; the server's own unless a test changes it. */
  origin: string;

  constructor(private readonly server: TestServer) {
    this.origin = new URL(server.baseUrl).origin;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
  }

  /** A request as the console sends it; `csrf: false` leaves the token out, `origin: null` leaves Origin out. */
  async request(method: string, urlPath: string, options: { body?: unknown; csrf?: boolean | string; origin?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    const origin = options.origin === undefined ? this.origin : options.origin;
    if (origin !== null && method !== 'GET' && method !== 'HEAD') headers.origin = origin;
    const csrf = options.csrf === undefined || options.csrf === true ? this.csrfToken : options.csrf === false ? undefined : options.csrf;
    if (csrf && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrf;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.server.baseUrl}${urlPath}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      // the server's clock may be a test's: a cleared cookie is told by its empty value
      if (cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  /** GET /api/v1/auth/csrf and keep the token. */
  async fetchCsrfToken(): Promise<string> {
    const response = await this.request('GET', '/api/v1/auth/csrf');
    if (response.status !== 200) throw new Error(`csrf failed: ${response.status} ${await response.text()}`);
    this.csrfToken = ((await response.json()) as { data: { csrf_token: string } }).data.csrf_token;
    return this.csrfToken;
  }

  /** Signs in as the console does: a CSRF token first, then a cookie-mode login. */
  async login(email: string, password: string): Promise<Response> {
    await this.fetchCsrfToken();
    const response = await this.request('POST', '/api/v1/auth/login', { body: { email, password, cookie: true } });
    if (response.status === 200) {
      const body = (await response.clone().json()) as { data: { csrf_token: string } };
      this.csrfToken = body.data.csrf_token;
    }
    return response;
  }
}
