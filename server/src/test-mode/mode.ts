import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Auth } from '../auth/auth.js';
import { ValidationError } from '../errors.js';
import type { WorkspaceRecord } from '../store/records.js';

/** Live data is the workspace's real data; test data is what test keys (and sessions in test mode) see. */
export type DataMode = 'live' | 'test';
export const DATA_MODES = ['live', 'test'] as const;

/**
 * Test-mode codes, webhooks, events, scans and idempotency keys are kept in the workspace's test partition: the
 * same collections, with `workspace_id` set to `<workspace id>:test`. Every check that makes another workspace's
 * object a 404 therefore also keeps the two modes apart, with no per-route filter that could be forgotten, and
 * counts, pages and the scan log's per-workspace index stay separate for free. Keys, members, sessions and usage
 * belong to the real workspace.
 */
const TEST_PARTITION_SUFFIX = ':test';

/** The id records of this workspace and mode are stored under. */
export function partitionId(workspaceId: string, mode: DataMode): string {
  return mode === 'test' ? `${workspaceId}${TEST_PARTITION_SUFFIX}` : workspaceId;
}

/** The mode of a stored record, from its `workspace_id` (records written before test mode are live). */
export function modeOfPartition(workspaceId: string): DataMode {
  return workspaceId.endsWith(TEST_PARTITION_SUFFIX) ? 'test' : 'live';
}

/** The workspace as the caller's mode sees it: for test mode, its test partition (same name and plan). */
export function dataWorkspace(auth: Pick<Auth, 'workspace' | 'mode'>): WorkspaceRecord {
  return auth.mode === 'test' ? { ...auth.workspace, id: partitionId(auth.workspace.id, 'test') } : auth.workspace;
}

/** The header with which a session (the console) chooses a mode; API keys have their own and ignore it. */
export const MODE_HEADER = 'QR-Mode';

/** The mode a session asks for with `QR-Mode: live|test` (default live), or a 400 for any other value. */
export function requestedMode(headers: IncomingHttpHeaders): DataMode {
  const value = headers['qr-mode'];
  if (value === undefined) return 'live';
  const text = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  if (text === 'live' || text === 'test') return text;
  throw new ValidationError(`The ${MODE_HEADER} header must be "live" or "test".`, [{ field: MODE_HEADER, message: 'must be "live" or "test"' }]);
}

/** The header as documented on every route that takes a key or a session. */
export const ModeHeaders = z.object({
  'qr-mode': z
    .enum(DATA_MODES)
    .optional()
    .meta({ description: 'Sessions only: `test` to act on the workspace\'s test-mode data (default `live`). API keys ignore it: a key\'s mode is part of the key.' }),
});
