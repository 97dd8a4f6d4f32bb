import type { Context } from '../context.js';
import { ConflictError, NotFoundError, PermissionError } from '../errors.js';
import { randomBase62 } from '../random.js';
import type { MemberRecord, Role, WorkspaceRecord } from '../store/records.js';
import type { Op } from '../store/store.js';
import type { WorkspaceService } from '../workspaces/service.js';

/** A member as the API shows it. */
export interface MemberView {
  id: string;
  user_id: string;
  email: string;
  role: Role;
  created_at: string;
}

/** Length of the temporary password a new member gets (base62: about 119 bits). */
const TEMPORARY_PASSWORD_LENGTH = 20;

/** The members of a workspace: list, add (with a temporary password shown once), change role, remove; a workspace always keeps an owner. */
export class MemberService {
  /** Changes to one workspace's members run one at a time, so two owners demoting each other cannot leave none. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly ctx: Context, private readonly workspaces: WorkspaceService) {}

  private serialized<T>(workspaceId: string, work: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(workspaceId) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => undefined);
    this.queues.set(workspaceId, settled);
    void settled.then(() => {
      if (this.queues.get(workspaceId) === settled) this.queues.delete(workspaceId);
    });
    return run;
  }

  private async view(member: MemberRecord): Promise<MemberView> {
    const user = await this.ctx.store.get('users', member.user_id);
    return { id: member.id, user_id: member.user_id, email: user?.email ?? '', role: member.role, created_at: member.created_at };
  }

  /** Oldest first (the first owner at the top). */
  async list(workspace: WorkspaceRecord): Promise<MemberView[]> {
    const members = await this.ctx.store.findMany('members', 'workspace_id', workspace.id);
    members.sort((a, b) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? -1 : 1) : a.id < b.id ? -1 : 1));
    return Promise.all(members.map((member) => this.view(member)));
  }

  /** A member of this workspace, or 404 (another workspace's member is not found, never forbidden). */
  private async find(workspace: WorkspaceRecord, id: string): Promise<MemberRecord> {
    const member = await this.ctx.store.get('members', id);
    if (!member || member.workspace_id !== workspace.id) throw new NotFoundError('member');
    return member;
  }

  /** The acting owner's role is read again inside the queue: one demoted by a change queued before theirs can no longer act. */
  private async assertStillOwner(workspace: WorkspaceRecord, actorUserId: string): Promise<void> {
    if ((await this.workspaces.membership(workspace.id, actorUserId))?.role !== 'owner') {
      throw new PermissionError('forbidden_role', 'Only workspace owners can do this.');
    }
  }

  private async assertNotLastOwner(member: MemberRecord, action: string): Promise<void> {
    if (member.role !== 'owner') return;
    const owners = (await this.ctx.store.findMany('members', 'workspace_id', member.workspace_id)).filter((m) => m.role === 'owner');
    if (owners.length <= 1) {
      throw new ConflictError('last_owner', `This is the workspace's last owner and cannot be ${action}. Make another member an owner first.`);
    }
  }

  /** Adds a new user with a random temporary password, returned here only. */
  add(workspace: WorkspaceRecord, actorUserId: string, input: { email: string; role: Role }): Promise<{ member: MemberView; temporaryPassword: string }> {
    return this.serialized(workspace.id, async () => {
      await this.assertStillOwner(workspace, actorUserId);
      const temporaryPassword = randomBase62(TEMPORARY_PASSWORD_LENGTH);
      const { member } = await this.workspaces.addMember(workspace, { email: input.email, password: temporaryPassword, role: input.role });
      return { member: await this.view(member), temporaryPassword };
    });
  }

  setRole(workspace: WorkspaceRecord, actorUserId: string, id: string, role: Role): Promise<MemberView> {
    return this.serialized(workspace.id, async () => {
      await this.assertStillOwner(workspace, actorUserId);
      const member = await this.find(workspace, id);
      if (member.role === role) return this.view(member);
      await this.assertNotLastOwner(member, 'demoted');
      const updated: MemberRecord = { ...member, role };
      await this.ctx.store.commit([{ collection: 'members', put: updated }]);
      return this.view(updated);
    });
  }

  /** Removes the membership, ends the member's sessions in this workspace, and forgets a user left with no workspace. */
  remove(workspace: WorkspaceRecord, actorUserId: string, id: string): Promise<void> {
    return this.serialized(workspace.id, async () => {
      await this.assertStillOwner(workspace, actorUserId);
      const member = await this.find(workspace, id);
      await this.assertNotLastOwner(member, 'removed');
      const sessions = (await this.ctx.store.findMany('sessions', 'user_id', member.user_id)).filter((session) => session.workspace_id === workspace.id);
      const otherMemberships = (await this.ctx.store.findMany('members', 'user_id', member.user_id)).filter((m) => m.id !== member.id);
      const ops: Op[] = [{ collection: 'members', delete: member.id }, ...sessions.map((session) => ({ collection: 'sessions' as const, delete: session.id }))];
      if (otherMemberships.length === 0) ops.push({ collection: 'users', delete: member.user_id });
      await this.ctx.store.commit(ops);
    });
  }
}
