import { Resolver } from 'node:dns/promises';
import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { ConflictError, NotFoundError, PermissionError, UnavailableError, ValidationError } from '../errors.js';
import { newId, randomBase62 } from '../random.js';
import type { DomainRecord, WorkspaceRecord } from '../store/records.js';
import { UniqueViolationError } from '../store/store.js';
import type { Plan } from '../workspaces/plans.js';
import { checkHostname, hostOfHeader } from './hostname.js';
import type { CreateDomainBody, DomainView } from './schemas.js';
import type { HostTable } from '../redirect/handler.js';

/** Looks up the TXT records of a name: each record's strings (DNS splits long ones into chunks of 255). */
export type TxtResolver = (name: string) => Promise<string[][]>;

/** DNS answers meaning "there is no such record", as opposed to "DNS could not be asked". */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

/** The system's resolvers, with a bounded wait (3 s, two tries) so a verify call cannot hang. */
export function systemTxtResolver(): TxtResolver {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  return (name) => resolver.resolveTxt(name);
}

export const VERIFICATION_PREFIX = '_qrflow.';
const VALUE_PREFIX = 'qrflow-verify=';
/** How often the in-memory host table is reloaded, so processes sharing a database see each other's domains. */
const RELOAD_MS = 30_000;
/** A pending claim another workspace may take over after this long, so a hostname cannot be squatted unverified. */
export const PENDING_CLAIM_MS = 7 * 24 * 3600_000;

/** Domains are the real workspace's (shared by live and test mode): the id without the test-partition suffix. */
export function ownerOf(workspaceId: string): string {
  return workspaceId.endsWith(':test') ? workspaceId.slice(0, -':test'.length) : workspaceId;
}

/**
 * Custom domains: adding, TXT verification, removal, the plan's limit, and the table of hostnames the redirect
 * reads on every request (held in memory: resolving a Host costs no store round trip).
 */
export class DomainService implements HostTable {
  /** hostname -> domain, for every domain (pending ones too: their host answers a 404 page). */
  private hosts = new Map<string, DomainRecord>();
  private readonly publicHost: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly resolveTxt: TxtResolver = systemTxtResolver(),
  ) {
    this.publicHost = new URL(ctx.config.publicUrl).hostname.toLowerCase();
  }

  /** Loads the host table, then reloads it every 30 s (other processes may add or verify domains). */
  async start(): Promise<void> {
    await this.reload();
    this.timer ??= setInterval(() => void this.reload().catch((error: unknown) => this.ctx.logger.error({ err: error }, 'reloading custom domains failed')), RELOAD_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async reload(): Promise<void> {
    const all = await this.ctx.store.all('domains');
    this.hosts = new Map(all.map((domain) => [domain.hostname, domain]));
  }

  /**
   * The custom domain a request's Host header names (verified, or pending: its host answers a 404 page), or
   * undefined for any other host (the default public URL, or whatever else reaches the server). One map lookup.
   */
  resolve(hostHeader: string | undefined): { hostname: string; verified: boolean } | undefined {
    if (this.hosts.size === 0 || !hostHeader) return undefined;
    const domain = this.hosts.get(hostOfHeader(hostHeader));
    return domain ? { hostname: domain.hostname, verified: domain.status === 'verified' } : undefined;
  }

  /** A verified domain of the workspace (either mode), by hostname, for codes to be served on; or undefined. */
  verifiedOf(workspaceId: string, hostname: string): DomainRecord | undefined {
    const domain = this.hosts.get(hostname.trim().toLowerCase().replace(/\.$/, ''));
    return domain && domain.status === 'verified' && domain.workspace_id === ownerOf(workspaceId) ? domain : undefined;
  }

  view(domain: DomainRecord): DomainView {
    return {
      id: domain.id,
      hostname: domain.hostname,
      status: domain.status,
      verification: { type: 'TXT', name: `${VERIFICATION_PREFIX}${domain.hostname}`, value: domain.verification_value },
      created_at: domain.created_at,
      verified_at: domain.verified_at,
    };
  }

  async list(workspace: WorkspaceRecord): Promise<DomainView[]> {
    const domains = await this.ctx.store.findMany('domains', 'workspace_id', ownerOf(workspace.id));
    return domains.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1)).map((d) => this.view(d));
  }

  async find(workspace: WorkspaceRecord, id: string): Promise<DomainRecord> {
    const domain = await this.ctx.store.get('domains', id);
    if (!domain || domain.workspace_id !== ownerOf(workspace.id)) throw new NotFoundError('domain');
    return domain;
  }

  async create(workspace: WorkspaceRecord, plan: Plan, body: CreateDomainBody): Promise<DomainView> {
    const checked = checkHostname(body.hostname, this.publicHost);
    if ('problem' in checked) throw new ValidationError(`The hostname ${checked.problem}.`, [{ field: 'hostname', message: checked.problem }]);
    const { hostname } = checked;
    const owner = ownerOf(workspace.id);
    const taken = await this.ctx.store.findUnique('domains', 'hostname', hostname);
    // another workspace's claim left unverified for a week lapses (it has no codes: they need a verified domain)
    const lapsed = taken && taken.workspace_id !== owner && taken.status === 'pending' && this.ctx.clock.now() - Date.parse(taken.created_at) >= PENDING_CLAIM_MS;
    if (taken && !lapsed) {
      if (taken.workspace_id === owner) throw new ConflictError('domain_exists', `This workspace already has the domain ${hostname} (${taken.id}).`);
      throw new ConflictError('domain_taken', `The domain ${hostname} belongs to another workspace. A hostname can serve one workspace's links.`);
    }
    const count = await this.ctx.store.countMany('domains', 'workspace_id', owner);
    if (count >= plan.max_domains) {
      throw new PermissionError(
        'domain_limit_reached',
        plan.max_domains === 0
          ? `The ${plan.name} plan has no custom domains. Upgrade the plan to serve short links on your own domain.`
          : `The ${plan.name} plan allows ${plan.max_domains} custom domains and this workspace has ${count}. Remove one you no longer use, or upgrade the plan.`,
      );
    }
    const now = iso(this.ctx.clock.now());
    const off = this.ctx.config.domainVerification === 'off';
    const domain: DomainRecord = {
      id: newId('dom'),
      workspace_id: owner,
      hostname,
      status: off ? 'verified' : 'pending',
      verification_value: `${VALUE_PREFIX}${randomBase62(32)}`,
      created_at: now,
      verified_at: off ? now : null,
    };
    try {
      await this.ctx.store.commit([...(lapsed ? [{ collection: 'domains' as const, delete: taken.id }] : []), { collection: 'domains', put: domain }]);
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new ConflictError('domain_taken', `The domain ${hostname} was just added by another request.`);
      throw error;
    }
    this.hosts.set(hostname, domain);
    return this.view(domain);
  }

  /**
   * Checks `_qrflow.<hostname>` for the domain's TXT value and marks it verified. No record, or none with the value,
   * is a 409 domain_not_verified saying what was found; DNS that cannot be asked is a 503 (try again).
   */
  async verify(workspace: WorkspaceRecord, id: string): Promise<DomainView> {
    const domain = await this.find(workspace, id);
    if (domain.status === 'verified') return this.view(domain);
    if (this.ctx.config.domainVerification !== 'off') {
      const name = `${VERIFICATION_PREFIX}${domain.hostname}`;
      let records: string[][];
      try {
        records = await this.resolveTxt(name);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!code || !NO_RECORD.has(code)) {
          this.ctx.logger.warn({ domain: domain.hostname, code }, 'TXT lookup failed');
          throw new UnavailableError('dns_unavailable', `DNS could not be asked for the TXT record ${name}${code ? ` (${code})` : ''}. Try again in a minute.`, { headers: { 'Retry-After': '60' } });
        }
        records = [];
      }
      const values = records.map((chunks) => chunks.join(''));
      if (!values.includes(domain.verification_value)) {
        const found = values.filter((v) => v.startsWith(VALUE_PREFIX));
        const message =
          values.length === 0
            ? `There is no TXT record at ${name} yet. Add one with the value ${domain.verification_value}; DNS changes can take a few minutes to be seen.`
            : found.length > 0
              ? `The TXT record at ${name} holds another qrflow-verify value. Set it to ${domain.verification_value}.`
              : `None of the TXT records at ${name} is ${domain.verification_value}. Add that value.`;
        throw new ConflictError('domain_not_verified', message, { details: [{ field: 'verification', message: values.length === 0 ? 'no TXT record found' : 'no TXT record with the expected value' }] });
      }
    }
    const verified: DomainRecord = { ...domain, status: 'verified', verified_at: iso(this.ctx.clock.now()) };
    await this.ctx.store.commit([{ collection: 'domains', put: verified }]);
    this.hosts.set(verified.hostname, verified);
    return this.view(verified);
  }

  /** Removes a domain no code uses (409 domain_in_use otherwise: move or delete those codes first). */
  async delete(workspace: WorkspaceRecord, id: string): Promise<void> {
    const domain = await this.find(workspace, id);
    const used = await this.ctx.store.countMany('qrcodes', 'domain', domain.hostname);
    if (used > 0) {
      throw new ConflictError('domain_in_use', `${used} QR code${used === 1 ? ' uses' : 's use'} ${domain.hostname}. Move them to another domain or delete them first (PATCH /api/v1/qr/bulk can move many at once).`);
    }
    await this.ctx.store.commit([{ collection: 'domains', delete: domain.id }]);
    this.hosts.delete(domain.hostname);
  }
}
