import type { QrRecord } from '../records.js';
import type { Op } from '../store.js';

/**
 * The embedded store's record migrations, run on every open (each finds nothing to do once applied, and its ops are
 * committed like any write, so the next start finds the records already upgraded):
 *
 * - custom domains: codes from before them get `domain: null` and `route_key` = their short code (the key of a code
 *   on the default public URL), which the unique index now holds instead of `short_code`.
 */
export function upgradeOps(qrcodes: readonly QrRecord[]): Op[] {
  const ops: Op[] = [];
  for (const qr of qrcodes) {
    if (qr.route_key === undefined) ops.push({ collection: 'qrcodes', put: { ...qr, domain: qr.domain ?? null, route_key: qr.short_code } });
  }
  return ops;
}
