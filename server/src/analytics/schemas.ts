import { z } from 'zod';

export const AnalyticsQuerySchema = z
  .object({
    from: z.string().max(40).optional().meta({ description: 'ISO-8601 start (inclusive); default 30 days before `to`' }),
    to: z.string().max(40).optional().meta({ description: 'ISO-8601 end (exclusive); default now' }),
    interval: z.enum(['day', 'week', 'month']).default('day'),
    tz: z.string().min(1).max(64).default('UTC').meta({ description: 'IANA time zone for the periods, e.g. Europe/Paris' }),
    include_bots: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  })
  .strict();

const Breakdown = z.array(z.object({ value: z.string(), scans: z.number().int() }));

export const AnalyticsSchema = z
  .object({
    qr_id: z.string(),
    from: z.string(),
    to: z.string(),
    interval: z.enum(['day', 'week', 'month']),
    tz: z.string(),
    include_bots: z.boolean(),
    total_scans: z.number().int(),
    unique_scans: z.number().int(),
    timeseries: z.array(z.object({ period: z.string(), scans: z.number().int(), unique_scans: z.number().int() })),
    countries: Breakdown,
    devices: Breakdown,
    os: Breakdown,
    browsers: Breakdown,
    referrers: Breakdown,
    variants: Breakdown.meta({ description: 'Scans per A/B variant: `value` is the variant\'s index in the code\'s `variants` ("0", "1", ...); empty for a code without a split' }),
    regions: Breakdown.meta({ description: 'Scans per region (state, province...) of the visitor\'s address, by the GeoIP database; "unknown" where it does not say' }),
    cities: Breakdown.meta({ description: 'Scans per city of the visitor\'s address, by the GeoIP database; "unknown" where it does not say' }),
  })
  .meta({ id: 'Analytics' });

export const OrphanQuerySchema = z
  .object({
    from: z.string().max(40).optional().meta({ description: 'ISO-8601 start; default 30 days before `to`. Orphan scans are counted per UTC day: the range is widened to whole days' }),
    to: z.string().max(40).optional().meta({ description: 'ISO-8601 end (exclusive, widened to the end of its UTC day); default now' }),
    include_bots: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  })
  .strict();

export const OrphanAnalyticsSchema = z
  .object({
    from: z.string().meta({ description: 'Start of the first UTC day counted' }),
    to: z.string().meta({ description: 'End (exclusive) of the last UTC day counted' }),
    include_bots: z.boolean(),
    total: z.number().int(),
    by_reason: z.array(
      z.object({
        value: z.enum(['unknown', 'paused', 'expired', 'limit_reached', 'deleted']).meta({ description: 'Why the scan reached no destination' }),
        scans: z.number().int(),
      }),
    ).meta({ description: 'Reasons with at least one scan, most scans first' }),
  })
  .meta({ id: 'OrphanAnalytics' });
