import pg from 'pg';
import type { CollectionName } from '../records.js';
import { CapExceededError, type CapOp, type WriteOp } from '../store.js';
import { StoreUnavailableError } from '../unavailable.js';
import { applyUpdate } from '../update.js';
import { CAP_EXCEEDED } from './migrations.js';
import { columnValues, storableJson, storableText, TABLES, type TableSpec } from './schema.js';

type AnyRecord = { id: string } & Record<string, unknown>;

/** A record as one transaction left it (undefined: deleted), told to this process's followers once committed. */
export interface Change {
  collection: CollectionName;
  id: string;
  record: AnyRecord | undefined;
}

/** Commits written together in one transaction at most (each may take a subtransaction id: PostgreSQL caches 64 per backend). */
const MAX_GROUP = 48;
/** Transactions of grouped commits in flight at once: while one waits for its COMMIT, the next is written. */
const GROUPS_IN_FLIGHT = 2;
/** Statement text sent in one round trip at most. */
const MAX_ROUND_TRIP_CHARS = 256 * 1024;
/** A group that meets a deadlock or a serialization failure is written again from the start this many times. */
const MAX_ATTEMPTS = 3;

/** A value as an SQL literal: statements are sent as text, several in one round trip (the simple query protocol). */
function literal(value: string | null): string {
  return value === null ? 'NULL' : pg.escapeLiteral(storableText(value));
}

function recordValues(spec: TableSpec, record: AnyRecord): string {
  return [literal(record.id), ...columnValues(spec, record).map(literal), `${pg.escapeLiteral(storableJson(record))}::jsonb`].join(', ');
}

function columnList(spec: TableSpec): string {
  return ['id', ...spec.columns, 'data'].map((column) => `"${column}"`).join(', ');
}

function upsert(spec: TableSpec, record: AnyRecord): string {
  const updates = [...spec.columns, 'data'].map((column) => `"${column}" = EXCLUDED."${column}"`).join(', ');
  return `INSERT INTO ${spec.table} (${columnList(spec)}) VALUES (${recordValues(spec, record)}) ON CONFLICT (id) DO UPDATE SET ${updates}`;
}

function insert(spec: TableSpec, record: AnyRecord): string {
  return `INSERT INTO ${spec.table} (${columnList(spec)}) VALUES (${recordValues(spec, record)})`;
}

/** A commit waiting for its transaction. */
interface Pending {
  ops: WriteOp[];
  resolve: (changes: Change[]) => void;
  reject: (error: unknown) => void;
}

/** Why a group's transaction stopped short: one commit's own rejection (`culprit`), or the whole group's. */
class GroupFailure extends Error {
  constructor(
    readonly error: unknown,
    /** The commit (its index in the group) the error belongs to, when known. */
    readonly culprit: number | undefined,
    /** The error that commit is rejected with (the store's own: a unique violation, a stale record, a cap passed). */
    readonly rejection: unknown = error,
  ) {
    super('group failed');
  }
}

/** SQLSTATEs after which the same transaction may well succeed when written again. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return error instanceof pg.DatabaseError && (code === '40P01' || code === '40001');
}

/**
 * Writes commits to PostgreSQL, grouping those that arrive while a transaction is in flight into the next one
 * (group commit): one BEGIN, the statements of every commit sent as text in as few round trips as the updates
 * allow (an update reads its row `FOR UPDATE` first), one COMMIT. A commit resolves only once its group's COMMIT
 * answered. When a commit is rejected (a unique violation, a stale `expect`, a cap), it alone is: the group is
 * rolled back and written again without it, or, when the failing statement cannot be told apart, again with each
 * commit in a SAVEPOINT of its own (rolled back to on its error) and its own round trip.
 */
export class TransactionWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly pool: pg.Pool,
    /** The store's translation of driver errors (unique violations, unreachable database). */
    private readonly translate: (error: unknown) => unknown,
  ) {}

  /** Queues a commit for the next group; resolves with its changes once that group committed. */
  commit(ops: WriteOp[]): Promise<Change[]> {
    return new Promise<Change[]>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      this.pump();
    });
  }

  /** One commit in a transaction of its own, now (the batches of commitSoon). */
  async transaction(ops: WriteOp[]): Promise<Change[]> {
    const [result] = await this.write([ops]);
    if (result instanceof Error || !Array.isArray(result)) throw result;
    return result;
  }

  private pump(): void {
    while (this.inFlight < GROUPS_IN_FLIGHT && this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      this.inFlight++;
      void this.write(group.map((pending) => pending.ops))
        .then(
          (results) => results.forEach((result, index) => (Array.isArray(result) ? group[index]?.resolve(result) : group[index]?.reject(result))),
          (error: unknown) => group.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  /** Writes the commits in one transaction; each commit's result is its changes or the error that rejected it alone. */
  private async write(commits: WriteOp[][]): Promise<Array<Change[] | unknown>> {
    const results: Array<Change[] | unknown> = commits.map(() => undefined);
    let open = commits.map((_, index) => index).filter((index) => commits[index]?.length);
    for (const index of commits.keys()) if (!commits[index]?.length) results[index] = [];
    let isolate = false;
    let attempts = 0;
    while (open.length > 0) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw this.translate(error);
      }
      let broken = false;
      // a connection reset between two statements is emitted on the client, not passed to a query: without a
      // listener it would crash the process; the next statement fails and says so instead
      const onError = () => (broken = true);
      client.on('error', onError);
      try {
        const outcome = await this.run(client, open.map((index) => commits[index] as WriteOp[]), isolate);
        outcome.forEach((result, position) => (results[open[position] as number] = result));
        return results;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const failure = error instanceof GroupFailure ? error : new GroupFailure(error, undefined);
        const translated = this.translate(failure.error);
        broken ||= translated instanceof StoreUnavailableError;
        if (translated instanceof StoreUnavailableError || !(failure.error instanceof pg.DatabaseError || failure.culprit !== undefined)) throw translated;
        if (retryable(failure.error)) {
          if (++attempts >= MAX_ATTEMPTS) throw translated;
        } else if (failure.culprit !== undefined) {
          // that commit alone is rejected; the others are written again without it (each in a savepoint from now
          // on: where one commit was refused others may be, e.g. many creates racing for a workspace's last codes)
          results[open[failure.culprit] as number] = failure.rejection;
          open = open.filter((_, position) => position !== failure.culprit);
          isolate = true;
        } else {
          // a failure no commit can be named for even with each in its own round trip (a COMMIT refused) is the group's
          if (isolate) throw translated;
          isolate = true;
        }
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
    return results;
  }

  /**
   * One transaction of the commits. Without `isolate`, any rejection throws (the caller rolls back); with it, each
   * commit runs in a SAVEPOINT and its own round trips, and a rejection rolls back to it and is that commit's result.
   */
  private async run(client: pg.PoolClient, commits: WriteOp[][], isolate: boolean): Promise<Array<Change[] | unknown>> {
    const results: Array<Change[] | unknown> = [];
    const caps: Array<{ commit: number; cap: CapOp }> = [];
    let buffer: string[] = ['BEGIN'];
    let size = 0;
    /** Commits with statements in the buffer: an error of the round trip is theirs only when it holds one. */
    let owners = new Set<number>();
    const send = async (): Promise<pg.QueryResult<{ data: AnyRecord }> | undefined> => {
      if (buffer.length === 0) return undefined;
      const text = buffer.join(';\n');
      const holders = owners;
      buffer = [];
      size = 0;
      owners = new Set();
      let answer: pg.QueryResult<{ data: AnyRecord }> | pg.QueryResult<{ data: AnyRecord }>[];
      try {
        answer = (await client.query(text)) as unknown as typeof answer;
      } catch (error) {
        throw fail(error, culpritOf(error, holders));
      }
      return Array.isArray(answer) ? answer[answer.length - 1] : answer;
    };
    const culpritOf = (error: unknown, holders: Set<number>): number | undefined => {
      const pgError = error as { code?: string; detail?: string };
      if (pgError.code === CAP_EXCEEDED) return caps[Number(pgError.detail?.split(' ')[0])]?.commit;
      return holders.size === 1 ? [...holders][0] : undefined;
    };
    const fail = (error: unknown, culprit: number | undefined) => new GroupFailure(error, culprit, culprit === undefined ? error : rejection(error, this.translate, caps, culprit));
    const push = (commit: number, statement: string) => {
      buffer.push(statement);
      owners.add(commit);
      size += statement.length;
    };
    for (const [commit, ops] of commits.entries()) {
      const changes: Change[] = [];
      if (isolate) push(commit, 'SAVEPOINT qrflow_commit');
      try {
        for (const op of ops) {
          if ('cap' in op) {
            if (Number.isNaN(op.atMost)) throw new TypeError('a cap must be a number');
            // no bound is no statement
            if (op.atMost !== Infinity) caps.push({ commit, cap: op });
            continue;
          }
          const spec = TABLES[op.collection];
          if ('absent' in op) {
            // raises the table's own primary-key violation (translated to UniqueViolationError on `id`)
            push(commit, `SELECT qrflow_check_absent(${literal(op.collection)}, ${literal(op.absent)})`);
          } else if ('put' in op) {
            const record = op.put as unknown as AnyRecord;
            push(commit, upsert(spec, record));
            changes.push({ collection: op.collection, id: record.id, record });
          } else if ('insert' in op) {
            const record = op.insert as unknown as AnyRecord;
            push(commit, insert(spec, record));
            changes.push({ collection: op.collection, id: record.id, record });
          } else if ('update' in op) {
            // a missing record is created first, so the row lock below holds against a concurrent creator too
            if (op.ifMissing) push(commit, `${insert(spec, { ...(op.ifMissing as unknown as AnyRecord), id: op.update })} ON CONFLICT (id) DO NOTHING`);
            push(commit, `SELECT data FROM ${spec.table} WHERE id = ${literal(op.update)} FOR UPDATE`);
            const answer = await send();
            let next: AnyRecord | undefined;
            try {
              next = applyUpdate(answer?.rows[0]?.data, op);
            } catch (error) {
              throw fail(error, commit);
            }
            if (next) {
              push(commit, upsert(spec, next));
              changes.push({ collection: op.collection, id: next.id, record: next });
            }
          } else {
            push(commit, `DELETE FROM ${spec.table} WHERE id = ${literal(op.delete)}`);
            changes.push({ collection: op.collection, id: op.delete, record: undefined });
          }
          if (size > MAX_ROUND_TRIP_CHARS) await send();
        }
        // a cap holds once all the commit's ops are applied; its tag names it in the error
        for (const [tag, entry] of caps.entries()) {
          if (entry.commit === commit) push(commit, `SELECT qrflow_check_cap(${literal(entry.cap.cap)}, ${Math.floor(entry.cap.atMost)}, ${tag})`);
        }
        if (isolate) {
          push(commit, 'RELEASE SAVEPOINT qrflow_commit');
          await send();
        }
        results.push(changes);
      } catch (error) {
        const failure = error instanceof GroupFailure ? error : fail(error, commit);
        if (!isolate || failure.culprit !== commit || retryable(failure.error) || this.translate(failure.error) instanceof StoreUnavailableError) throw failure;
        // this commit alone is undone (or, refused before any of it was sent, dropped); the transaction goes on
        const sent = !buffer.includes('SAVEPOINT qrflow_commit');
        buffer = buffer[0] === 'BEGIN' ? ['BEGIN'] : [];
        size = 0;
        owners = new Set();
        if (sent) await client.query('ROLLBACK TO SAVEPOINT qrflow_commit; RELEASE SAVEPOINT qrflow_commit');
        results.push(failure.rejection);
      }
    }
    await send();
    try {
      await client.query('COMMIT');
    } catch (error) {
      // the outcome of a COMMIT that did not answer is not known: every commit of the group is told so
      throw new GroupFailure(error instanceof pg.DatabaseError ? error : this.translate(error), undefined);
    }
    return results;
  }
}

/** The error a commit is rejected with: the store's own (a unique violation, a stale record, a cap passed). */
function rejection(error: unknown, translate: (error: unknown) => unknown, caps: Array<{ commit: number; cap: CapOp }>, commit: number): unknown {
  const pgError = error as { code?: string; detail?: string };
  if (pgError.code === CAP_EXCEEDED) {
    const [tag, count] = (pgError.detail ?? '').split(' ');
    const entry = caps[Number(tag)] ?? caps.find((c) => c.commit === commit);
    if (entry) return new CapExceededError(entry.cap.collection, entry.cap.cap, entry.cap.atMost, Number(count));
  }
  return translate(error);
}
