import { z } from 'zod';
import { SafeUrl } from './safe-url.js';

/** Where the redirect's conditions get their names: the device, OS and browser names analytics reports. */
export const CONDITION_TYPES = ['device', 'os', 'browser', 'country', 'language', 'query', 'time'] as const;
export const UTM_FIELDS = ['source', 'medium', 'campaign', 'term', 'content'] as const;
export const MAX_RULES = 20;
export const MAX_CONDITIONS = 10;

const Name = z.string().trim().min(1).max(40).regex(/^[^\u0000-\u001f]*$/, 'no control characters');
const Names = z.array(Name).min(1).max(20);
const Clock = z.string().max(5, { error: 'must be a time of day HH:MM (00:00 to 23:59)', abort: true }).regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time of day HH:MM (00:00 to 23:59)');

/** Whether the runtime knows the IANA time zone (Intl's own list; "Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  if (zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const conditionError = `unknown condition type; use one of ${CONDITION_TYPES.join(', ')}`;

export const RedirectCondition = z
  .discriminatedUnion(
    'type',
    [
      z.object({ type: z.literal('device'), in: z.array(z.enum(['mobile', 'tablet', 'desktop'])).min(1).max(3) }).strict().meta({ id: 'DeviceCondition', description: 'The visitor\'s device: a phone, a tablet or anything else (desktop)' }),
      z.object({ type: z.literal('os'), in: Names.meta({ example: ['iOS', 'Android'] }) }).strict().meta({ id: 'OsCondition', description: 'The operating system, by the names analytics reports (iOS, Android, Windows, macOS, Linux …), any case' }),
      z.object({ type: z.literal('browser'), in: Names.meta({ example: ['Chrome', 'Safari'] }) }).strict().meta({ id: 'BrowserCondition', description: 'The browser, by the names analytics reports, any case; "Safari" also matches "Mobile Safari"' }),
      z
        .object({ type: z.literal('country'), in: z.array(z.string().max(2, { error: 'must be an ISO 3166 alpha-2 country code such as DE', abort: true }).regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 alpha-2 country code such as DE')).min(1).max(250).meta({ example: ['DE', 'AT'] }) })
        .strict()
        .meta({ id: 'CountryCondition', description: 'The visitor\'s country (ISO 3166 alpha-2), from the configured proxy header or the GeoIP lookup' }),
      z
        .object({ type: z.literal('language'), in: z.array(z.string().max(3, { error: 'must be a primary language tag such as de', abort: true }).regex(/^[A-Za-z]{2,3}$/, 'must be a primary language tag such as de')).min(1).max(50).meta({ example: ['de', 'fr'] }) })
        .strict()
        .meta({ id: 'LanguageCondition', description: 'The visitor\'s preferred language: the primary tag of the first language of Accept-Language by its q order' }),
      z
        .object({ type: z.literal('query'), param: z.string().min(1).max(100), equals: z.string().max(500) })
        .strict()
        .meta({ id: 'QueryCondition', description: 'A query parameter on the scanned link equals this value (`/r/abc?src=flyer`)' }),
      z
        .object({
          type: z.literal('time'),
          from: Clock.meta({ example: '09:00' }),
          to: Clock.meta({ example: '17:30' }),
          tz: z.string().min(1).max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').meta({ example: 'Europe/Berlin' }),
          weekdays: z
            .array(z.number().int().min(1).max(7))
            .min(1)
            .max(7)
            .optional()
            .meta({ description: 'ISO weekdays (1 Monday … 7 Sunday) on which the window opens; all days when absent', example: [1, 2, 3, 4, 5] }),
        })
        .strict()
        .refine((time) => time.from !== time.to, { message: 'from and to must differ', path: ['to'] })
        .meta({ id: 'TimeCondition', description: 'Local time in a zone (DST-correct); a window whose `from` is later than `to` spans midnight and belongs to the weekday it opens on' }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? conditionError : undefined) },
  )
  .meta({ id: 'RedirectCondition' });

export const RedirectRule = z
  .object({
    url: SafeUrl,
    conditions: z.array(RedirectCondition).min(1).max(MAX_CONDITIONS).meta({ description: 'All must match for the rule to apply' }),
  })
  .strict()
  .meta({ id: 'RedirectRule' });

export const RedirectRules = z.array(RedirectRule).max(MAX_RULES).meta({ description: `At most ${MAX_RULES}, in order: the first rule whose conditions all match decides the destination; none: destination_url (or the variants)` });

export const Variant = z.object({ url: SafeUrl, weight: z.number().int().min(0).max(10_000) }).strict().meta({ id: 'RedirectVariant' });

export const Variants = z
  .array(Variant)
  .min(2)
  .max(10)
  .refine((variants) => variants.some((variant) => variant.weight > 0), 'the weights must not all be 0')
  .meta({ description: 'An A/B split, applied when no rule matched: each visitor gets one variant by weight, the same again all day (the unique-visitor hash)' });

const UtmValue = z.string().trim().min(1).max(200).regex(/^[^\u0000-\u001f]*$/, 'no control characters');
export const Utm = z
  .object(Object.fromEntries(UTM_FIELDS.map((field) => [field, UtmValue.optional()])) as Record<(typeof UTM_FIELDS)[number], z.ZodOptional<typeof UtmValue>>)
  .strict()
  .meta({ id: 'Utm', description: 'Appended to the chosen destination as utm_* parameters; a parameter already on the destination wins' });

const Time = z.iso.datetime({ offset: true }).max(40);
const ScanPassword = z.string().min(8).max(128);

/** The smart-code fields of a create body (dynamic codes). */
export const SMART_CREATE_FIELDS = {
  redirect_rules: RedirectRules.optional(),
  variants: Variants.optional(),
  valid_from: Time.optional().meta({ description: 'Before this time the code sends scans to expired_url (or answers 410)', example: '2026-12-01T09:00:00+01:00' }),
  valid_until: Time.optional().meta({ description: 'From this time on the code sends scans to expired_url (or answers 410)', example: '2026-12-31T23:59:59+01:00' }),
  max_scans: z.number().int().min(1).max(1_000_000_000).optional().meta({ description: 'After this many counted scans (bots excluded) the code sends scans to expired_url (or answers 410)' }),
  expired_url: SafeUrl.optional().meta({ description: 'Where scans go outside valid_from/valid_until or past max_scans; without it they get a 410 page' }),
  password: ScanPassword.optional().meta({ description: 'Write-only: a scan shows a password page first (8 to 128 characters); answers say password_protected' }),
  utm: Utm.optional(),
};

/** The same fields on an update: null removes one. */
export const SMART_UPDATE_FIELDS = {
  redirect_rules: RedirectRules.nullable().optional(),
  variants: Variants.nullable().optional(),
  valid_from: Time.nullable().optional(),
  valid_until: Time.nullable().optional(),
  max_scans: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  expired_url: SafeUrl.nullable().optional(),
  password: ScanPassword.nullable().optional().meta({ description: 'Write-only: sets the scan password (8 to 128 characters); null removes it' }),
  utm: Utm.nullable().optional(),
};

export const CODE_STATES = ['scheduled', 'live', 'expired', 'limit_reached'] as const;

/** The smart-code fields of an answer. */
export const SMART_VIEW_FIELDS = {
  redirect_rules: z.array(RedirectRule),
  variants: z.array(Variant).nullable(),
  valid_from: z.string().nullable(),
  valid_until: z.string().nullable(),
  max_scans: z.number().int().nullable(),
  expired_url: z.string().nullable(),
  password_protected: z.boolean(),
  utm: Utm.nullable(),
  state: z.enum(CODE_STATES).meta({ description: 'scheduled (before valid_from), live, expired (from valid_until) or limit_reached (max_scans counted); status stays as the owner set it' }),
};
