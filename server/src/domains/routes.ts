import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import { CreateDomainBody, DomainSchema } from './schemas.js';
import type { DomainService } from './service.js';

/**
 * Custom domains. Managing them needs `domains:write`; listing them needs only `qr:read` (what a client creating
 * codes needs to offer the choice). They belong to the workspace, not to a mode: test keys see the same domains.
 */
export function domainRoutes(domains: DomainService): AnyRoute[] {
  const tag = 'Domains';
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/domains',
      tag,
      summary: 'Add a custom domain',
      operationId: 'createDomain',
      description:
        'Answers the TXT record to publish at `_qrflow.<hostname>`; then call verify. Point the hostname at this server (CNAME or A record) so its links reach it. ' +
        'With QRFLOW_DOMAIN_VERIFICATION=off the domain is verified at once. The plan limits how many domains a workspace has.',
      auth: 'key_or_session',
      scope: 'domains:write',
      body: CreateDomainBody,
      responses: {
        201: { description: 'The domain, pending verification', schema: envelope(DomainSchema) },
        403: { description: 'Missing scope, or the plan allows no more domains (domain_limit_reached)' },
        409: { description: 'The hostname is already a domain of this workspace (domain_exists) or of another (domain_taken)' },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json({ data: await domains.create(req.auth!.workspace, req.auth!.plan, body) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/domains',
      tag,
      summary: 'List custom domains, newest first',
      operationId: 'listDomains',
      auth: 'key_or_session',
      scope: 'qr:read',
      responses: { 200: { description: 'The domains', schema: envelope(z.array(DomainSchema)) } },
      handler: async (req, res) => {
        res.json({ data: await domains.list(req.auth!.workspace) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/domains/:id/verify',
      tag,
      summary: 'Verify a custom domain by its TXT record',
      operationId: 'verifyDomain',
      description: 'Looks up `_qrflow.<hostname>` and marks the domain verified when a TXT record holds its value. A verified domain answers as it is.',
      auth: 'key_or_session',
      scope: 'domains:write',
      params: IdParams,
      responses: {
        200: { description: 'The verified domain', schema: envelope(DomainSchema) },
        409: { description: 'No TXT record with the value was found (domain_not_verified)' },
        503: { description: 'DNS could not be asked (dns_unavailable); try again after Retry-After', codes: ['dns_unavailable'], headers: ['Retry-After'] },
      },
      handler: async (req, res, { params }) => {
        res.json({ data: await domains.verify(req.auth!.workspace, params.id) });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/domains/:id',
      tag,
      summary: 'Remove a custom domain',
      operationId: 'deleteDomain',
      description: 'Refused (409 domain_in_use) while codes use it.',
      auth: 'key_or_session',
      scope: 'domains:write',
      params: IdParams,
      responses: {
        200: { description: 'Removed', schema: envelope(z.object({ id: z.string(), deleted: z.literal(true) })) },
        409: { description: 'Codes still use the domain (domain_in_use)' },
      },
      handler: async (req, res, { params }) => {
        await domains.delete(req.auth!.workspace, params.id);
        res.json({ data: { id: params.id, deleted: true } });
      },
    }),
  ] as AnyRoute[];
}
