import fc from 'fast-check';
import { z } from 'zod';

type JsonSchema = Record<string, any>;

/** The JSON Schema of a route's zod schema (input side), as the OpenAPI document sees it. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** Plausible values for string fields by name, so valid-shaped requests get past the first checks. */
function stringFor(name: string, schema: JsonSchema): fc.Arbitrary<string> | undefined {
  if (schema.format === 'uri' || /url$/.test(name)) return fc.constantFrom('https://example.com/a', 'http://example.org/path?q=1', 'https://exa mple.com', 'https://example.com/' + 'x'.repeat(2100));
  if (schema.format === 'date-time' || /_at$|^from$|^to$/.test(name)) return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (name === 'tz') return fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Not/AZone');
  if (name === 'password') return fc.constantFrom('test-password-123', 'wrong-password');
  if (name === 'email') return fc.constantFrom('nobody@example.test', 'a@b.c');
  return undefined;
}

/** Valid-shaped values for a JSON Schema: the right types and, mostly, the right bounds. */
export function fromSchema(schema: JsonSchema, root: JsonSchema = schema, name = ''): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const target = String(schema.$ref).startsWith('#/$defs/') ? root.$defs?.[String(schema.$ref).slice(8)] : undefined;
    return target ? fromSchema(target, root, name) : fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 });
  }
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as JsonSchema[]).map((option) => fromSchema(option, root, name)));
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.const !== undefined) return fc.constant(schema.const);
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const keys = Object.keys(properties);
      if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()), { maxKeys: 3 });
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const key of keys) record[key] = fromSchema(properties[key] as JsonSchema, root, key);
      return fc.record(record, { requiredKeys: (schema.required ?? []) as string[] });
    }
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, root, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) });
    case 'string': {
      const named = stringFor(name, schema);
      if (named) return named;
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, 60);
      const examples = schema.example !== undefined ? [fc.constant(String(schema.example))] : [];
      if (schema.pattern) {
        return fc.oneof(...examples, fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity)).map((s) => s.slice(0, 200)));
      }
      return fc.oneof(...examples, fc.string({ minLength, maxLength, unit: 'grapheme' }));
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null));
  }
}

const MB = 1024 * 1024;

/** Values no endpoint should choke on. Huge ones are lazy so a run does not hold many at once. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    '', ' ', '\u0000', 'a\u0000b', '\r\n', '\u202e\u0645gnp.exe', '😀'.repeat(50), '\ud800', 'ﷺ'.repeat(30), 'Z̷̢͓a̶l̴g̸o̵',
    'NaN', 'Infinity', '-Infinity', '-0', '1e309', '0x1F', '  42  ', 'null', 'undefined', 'true', '[]', '{}',
    '../../etc/passwd', '..\\..\\windows', '%00', '%2e%2e%2f', "' OR 1=1 --", '{"$ne":null}', '<script>alert(1)</script>',
    'javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/', 'http://user:pass@example.com/',
    'http://[::1]/', 'https://127.0.0.1:9/', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-13-01',
    -1, 0, -0, 1.5, -1e308, 1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 53, 1e21,
    true, false, null, [], {}, [null], [[[[[[]]]]]], { __proto__: null }, { nested: { deeper: { deepest: [1, 'x', null] } } },
  ),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double(),
  fc.constantFrom(64 * 1024, 900 * 1024).map((size) => 'x'.repeat(size)),
);

/** Ids with path tricks: traversal, encoded dots and nulls, invalid escapes, prototype names, huge ids. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..', '../', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e', '%00', 'qr_x%00.json', '%ff', '%', '%zz', '%C0%AE%C0%AE',
    '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '%F0%9F%98%80', 'qr_' + 'a'.repeat(61), 'qr_' + 'a'.repeat(62),
    'a'.repeat(5000), 'a'.repeat(60_000), '*', '$', ';', 'null', 'undefined', '0', '-1', 'qr_%0d%0aSet-Cookie:x=1',
  ),
  fc.string({ minLength: 1, maxLength: 80 }).map((s) => encodeURIComponent(s)),
);

/** Cursors the server never made: bad alphabet, bad JSON, wrong shapes, huge, and well-formed but forged. */
export const forgedCursor: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '!!!', 'eyJ', 'bnVsbA', 'W10', 'e30', 'WzEsMl0', '%00', 'a'.repeat(500)),
  fc.tuple(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), fc.oneof(fc.string({ maxLength: 100 }), fc.integer())).map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url')),
  fc.tuple(fc.date({ noInvalidDate: true }), fc.string({ maxLength: 70 })).map(([d, id]) => Buffer.from(JSON.stringify([d.toISOString(), id])).toString('base64url')),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url')),
);

/** Bodies that are not JSON at all, or JSON that breaks the expected framing. */
export const invalidJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{', '}', '{"name":', '{"name":"x",}', "{'name':'x'}", 'nul', '[1,2', '{"a":1}{"b":2}', '\u0000', '\ufeff{"name":"x"}', 'NaN', '{"name":NaN}', '{"name":"\\ud800"}', '{"n":1e99999}', '"just a string"', '42', 'true', 'null', '[]'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.integer({ min: 10, max: 10_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 10, max: 5000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
);

/** Raw JSON objects that carry prototype-polluting keys (JSON.stringify would drop an own __proto__). */
export function withPollutingKey(body: unknown, key: '__proto__' | 'constructor' | 'prototype'): string {
  const member = `"${key}":{"polluted":true,"isAdmin":true,"workspace_id":"ws_other","scopes":["qr:write"],"prototype":{"polluted":true}}`;
  if (body && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length > 0) return `{${member},${JSON.stringify(body).slice(1)}`;
  return `{${member}}`;
}

export const oversizedBody = fc.constantFrom(MB + 1, 2 * MB, 5 * MB).map((size) => `{"name":"${'x'.repeat(size)}"}`);

export const badContentType = fc.constantFrom(
  'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
  'application/json; charset=latin-9', 'application/json; charset=utf-8; charset=utf-16', 'application/vnd.api+json', '*/*', '', 'application/json\u0001', 'application/' + 'j'.repeat(2000),
);

export const badAuthorization = fc.oneof(
  fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer  qr_live_', 'Bearer qr_live_' + 'A'.repeat(32), 'Bearer qrs_' + 'A'.repeat(40), 'Bearer qr_live_\u0001', 'Token abc', 'Bearer a b c', 'Bearer ' + 'A'.repeat(8000), 'Bearer qrs_' + 'x'.repeat(4000)),
  fc.string({ unit: 'binary-ascii', maxLength: 120 }).map((s) => s.replace(/[\r\n\0]/g, '')),
);

export const badIdempotencyKey = fc.oneof(fc.constantFrom('', ' ', 'k'.repeat(256), 'k'.repeat(5000), '__proto__', 'constructor', '\u0001\u0002', 'é'), fc.string({ unit: 'binary-ascii', maxLength: 300 }).map((s) => s.replace(/[\r\n\0]/g, '')));
