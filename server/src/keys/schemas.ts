import { z } from 'zod';
import { ALL_SCOPES } from '../store/records.js';
import { DATA_MODES } from '../test-mode/mode.js';

export const ScopeSchema = z.enum(ALL_SCOPES as [string, ...string[]]).meta({ id: 'Scope' });

export const KeySchema = z
  .object({
    id: z.string().meta({ example: 'key_4hT9aQ2mZ0pL1x' }),
    name: z.string().meta({ example: 'Zapier-Integration' }),
    prefix: z.string().meta({ example: 'qr_live_a1B2' }),
    scopes: z.array(ScopeSchema),
    status: z.enum(['active', 'paused', 'revoked', 'expired']),
    expires_at: z.string().nullable(),
    created_at: z.string(),
    created_by: z.string().meta({ description: 'The id of the user who created the key, or `cli`.' }),
    created_by_email: z.string().nullable().meta({ description: 'That user\'s email; null for keys made with the CLI or by a removed user.', example: 'owner@example.com' }),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    renewals_last_24h: z.number().int(),
    mode: z.enum(DATA_MODES).meta({ description: 'live keys see the real data; test keys (`qr_test_…`) only the test-mode data' }),
  })
  .meta({ id: 'ApiKey' });

export const KeyWithSecret = KeySchema.extend({ secret: z.string().meta({ description: 'Shown once. Store it now.', example: 'qr_live_…' }) }).meta({ id: 'ApiKeyWithSecret' });

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(64).meta({ example: 'Zapier-Integration' }),
    scopes: z.array(ScopeSchema).min(1).max(ALL_SCOPES.length).optional(),
    expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
    password: z.string().min(1).max(256).meta({ description: 'Your password again, to confirm.' }),
    mode: z.enum(DATA_MODES).default('live').meta({ description: '`test` makes a test-mode key (`qr_test_…`) that sees only test-mode codes, webhooks and events' }),
  })
  .strict()
  .meta({ id: 'CreateKeyRequest' });

export const RenewKeyBody = z
  .object({ expires_at: z.iso.datetime({ offset: true }).nullable().optional() })
  .strict()
  .meta({ id: 'RenewKeyRequest' });

export const ActivityEntry = z
  .object({ time: z.string(), method: z.string(), path: z.string(), status: z.number().int(), ip: z.string() })
  .meta({ id: 'KeyActivity' });
