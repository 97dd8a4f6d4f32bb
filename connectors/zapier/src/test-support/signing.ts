import { createHmac } from 'node:crypto';

/** Signs a webhook body the way the qrflow server does (`QRflow-Signature: t=..,v1=..`). */
export function signDelivery(secret: string, rawBody: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}
