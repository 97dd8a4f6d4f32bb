import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../random.js';
import type { MemberRecord, PlanStatus, Role, UserRecord, WorkspaceRecord } from '../store/records.js';
import { hashPassword, PASSWORD_RULES } from '../auth/passwords.js';
import type { Plan } from './plans.js';
import type { ReadScope } from '../store/store.js';

export const MIN_PASSWORD_LENGTH = PASSWORD_RULES.min_length;
const MAX_PASSWORD_LENGTH = PASSWORD_RULES.max_length;

/** Workspaces, their plans and their members. */
export class WorkspaceService {
  constructor(private readonly ctx: Context) {}

  planOf(workspace: WorkspaceRecord): Plan {
    const plan = this.ctx.plans[workspace.plan];
    // a workspace on a plan since removed from the plans file gets no API access rather than a crash
    return plan ?? { name: workspace.plan, api_access: false, requests_per_minute: 1, monthly_api_calls: 0, monthly_image_credits: 0, max_qr_codes: 0, max_api_keys: 0, max_domains: 0 };
  }

  private assertPlan(plan: string): void {
    if (!this.ctx.plans[plan]) {
      throw new ValidationError(`Unknown plan "${plan}". Known plans: ${Object.keys(this.ctx.plans).join(', ')}.`, [{ field: 'plan', message: 'unknown plan' }]);
    }
  }

  /** Creates a workspace and its owner (a new user, or an existing one whose password matches is not supported: emails are unique). */
  async create(input: { name: string; plan: string; email: string; password: string }): Promise<{ workspace: WorkspaceRecord; user: UserRecord }> {
    this.assertPlan(input.plan);
    const name = input.name.trim();
    if (name.length < 1 || name.length > 80) throw new ValidationError('The workspace name must be 1 to 80 characters.', [{ field: 'workspace', message: '1 to 80 characters' }]);
    if (await this.ctx.store.findUnique('workspaces', 'name', name)) throw new ConflictError('workspace_exists', `A workspace named "${name}" already exists.`);
    const now = iso(this.ctx.clock.now());
    const workspace: WorkspaceRecord = { id: newId('ws'), name, plan: input.plan, plan_status: 'active', created_at: now };
    const user = await this.newUser(input.email, input.password);
    const member: MemberRecord = { id: newId('mem'), workspace_id: workspace.id, user_id: user.id, role: 'owner', created_at: now };
    await this.ctx.store.commit([
      { collection: 'workspaces', put: workspace },
      { collection: 'users', put: user },
      { collection: 'members', put: member },
    ]);
    return { workspace, user };
  }

  private async newUser(email: string, password: string): Promise<UserRecord> {
    const normalised = email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalised) || normalised.length > 254) throw new ValidationError('The email address is invalid.', [{ field: 'email', message: 'invalid email address' }]);
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new ValidationError(`The password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`, [{ field: 'password', message: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters` }]);
    }
    if (await this.ctx.store.findUnique('users', 'email', normalised)) throw new ConflictError('user_exists', `A user with the email ${normalised} already exists.`);
    return { id: newId('usr'), email: normalised, password_hash: await hashPassword(password), created_at: iso(this.ctx.clock.now()) };
  }

  /** Adds a new user to a workspace with a role. */
  async addMember(workspace: WorkspaceRecord, input: { email: string; password: string; role: Role }): Promise<{ user: UserRecord; member: MemberRecord }> {
    const user = await this.newUser(input.email, input.password);
    const member: MemberRecord = { id: newId('mem'), workspace_id: workspace.id, user_id: user.id, role: input.role, created_at: iso(this.ctx.clock.now()) };
    await this.ctx.store.commit([
      { collection: 'users', put: user },
      { collection: 'members', put: member },
    ]);
    return { user, member };
  }

  /** Finds a workspace by id or by name (case-insensitive). */
  async find(idOrName: string): Promise<WorkspaceRecord> {
    const workspace = (await this.ctx.store.get('workspaces', idOrName)) ?? (await this.ctx.store.findUnique('workspaces', 'name', idOrName));
    if (!workspace) throw new NotFoundError(`workspace "${idOrName}"`);
    return workspace;
  }

  async get(id: string, reads?: ReadScope): Promise<WorkspaceRecord | undefined> {
    return this.ctx.store.get('workspaces', id, reads);
  }

  async setPlan(workspace: WorkspaceRecord, plan: string, status?: PlanStatus): Promise<WorkspaceRecord> {
    this.assertPlan(plan);
    const updated: WorkspaceRecord = { ...workspace, plan, plan_status: status ?? workspace.plan_status };
    await this.ctx.store.commit([{ collection: 'workspaces', put: updated }]);
    return updated;
  }

  async membership(workspaceId: string, userId: string): Promise<MemberRecord | undefined> {
    return (await this.ctx.store.findMany('members', 'user_id', userId)).find((m) => m.workspace_id === workspaceId);
  }

  async firstMembership(userId: string): Promise<MemberRecord | undefined> {
    const memberships = await this.ctx.store.findMany('members', 'user_id', userId);
    return memberships.sort((a, b) => (a.created_at < b.created_at ? -1 : 1))[0];
  }
}
