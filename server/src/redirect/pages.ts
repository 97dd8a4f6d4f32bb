import type { ServerResponse } from 'node:http';

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:32rem;margin:20vh auto;padding:0 1rem;color:#222;text-align:center}form{display:flex;flex-direction:column;gap:.75rem;align-items:center}input{font:inherit;padding:.5rem;width:16rem}button{font:inherit;padding:.5rem 1.5rem}.error{color:#b00020}';

/** Text for HTML (element content and attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res: ServerResponse, status: number, title: string, inner: string, headers: Record<string, string | string[]> = {}): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${STYLE}</style></head><body><h1>${title}</h1>${inner}</body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-robots-tag': 'noindex',
    // no script, no frame around them, nothing from elsewhere (no form-action: browsers apply it to the redirect after the password form)
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    ...headers,
  });
  res.end(body);
}

/** A small HTML page for a visitor who scanned a code (404, 410, 429 …); `title` and `text` are plain text. */
export function page(res: ServerResponse, status: number, title: string, text: string, headers?: Record<string, string | string[]>): void {
  send(res, status, escapeHtml(title), `<p>${escapeHtml(text)}</p>`, headers);
}

/** The password form: a plain POST to the short link itself (no script), with its form token. */
export function passwordPage(res: ServerResponse, status: number, action: string, token: string, error?: string, headers?: Record<string, string | string[]>): void {
  const message = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '<p>This QR code is protected. Enter its password to continue.</p>';
  const form = `${message}<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="token" value="${escapeHtml(token)}"><label for="password">Password</label><input id="password" name="password" type="password" required minlength="8" maxlength="128" autocomplete="current-password" autofocus><button type="submit">Continue</button></form>`;
  send(res, status, 'Password required', form, headers);
}
