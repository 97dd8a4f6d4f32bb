import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { headerRefs } from './headers.js';

const page = (description: string) => ({
  description,
  headers: headerRefs(['Cache-Control', 'X-Robots-Tag', 'Content-Security-Policy'], false),
  content: { 'text/html': { schema: z.string().max(2000) } },
});

const ShortCode = z.object({ short_code: z.string().regex(/^[0-9A-Za-z]{4,32}$/).min(4).max(32).meta({ example: 'aB3dE9' }) });

/** `GET /r/{short_code}` (and the password form's POST): served by redirect/handler.ts before the route table, so described here. */
export function registerRedirect(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/r/{short_code}',
    operationId: 'followShortLink',
    tags: ['Short links'],
    summary: 'The short link a dynamic code encodes: a redirect to its destination',
    description:
      'Public, for scanners. An active code answers 302 to its destination_url and the scan is recorded (HEAD answers the same without recording). ' +
      'A smart code decides first: its redirect rules (first match), else its A/B variant, with its UTM parameters; outside valid_from/valid_until or past max_scans it sends the scan to expired_url or answers 410; ' +
      'a password-protected code answers its password page until the visitor has its cookie. ' +
      'The answers are small HTML pages, never the error model, since people see them. Other methods answer 405 with `Allow: GET, HEAD`.',
    security: [],
    request: { params: ShortCode },
    responses: {
      200: page('The password page of a password-protected code (a form that POSTs to this link)'),
      302: { description: 'To the destination (or the expired_url of a code outside its window or past its scan limit)', headers: headerRefs(['Location', 'Cache-Control'], false) },
      404: page('No such code, a malformed code, or a paused one ("QR code paused")'),
      410: page('The code was deleted by its owner ("QR code removed"), or is outside its window or past its scan limit without an expired_url ("QR code expired")'),
      500: page('An unexpected failure ("Something went wrong")'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/r/{short_code}',
    operationId: 'unlockShortLink',
    tags: ['Short links'],
    summary: "The password form of a password-protected code",
    description:
      'Sent by the password page (no script needed). A right password sets a signed HttpOnly cookie for this code (30 minutes) and answers 303 to the destination, recording the scan. ' +
      'The form token of the page is required and a cross-site Origin is refused (CSRF). Wrong passwords are limited per client IP and code (5 in 15 minutes), then 429 with Retry-After.',
    security: [],
    request: {
      params: ShortCode,
      body: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: z.object({ token: z.string().max(200), password: z.string().max(128) }).meta({ id: 'ShortLinkPasswordForm' }) } },
      },
    },
    responses: {
      303: { description: 'Unlocked: to the destination, with the cookie', headers: headerRefs(['Location', 'Cache-Control', 'Set-Cookie'], false) },
      400: page('The body is not a urlencoded form of at most 4 KB'),
      403: page('Wrong password (the form again), an expired or foreign form token, or a cross-site Origin'),
      404: page('No such code, or a paused one'),
      405: page('The code has no password'),
      410: page('The code was deleted, or is outside its window or past its scan limit without an expired_url'),
      429: { ...page('Too many wrong passwords from this IP for this code'), headers: headerRefs(['Cache-Control', 'X-Robots-Tag', 'Content-Security-Policy', 'Retry-After'], false) },
      500: page('An unexpected failure'),
    },
  });
}
