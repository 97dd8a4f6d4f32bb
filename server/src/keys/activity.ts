import type { Context } from '../context.js';
import type { KeyActivityEntry } from '../store/records.js';

export const ACTIVITY_LIMIT = 100;

/**
 * The last 100 requests of each key. Entries are gathered in memory and appended to the stored log about once a
 * second, as field-level appends (the store keeps the last 100), so processes sharing a database each add theirs
 * without overwriting the others'. Reading a key's log first writes what this process holds for it.
 */
export class KeyActivity {
  private pending = new Map<string, { workspaceId: string; entries: KeyActivityEntry[] }>();
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: Context) {
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
  }

  record(keyId: string, workspaceId: string, entry: KeyActivityEntry): void {
    let held = this.pending.get(keyId);
    if (!held) this.pending.set(keyId, (held = { workspaceId, entries: [] }));
    held.entries.push(entry);
    if (held.entries.length > ACTIVITY_LIMIT) held.entries.splice(0, held.entries.length - ACTIVITY_LIMIT);
  }

  /** Newest first. */
  async list(keyId: string, _workspaceId: string): Promise<KeyActivityEntry[]> {
    await this.flush();
    const record = await this.ctx.store.get('key_activity', keyId);
    return [...(record?.entries ?? [])].reverse();
  }

  /** Appends what was gathered, in one commit; waits for any write already under way first (so entries stay in order). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      const ops = [...batch].map(([id, { workspaceId, entries }]) => ({
        collection: 'key_activity' as const,
        update: id,
        ifMissing: { id, workspace_id: workspaceId, entries: [] },
        append: { field: 'entries' as const, items: entries, keepLast: ACTIVITY_LIMIT },
      }));
      await this.ctx.store.commit(ops).catch((error: unknown) => this.ctx.logger.error({ err: error }, 'writing key activity failed'));
    });
    return this.writing;
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}
