import { z } from 'zod';
import type { Role, WorkspaceRecord } from '../store/records.js';

/** A workspace as the console sees it after login or setup (the same fields as in GET /api/v1/me). */
export const WorkspaceSummary = z
  .object({ id: z.string(), name: z.string(), plan: z.string(), plan_status: z.enum(['active', 'expired']) })
  .meta({ id: 'WorkspaceSummary' });

/** The signed-in user and their role in the workspace. */
export const UserSummary = z
  .object({ id: z.string(), email: z.string(), role: z.enum(['owner', 'admin', 'member']) })
  .meta({ id: 'UserSummary' });

export function workspaceSummary(workspace: WorkspaceRecord): z.infer<typeof WorkspaceSummary> {
  return { id: workspace.id, name: workspace.name, plan: workspace.plan, plan_status: workspace.plan_status };
}

export function userSummary(user: { id: string; email: string }, role: Role): z.infer<typeof UserSummary> {
  return { id: user.id, email: user.email, role };
}
