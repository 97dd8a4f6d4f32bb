import type { Context } from '../context.js';
import { PermissionError } from '../errors.js';
import type { SessionRecord, UserRecord, WorkspaceRecord } from '../store/records.js';
import type { SessionService } from '../auth/sessions.js';
import { PASSWORD_RULES } from '../auth/passwords.js';
import type { WorkspaceService } from '../workspaces/service.js';

export interface SetupStatus {
  needs_setup: boolean;
  signup: 'open' | 'closed';
  password_rules: typeof PASSWORD_RULES;
}

/**
 * First run: the console's "Create your workspace" creates a workspace and its owner while the store has none,
 * and afterwards only when the operator opened sign-up (QRFLOW_SIGNUP=open).
 */
export class SetupService {
  /** Workspaces are never deleted, so once one exists the answer is kept. */
  private hasWorkspace = false;
  /** Setups run one at a time, so two first runs at once cannot both find the store empty. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: Context, private readonly workspaces: WorkspaceService, private readonly sessions: SessionService) {}

  async needsSetup(): Promise<boolean> {
    if (this.hasWorkspace) return false;
    this.hasWorkspace = (await this.ctx.store.all('workspaces')).length > 0;
    return !this.hasWorkspace;
  }

  async status(): Promise<SetupStatus> {
    return { needs_setup: await this.needsSetup(), signup: this.ctx.config.signup, password_rules: PASSWORD_RULES };
  }

  /** Throws 403 signup_closed unless a workspace may be created now. */
  async assertOpen(): Promise<void> {
    if (this.ctx.config.signup === 'open' || (await this.needsSetup())) return;
    throw new PermissionError('signup_closed', 'This server already has a workspace and sign-up is closed. Ask an owner to add you as a member, or the operator to set QRFLOW_SIGNUP=open.');
  }

  /** Creates the workspace (on QRFLOW_DEFAULT_PLAN) and its owner, and starts the owner's console session. */
  create(input: { workspaceName: string; email: string; password: string }): Promise<{ workspace: WorkspaceRecord; user: UserRecord; token: string; session: SessionRecord }> {
    const run = this.queue.then(async () => {
      await this.assertOpen();
      const { workspace, user } = await this.workspaces.create({ name: input.workspaceName, plan: this.ctx.config.defaultPlan, email: input.email, password: input.password });
      this.hasWorkspace = true;
      const { token, session } = await this.sessions.start(user.id, workspace.id, { cookie: true });
      return { workspace, user, token, session };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
