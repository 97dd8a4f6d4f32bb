import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';

/** The console's Content-Security-Policy: nothing inline, nothing from another host, never framed. */
export const CONSOLE_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** Paths that belong to the API, the redirect, the docs and the probes: never answered with the console. */
const NOT_CONSOLE = /^\/(?:api(?:\/|$)|r(?:\/|$)|api-docs|openapi\.json$|healthz$|readyz$)/i;

/** Vite's hashed file names never change content, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function missingBuildPage(dir: string): string {
  const escaped = dir.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>qrflow: the console is not built</title></head>
<body>
<h1>The qrflow console is not built yet</h1>
<p>The server looked for it in <code>${escaped}</code> and found no <code>index.html</code>.</p>
<p>Build it with <code>npm run build -w web</code> (or start the server with <code>npm start</code>, which builds it when it is missing), then reload this page.</p>
<p>The API works without it: see <a href="/api-docs">/api-docs</a>.</p>
</body>
</html>
`;
}

/** A browser asking for a page: HTML preferred over JSON (curl's and fetch's bare `*\/*` get the JSON 404). */
function wantsConsolePage(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && !NOT_CONSOLE.test(req.path) && !req.path.startsWith('/assets/') && req.accepts(['json', 'html']) === 'html';
}

/**
 * Serves the built console (`web/dist`): its files, `index.html` for every page the browser can deep-link to
 * (`/settings/api`, `/qr/:id`, …), and a page saying how to build it when it is missing. Everything it answers
 * carries the console's CSP; what it does not answer (the API, unknown assets) goes on to the JSON 404.
 */
export function consoleRouter(options: { dir: string; https: boolean }): Router {
  const { dir } = options;
  const index = path.join(dir, 'index.html');
  const router = express.Router();
  const headers = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
    xFrameOptions: { action: 'deny' },
    // HSTS only means something over https, and a self-hoster on plain http must not be told to upgrade
    strictTransportSecurity: options.https,
  });
  const onlyConsole: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next('router');
    if (NOT_CONSOLE.test(req.path)) return next('router');
    headers(req, res, next);
  };
  router.use(onlyConsole);
  router.use(
    express.static(dir, {
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (res, file) => {
        const relative = path.relative(dir, file).split(path.sep);
        res.setHeader('Cache-Control', relative[0] === 'assets' ? IMMUTABLE : 'no-cache');
      },
    }),
  );
  router.use((req, res, next) => {
    if (!wantsConsolePage(req)) return next('router');
    res.setHeader('Vary', 'Accept');
    res.setHeader('Cache-Control', 'no-cache');
    if (!fs.existsSync(index)) {
      res.status(503).type('html').send(missingBuildPage(dir));
      return;
    }
    res.sendFile(index, { dotfiles: 'deny' }, (error) => {
      if (error) next(error);
    });
  });
  return router;
}
