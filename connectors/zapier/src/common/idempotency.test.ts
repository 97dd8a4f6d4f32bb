import { describe, expect, it } from 'vitest';

import { canonicalJson, idempotencyKey } from './idempotency.js';

const meta = {} as never;

describe('idempotencyKey', () => {
  it('is the same for the same input in any key order', () => {
    const a = idempotencyKey('create_qr_code', { inputData: { name: 'A', tags: ['x', 'y'], style_margin: 2 }, meta });
    const b = idempotencyKey('create_qr_code', { inputData: { style_margin: 2, tags: ['x', 'y'], name: 'A' }, meta });
    expect(a).toBe(b);
    expect(a.length).toBeLessThanOrEqual(255);
  });

  it('changes with the input, the action and the Zap', () => {
    const base = idempotencyKey('create_qr_code', { inputData: { name: 'A' }, meta });
    expect(idempotencyKey('create_qr_code', { inputData: { name: 'B' }, meta })).not.toBe(base);
    expect(idempotencyKey('other_action', { inputData: { name: 'A' }, meta })).not.toBe(base);
    expect(idempotencyKey('create_qr_code', { inputData: { name: 'A' }, meta: { zap: { id: '123' } } as never })).not.toBe(base);
  });

  it('uses a mapped key as given, hashing one that is too long for the header', () => {
    expect(idempotencyKey('create_qr_code', { inputData: { name: 'A', idempotency_key: ' row-7 ' }, meta })).toBe('zapier-create_qr_code-row-7');
    const long = idempotencyKey('create_qr_code', { inputData: { idempotency_key: 'x'.repeat(400) }, meta });
    expect(long).toMatch(/^zapier-create_qr_code-[0-9a-f]{64}$/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"f":2}]},"b":1}');
  });
});
