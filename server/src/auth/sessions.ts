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

/** Management sessions: log in with email and password, get a `qrs_` bearer token with an expiry. */
export class SessionService {
  constructor(private readonly ctx: Context, private readonly workspaces: WorkspaceService) {}

  /** A wrong email and a wrong password fail the same way, in about the same time. */
  async login(email: string, password: string): Promise<{ token: string; session: SessionRecord }> {
    const user = await this.ctx.store.findUnique('users', 'email', email.trim().toLowerCase());
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
    const membership = user && ok ? await this.workspaces.firstMembership(user.id) : undefined;
    if (!user || !ok || !membership) throw new AuthenticationError('invalid_credentials', 'The email or password is incorrect.');
    const token = `${SESSION_PREFIX}${randomBase62(40)}`;
    const now = this.ctx.clock.now();
    const session: SessionRecord = {
      id: newId('ses'),
      token_hash: hashSecret(token),
      user_id: user.id,
      workspace_id: membership.workspace_id,
      created_at: iso(now),
      expires_at: iso(now + this.ctx.config.sessionTtlMs),
    };
    await this.ctx.store.commit([{ collection: 'sessions', put: session }]);
    return { token, session };
  }

  async authenticate(token: string): Promise<{ session: SessionRecord; user: UserRecord; member: MemberRecord; workspace: WorkspaceRecord }> {
    if (!SESSION_PATTERN.test(token)) throw new AuthenticationError('invalid_session', 'This session token is not valid. Log in again.');
    const session = await this.ctx.store.findUnique('sessions', 'token_hash', hashSecret(token));
    if (!session) throw new AuthenticationError('invalid_session', 'This session has ended or is not valid. Log in again.');
    if (Date.parse(session.expires_at) <= this.ctx.clock.now()) throw new AuthenticationError('session_expired', 'This session has expired. Log in again.');
    const user = await this.ctx.store.get('users', session.user_id);
    const workspace = await this.workspaces.get(session.workspace_id);
    const member = user && workspace ? await this.workspaces.membership(workspace.id, user.id) : undefined;
    if (!user || !workspace || !member) throw new AuthenticationError('invalid_session', 'This session is no longer valid. Log in again.');
    return { session, user, member, workspace };
  }

  /** Forgets sessions that have expired. */
  async sweep(): Promise<number> {
    const now = this.ctx.clock.now();
    const expired = (await this.ctx.store.all('sessions')).filter((session) => Date.parse(session.expires_at) <= now);
    if (expired.length) this.ctx.store.commitSoon(expired.map((session) => ({ collection: 'sessions' as const, delete: session.id })));
    return expired.length;
  }

  async logout(session: SessionRecord): Promise<void> {
    await this.ctx.store.commit([{ collection: 'sessions', delete: session.id }]);
  }
}
