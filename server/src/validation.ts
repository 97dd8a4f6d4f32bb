import type { z } from 'zod';
import { ValidationError, type ErrorDetail } from './errors.js';

/** Turns zod issues into one `details` entry per bad field. */
export function detailsFromIssues(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.map((issue) => {
    const field = issue.path.map(String).join('.') || (issue.code === 'unrecognized_keys' ? '' : '(body)');
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return { field: [field, keys.join(',')].filter(Boolean).join('.'), message: `Unknown field${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}. Remove ${keys.length > 1 ? 'them' : 'it'}.` };
    }
    return { field, message: issue.message };
  });
}

/** Parses `input` with `schema`, or throws a 400 with one detail per bad field. The parsed value is the one to use. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = detailsFromIssues(result.error.issues);
  throw new ValidationError(`The ${what} is invalid: ${details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ')}`, details);
}
