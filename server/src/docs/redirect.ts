import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { headerRefs } from './headers.js';

const page = (description: string) => ({
  description,
  headers: headerRefs(['Cache-Control', 'X-Robots-Tag'], false),
  content: { 'text/html': { schema: z.string().max(2000) } },
});

/** `GET /r/{short_code}`: served by redirect/handler.ts before the route table, so described here. */
export function registerRedirect(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/r/{short_code}',
    operationId: 'followShortLink',
    tags: ['Short links'],
    summary: 'The short link a dynamic code encodes: a redirect to its destination',
    description:
      'Public, for scanners. An active code answers 302 to its destination_url and the scan is recorded (HEAD answers the same without recording). ' +
      'The answers are small HTML pages, never the error model, since people see them. Other methods answer 405 with `Allow: GET, HEAD`.',
    security: [],
    request: { params: z.object({ short_code: z.string().regex(/^[0-9A-Za-z]{4,32}$/).min(4).max(32).meta({ example: 'aB3dE9' }) }) },
    responses: {
      302: { description: 'To the destination', headers: headerRefs(['Location', 'Cache-Control'], false) },
      404: page('No such code, a malformed code, or a paused one ("QR code paused")'),
      410: page('The code was deleted by its owner ("QR code removed")'),
      500: page('An unexpected failure ("Something went wrong")'),
    },
  });
}
