import pg from 'pg';
import type { CollectionName } from '../records.js';
import { CapExceededError, type CapOp, type UpdateOp, type WriteOp } from '../store.js';
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

/** One statement inserting the records (`upsert`: replacing a record of the same id), e.g. a group's rows of one table. */
function insertRows(spec: TableSpec, records: readonly AnyRecord[], upsert: boolean): string {
  const rows = records.map((record) => `(${recordValues(spec, record)})`).join(', ');
  const conflict = upsert ? ` ON CONFLICT (id) DO UPDATE SET ${[...spec.columns, 'data'].map((column) => `"${column}" = EXCLUDED."${column}"`).join(', ')}` : '';
  return `INSERT INTO ${spec.table} (${columnList(spec)}) VALUES ${rows}${conflict}`;
}

function upsert(spec: TableSpec, record: AnyRecord): string {
  return insertRows(spec, [record], true);
}

function insert(spec: TableSpec, record: AnyRecord): string {
  return insertRows(spec, [record], false);
}

/**
 * AbsentOps as one statement: the table's own primary-key violation when a record holds one of the ids. A plain
 * index lookup; qrflow_check_absent (migration 0007) only runs, and raises, for an id that is there.
 */
function absentCheck(collection: CollectionName, ids: readonly string[]): string {
  const wanted = ids.length === 1 ? `= ${literal(ids[0] as string)}` : `IN (${ids.map(literal).join(', ')})`;
  return `SELECT qrflow_check_absent(${literal(collection)}, id) FROM ${TABLES[collection].table} WHERE id ${wanted}`;
}

/** A CapOp's statement (its `tag` names it in the error): qrflow_check_cap only runs, and raises, past the bound. */
function capCheck(cap: CapOp, tag: number): string {
  const atMost = Math.floor(cap.atMost);
  // a missing count is 0, which only a negative bound is below
  if (atMost < 0) return `SELECT qrflow_check_cap(${literal(cap.cap)}, ${atMost}, ${tag})`;
  return `SELECT qrflow_check_cap(workspace_id, ${atMost}, ${tag}) FROM qr_counts WHERE workspace_id = ${literal(cap.cap)} AND codes > ${atMost}`;
}

/**
 * Whether a group of commits can be written as one statement per table and kind (see `TransactionWriter.merged`):
 * new and whole records and updates (an idempotent create's final op), each id once in the group (so no update
 * reads what another commit of the group wrote) and none also checked absent. Not deletes, nor a put or an update
 * of a code, which could move it from one workspace's count to another's, so that a count could go down within
 * the group.
 */
function mergeable(commits: readonly WriteOp[][]): boolean {
  const written = new Set<string>();
  const absent: string[] = [];
  for (const ops of commits) {
    for (const op of ops) {
      if ('cap' in op) continue;
      if ('absent' in op) {
        absent.push(`${op.collection}\u0000${op.absent}`);
        continue;
      }
      let id: string;
      if ('insert' in op) id = op.insert.id;
      else if ('put' in op && op.collection !== 'qrcodes') id = op.put.id;
      else if ('update' in op && op.collection !== 'qrcodes') id = op.update;
      else return false;
      const key = `${op.collection}\u0000${id}`;
      if (written.has(key)) return false;
      written.add(key);
    }
  }
  return absent.every((key) => !written.has(key));
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
    if (!isolate && mergeable(commits)) return this.merged(client, commits);
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
            push(commit, absentCheck(op.collection, [op.absent]));
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
          if (entry.commit === commit) push(commit, capCheck(entry.cap, tag));
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
    // COMMIT in the last round trip: a failure there (an answer cut off: its outcome is not known) is the group's,
    // unless one commit alone had statements in it
    buffer.push('COMMIT');
    await send();
    return results;
  }

  /**
   * A group of new and whole records and updates (`mergeable`) as one transaction: the updated records locked and
   * read in a first round trip (when there are any) and their updates applied here, then in one round trip one
   * multi-row INSERT per table (and one more for whole-record puts and updated records), the group's AbsentOps as
   * one statement, each workspace's cap checked
   * once, at its smallest bound, after every insert, then COMMIT. Counts only go up within such a group, so when
   * the final count is within a bound, every commit's count was; when any statement fails, no commit is named (a
   * group of one excepted) and the caller writes the group again with each commit on its own.
   */
  private async merged(client: pg.PoolClient, commits: WriteOp[][]): Promise<Change[][]> {
    const rows = new Map<CollectionName, { inserts: AnyRecord[]; puts: AnyRecord[] }>();
    const absent = new Map<CollectionName, Set<string>>();
    const caps: Array<{ commit: number; cap: CapOp }> = [];
    const updates: Array<{ commit: number; op: UpdateOp; change: number }> = [];
    const results = commits.map((ops, commit) => {
      const changes: Change[] = [];
      for (const op of ops) {
        if ('cap' in op) {
          if (Number.isNaN(op.atMost)) throw new GroupFailure(new TypeError('a cap must be a number'), commit);
          if (op.atMost !== Infinity) caps.push({ commit, cap: op });
        } else if ('absent' in op) {
          let ids = absent.get(op.collection);
          if (!ids) absent.set(op.collection, (ids = new Set()));
          ids.add(op.absent);
        } else if ('update' in op) {
          updates.push({ commit, op, change: changes.length });
          changes.push({ collection: op.collection, id: op.update, record: undefined });
        } else {
          const record = ('insert' in op ? op.insert : (op as { put: unknown }).put) as AnyRecord;
          let table = rows.get(op.collection);
          if (!table) rows.set(op.collection, (table = { inserts: [], puts: [] }));
          ('insert' in op ? table.inserts : table.puts).push(record);
          changes.push({ collection: op.collection, id: record.id, record });
        }
      }
      return changes;
    });
    const statements = ['BEGIN'];
    if (updates.length) {
      // updated records are read and locked first (in id order, as any other writer locks them), their updates
      // applied here as in a commit of its own, and the results written with the group's puts
      let locked: Map<string, AnyRecord>;
      try {
        locked = await this.lockForUpdate(client, updates);
      } catch (error) {
        if (commits.length === 1) throw new GroupFailure(error, 0, rejection(error, this.translate, caps, 0));
        throw new GroupFailure(error, undefined);
      }
      for (const { commit, op, change } of updates) {
        let next: AnyRecord | undefined;
        try {
          next = applyUpdate(locked.get(`${op.collection}\u0000${storableText(op.update)}`), op);
        } catch (error) {
          // a stale `expect`: that commit's own rejection; the others are written again without it
          throw new GroupFailure(error, commit, rejection(error, this.translate, caps, commit));
        }
        const changes = results[commit] as Change[];
        if (!next) {
          changes.splice(change, 1, undefined as unknown as Change);
          continue;
        }
        (changes[change] as Change).record = next;
        let table = rows.get(op.collection);
        if (!table) rows.set(op.collection, (table = { inserts: [], puts: [] }));
        table.puts.push(next);
      }
      for (const [commit, changes] of results.entries()) results[commit] = changes.filter((change) => change !== undefined);
      statements.shift();
    }
    for (const [collection, { inserts, puts }] of rows) {
      if (inserts.length) statements.push(insertRows(TABLES[collection], inserts, false));
      if (puts.length) statements.push(insertRows(TABLES[collection], puts, true));
    }
    for (const [collection, ids] of absent) statements.push(absentCheck(collection, [...ids]));
    const tightest = new Map<string, number>();
    for (const [tag, entry] of caps.entries()) {
      const held = tightest.get(entry.cap.cap);
      if (held === undefined || (caps[held] as (typeof caps)[number]).cap.atMost > entry.cap.atMost) tightest.set(entry.cap.cap, tag);
    }
    for (const tag of tightest.values()) statements.push(capCheck((caps[tag] as (typeof caps)[number]).cap, tag));
    statements.push('COMMIT');
    try {
      // one round trip unless the group's text is very long (a bulk create's)
      let chunk: string[] = [];
      let size = 0;
      for (const [index, statement] of statements.entries()) {
        chunk.push(statement);
        size += statement.length;
        if (size > MAX_ROUND_TRIP_CHARS || index === statements.length - 1) {
          await client.query(chunk.join(';\n'));
          chunk = [];
          size = 0;
        }
      }
    } catch (error) {
      if (commits.length === 1) throw new GroupFailure(error, 0, rejection(error, this.translate, caps, 0));
      throw new GroupFailure(error, undefined);
    }
    return results;
  }

  /**
   * Opens the group's transaction and locks the records its updates change (a missing one made first from
   * `ifMissing`, so that the lock holds against a concurrent creator too), in one round trip: each record as it is.
   */
  private async lockForUpdate(client: pg.PoolClient, updates: ReadonlyArray<{ op: UpdateOp }>): Promise<Map<string, AnyRecord>> {
    const statements = ['BEGIN'];
    const ids = new Map<CollectionName, string[]>();
    for (const { op } of updates) {
      const spec = TABLES[op.collection];
      if (op.ifMissing) statements.push(`${insert(spec, { ...(op.ifMissing as unknown as AnyRecord), id: op.update })} ON CONFLICT (id) DO NOTHING`);
      let list = ids.get(op.collection);
      if (!list) ids.set(op.collection, (list = []));
      list.push(op.update);
    }
    for (const [collection, list] of ids) {
      statements.push(`SELECT id, data FROM ${TABLES[collection].table} WHERE id IN (${list.map(literal).join(', ')}) ORDER BY id FOR UPDATE`);
    }
    const answer = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult<{ id: string; data: AnyRecord }> | pg.QueryResult<{ id: string; data: AnyRecord }>[];
    const answers = Array.isArray(answer) ? answer : [answer];
    const locked = new Map<string, AnyRecord>();
    const selects = answers.slice(answers.length - ids.size);
    for (const [position, collection] of [...ids.keys()].entries()) {
      for (const row of selects[position]?.rows ?? []) locked.set(`${collection}\u0000${row.id}`, row.data);
    }
    return locked;
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
