import type { Context } from '../context.js';
import type { KeyActivityEntry, KeyActivityRecord } from '../store/records.js';

export const ACTIVITY_LIMIT = 100;

/** The last 100 requests of each key, kept in memory and written to the store about once a second. */
export class KeyActivity {
  private readonly cache = new Map<string, KeyActivityRecord>();
  private readonly loading = new Map<string, Promise<KeyActivityRecord>>();
  private readonly dirty = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: Context) {
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  private async load(keyId: string, workspaceId: string): Promise<KeyActivityRecord> {
    const cached = this.cache.get(keyId);
    if (cached) return cached;
    let pending = this.loading.get(keyId);
    if (!pending) {
      pending = this.ctx.store.get('key_activity', keyId).then((stored) => {
        const record = this.cache.get(keyId) ?? stored ?? { id: keyId, workspace_id: workspaceId, entries: [] };
        this.cache.set(keyId, record);
        this.loading.delete(keyId);
        return record;
      });
      // a failed read (database unavailable) is not kept: the next request reads again
      pending.catch(() => this.loading.delete(keyId));
      this.loading.set(keyId, pending);
    }
    return pending;
  }

  record(keyId: string, workspaceId: string, entry: KeyActivityEntry): void {
    const cached = this.cache.get(keyId);
    if (cached) this.add(cached, entry);
    else {
      void this.load(keyId, workspaceId).then(
        (record) => this.add(record, entry),
        (error: unknown) => this.ctx.logger.warn({ key_id: keyId, reason: (error as Error).message }, 'key activity not recorded: its log could not be read'),
      );
    }
  }

  private add(record: KeyActivityRecord, entry: KeyActivityEntry): void {
    record.entries.push(entry);
    if (record.entries.length > ACTIVITY_LIMIT) record.entries.splice(0, record.entries.length - ACTIVITY_LIMIT);
    this.dirty.add(record.id);
  }

  /** Newest first. */
  async list(keyId: string, workspaceId: string): Promise<KeyActivityEntry[]> {
    const record = await this.load(keyId, workspaceId);
    return [...record.entries].reverse();
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const ops = [...this.dirty].map((id) => {
      const record = this.cache.get(id) as KeyActivityRecord;
      return { collection: 'key_activity' as const, put: { ...record, entries: [...record.entries] } };
    });
    this.dirty.clear();
    this.ctx.store.commitSoon(ops);
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
