import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { newId } from '../random.js';
import type { EventPayload, WebhookRecord } from '../store/records.js';
import { modeOfPartition } from '../test-mode/mode.js';
import type { DeliveryWorker } from './delivery.js';
import { send, USER_AGENT } from './sender.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

/** The test send waits at most this long for the receiver, whatever the delivery timeout is. */
export const TEST_EVENT_TIMEOUT_MS = 10_000;
export const TEST_EVENT_TYPE = 'webhook.test';

/** What a test send came to, as the API answers it. */
export interface TestEventResult {
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  delivered: boolean;
}

/** The `webhook.test` event: it describes the subscription and changes nothing. */
export function testEvent(hook: WebhookRecord, now: number): EventPayload {
  return {
    id: newId('evt'),
    type: TEST_EVENT_TYPE,
    created_at: iso(now),
    data: {
      webhook_id: hook.id,
      url: hook.url,
      events: hook.events,
      mode: modeOfPartition(hook.workspace_id),
      message: 'A test event sent from qrflow to check this receiver. It describes no change.',
    },
  };
}

/**
 * Sends a signed `webhook.test` event to the subscription's receiver now, off the delivery queue, and records the
 * attempt in its delivery log. Signing, headers and the private-address guard are the worker's; the answer decides
 * nothing (no retry, and a 410 does not remove the subscription), so a person can try a receiver freely.
 */
export async function sendTestEvent(ctx: Context, worker: DeliveryWorker, hook: WebhookRecord): Promise<TestEventResult> {
  const now = ctx.clock.now();
  const event = testEvent(hook, now);
  const body = JSON.stringify(event);
  const result = await send({
    url: hook.url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      [SIGNATURE_HEADER]: signatureHeader(hook.secret, body, now / 1000),
      'qrflow-event-id': event.id,
      'qrflow-event-type': event.type,
    },
    timeoutMs: Math.min(worker.options.timeoutMs, TEST_EVENT_TIMEOUT_MS),
    guard: !ctx.config.webhookAllowPrivate,
    signal: new AbortController().signal,
  });
  await worker.recordAttempt(hook, { event_id: event.id, attempted_at: iso(now), status_code: result.statusCode, duration_ms: result.durationMs, error: result.error });
  const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  return { status_code: result.statusCode, duration_ms: result.durationMs, error: result.error, delivered };
}
