import express, { type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { bearerToken, resolveAuth, type Authenticator } from '../auth/middleware.js';
import { SESSION_PREFIX } from '../auth/sessions.js';
import { AppError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { ImageBytes } from './schemas.js';
import { previewLimiter } from '../usage/rate-limit.js';
import { behaviourOf, describeMiddleware } from '../http/answers.js';
import type { ImageCredits } from './credits.js';
import { CONTENT_TYPES, type ImageRenderer, type RenderOptions } from './renderer.js';
import { checkPrintSize, DEFAULT_SIZE_MM, FrameText, IMAGE_FORMATS, SHAPES, SizeMm } from '../qr/schemas.js';

/** Longest `data` accepted, in characters. */
export const MAX_GENERATE_CHARACTERS = 2000;
/** ...and in UTF-8 bytes: what a version-40 code holds in byte mode at error correction M. */
export const MAX_GENERATE_BYTES = 2331;

/** Why an image was served as a watermarked preview, as sent in the `QR-Preview` header. */
export const PREVIEW_REASONS = [
  'missing_key',
  'malformed_api_key',
  'invalid_key',
  'api_key_paused',
  'api_key_revoked',
  'api_key_expired',
  'plan_upgrade_required',
  'subscription_inactive',
  'insufficient_scope',
] as const;
export type PreviewReason = (typeof PREVIEW_REASONS)[number];

/** The authentication and authorization errors whose codes become preview reasons (the two renamed ones first). */
const REASON_BY_ERROR_CODE: Record<string, PreviewReason> = {
  missing_authorization: 'missing_key',
  missing_api_key: 'missing_key',
  invalid_authorization_scheme: 'malformed_api_key',
  invalid_api_key: 'invalid_key',
  malformed_api_key: 'malformed_api_key',
  api_key_paused: 'api_key_paused',
  api_key_revoked: 'api_key_revoked',
  api_key_expired: 'api_key_expired',
  plan_upgrade_required: 'plan_upgrade_required',
  subscription_inactive: 'subscription_inactive',
};

/** A colour as `#rrggbb` or `rrggbb` (a bare `#` in a pasted URL starts the fragment), answered with the `#`. */
const GenerateColor = z
  .string()
  .max(7)
  .regex(/^#?[0-9a-fA-F]{6}$/, 'must be a colour like #1a2b3c (URL-encoded %231a2b3c) or 1a2b3c')
  .transform((colour) => (colour.startsWith('#') ? colour : `#${colour}`).toLowerCase());

export const GenerateQuery = z
  .object({
    data: z
      .string({ error: 'required: the text or URL to encode' })
      .min(1, 'must not be empty')
      .max(MAX_GENERATE_CHARACTERS, `at most ${MAX_GENERATE_CHARACTERS} characters`)
      .refine((data) => Buffer.byteLength(data, 'utf8') <= MAX_GENERATE_BYTES, `at most ${MAX_GENERATE_BYTES} bytes in UTF-8 (what one QR code holds)`)
      .meta({ description: `The text or URL to encode, URL-encoded: 1 to ${MAX_GENERATE_CHARACTERS} characters and at most ${MAX_GENERATE_BYTES} bytes in UTF-8.`, example: 'https://example.com/menu' }),
    format: z.enum(IMAGE_FORMATS).default('png').meta({ description: 'png (default), svg, pdf (vector, for print) or eps (vector, for print).' }),
    size: z.coerce.number({ error: 'must be a whole number of pixels' }).int().min(64).max(2048).default(512).meta({ description: 'Width in pixels (png, svg), 64 to 2048; the height is the same, or more with a frame.' }),
    size_mm: SizeMm,
    // the same style a stored code has (QrStyle), so a preview (the console's create form) looks like the saved image
    foreground: GenerateColor.default('#000000').meta({ description: 'Colour of the dark modules, `#rrggbb` (URL-encode `#` as `%23`) or `rrggbb`. Default `#000000`.', example: '#1d4ed8' }),
    background: GenerateColor.default('#ffffff').meta({ description: 'Colour of the light modules and the margin, `#rrggbb` or `rrggbb`. Default `#ffffff`.', example: '#ffffff' }),
    margin: z.coerce.number({ error: 'must be a whole number of modules' }).int().min(0).max(16).default(4).meta({ description: 'Quiet zone around the code, in modules, 0 to 16. Default 4.' }),
    error_correction: z.enum(['L', 'M', 'Q', 'H']).default('M').meta({ description: 'Error correction level: L (7%), M (15%, default), Q (25%) or H (30%).' }),
    module_shape: z.enum(SHAPES).default('square').meta({ description: 'How each dark module is drawn: square (default), rounded or dots.' }),
    finder_shape: z.enum(SHAPES).default('square').meta({ description: 'How the finder (and alignment) patterns are drawn: square (default), rounded or dots.' }),
    frame_text: FrameText.optional().meta({ description: 'A frame around the code with this call to action under it, 1 to 24 characters.', example: 'Scan me' }),
    frame_color: GenerateColor.optional().meta({ description: 'The frame\'s colour, `#rrggbb` or `rrggbb` (with `frame_text`; default `#000000`).' }),
    frame_text_color: GenerateColor.optional().meta({ description: 'The call to action\'s colour, `#rrggbb` or `rrggbb` (with `frame_text`; default `#ffffff`).' }),
    api_key: z.string().max(256).optional().meta({
      description:
        'Your API key (`qr_live_…`), for links pasted into a browser tab. Prefer the `Authorization: Bearer` header, which wins when both are sent: a key in a URL ends up in browser history, bookmarks, and the logs of any proxy on the way.',
    }),
  })
  .strict()
  .superRefine((query, ctx) => {
    checkPrintSize(query, ctx);
    for (const field of ['frame_color', 'frame_text_color'] as const) {
      if (query[field] !== undefined && query.frame_text === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only with frame_text (the frame it colours)' });
    }
  });

export interface GenerateServices {
  authenticator: Authenticator;
  renderer: ImageRenderer;
  credits: ImageCredits;
  /** What every authenticated API request goes through: the per-minute limit, the monthly allowance, key activity. */
  afterAuth: RequestHandler[];
}

/** The key from the Authorization header, else from `?api_key=`, or undefined when neither is given. */
function presentedKey(req: Request): string | undefined {
  if (req.headers.authorization !== undefined && req.headers.authorization.trim() !== '') return bearerToken(req);
  const query = req.query.api_key;
  return typeof query === 'string' && query.trim() !== '' ? query.trim() : undefined;
}

/**
 * Sets `req.auth` for a usable key, or `res.locals.previewReason` for anything else. Only API keys count: a session
 * token (which can manage keys) must never travel in a URL.
 */
function identify(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    try {
      const secret = presentedKey(req);
      if (secret === undefined) {
        res.locals.previewReason = 'missing_key';
      } else if (secret.startsWith(SESSION_PREFIX)) {
        res.locals.previewReason = 'malformed_api_key';
      } else {
        // the same key and plan rules as every other API route, wherever the key came from
        const auth = await resolveAuth(authenticator, { headers: { authorization: `Bearer ${secret}` } } as Request, 'key_or_session');
        if (auth.scopes.includes('qr:read')) req.auth = auth;
        else res.locals.previewReason = 'insufficient_scope';
      }
    } catch (error) {
      const reason = error instanceof AppError ? REASON_BY_ERROR_CODE[error.code] : undefined;
      if (!reason) throw error;
      res.locals.previewReason = reason;
    }
    next();
  };
}

/** `GET /api/v1/generate`: a static QR image from a URL a browser tab can open. */
export function generateRoutes({ authenticator, renderer, credits, afterAuth }: GenerateServices): AnyRoute[] {
  const keyed = express.Router();
  keyed.use(...afterAuth);
  const perIp = previewLimiter();
  // with a usable key, what every authenticated route runs; without one, the per-IP preview limit
  const limits: RequestHandler = describeMiddleware((req, res, next) => (res.locals.previewReason ? perIp(req, res, next) : keyed(req, res, next)), {
    sets: [...new Set([perIp, ...afterAuth].flatMap((handler) => behaviourOf(handler).sets ?? []))],
    answers: [perIp, ...afterAuth].flatMap((handler) => behaviourOf(handler).answers ?? []),
  });

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/generate',
      operationId: 'generateQrImage',
      tag: 'QR codes',
      summary: 'Make a static QR image from a link (works pasted into a browser tab)',
      description: [
        'Encodes `data` into a PNG, SVG, PDF or EPS without storing a code: copy the request URL and paste it into a browser tab to see the image. `foreground`, `background`, `margin`, `error_correction`, `module_shape` and `finder_shape` take the same values as a stored code\'s `style`, and `frame_text`, `frame_color` and `frame_text_color` are its `frame`. PDF and EPS are vector images `size_mm` wide (10 to 500, default 50) in the exact colours asked for.',
        '',
        '**This is the only endpoint that accepts the API key as a query parameter (`api_key`).** That is a risk: a URL is kept in browser history and bookmarks, sent in `Referer` headers, and written to the access logs of proxies and load balancers between you and qrflow. qrflow redacts `api_key` from its own request logs. Use the `Authorization: Bearer` header (which wins when both are given) from code, use a key with only the `qr:read` scope for links, and renew it if a link leaks.',
        '',
        'With a usable key (active, `qr:read` scope, a plan with API access and an active subscription), the request counts as one API call and against the per-minute limit like any other, and each generated image uses one image credit (identical repeated requests come from a cache and use none). Past the allowances it answers 429 `rate_limited`, `monthly_quota_exceeded` or `image_credits_exhausted`.',
        '',
        `Without one, it answers 200 with the same image under a red PREVIEW watermark that QR scanners cannot read, uses no credit, and says why in the \`QR-Preview\` header: ${PREVIEW_REASONS.map((reason) => `\`${reason}\``).join(', ')}. Previews are limited per client IP (429 \`rate_limited\`) and never cached by the browser (\`Cache-Control: no-store\`).`,
      ].join('\n'),
      // the key is optional (without one, a preview) and may also come as ?api_key=, which the route checks itself
      auth: 'none',
      security: [{ bearerAuth: [] }, {}],
      query: GenerateQuery,
      before: [identify(authenticator), limits],
      responses: {
        200: {
          description: 'The image (PNG, or SVG, PDF or EPS with `format=svg`, `pdf` or `eps`); a watermarked preview when the response has a `QR-Preview` header',
          schema: ImageBytes,
          contentTypes: Object.values(CONTENT_TYPES),
          headers: ['Vary', 'X-Content-Type-Options', 'Content-Security-Policy', 'Content-Disposition', 'Cache-Control', 'ETag', 'QR-Preview'],
        },
        304: { description: 'Not modified (If-None-Match matched; keyed images only)', headers: ['Vary', 'X-Content-Type-Options', 'Content-Security-Policy', 'Content-Disposition', 'ETag', 'Cache-Control'] },
        429: { description: 'The month\'s image credits are used up (with a usable key)', codes: ['image_credits_exhausted'], headers: ['Retry-After'] },
      },
      handler: async (req, res, { query }) => {
        const reason = res.locals.previewReason as PreviewReason | undefined;
        const options: RenderOptions = {
          text: query.data,
          format: query.format,
          size: query.size,
          foreground: query.foreground,
          background: query.background,
          margin: query.margin,
          errorCorrection: query.error_correction,
          sizeMm: query.size_mm ?? DEFAULT_SIZE_MM,
          moduleShape: query.module_shape,
          finderShape: query.finder_shape,
          frame: query.frame_text !== undefined ? { text: query.frame_text, color: query.frame_color ?? '#000000', text_color: query.frame_text_color ?? '#ffffff' } : null,
          watermark: reason !== undefined,
        };
        res.setHeader('Vary', 'Authorization');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
        res.setHeader('Content-Disposition', `inline; filename="qr.${query.format}"`);
        if (reason) {
          // watermarked renders are cached like any other, so repeating a preview costs no render
          const image = await renderer.render(options);
          res.setHeader('QR-Preview', reason);
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('Content-Type', image.contentType);
          res.send(image.bytes);
          return;
        }
        const auth = req.auth!;
        const cached = renderer.cached(options);
        if (cached && req.get('if-none-match') === cached.etag) {
          res.status(304).setHeader('ETag', cached.etag).setHeader('Cache-Control', 'private, max-age=300').end();
          return;
        }
        // the credit is checked and taken when the render starts, so concurrent requests cannot overspend the month
        const image =
          cached ??
          (await renderer.render(options, () => credits.take(auth)));
        res.setHeader('Content-Type', image.contentType);
        res.setHeader('ETag', image.etag);
        res.setHeader('Cache-Control', 'private, max-age=300');
        res.send(image.bytes);
      },
    }),
  ] as AnyRoute[];
}
