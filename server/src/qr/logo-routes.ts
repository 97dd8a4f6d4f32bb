import express, { type RequestHandler } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import { describeMiddleware } from '../http/answers.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import { dataWorkspace } from '../test-mode/mode.js';
import { LOGO_CONTENT_TYPES, MAX_LOGO_BYTES, type LogoContentType, type LogoService } from './logo.js';
import { QrSchema } from './schemas.js';

const LIMIT_TEXT = `${MAX_LOGO_BYTES / 1024} KB`;

/**
 * Reads the raw logo body (PNG or SVG, at most 256 KB) into `req.body` as a Buffer; another media type is a 415
 * before a byte is read, a larger body a 413.
 */
function logoBody(): RequestHandler {
  const raw = express.raw({ type: [...LOGO_CONTENT_TYPES], limit: MAX_LOGO_BYTES });
  return describeMiddleware(
    (req, res, next) => {
      if (!req.is([...LOGO_CONTENT_TYPES])) {
        throw new UnsupportedMediaTypeError('unsupported_media_type', `A logo is sent as its bytes with Content-Type image/png or image/svg+xml (this request has ${req.get('content-type') ?? 'none'}).`);
      }
      raw(req, res, (error?: unknown) => {
        const type = (error as { type?: string } | undefined)?.type;
        if (type === 'entity.too.large') next(new PayloadTooLargeError('payload_too_large', `The logo is larger than ${LIMIT_TEXT}. Send a smaller PNG, or an SVG.`));
        else if (type === 'encoding.unsupported') next(new UnsupportedMediaTypeError('unsupported_encoding', 'The body has a Content-Encoding other than identity, gzip, deflate or br.'));
        else next(error);
      });
    },
    {
      answers: [
        { status: 413, codes: ['payload_too_large'], when: `The logo is larger than ${LIMIT_TEXT}` },
        { status: 415, codes: ['unsupported_media_type', 'unsupported_encoding'], when: 'The body is not image/png or image/svg+xml, or has an unknown Content-Encoding' },
      ],
    },
  );
}

/** `PUT` and `DELETE /api/v1/qr/:id/logo`. */
export function logoRoutes(logos: LogoService): AnyRoute[] {
  const tag = 'QR codes';
  return [
    defineRoute({
      method: 'put',
      path: '/api/v1/qr/:id/logo',
      operationId: 'putQrCodeLogo',
      tag,
      summary: 'Put a logo in the middle of a QR code',
      description: [
        `The body is the logo itself, a PNG (at most 2048×2048 pixels) or an SVG, at most ${LIMIT_TEXT}, sent with its Content-Type. An SVG is sanitised before it is stored: scripts, event handlers, <foreignObject> and every reference outside the document (links other than \`#…\` or a data: PNG/JPEG/GIF/WebP, CSS \`url()\` and \`@import\`) are removed; an SVG with nothing drawable left is refused.`,
        '',
        'The code\'s images then carry the logo in a cleared square in the middle (at most ~20 % of the symbol, with one module of quiet zone around the logo), drawn at error correction H so they still scan. A static code whose content does not fit at H is refused. Replaces any logo the code had.',
      ].join('\n'),
      auth: 'key_or_session',
      scope: 'qr:write',
      params: IdParams,
      rawBody: { description: `The logo: a PNG or an SVG, at most ${LIMIT_TEXT}`, contentTypes: LOGO_CONTENT_TYPES },
      before: [logoBody()],
      responses: {
        200: { description: 'The code, with its `logo`', schema: envelope(QrSchema) },
        400: { description: 'The body is not a valid PNG or SVG, the PNG is too large in pixels, nothing of the SVG is left once sanitised, or a static code\'s content does not fit at error correction H', codes: ['invalid_logo', 'validation_error'] },
      },
      handler: async (req, res, { params }) => {
        const contentType = req.is([...LOGO_CONTENT_TYPES]) as LogoContentType;
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        res.json({ data: await logos.put(dataWorkspace(req.auth!), params.id, body, contentType) });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/qr/:id/logo',
      operationId: 'deleteQrCodeLogo',
      tag,
      summary: 'Remove the logo of a QR code',
      description: 'The code\'s images are drawn without a logo again, at the style\'s own error correction. A code without a logo answers the same.',
      auth: 'key_or_session',
      scope: 'qr:write',
      params: IdParams,
      responses: { 200: { description: 'The code, with `logo: null`', schema: envelope(QrSchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await logos.remove(dataWorkspace(req.auth!), params.id) });
      },
    }),
  ] as AnyRoute[];
}
