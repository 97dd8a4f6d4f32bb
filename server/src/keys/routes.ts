import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import { AuthenticationError } from '../errors.js';
import { verifyPassword } from '../auth/passwords.js';
import type { Context } from '../context.js';
import type { Scope } from '../store/records.js';
import type { KeyService } from './service.js';
import type { KeyActivity } from './activity.js';
import { ActivityEntry, CreateKeyBody, KeySchema, KeyWithSecret, RenewKeyBody } from './schemas.js';

const ADMIN = ['owner', 'admin'] as const;

export function keyRoutes(ctx: Context, keys: KeyService, activity: KeyActivity): AnyRoute[] {
  const common = { tag: 'API keys', auth: 'session', roles: [...ADMIN] } as const;
  return [
    defineRoute({
      ...common,
      method: 'get',
      path: '/api/v1/keys',
      operationId: 'listApiKeys',
      summary: 'List the API keys of the workspace',
      description: 'Shows each key\'s prefix, never its secret. Owners and admins only.',
      responses: { 200: { description: 'The keys, newest first', schema: envelope(z.array(KeySchema)) } },
      handler: async (req, res) => {
        res.json({ data: await keys.list(req.auth!.workspace) });
      },
    }),
    defineRoute({
      ...common,
      method: 'post',
      path: '/api/v1/keys',
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description: 'Asks for your password again. The secret is in this response only: copy it now.',
      body: CreateKeyBody,
      responses: {
        201: { description: 'The key with its secret (shown once)', schema: envelope(KeyWithSecret) },
        401: { description: 'The password is wrong', codes: ['invalid_password'] },
        403: { description: 'The plan\'s API key limit is reached', codes: ['key_limit_reached'] },
      },
      handler: async (req, res, { body }) => {
        const user = await ctx.store.get('users', req.auth!.user!.id);
        if (!user || !(await verifyPassword(body.password, user.password_hash))) {
          throw new AuthenticationError('invalid_password', 'The password is incorrect; creating a key needs your current password.');
        }
        const { key, secret } = await keys.create(req.auth!.workspace, { name: body.name, scopes: body.scopes as Scope[] | undefined, expires_at: body.expires_at, mode: body.mode }, user.id);
        res.status(201).json({ data: { ...key, secret } });
      },
    }),
    ...(['pause', 'resume'] as const).map((action) =>
      defineRoute({
        ...common,
        method: 'post',
        path: `/api/v1/keys/:id/${action}`,
        operationId: action === 'pause' ? 'pauseApiKey' : 'resumeApiKey',
        summary: action === 'pause' ? 'Pause a key (it stops working until resumed)' : 'Resume a paused key',
        params: IdParams,
        responses: { 200: { description: 'The key', schema: envelope(KeySchema) }, 409: { description: 'The key is revoked', codes: ['key_revoked'] } },
        handler: async (req, res, { params }) => {
          res.json({ data: await keys[action](req.auth!.workspace, params.id) });
        },
      }),
    ),
    defineRoute({
      ...common,
      method: 'post',
      path: '/api/v1/keys/:id/renew',
      operationId: 'renewApiKey',
      summary: 'Renew a key: a new secret, the old one stops working at once',
      description: 'At most five renewals per key in 24 hours (then 429 `renew_limit_exceeded`).',
      params: IdParams,
      body: RenewKeyBody,
      responses: {
        200: { description: 'The key with its new secret (shown once)', schema: envelope(KeyWithSecret) },
        409: { description: 'The key is revoked', codes: ['key_revoked'] },
        429: { description: 'Renewed five times in 24 hours', codes: ['renew_limit_exceeded'], headers: ['Retry-After'] },
      },
      handler: async (req, res, { params, body }) => {
        const { key, secret } = await keys.renew(req.auth!.workspace, params.id, body);
        res.json({ data: { ...key, secret } });
      },
    }),
    defineRoute({
      ...common,
      method: 'delete',
      path: '/api/v1/keys/:id',
      operationId: 'revokeApiKey',
      summary: 'Revoke a key (irreversible; it stays listed as revoked)',
      params: IdParams,
      responses: { 200: { description: 'The revoked key', schema: envelope(KeySchema) } },
      handler: async (req, res, { params }) => {
        res.json({ data: await keys.revoke(req.auth!.workspace, params.id) });
      },
    }),
    defineRoute({
      ...common,
      method: 'get',
      path: '/api/v1/keys/:id/activity',
      operationId: 'listApiKeyActivity',
      summary: 'The last 100 requests made with a key',
      params: IdParams,
      responses: { 200: { description: 'Newest first', schema: envelope(z.array(ActivityEntry)) } },
      handler: async (req, res, { params }) => {
        const key = await keys.find(req.auth!.workspace, params.id);
        res.json({ data: await activity.list(key.id, key.workspace_id) });
      },
    }),
  ] as AnyRoute[];
}
