import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'QRflow-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, keyed with the full secret string
 * (`whsec_...`). The timestamp is signed too, so receivers can reject replays older than a few minutes.
 */
export function signatureHeader(secret: string, rawBody: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
