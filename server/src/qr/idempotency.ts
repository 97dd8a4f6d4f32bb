import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { ConflictError } from '../errors.js';
import type { IdempotencyRecord } from '../store/records.js';
import { StaleRecordError, UniqueViolationError, type WriteOp } from '../store/store.js';

/** A key's first result is replayed for this long. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A create claimed this long ago and never finished was abandoned (its process died): another may take the key over. */
const CLAIM_STALE_MS = 30_000;
/** How long a retry waits for the first request with its key, still under way in some process, to finish. */
const CLAIM_WAIT_MS = 15_000;
/** The status of an idempotency record whose create is still under way. */
export const IN_PROGRESS = 0;

export interface IdempotentCall<T> {
  ctx: Context;
  workspaceId: string;
  /** The record id: `{workspace}:{Idempotency-Key}`. */
  id: string;
  /** A hash of the request body: the same key with another body is a 409. */
  requestHash: string;
  /** The status stored with the result (201 for a create, 200 for a bulk call). */
  status: number;
  /**
   * Does the work and commits it together with `final(body)`, which records the result and holds only while this
   * call's claim does (a StaleRecordError from that commit means another request took the key over: nothing of
   * this one was written).
   */
  run(final: (body: unknown) => WriteOp): Promise<T>;
  /** The answer of a retry, from the first call's stored body. */
  replay(record: IdempotencyRecord): Promise<T>;
}

/**
 * Runs a call at most once per Idempotency-Key, across processes. The key is claimed first (an insert only one
 * process can make, `status` 0 while the call runs), so a retry sent to another process waits for the first
 * request and replays its result instead of doing the work twice; a claim abandoned by a process that died is
 * taken over after 30 s. Returns the result and whether it was a replay.
 */
export async function runIdempotent<T>(call: IdempotentCall<T>): Promise<{ result: T; replayed: boolean }> {
  const { ctx, id, requestHash } = call;
  const waitUntil = Date.now() + CLAIM_WAIT_MS;
  for (;;) {
    const existing = await ctx.store.get('idempotency', id);
    const age = existing ? ctx.clock.now() - Date.parse(existing.created_at) : Infinity;
    if (existing && age < IDEMPOTENCY_TTL_MS) {
      if (existing.request_hash !== requestHash) {
        throw new ConflictError('idempotency_conflict', 'This Idempotency-Key was already used with a different request body. Use a new key for a new request.');
      }
      if (existing.status !== IN_PROGRESS) return { result: await call.replay(existing), replayed: true };
      if (age < CLAIM_STALE_MS) {
        if (Date.now() >= waitUntil) {
          throw new ConflictError('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed. Retry it in a few seconds to get its result.');
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
    }
    const claim: IdempotencyRecord = { id, workspace_id: call.workspaceId, request_hash: requestHash, status: IN_PROGRESS, body: null, created_at: iso(ctx.clock.now()) };
    try {
      // an expired record, or a claim abandoned by a process that died, is taken over by one request only
      if (existing) await ctx.store.commit([{ collection: 'idempotency', update: id, expect: { created_at: existing.created_at, status: existing.status }, set: claim }]);
      else await ctx.store.commit([{ collection: 'idempotency', insert: claim }]);
    } catch (error) {
      if (error instanceof UniqueViolationError || error instanceof StaleRecordError) continue;
      throw error;
    }
    const final = (body: unknown): WriteOp => ({
      collection: 'idempotency',
      update: id,
      expect: { created_at: claim.created_at, status: IN_PROGRESS, request_hash: requestHash },
      set: { status: call.status, body, created_at: iso(ctx.clock.now()) },
    });
    try {
      return { result: await call.run(final), replayed: false };
    } catch (error) {
      // the claim was taken over meanwhile: nothing of this call was written; answer what the other made
      if (error instanceof StaleRecordError) continue;
      // release the claim (dated as expired), so that a retry does the work instead of waiting for it
      await ctx.store.commit([{ collection: 'idempotency', update: id, expect: { created_at: claim.created_at, status: IN_PROGRESS }, set: { created_at: new Date(0).toISOString() } }]).catch(() => undefined);
      throw error;
    }
  }
}
