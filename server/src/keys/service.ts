import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { AuthenticationError, ConflictError, NotFoundError, PermissionError, RateLimitError, ValidationError } from '../errors.js';
import { newId } from '../random.js';
import { ALL_SCOPES, type ApiKeyRecord, type Scope, type WorkspaceRecord } from '../store/records.js';
import { StaleRecordError, type ReadScope } from '../store/store.js';
import type { WorkspaceService } from '../workspaces/service.js';
import { displayPrefix, generateKeySecret, hashSecret, isWellFormedKey, KEY_PREFIX, TEST_KEY_PREFIX } from './key-format.js';
import type { DataMode } from '../test-mode/mode.js';

const DAY_MS = 24 * 3600_000;
export const MAX_RENEWALS_PER_DAY = 5;
/** last_used_at is written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export type KeyStatus = 'active' | 'paused' | 'revoked' | 'expired';

/** A key as the API shows it: never its secret or hash. */
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  status: KeyStatus;
  expires_at: string | null;
  created_at: string;
  created_by: string;
  /** The email of the user who created the key, or null (made with the CLI, or that user is gone). */
  created_by_email: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  renewals_last_24h: number;
  mode: DataMode;
}

export interface NewKeyInput {
  name: string;
  scopes?: Scope[] | undefined;
  expires_at?: string | null | undefined;
  /** `test` for a test-mode key (`qr_test_…`); default live. */
  mode?: DataMode | undefined;
}

/** API keys: creation, renewal, pausing, revocation, and authentication of a presented secret. */
export class KeyService {
  constructor(private readonly ctx: Context, private readonly workspaces: WorkspaceService) {}

  statusOf(key: ApiKeyRecord): KeyStatus {
    if (key.status !== 'active' && key.status !== 'paused') return key.status;
    if (key.expires_at && Date.parse(key.expires_at) <= this.ctx.clock.now()) return 'expired';
    return key.status;
  }

  /** The email of each creator, by user id (the CLI's `cli` and removed users have none). */
  private async creatorEmails(keys: readonly ApiKeyRecord[]): Promise<Map<string, string | null>> {
    const emails = new Map<string, string | null>();
    for (const id of new Set(keys.map((key) => key.created_by))) emails.set(id, (await this.ctx.store.get('users', id))?.email ?? null);
    return emails;
  }

  /** A key as the API shows it, with its creator's email. */
  async present(key: ApiKeyRecord): Promise<KeyView> {
    return this.view(key, (await this.creatorEmails([key])).get(key.created_by) ?? null);
  }

  view(key: ApiKeyRecord, createdByEmail: string | null): KeyView {
    const now = this.ctx.clock.now();
    return {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      scopes: key.scopes,
      status: this.statusOf(key),
      expires_at: key.expires_at,
      created_at: key.created_at,
      created_by: key.created_by,
      created_by_email: createdByEmail,
      last_used_at: key.last_used_at,
      revoked_at: key.revoked_at,
      renewals_last_24h: key.renewals.filter((t) => now - t < DAY_MS).length,
      mode: key.mode ?? 'live',
    };
  }

  private checkExpiry(expiresAt: string | null | undefined): string | null {
    if (expiresAt === undefined || expiresAt === null) return null;
    const time = Date.parse(expiresAt);
    if (Number.isNaN(time)) throw new ValidationError('expires_at must be an ISO-8601 date-time.', [{ field: 'expires_at', message: 'invalid date-time' }]);
    if (time <= this.ctx.clock.now()) throw new ValidationError('expires_at must be in the future.', [{ field: 'expires_at', message: 'must be in the future' }]);
    return new Date(time).toISOString();
  }

  async create(workspace: WorkspaceRecord, input: NewKeyInput, createdBy: string): Promise<{ key: KeyView; secret: string }> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 64) throw new ValidationError('The key name must be 1 to 64 characters.', [{ field: 'name', message: '1 to 64 characters' }]);
    const scopes = [...new Set(input.scopes ?? ALL_SCOPES)];
    for (const scope of scopes) {
      if (!ALL_SCOPES.includes(scope)) throw new ValidationError(`Unknown scope "${scope}".`, [{ field: 'scopes', message: `unknown scope ${scope}` }]);
    }
    if (scopes.length === 0) throw new ValidationError('A key needs at least one scope.', [{ field: 'scopes', message: 'at least one scope' }]);
    const expiresAt = this.checkExpiry(input.expires_at);
    const plan = this.workspaces.planOf(workspace);
    const live = (await this.ctx.store.findMany('keys', 'workspace_id', workspace.id)).filter((k) => k.status !== 'revoked');
    if (live.length >= plan.max_api_keys) {
      throw new PermissionError('key_limit_reached', `The ${plan.name} plan allows ${plan.max_api_keys} API keys and this workspace has ${live.length}. Revoke a key you no longer use, or upgrade the plan.`);
    }
    const mode = input.mode ?? 'live';
    const secret = generateKeySecret(mode);
    const now = this.ctx.clock.now();
    const key: ApiKeyRecord = {
      id: newId('key'),
      workspace_id: workspace.id,
      name,
      prefix: displayPrefix(secret),
      hash: hashSecret(secret),
      scopes,
      status: 'active',
      expires_at: expiresAt,
      created_at: iso(now),
      created_by: createdBy,
      last_used_at: null,
      revoked_at: null,
      renewals: [],
      ...(mode === 'test' ? { mode } : {}),
    };
    await this.ctx.store.commit([{ collection: 'keys', put: key }]);
    return { key: await this.present(key), secret };
  }

  async list(workspace: WorkspaceRecord): Promise<KeyView[]> {
    const keys = await this.ctx.store.findMany('keys', 'workspace_id', workspace.id);
    const emails = await this.creatorEmails(keys);
    return keys.sort((a, b) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((k) => this.view(k, emails.get(k.created_by) ?? null));
  }

  /** A key of this workspace, or 404 (another workspace's key is not found, never forbidden). */
  async find(workspace: WorkspaceRecord, id: string): Promise<ApiKeyRecord> {
    const key = await this.ctx.store.get('keys', id);
    if (!key || key.workspace_id !== workspace.id) throw new NotFoundError('API key');
    return key;
  }

  private assertNotRevoked(key: ApiKeyRecord): void {
    if (key.status === 'revoked') throw new ConflictError('key_revoked', 'This API key is revoked; revocation cannot be undone. Create a new key instead.');
  }

  async pause(workspace: WorkspaceRecord, id: string): Promise<KeyView> {
    const key = await this.find(workspace, id);
    this.assertNotRevoked(key);
    const updated: ApiKeyRecord = { ...key, status: 'paused' };
    // field-level: a last-used write from another process cannot undo the pause
    await this.ctx.store.commit([{ collection: 'keys', update: key.id, set: { status: 'paused' } }]);
    return this.present(updated);
  }

  async resume(workspace: WorkspaceRecord, id: string): Promise<KeyView> {
    const key = await this.find(workspace, id);
    this.assertNotRevoked(key);
    const updated: ApiKeyRecord = { ...key, status: 'active' };
    await this.ctx.store.commit([{ collection: 'keys', update: key.id, set: { status: 'active' } }]);
    return this.present(updated);
  }

  async revoke(workspace: WorkspaceRecord, id: string): Promise<KeyView> {
    const key = await this.find(workspace, id);
    if (key.status === 'revoked') return this.present(key);
    const updated: ApiKeyRecord = { ...key, status: 'revoked', revoked_at: iso(this.ctx.clock.now()) };
    await this.ctx.store.commit([{ collection: 'keys', update: key.id, set: { status: 'revoked', revoked_at: updated.revoked_at } }]);
    return this.present(updated);
  }

  /**
   * A new secret for the key; the old one stops working at once. At most five renewals per key in 24 hours, across
   * processes: the renewal is written only if the key's renewals and secret are still those read (else read again).
   */
  async renew(workspace: WorkspaceRecord, id: string, input: { expires_at?: string | null | undefined } = {}): Promise<{ key: KeyView; secret: string }> {
    for (let attempt = 0; ; attempt++) {
      const key = await this.find(workspace, id);
      this.assertNotRevoked(key);
      const now = this.ctx.clock.now();
      const recent = key.renewals.filter((t) => now - t < DAY_MS).sort((a, b) => a - b);
      if (recent.length >= MAX_RENEWALS_PER_DAY) {
        const retryAfter = ((recent[0] as number) + DAY_MS - now) / 1000;
        throw new RateLimitError('renew_limit_exceeded', `A key can be renewed ${MAX_RENEWALS_PER_DAY} times in 24 hours; try again in ${Math.ceil(retryAfter / 60)} minutes, or create a new key.`, retryAfter);
      }
      let expiresAt = key.expires_at;
      if (input.expires_at !== undefined) expiresAt = this.checkExpiry(input.expires_at);
      else if (this.statusOf(key) === 'expired') {
        throw new ValidationError('This key has expired; renew it with a new expires_at (or null for no expiry).', [{ field: 'expires_at', message: 'required for an expired key' }]);
      }
      const secret = generateKeySecret(key.mode ?? 'live');
      const change = { hash: hashSecret(secret), prefix: displayPrefix(secret), expires_at: expiresAt, renewals: [...recent, now] };
      try {
        await this.ctx.store.commit([{ collection: 'keys', update: key.id, set: change, expect: { renewals: key.renewals, hash: key.hash, status: key.status } }]);
      } catch (error) {
        // another renewal (or a pause or revocation) landed first: decide again on the key as it now is
        if (error instanceof StaleRecordError && attempt < 20) continue;
        throw error;
      }
      return { key: await this.present({ ...key, ...change }), secret };
    }
  }

  /**
   * The key and workspace a presented secret belongs to, or a 401 saying exactly what is wrong.
   * Malformed keys (bad shape or checksum) are rejected before any lookup. `reads`: an API request's, so that both
   * may come from memory (CoherentReads).
   */
  async authenticate(secret: string, reads?: ReadScope): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord }> {
    if (!isWellFormedKey(secret)) {
      throw new AuthenticationError('malformed_api_key', `This is not a valid qrflow API key: keys are "${KEY_PREFIX}" (or "${TEST_KEY_PREFIX}" in test mode) followed by 32 letters and digits. Check for missing characters or extra spaces.`);
    }
    const key = await this.ctx.store.findUnique('keys', 'hash', hashSecret(secret), reads);
    if (!key) throw new AuthenticationError('invalid_api_key', 'This API key is not recognised. It may have been renewed or mistyped; create a new key in API settings (/settings/api) if you lost it.');
    const status = this.statusOf(key);
    if (status === 'revoked') throw new AuthenticationError('api_key_revoked', 'This API key has been revoked. Create a new key in API settings (/settings/api) and update your integration.');
    if (status === 'paused') throw new AuthenticationError('api_key_paused', 'This API key is paused. Resume it in API settings (/settings/api).');
    if (status === 'expired') throw new AuthenticationError('api_key_expired', 'This API key has expired. Renew it in API settings (/settings/api) or create a new key.');
    const workspace = await this.workspaces.get(key.workspace_id, reads);
    if (!workspace) throw new AuthenticationError('invalid_api_key', 'This API key is not recognised.');
    return { key, workspace };
  }

  /** Records use of a key, writing last_used_at (that field alone) at most once a minute and never waiting on the disk. */
  touch(key: ApiKeyRecord): void {
    const now = this.ctx.clock.now();
    if (key.last_used_at && now - Date.parse(key.last_used_at) < LAST_USED_RESOLUTION_MS) return;
    // a field-level update: a pause, renewal or revocation made meanwhile (by any process) is kept
    this.ctx.store.commitSoon([{ collection: 'keys', update: key.id, set: { last_used_at: iso(now) } }]);
  }
}
