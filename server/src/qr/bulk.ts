import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Auth } from '../auth/auth.js';
import type { Context } from '../context.js';
import { AppError, statusOf, ValidationError, type ErrorDetail } from '../errors.js';
import type { QrRecord, WorkspaceRecord } from '../store/records.js';
import { CapExceededError, type WriteOp } from '../store/store.js';
import { runIdempotent } from './idempotency.js';
import { dataWorkspace } from '../test-mode/mode.js';
import { detailsFromIssues } from '../validation.js';
import { CreateQrBody, Tag, UpdateQrBody, type QrView } from './schemas.js';
import { maskPassword } from './smart.js';
import { codeCap, shortCodeTaken, type QrService } from './service.js';

/** Items (or ids) per bulk call. */
export const MAX_BULK_ITEMS = 100;
/** Times a bulk create is checked again when creates on other processes took the room it counted on. */
const MAX_CAP_ATTEMPTS = 3;
/** Codes a tag may select in one bulk update. */
export const MAX_TAG_MATCHES = 1000;

const Id = z.string().min(1).max(64);
const UniqueIds = z
  .array(Id)
  .min(1)
  .max(MAX_BULK_ITEMS)
  .refine((ids) => new Set(ids).size === ids.length, 'each id at most once');

export const BulkCreateBody = z
  .object({ items: z.array(z.unknown().meta({ $ref: '#/components/schemas/CreateQrRequest' })).min(1).max(MAX_BULK_ITEMS).meta({ description: `1 to ${MAX_BULK_ITEMS} create bodies, each as for POST /api/v1/qr` }) })
  .strict()
  .meta({ id: 'BulkCreateQrRequest' });
export type BulkCreateBody = z.infer<typeof BulkCreateBody>;

const BulkSet = UpdateQrBody.omit({ type: true, mode: true, id: true, short_code: true })
  .strict()
  .refine((set) => Object.values(set).some((v) => v !== undefined), 'name at least one field to change')
  .meta({ id: 'BulkUpdateSet' });

export const BulkCreateQuery = z
  .object({ dry_run: z.enum(['true', 'false']).optional().meta({ description: '`true`: check every item (schema, content, domain, the plan\'s code limit) and answer the per-item results without creating anything; valid items answer `{status: 200, data: {valid: true}}`' }) })
  .strict();

export const BulkUpdateBody = z
  .object({
    ids: UniqueIds.optional(),
    tag: Tag.optional().meta({ description: `Every code of the workspace with this tag (at most ${MAX_TAG_MATCHES})` }),
    set: BulkSet,
  })
  .strict()
  .refine((body) => (body.ids === undefined) !== (body.tag === undefined), { message: 'give either ids or tag', path: ['ids'] })
  .meta({ id: 'BulkUpdateQrRequest' });
export type BulkUpdateBody = z.infer<typeof BulkUpdateBody>;

export const BulkDeleteBody = z.object({ ids: UniqueIds }).strict().meta({ id: 'BulkDeleteQrRequest' });
export type BulkDeleteBody = z.infer<typeof BulkDeleteBody>;

const ItemError = z.object({ code: z.string(), message: z.string(), details: z.array(z.object({ field: z.string(), message: z.string() })).optional() });
export const BulkResults = z
  .object({
    data: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int().meta({ description: 'The status the item would have had as a single call (201, 200, 400, 403, 404, 429…)' }),
        data: z.unknown().optional(),
        error: ItemError.optional(),
      }),
    ),
  })
  .meta({ id: 'BulkResults' });

export type BulkItemResult =
  | { index: number; status: number; data: unknown }
  | { index: number; status: number; error: { code: string; message: string; details?: ErrorDetail[] } };

function failure(index: number, error: AppError): BulkItemResult {
  return { index, status: statusOf(error), error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

/** The per-item error of an item beyond the month's API allowance. */
function quotaFailure(index: number, auth: Auth): BulkItemResult {
  return {
    index,
    status: 429,
    error: {
      code: 'monthly_quota_exceeded',
      message: `This workspace's ${auth.plan.name} plan had no API calls left this month for this item (each item of a bulk call counts as one call). Nothing was done for it; upgrade the plan or wait for the month to reset.`,
    },
  };
}

/**
 * Bulk create, update and delete. Each item is checked on its own and answered with the status it would have had as
 * a single call; the good ones are committed together (one atomic commit, with one event per code), so a call is
 * never half-applied by a crash. Every item counts as one API call, and creates count against the plan's code limit
 * in order: once the limit is reached, each later valid item answers 403 qr_limit_reached.
 */
export class BulkService {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ctx: Context,
    private readonly qr: QrService,
    /** Takes up to n more API calls of the month for this request; returns how many there was room for. */
    private readonly takeCalls: (auth: Auth, n: number) => Promise<number>,
  ) {}

  /** How many of `n` items the allowance covers: the first was counted with the request itself. */
  private async allowed(auth: Auth, n: number): Promise<number> {
    return 1 + (await this.takeCalls(auth, n - 1));
  }

  async create(auth: Auth, body: BulkCreateBody, idempotencyKey?: string, dryRun = false): Promise<{ results: BulkItemResult[]; replayed: boolean }> {
    const workspace = dataWorkspace(auth);
    // a dry run creates nothing, so it has nothing to replay: it counts as one call, whatever its size
    if (dryRun) return { results: await this.createNow(auth, workspace, body, undefined, true), replayed: false };
    if (!idempotencyKey) return { results: await this.createNow(auth, workspace, body), replayed: false };
    const id = `${workspace.id}:${idempotencyKey}`;
    const requestHash = createHash('sha256').update(`bulk:${JSON.stringify({ ...body, items: body.items.map(maskPassword) })}`).digest('hex');
    for (;;) {
      const pending = this.inFlight.get(id);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    const work = this.createOnce(auth, workspace, body, id, requestHash);
    this.inFlight.set(id, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async createOnce(auth: Auth, workspace: WorkspaceRecord, body: BulkCreateBody, id: string, requestHash: string): Promise<{ results: BulkItemResult[]; replayed: boolean }> {
    // claimed first, as a single create's key is: the same call retried on another process replays, never creates twice
    const { result, replayed } = await runIdempotent<BulkItemResult[]>({
      ctx: this.ctx,
      workspaceId: workspace.id,
      id,
      requestHash,
      status: 200,
      run: (final) => this.createNow(auth, workspace, body, final),
      // created codes as they are now (a later change or delete shows), as a single create's replay does
      replay: (record) =>
        Promise.all(
          (record.body as BulkItemResult[]).map(async (item) => {
            if (!('data' in item)) return item;
            const current = await this.ctx.store.get('qrcodes', (item.data as QrView).id);
            return current ? { ...item, data: await this.qr.view(current) } : item;
          }),
        ),
    });
    return { results: result, replayed };
  }

  private async createNow(auth: Auth, workspace: WorkspaceRecord, body: BulkCreateBody, idempotency?: (results: BulkItemResult[]) => WriteOp, dryRun = false): Promise<BulkItemResult[]> {
    const allowed = dryRun ? body.items.length : await this.allowed(auth, body.items.length);
    for (let attempt = 1; ; attempt++) {
      // the items are checked against the count read now; the commit's cap makes it exact across processes
      const held = await this.ctx.store.countByWorkspace('qrcodes', workspace.id);
      // after racing creates took the room a few times over, the last try counts the workspace as full
      const { results, ops, created } = await this.prepareItems(auth, workspace, body, allowed, attempt < MAX_CAP_ATTEMPTS ? held : Math.max(held, auth.plan.max_qr_codes), dryRun);
      if (dryRun) return results;
      // (a commit that creates nothing needs no cap: a workspace over a lowered limit may still record its results)
      if (created > 0) ops.push(codeCap(workspace, auth.plan));
      if (idempotency) ops.push(idempotency(results));
      try {
        await this.ctx.store.commit(ops);
        return results;
      } catch (error) {
        // other processes created codes since the count: check the items again against the new one (and a random
        // short code found taken gets another)
        if (!(error instanceof CapExceededError || shortCodeTaken(error)) || attempt >= MAX_CAP_ATTEMPTS) throw error;
      }
    }
  }

  /** Each item's result, and the ops of those that pass (creates count against the code limit in order, from `held`). */
  private async prepareItems(auth: Auth, workspace: WorkspaceRecord, body: BulkCreateBody, allowed: number, held: number, dryRun: boolean): Promise<{ results: BulkItemResult[]; ops: WriteOp[]; created: number }> {
    const results: BulkItemResult[] = [];
    const ops: WriteOp[] = [];
    const reserved = new Set<string>();
    let created = 0;
    for (const [index, item] of body.items.entries()) {
      if (index >= allowed) {
        results.push(quotaFailure(index, auth));
        continue;
      }
      const parsed = CreateQrBody.safeParse(item);
      if (!parsed.success) {
        const details = detailsFromIssues(parsed.error.issues);
        results.push(failure(index, new ValidationError(`The QR code is invalid: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, details)));
        continue;
      }
      try {
        const prepared = await this.qr.prepareCreate(workspace, auth.plan, parsed.data, held + created, reserved);
        ops.push(...prepared.ops);
        created++;
        results.push(dryRun ? { index, status: 200, data: { valid: true } } : { index, status: 201, data: prepared.view });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        results.push(failure(index, error));
      }
    }
    return { results, ops, created };
  }

  async update(auth: Auth, body: BulkUpdateBody): Promise<BulkItemResult[]> {
    const workspace = dataWorkspace(auth);
    const ids = body.ids ?? (await this.idsWithTag(workspace, body.tag as string));
    return this.apply(auth, ids, (id, reserved) => this.qr.prepareUpdate(workspace, id, body.set, reserved), (prepared) => prepared.view);
  }

  async delete(auth: Auth, body: BulkDeleteBody): Promise<BulkItemResult[]> {
    const workspace = dataWorkspace(auth);
    return this.apply(auth, body.ids, (id) => this.qr.prepareDelete(workspace, id), (prepared) => ({ id: prepared.qr.id, deleted: true }));
  }

  private async idsWithTag(workspace: WorkspaceRecord, tag: string): Promise<string[]> {
    const page = await this.ctx.store.listPage('qrcodes', workspace.id, { limit: MAX_TAG_MATCHES, filter: (qr: QrRecord) => qr.tags.includes(tag) });
    if (page.hasMore) {
      throw new ValidationError(`More than ${MAX_TAG_MATCHES} codes have the tag "${tag}". Send their ids in calls of up to ${MAX_BULK_ITEMS} instead.`, [{ field: 'tag', message: `matches more than ${MAX_TAG_MATCHES} codes` }], 'too_many_codes');
    }
    return page.items.map((qr) => qr.id);
  }

  private async apply<P extends { ops: WriteOp[]; qr: QrRecord }>(auth: Auth, ids: string[], prepare: (id: string, reserved: Set<string>) => Promise<P>, data: (prepared: P) => unknown): Promise<BulkItemResult[]> {
    const allowed = ids.length === 0 ? 0 : await this.allowed(auth, ids.length);
    const results: BulkItemResult[] = [];
    const ops: WriteOp[] = [];
    const reserved = new Set<string>();
    for (const [index, id] of ids.entries()) {
      if (index >= allowed) {
        results.push(quotaFailure(index, auth));
        continue;
      }
      try {
        const prepared = await prepare(id, reserved);
        ops.push(...prepared.ops);
        results.push({ index, status: 200, data: data(prepared) });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        results.push(failure(index, error));
      }
    }
    await this.ctx.store.commit(ops);
    return results;
  }
}
