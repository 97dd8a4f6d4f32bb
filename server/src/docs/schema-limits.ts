/**
 * zod's `.int()` accepts only safe integers (|n| ≤ 2^53 − 1) and zod's own JSON Schema output says so, but
 * zod-to-openapi drops those implicit bounds and writes no `format`. This puts them back on every integer of the
 * generated document (each comes from a zod `.int()`, or states its own bounds), so clients see the limits the
 * validators enforce: the safe-integer bounds where no tighter one is set, and `int32` when the bounds fit 32 bits.
 */
const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

function isInteger(schema: Record<string, unknown>): boolean {
  const type = schema.type;
  return type === 'integer' || (Array.isArray(type) && type.includes('integer'));
}

function fill(schema: Record<string, unknown>): void {
  if (schema.minimum === undefined && schema.exclusiveMinimum === undefined) schema.minimum = Number.MIN_SAFE_INTEGER;
  if (schema.maximum === undefined && schema.exclusiveMaximum === undefined) schema.maximum = Number.MAX_SAFE_INTEGER;
  if (schema.format === undefined) {
    const min = Number(schema.minimum ?? schema.exclusiveMinimum);
    const max = Number(schema.maximum ?? schema.exclusiveMaximum);
    schema.format = min >= INT32.min && max <= INT32.max ? 'int32' : 'int64';
  }
}

/** Walks the document in place; returns it. */
export function withIntegerLimits<T>(document: T): T {
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (isInteger(object)) fill(object);
    for (const child of Object.values(object)) walk(child);
  };
  walk(document);
  return document;
}
