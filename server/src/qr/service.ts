import { createHash } from 'node:crypto';
import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { NotFoundError, PermissionError, ValidationError, type ErrorDetail } from '../errors.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { newId, randomBase62 } from '../random.js';
import { routeKey, type DomainRecord, type QrRecord, type QrStyle, type TombstoneRecord, type WorkspaceRecord } from '../store/records.js';
import { CapExceededError, UniqueViolationError, type CapOp, type Op, type WriteOp, type ReadScope } from '../store/store.js';
import type { EventService } from '../events/service.js';
import type { Plan } from '../workspaces/plans.js';
import { detailsFromIssues } from '../validation.js';
import { encodedPayload, fitsInQrCode } from './payload.js';
import { CONTENT_SCHEMAS, type CreateQrBody, type QrView, type UpdateQrBody } from './schemas.js';
import { modeOfPartition, type DataMode } from '../test-mode/mode.js';
import { IDEMPOTENCY_TTL_MS, runIdempotent } from './idempotency.js';
import { maskPassword, mergeSmart, smartView } from './smart.js';
import { ViewJsonCache } from './view-json.js';

export const DEFAULT_STYLE: Required<QrStyle> = { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M', module_shape: 'square', finder_shape: 'square', frame: null };

/** The error correction a code's images are drawn at: H under a logo, which hides modules; the style's otherwise. */
export function effectiveErrorCorrection(qr: Pick<QrRecord, 'style' | 'logo'>): QrStyle['error_correction'] {
  return qr.logo ? 'H' : qr.style.error_correction;
}
const SHORT_CODE_LENGTH = 7;
/**
 * Test-mode short codes are `test` + 7 characters: 11 characters where live ones have 7, so the two never collide,
 * a person sees the mark in the link, and the redirect needs no second path (it looks every code up the same way).
 */
export const TEST_SHORT_CODE_PREFIX = 'test';

export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
  search?: string | undefined;
  tag?: string | undefined;
  status?: 'active' | 'paused' | undefined;
  mode?: 'dynamic' | 'static' | undefined;
}

/** What the QR service asks of custom domains (domains/service.ts). */
export interface DomainLookup {
  /** A verified domain of the workspace (either mode) with this hostname, or undefined. */
  verifiedOf(workspaceId: string, hostname: string): DomainRecord | undefined;
}

/** A create prepared but not committed: the record, its view, and the ops that store it (and its event). */
export interface PreparedWrite {
  qr: QrRecord;
  view: QrView;
  ops: WriteOp[];
}

/** Tries of a create whose random short code turned out taken. */
const SHORT_CODE_ATTEMPTS = 5;

/**
 * What a new code's commit checks besides the route key's unique index (its put): that no deleted code held the
 * short link (a tombstone keeps a deleted link answering 410, never reused). After the put, so that a delete of
 * the link's holder committed meanwhile is seen.
 */
function newCodeChecks(qr: QrRecord): WriteOp[] {
  return qr.route_key ? [{ collection: 'tombstones', absent: qr.route_key }] : [];
}

/** Whether a commit was refused because a new code's short link is held, or was. */
export function shortCodeTaken(error: unknown): boolean {
  return error instanceof UniqueViolationError && ((error.collection === 'qrcodes' && error.index === 'route_key') || error.collection === 'tombstones');
}

/** The op that makes a commit of new codes hold only while the workspace stays within its plan's code limit. */
export function codeCap(workspace: WorkspaceRecord, plan: Plan): CapOp {
  return { collection: 'qrcodes', cap: workspace.id, atMost: plan.max_qr_codes };
}

/** The 403 of a create past the plan's code limit (`held`: the codes the workspace has). */
export function limitReached(plan: Plan, held: number): PermissionError {
  return new PermissionError('qr_limit_reached', `The ${plan.name} plan allows ${plan.max_qr_codes} QR codes and this workspace has ${held}. Delete codes you no longer need, or upgrade the plan.`);
}

/** QR codes: validation of type-specific content, the plan's limit, idempotent creates, cursor paging. */
export class QrService {
  /** Creates in flight per idempotency key, so concurrent retries wait for the first instead of racing it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private readonly viewJson = new ViewJsonCache();

  constructor(
    private readonly ctx: Context,
    private readonly events: EventService,
    private readonly scanCount: (qrId: string) => Promise<number>,
    private readonly domains?: DomainLookup,
  ) {}

  /** The short link: `https://<domain>/<code>` on a custom domain, `<public URL>/r/<code>` otherwise. */
  shortUrl(code: string | null, domain?: string | null): string | null {
    if (!code) return null;
    return domain ? `https://${domain}/${code}` : `${this.ctx.config.publicUrl}/r/${code}`;
  }

  /** The API's view of a code; `knownScans` when the caller knows its count (a code being created has none). */
  async view(qr: QrRecord, knownScans?: number): Promise<QrView> {
    const scanCount = knownScans ?? (await this.scanCount(qr.id));
    return {
      id: qr.id,
      name: qr.name,
      type: qr.type,
      mode: qr.mode,
      destination_url: qr.destination_url,
      // stored content was parsed by the schema of its type when it was written
      content: qr.content as QrView['content'],
      short_code: qr.short_code,
      short_url: this.shortUrl(qr.short_code, qr.domain),
      domain: qr.domain ?? null,
      status: qr.status,
      tags: qr.tags,
      // codes from before shapes and frames have the defaults
      style: { ...DEFAULT_STYLE, ...qr.style },
      logo: qr.logo ? { content_type: qr.logo.content_type, bytes: qr.logo.bytes, updated_at: qr.logo.updated_at } : null,
      created_at: qr.created_at,
      updated_at: qr.updated_at,
      scan_count: scanCount,
      livemode: modeOfPartition(qr.workspace_id) === 'live',
      ...smartView(qr.smart, this.ctx.clock.now(), scanCount),
    };
  }

  /** Checks the type/mode/destination/content combination and returns the normalised content. */
  private checkShape(type: QrRecord['type'], mode: QrRecord['mode'], destination: string | null | undefined, content: unknown): Record<string, unknown> | null {
    const details: ErrorDetail[] = [];
    if (mode === 'dynamic' && type !== 'url') details.push({ field: 'mode', message: 'dynamic codes redirect to a URL, so they must have type "url"; use mode "static" for other types' });
    let parsed: Record<string, unknown> | null = null;
    if (type === 'url') {
      if (!destination) details.push({ field: 'destination_url', message: 'required for type "url"' });
      if (content !== undefined && content !== null) details.push({ field: 'content', message: 'not used by type "url"; put the link in destination_url' });
    } else {
      if (destination) details.push({ field: 'destination_url', message: `not used by type "${type}"` });
      if (content === undefined || content === null) details.push({ field: 'content', message: `required for type "${type}"` });
      else {
        const result = CONTENT_SCHEMAS[type].safeParse(content);
        if (result.success) parsed = result.data as Record<string, unknown>;
        else details.push(...detailsFromIssues(result.error.issues).map((d) => ({ field: `content.${d.field}`, message: d.message })));
      }
    }
    if (details.length > 0) throw new ValidationError(`The QR code is invalid: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, details);
    return parsed;
  }

  /** A static code's content must fit in a QR code at its error-correction level, or every image of it would fail. */
  assertFits(qr: QrRecord, field: string): void {
    const level = effectiveErrorCorrection(qr);
    if (qr.mode !== 'static' || fitsInQrCode(encodedPayload(qr, null), level)) return;
    const advice = qr.logo ? 'A code with a logo is drawn at error correction H: shorten the content, remove the logo, or use a dynamic code.' : 'Shorten it, choose a lower error-correction level (L holds the most), or use a dynamic code.';
    throw new ValidationError(
      `The ${qr.type === 'url' ? 'destination URL' : 'content'} is too long for a QR code with error correction ${level}. ${advice}`,
      [{ field, message: `too long to fit in a QR code at error correction ${level}` }],
    );
  }

  /**
   * A random short code for a new code, not checked here: the create's commit refuses it if a code holds it on the
   * domain or ever did (`newCodeChecks`), and the create is tried again with another (at 62^7 codes, about never).
   */
  private randomShortCode(mode: DataMode, domain: string | null, reserved?: Set<string>): string {
    for (;;) {
      const code = (mode === 'test' ? TEST_SHORT_CODE_PREFIX : '') + randomBase62(SHORT_CODE_LENGTH);
      if (!reserved?.has(routeKey(domain, code))) return code;
    }
  }

  /** A short code free on the domain (null: the default public URL): no code holds it there and none held it. */
  private async newShortCode(mode: DataMode, domain: string | null, reserved?: Set<string>): Promise<string> {
    for (;;) {
      const code = (mode === 'test' ? TEST_SHORT_CODE_PREFIX : '') + randomBase62(SHORT_CODE_LENGTH);
      const key = routeKey(domain, code);
      if (reserved?.has(key)) continue;
      if (!(await this.ctx.store.findUnique('qrcodes', 'route_key', key)) && !(await this.ctx.store.get('tombstones', key))) return code;
    }
  }

  /** The hostname of a verified domain of the workspace, or a 400 on the field. */
  private domainOf(workspace: WorkspaceRecord, hostname: string, field: string): string {
    const domain = this.domains?.verifiedOf(workspace.id, hostname);
    if (!domain) {
      throw new ValidationError(`${hostname} is not a verified domain of this workspace. Add it with POST /api/v1/domains and verify it first.`, [{ field, message: 'not a verified domain of this workspace' }], 'domain_not_available');
    }
    return domain.hostname;
  }

  /**
   * Creates a code. With an idempotency key, a retry of the same request within 24 hours returns the first result;
   * the same key with a different body is a 409.
   */
  async create(workspace: WorkspaceRecord, plan: Plan, body: CreateQrBody, idempotencyKey?: string, reads?: ReadScope): Promise<{ qr: QrView; replayed: boolean }> {
    if (!idempotencyKey) return { qr: await this.createNow(workspace, plan, body, [], undefined, reads), replayed: false };
    const id = `${workspace.id}:${idempotencyKey}`;
    const requestHash = createHash('sha256').update(JSON.stringify(maskPassword(body))).digest('hex');
    for (;;) {
      const pending = this.inFlight.get(id);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    // registered before the first await, so a concurrent retry (even on a store whose reads really wait) queues behind it
    const work = this.createOnce(workspace, plan, body, id, requestHash, reads);
    this.inFlight.set(id, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(id);
    }
  }

  /**
   * The key is claimed first (an insert only one process can make: `status` 0 while the create runs), so a retry
   * sent to another process waits for the first request and replays its result instead of making a second code.
   * The code and the final idempotency record are written in one commit that expects the claim still held.
   */
  private async createOnce(workspace: WorkspaceRecord, plan: Plan, body: CreateQrBody, id: string, requestHash: string, reads?: ReadScope): Promise<{ qr: QrView; replayed: boolean }> {
    const { result, replayed } = await runIdempotent<QrView>({
      ctx: this.ctx,
      workspaceId: workspace.id,
      id,
      requestHash,
      status: 201,
      run: (final) => this.createNow(workspace, plan, body, [], final, reads),
      replay: async (record) => {
        const stored = record.body as QrView;
        const current = await this.ctx.store.get('qrcodes', stored.id);
        return current ? this.view(current) : stored;
      },
    });
    return { qr: result, replayed };
  }


  private async createNow(workspace: WorkspaceRecord, plan: Plan, body: CreateQrBody, extraOps: Op[], idempotency?: (qr: QrView) => WriteOp, reads?: ReadScope): Promise<QrView> {
    for (let attempt = 1; ; attempt++) {
      const { view, ops } = await this.prepareCreate(workspace, plan, body, undefined, undefined, reads);
      const all: WriteOp[] = [...ops, ...extraOps, codeCap(workspace, plan)];
      if (idempotency) all.push(idempotency(view));
      try {
        await this.ctx.store.commit(all);
        return view;
      } catch (error) {
        if (error instanceof CapExceededError) throw limitReached(plan, error.wouldHold - 1);
        // the random short code was taken, or was once: another one
        if (!shortCodeTaken(error) || attempt >= SHORT_CODE_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Checks a create and builds its record and ops without committing them (bulk creates commit many at once).
   * The plan's code limit is the commit's to enforce (`codeCap`, exact across processes); `held`, when the caller
   * counted the workspace's codes (plus those it prepared and has yet to commit), refuses a create past it at once.
   * `reserved` holds the route keys of codes prepared and not yet committed; `reads`: the request's (the event's
   * subscriptions may come from memory).
   */
  async prepareCreate(workspace: WorkspaceRecord, plan: Plan, body: CreateQrBody, held?: number, reserved?: Set<string>, reads?: ReadScope): Promise<PreparedWrite> {
    const content = this.checkShape(body.type, body.mode, body.destination_url, body.content);
    if (body.domain !== undefined && body.mode !== 'dynamic') {
      throw new ValidationError('Only dynamic codes have a short link to serve on a domain.', [{ field: 'domain', message: 'only for dynamic codes' }]);
    }
    const domain = body.domain !== undefined ? this.domainOf(workspace, body.domain, 'domain') : null;
    const smart = await mergeSmart(body.mode, undefined, body);
    if (held !== undefined && held >= plan.max_qr_codes) throw limitReached(plan, held);
    const now = iso(this.ctx.clock.now());
    const qr: QrRecord = {
      id: newId('qr'),
      workspace_id: workspace.id,
      name: body.name,
      type: body.type,
      mode: body.mode,
      destination_url: body.type === 'url' ? (body.destination_url ?? null) : null,
      content,
      short_code: body.mode === 'dynamic' ? this.randomShortCode(modeOfPartition(workspace.id), domain, reserved) : null,
      domain,
      route_key: null,
      status: body.status ?? 'active',
      tags: [...new Set(body.tags ?? [])],
      style: { ...DEFAULT_STYLE, ...body.style },
      created_at: now,
      updated_at: now,
      ...(smart ? { smart } : {}),
    };
    qr.route_key = qr.short_code ? routeKey(domain, qr.short_code) : null;
    if (qr.route_key) reserved?.add(qr.route_key);
    this.assertFits(qr, qr.type === 'url' ? 'destination_url' : 'content');
    const view = await this.view(qr, 0);
    const { ops: eventOps } = await this.events.record(workspace.id, 'qr.created', view, reads);
    return { qr, view, ops: [{ collection: 'qrcodes', insert: qr }, ...newCodeChecks(qr), ...eventOps] };
  }

  /**
   * A code of this workspace, or 404: another workspace's code is indistinguishable from a missing one. `reads`: a
   * reading request's, so that it may come from memory (CoherentReads); not for a read before a write.
   */
  async find(workspace: WorkspaceRecord, id: string, reads?: ReadScope): Promise<QrRecord> {
    const qr = await this.ctx.store.get('qrcodes', id, reads);
    if (!qr || qr.workspace_id !== workspace.id) throw new NotFoundError('QR code');
    return qr;
  }

  /**
   * A page of codes, newest first. `json` is `JSON.stringify(items)`, each code's part remembered between pages
   * (ViewJsonCache) for the list route, which sends it as it is.
   */
  async list(workspace: WorkspaceRecord, options: ListOptions): Promise<{ items: QrView[]; json: string; hasMore: boolean; nextCursor: string | null }> {
    const before = options.cursor ? decodeCursor(options.cursor) : undefined;
    const search = options.search?.trim().toLowerCase();
    const filters: Array<(qr: QrRecord) => boolean> = [];
    if (search) filters.push((qr) => qr.name.toLowerCase().includes(search));
    if (options.tag) filters.push((qr) => qr.tags.includes(options.tag as string));
    if (options.status) filters.push((qr) => qr.status === options.status);
    if (options.mode) filters.push((qr) => qr.mode === options.mode);
    const page = await this.ctx.store.listPage('qrcodes', workspace.id, {
      limit: options.limit,
      before,
      filter: filters.length ? (qr) => filters.every((f) => f(qr)) : undefined,
    });
    const last = page.items[page.items.length - 1];
    const items = await Promise.all(page.items.map((qr) => this.view(qr)));
    const json = `[${items.map((view, i) => this.viewJson.json(page.items[i] as QrRecord, view)).join(',')}]`;
    return { items, json, hasMore: page.hasMore, nextCursor: page.hasMore && last ? encodeCursor(last) : null };
  }

  async update(workspace: WorkspaceRecord, id: string, body: UpdateQrBody, reads?: ReadScope): Promise<QrView> {
    const { view, ops } = await this.prepareUpdate(workspace, id, body, undefined, reads);
    await this.ctx.store.commit(ops);
    return view;
  }

  /** Checks an update and builds the changed record and its ops without committing them (`reads`: as in prepareCreate). */
  async prepareUpdate(workspace: WorkspaceRecord, id: string, body: UpdateQrBody, reserved?: Set<string>, reads?: ReadScope): Promise<PreparedWrite> {
    const immutable = (['type', 'mode', 'id', 'short_code'] as const).filter((field) => body[field] !== undefined);
    const qr = await this.find(workspace, id);
    const changed = immutable.filter((field) => body[field] !== qr[field]);
    if (changed.length > 0) {
      throw new ValidationError(
        `${changed.join(', ')} cannot be changed after creation; create a new code instead.`,
        changed.map((field) => ({ field, message: 'cannot be changed' })),
        'immutable_field',
      );
    }
    if (body.content !== undefined && qr.mode === 'dynamic') {
      throw new ValidationError('A dynamic code has no content to change; change its destination_url.', [{ field: 'content', message: 'not used by dynamic codes' }]);
    }
    if (body.destination_url !== undefined && qr.type !== 'url') {
      throw new ValidationError(`A code of type "${qr.type}" has no destination_url.`, [{ field: 'destination_url', message: `not used by type "${qr.type}"` }]);
    }
    const content = body.content !== undefined ? this.checkShape(qr.type, qr.mode, undefined, body.content) : qr.content;
    const move = body.domain !== undefined ? await this.prepareMove(workspace, qr, body.domain, reserved) : undefined;
    const smart = await mergeSmart(qr.mode, qr.smart, body);
    const updated: QrRecord = {
      ...qr,
      name: body.name ?? qr.name,
      destination_url: body.destination_url ?? qr.destination_url,
      status: body.status ?? qr.status,
      tags: body.tags ? [...new Set(body.tags)] : qr.tags,
      style: body.style ? { ...qr.style, ...body.style } : qr.style,
      content,
      ...(move ? move.fields : {}),
      updated_at: iso(this.ctx.clock.now()),
    };
    if (smart) updated.smart = smart;
    else delete updated.smart;
    this.assertFits(updated, body.content !== undefined ? 'content' : body.destination_url !== undefined ? 'destination_url' : 'style.error_correction');
    const view = await this.view(updated);
    const { ops } = await this.events.record(workspace.id, 'qr.updated', view, reads);
    return { qr: updated, view, ops: [...(move?.ops ?? []), { collection: 'qrcodes', put: updated }, ...ops] };
  }

  /**
   * Moving a dynamic code to another domain (null: the default public URL). The old link stops as a deleted one does
   * (a tombstone answers 410 and keeps it from being reused). The short code is kept when it is free on the new
   * domain (or was this code's own there before); otherwise the code gets a new one.
   */
  private async prepareMove(workspace: WorkspaceRecord, qr: QrRecord, target: string | null, reserved?: Set<string>): Promise<{ fields: Partial<QrRecord>; ops: Op[] } | undefined> {
    if (qr.mode !== 'dynamic' || !qr.short_code) {
      throw new ValidationError('Only dynamic codes have a short link to move to a domain.', [{ field: 'domain', message: 'only for dynamic codes' }]);
    }
    const domain = target === null ? null : this.domainOf(workspace, target, 'domain');
    const current = qr.domain ?? null;
    if (domain === current) return undefined;
    const ops: Op[] = [];
    let code = qr.short_code;
    const wanted = routeKey(domain, code);
    const holder = await this.ctx.store.findUnique('qrcodes', 'route_key', wanted);
    const tombstone = await this.ctx.store.get('tombstones', wanted);
    if (holder || reserved?.has(wanted) || (tombstone && tombstone.qr_id !== qr.id)) code = await this.newShortCode(modeOfPartition(workspace.id), domain, reserved);
    else if (tombstone) ops.push({ collection: 'tombstones', delete: wanted });
    const key = routeKey(domain, code);
    reserved?.add(key);
    ops.push({ collection: 'tombstones', put: { id: qr.route_key ?? routeKey(current, qr.short_code), workspace_id: workspace.id, qr_id: qr.id, deleted_at: iso(this.ctx.clock.now()) } satisfies TombstoneRecord });
    return { fields: { domain, short_code: code, route_key: key }, ops };
  }

  async delete(workspace: WorkspaceRecord, id: string, reads?: ReadScope): Promise<void> {
    await this.ctx.store.commit((await this.prepareDelete(workspace, id, reads)).ops);
  }

  /** Builds a delete's ops (the record's removal, its tombstone, its event) without committing them (`reads`: as in prepareCreate). */
  async prepareDelete(workspace: WorkspaceRecord, id: string, reads?: ReadScope): Promise<PreparedWrite> {
    const qr = await this.find(workspace, id);
    const view = await this.view(qr);
    const { ops } = await this.events.record(workspace.id, 'qr.deleted', view, reads);
    const tombstone: Op[] = qr.short_code
      ? [{ collection: 'tombstones', put: { id: qr.route_key ?? routeKey(qr.domain, qr.short_code), workspace_id: workspace.id, qr_id: qr.id, deleted_at: iso(this.ctx.clock.now()) } satisfies TombstoneRecord }]
      : [];
    const logo: Op[] = qr.logo ? [{ collection: 'logos', delete: qr.id }] : [];
    return { qr, view, ops: [{ collection: 'qrcodes', delete: qr.id }, ...logo, ...tombstone, ...ops] };
  }

  /** Drops idempotency records older than 24 hours. */
  async sweepIdempotency(): Promise<void> {
    const now = this.ctx.clock.now();
    const expired = (await this.ctx.store.all('idempotency')).filter((r) => now - Date.parse(r.created_at) >= IDEMPOTENCY_TTL_MS);
    if (expired.length) this.ctx.store.commitSoon(expired.map((r) => ({ collection: 'idempotency', delete: r.id }) as Op));
  }
}
