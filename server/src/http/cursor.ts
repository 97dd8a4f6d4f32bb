import { ValidationError } from '../errors.js';

export interface Position {
  created_at: string;
  id: string;
}

/** An opaque cursor: the position of the last item of a page. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.created_at, position.id])).toString('base64url');
}

/** Decodes a cursor, or throws a 400 for one that was not made by this server. */
export function decodeCursor(cursor: string): Position {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('bad alphabet');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && !Number.isNaN(Date.parse(value[0])) && value[1].length <= 64) {
      return { created_at: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('The cursor is invalid. Use the next_cursor value of a previous page unchanged.', [{ field: 'cursor', message: 'invalid cursor' }], 'invalid_cursor');
}
