import { createHash } from 'node:crypto';

import type { Bundle } from 'zapier-platform-core';

const MAX_KEY_LENGTH = 255;

/**
 * The `Idempotency-Key` for a create. Zapier's retries (Autoreplay, "replay step") re-run the step with the
 * same input, so a hash of that input (plus the Zap ID, when Zapier still sends one) names the attempt; the
 * server then answers a retry with the code it already made. A user-mapped key, e.g. a spreadsheet row ID,
 * wins: it also tells apart two trigger items that happen to carry identical input.
 */
export function idempotencyKey(action: string, bundle: Pick<Bundle, 'inputData' | 'meta'>): string {
  const { idempotency_key: explicit, ...input } = bundle.inputData as Record<string, unknown>;
  if (explicit !== undefined && explicit !== null && String(explicit).trim() !== '') {
    const key = `zapier-${action}-${String(explicit).trim()}`;
    return key.length <= MAX_KEY_LENGTH ? key : `zapier-${action}-${sha256(key)}`;
  }
  const zapId = (bundle.meta as { zap?: { id?: unknown } } | undefined)?.zap?.id ?? null;
  return `zapier-${action}-${sha256(canonicalJson({ zap: zapId, input }))}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every depth, so the same input always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
