import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { AuthenticationError } from '../errors.js';
import { newId, randomBase62 } from '../random.js';
import { hashSecret } from '../keys/key-format.js';
import type { MemberRecord, SessionRecord, UserRecord, WorkspaceRecord } from '../store/records.js';
import type { WorkspaceService } from '../workspaces/service.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './passwords.js';

export const SESSION_PREFIX = 'qrs_';
const SESSION_PATTERN = /^qrs_[0-9A-Za-z]{40}$/;
/** last_seen_at is written at most this often per session, like a key's last_used_at. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/** Management sessions: log in with email and password, get a `qrs_` token (bearer or cookie) with idle and absolute expiry. */
export class SessionService {
  constructor(private readonly ctx: Context, private readonly workspaces: WorkspaceService) {}

  /** A wrong email and a wrong password fail the same way, in about the same time. */
  async login(email: string, password: string, options: { cookie?: boolean } = {}): Promise<{ token: string; session: SessionRecord }> {
    const user = await this.ctx.store.findUnique('users', 'email', email.trim().toLowerCase());
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
    const membership = user && ok ? await this.workspaces.firstMembership(user.id) : undefined;
    if (!user || !ok || !membership) throw new AuthenticationError('invalid_credentials', 'The email or password is incorrect.');
    return this.start(user.id, membership.workspace_id, options);
  }

  /** A new session for a user in a workspace (after login, or for the owner that first-run setup creates). */
  async start(userId: string, workspaceId: string, options: { cookie?: boolean } = {}): Promise<{ token: string; session: SessionRecord }> {
    const token = `${SESSION_PREFIX}${randomBase62(40)}`;
    const now = this.ctx.clock.now();
    const session: SessionRecord = {
      id: newId('ses'),
      token_hash: hashSecret(token),
      user_id: userId,
      workspace_id: workspaceId,
      created_at: iso(now),
      expires_at: iso(now + this.ctx.config.sessionTtlMs),
      last_seen_at: iso(now),
      ...(options.cookie ? { kind: 'cookie' as const } : {}),
    };
    await this.ctx.store.commit([{ collection: 'sessions', put: session }]);
    return { token, session };
  }

  /** Whether a console session has gone unused for the idle limit (bearer tokens for API clients keep only the absolute one). */
  private idle(session: SessionRecord, now: number): boolean {
    return session.kind === 'cookie' && now - Date.parse(session.last_seen_at ?? session.created_at) >= this.ctx.config.sessionIdleMs;
  }

  async authenticate(token: string): Promise<{ session: SessionRecord; user: UserRecord; member: MemberRecord; workspace: WorkspaceRecord }> {
    if (!SESSION_PATTERN.test(token)) throw new AuthenticationError('invalid_session', 'This session token is not valid. Log in again.');
    const session = await this.ctx.store.findUnique('sessions', 'token_hash', hashSecret(token));
    if (!session) throw new AuthenticationError('invalid_session', 'This session has ended or is not valid. Log in again.');
    const now = this.ctx.clock.now();
    if (Date.parse(session.expires_at) <= now) throw new AuthenticationError('session_expired', 'This session has expired. Log in again.');
    if (this.idle(session, now)) {
      throw new AuthenticationError('session_expired', `This session ended after ${Math.round(this.ctx.config.sessionIdleMs / 60_000)} minutes without activity. Log in again.`);
    }
    const user = await this.ctx.store.get('users', session.user_id);
    const workspace = await this.workspaces.get(session.workspace_id);
    const member = user && workspace ? await this.workspaces.membership(workspace.id, user.id) : undefined;
    if (!user || !workspace || !member) throw new AuthenticationError('invalid_session', 'This session is no longer valid. Log in again.');
    this.touch(session, now);
    return { session, user, member, workspace };
  }

  /** Records use of a session for idle expiry, at most once a minute and without waiting on the disk. */
  private touch(session: SessionRecord, now: number): void {
    if (session.last_seen_at && now - Date.parse(session.last_seen_at) < LAST_SEEN_RESOLUTION_MS) return;
    // that field alone, and only if the session still exists: a logout (here or in another process) is not undone
    this.ctx.store.commitSoon([{ collection: 'sessions', update: session.id, set: { last_seen_at: iso(now) } }]);
  }

  /** Forgets sessions that have expired or gone idle. */
  async sweep(): Promise<number> {
    const now = this.ctx.clock.now();
    const expired = (await this.ctx.store.all('sessions')).filter((session) => Date.parse(session.expires_at) <= now || this.idle(session, now));
    if (expired.length) this.ctx.store.commitSoon(expired.map((session) => ({ collection: 'sessions' as const, delete: session.id })));
    return expired.length;
  }

  async logout(session: SessionRecord): Promise<void> {
    await this.ctx.store.commit([{ collection: 'sessions', delete: session.id }]);
  }
}
