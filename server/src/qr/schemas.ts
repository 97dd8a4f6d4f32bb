import { z } from 'zod';
import { Pagination } from '../http/schemas.js';
import { SafeUrl } from './safe-url.js';
import { SMART_CREATE_FIELDS, SMART_UPDATE_FIELDS, SMART_VIEW_FIELDS } from './smart-schemas.js';

export const QR_TYPES = ['url', 'text', 'email', 'phone', 'sms', 'wifi', 'vcard'] as const;

export { SafeUrl } from './safe-url.js';

const Phone = z.string().max(64).trim().regex(/^\+?[0-9 ().-]{3,32}$/, 'must be a phone number (digits, spaces, + ( ) . -)');
const Email = z.string().trim().max(254).regex(/^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/, 'must be an email address');
const Line = (max: number) => z.string().max(max).regex(/^[^\r\n]*$/, 'must be a single line');

export const CONTENT_SCHEMAS = {
  text: z.object({ text: z.string().min(1).max(2000) }).strict().meta({ id: 'TextContent' }),
  email: z.object({ to: Email, subject: Line(200).optional(), body: z.string().max(1000).optional() }).strict().meta({ id: 'EmailContent' }),
  phone: z.object({ number: Phone }).strict().meta({ id: 'PhoneContent' }),
  sms: z.object({ number: Phone, message: z.string().max(500).optional() }).strict().meta({ id: 'SmsContent' }),
  wifi: z
    .object({
      ssid: z.string().min(1).max(32),
      password: z.string().max(63).optional(),
      encryption: z.enum(['WPA', 'WEP', 'nopass']).default('WPA'),
      hidden: z.boolean().default(false),
    })
    .strict()
    .meta({ id: 'WifiContent' }),
  vcard: z
    .object({
      first_name: Line(100).min(1),
      last_name: Line(100).optional(),
      organization: Line(200).optional(),
      title: Line(100).optional(),
      phone: Phone.optional(),
      email: Email.optional(),
      url: SafeUrl.optional(),
      address: Line(300).optional(),
    })
    .strict()
    .meta({ id: 'VcardContent' }),
} as const;

const HexColor = z.string().max(7).regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1a2b3c');

export const SHAPES = ['square', 'rounded', 'dots'] as const;
/** Longest call to action a frame shows. */
export const MAX_FRAME_TEXT = 24;
export const FrameText = z
  .string()
  .trim()
  .min(1)
  .max(MAX_FRAME_TEXT)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters')
  .meta({ description: `The call to action under the code, 1 to ${MAX_FRAME_TEXT} characters`, example: 'Scan me' });

export const FrameInput = z
  .object({
    text: FrameText,
    color: HexColor.default('#000000').meta({ description: 'The frame and its band, `#rrggbb` (default `#000000`)' }),
    text_color: HexColor.default('#ffffff').meta({ description: 'The call to action, `#rrggbb` (default `#ffffff`)' }),
  })
  .strict()
  .meta({ id: 'QrFrameInput' });

export const StyleInput = z
  .object({
    foreground: HexColor.optional(),
    background: HexColor.optional(),
    margin: z.number().int().min(0).max(16).optional(),
    error_correction: z.enum(['L', 'M', 'Q', 'H']).optional().meta({ description: 'L, M, Q or H; a code with a logo is drawn at H whatever this says' }),
    module_shape: z.enum(SHAPES).optional().meta({ description: 'How each dark module is drawn: square (default), rounded or dots' }),
    finder_shape: z.enum(SHAPES).optional().meta({ description: 'How the three finder patterns (and the alignment patterns) are drawn: square (default), rounded or dots' }),
    frame: FrameInput.nullable().optional().meta({ description: 'A frame with a call to action under the code; null removes it' }),
  })
  .strict()
  .meta({ id: 'QrStyleInput' });

export const Style = z
  .object({
    foreground: z.string(),
    background: z.string(),
    margin: z.number().int(),
    error_correction: z.enum(['L', 'M', 'Q', 'H']),
    module_shape: z.enum(SHAPES),
    finder_shape: z.enum(SHAPES),
    frame: z.object({ text: z.string(), color: z.string(), text_color: z.string() }).nullable(),
  })
  .meta({ id: 'QrStyle' });

export const LogoInfo = z
  .object({
    content_type: z.enum(['image/png', 'image/svg+xml']),
    bytes: z.number().int().meta({ description: 'Size of the stored logo (an SVG as sanitised)' }),
    updated_at: z.string(),
  })
  .nullable()
  .meta({ id: 'QrLogo', description: 'The logo in the middle of the code (PUT /api/v1/qr/{id}/logo); null: none' });

export const Tag = z.string().trim().min(1).max(40).regex(/^[^\u0000-\u001f,]+$/, 'no control characters or commas');
const Tags = z.array(Tag).max(20);
const Name = z.string().trim().min(1).max(120).regex(/^[^\u0000-\u001f]*$/, 'no control characters');

const ContentInput = z.record(z.string(), z.unknown()).meta({
  description: 'Type-specific content for non-url types',
  // anyOf, not oneOf: a phone number is also a valid sms content, and oneOf would reject it
  anyOf: Object.values(CONTENT_SCHEMAS).map((s) => ({ $ref: `#/components/schemas/${(s.meta() as { id: string }).id}` })),
});

/** A custom domain's hostname as named by a code (checked against the workspace's verified domains). */
const DomainName = z.string().trim().min(1).max(253);

export const CreateQrBody = z
  .object({
    name: Name.meta({ example: 'Spring flyer' }),
    type: z.enum(QR_TYPES).default('url'),
    mode: z.enum(['dynamic', 'static']).default('dynamic'),
    destination_url: SafeUrl.optional(),
    content: ContentInput.optional(),
    tags: Tags.optional(),
    style: StyleInput.optional(),
    status: z.enum(['active', 'paused']).optional(),
    domain: DomainName.optional().meta({ description: 'A verified custom domain of the workspace (dynamic codes): the short link becomes https://<domain>/<short_code>', example: 'go.acme.com' }),
    // dynamic codes: what the scan decides (README "Smart codes")
    ...SMART_CREATE_FIELDS,
  })
  .strict()
  .meta({ id: 'CreateQrRequest' });
export type CreateQrBody = z.infer<typeof CreateQrBody>;

export const UpdateQrBody = z
  .object({
    name: Name.optional(),
    destination_url: SafeUrl.optional(),
    status: z.enum(['active', 'paused']).optional(),
    tags: Tags.optional(),
    style: StyleInput.optional(),
    content: ContentInput.optional(),
    domain: DomainName.nullable().optional().meta({ description: 'Moves a dynamic code to another verified domain of the workspace (null: the default public URL); the old link stops working' }),
    ...SMART_UPDATE_FIELDS,
    // accepted only to say clearly that they cannot change
    type: z.unknown().optional(),
    mode: z.unknown().optional(),
    id: z.unknown().optional(),
    short_code: z.unknown().optional(),
  })
  .strict()
  .meta({ id: 'UpdateQrRequest' });
export type UpdateQrBody = z.infer<typeof UpdateQrBody>;

/**
 * A static code's content, as answered: one of the type-specific shapes. Describing it here also puts those shapes in
 * the OpenAPI components, where the request bodies' `content` refers to them.
 */
const ContentOutput = z
  .union([CONTENT_SCHEMAS.text, CONTENT_SCHEMAS.email, CONTENT_SCHEMAS.phone, CONTENT_SCHEMAS.sms, CONTENT_SCHEMAS.wifi, CONTENT_SCHEMAS.vcard])
  .nullable()
  .meta({ description: 'The content of a static code of a non-url type (its shape depends on type); null for url codes' });

export const QrSchema = z
  .object({
    id: z.string().meta({ example: 'qr_8fK2mP0aZx91Qe' }),
    name: z.string(),
    type: z.enum(QR_TYPES),
    mode: z.enum(['dynamic', 'static']),
    destination_url: z.string().nullable(),
    content: ContentOutput,
    short_code: z.string().nullable(),
    short_url: z.string().nullable(),
    domain: z.string().nullable().meta({ description: 'The custom domain the short link is served on; null: the default public URL' }),
    status: z.enum(['active', 'paused']),
    tags: z.array(z.string()),
    style: Style,
    logo: LogoInfo,
    created_at: z.string().meta({ example: '2026-11-23T10:00:00.000Z' }),
    updated_at: z.string(),
    scan_count: z.number().int(),
    livemode: z.boolean().meta({ description: 'false for a test-mode code (made with a test key or a session in test mode); `mode` is dynamic/static' }),
    ...SMART_VIEW_FIELDS,
  })
  .meta({ id: 'QrCode' });
export type QrView = z.infer<typeof QrSchema>;

export const ListQrQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
    search: z.string().max(120).optional(),
    tag: Tag.optional(),
    status: z.enum(['active', 'paused']).optional(),
    mode: z.enum(['dynamic', 'static']).optional(),
  })
  .strict();

export const QrPage = z.object({ data: z.array(QrSchema), pagination: Pagination }).meta({ id: 'QrCodePage' });

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().meta({ description: 'Retries with the same key within 24 hours return the first result and create one code.' }),
});

export const IMAGE_FORMATS = ['png', 'svg', 'pdf', 'eps'] as const;
export const DEFAULT_SIZE_MM = 50;

/** `size_mm` belongs to the print formats only. */
export function checkPrintSize(query: { format: string; size_mm?: number | undefined }, ctx: z.RefinementCtx): void {
  if (query.size_mm !== undefined && query.format !== 'pdf' && query.format !== 'eps') {
    ctx.addIssue({ code: 'custom', path: ['size_mm'], message: 'only for format=pdf or format=eps (use size, in pixels, for png and svg)' });
  }
}

export const SizeMm = z.coerce
  .number({ error: 'must be a number of millimetres' })
  .min(10)
  .max(500)
  .optional()
  .meta({ description: `Width of a PDF or EPS in millimetres, 10 to 500 (default ${DEFAULT_SIZE_MM}); the height is the same, or more with a frame` });

export const ImageQuery = z
  .object({
    format: z.enum(IMAGE_FORMATS).default('png').meta({ description: 'png, svg, pdf (vector) or eps (vector)' }),
    size: z.coerce.number().int().min(64).max(2048).default(512).meta({ description: 'Width in pixels (png, svg), 64 to 2048; the height is the same, or more with a frame' }),
    size_mm: SizeMm,
  })
  .strict()
  .superRefine(checkPrintSize);
