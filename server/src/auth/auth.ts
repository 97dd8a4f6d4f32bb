import type { ApiKeyRecord, Role, Scope, SessionRecord, WorkspaceRecord } from '../store/records.js';
import type { Plan } from '../workspaces/plans.js';
import type { DataMode } from '../test-mode/mode.js';

/** Who is calling, attached to the request by the auth middleware. */
export interface Auth {
  workspace: WorkspaceRecord;
  plan: Plan;
  scopes: readonly Scope[];
  key: ApiKeyRecord | null;
  session: SessionRecord | null;
  user: { id: string; email: string; role: Role } | null;
  /** Live or test data: a key's own mode; a session's from the QR-Mode header (default live). */
  mode: DataMode;
  /** How a session came: the console's cookie (state changes then need the CSRF checks) or a Bearer header. */
  via?: 'bearer' | 'cookie';
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: Auth;
    requestId: string;
  }
}
