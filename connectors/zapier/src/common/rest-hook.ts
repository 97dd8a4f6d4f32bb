import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type Page, type QrflowEvent } from './api.js';

/** What `POST /api/v1/webhooks` answers; Zapier keeps it as `bundle.subscribeData`. */
export interface Subscription {
  id: string;
  url: string;
  events: string[];
  status: string;
  secret?: string;
}

/** Subscribes Zapier's hook URL to one qrflow event type. */
export function subscribeTo(eventType: string) {
  return async (z: ZObject, bundle: Bundle): Promise<Subscription> => {
    const response = await z.request<Envelope<Subscription>>({
      method: 'POST',
      url: apiUrl(bundle, '/webhooks'),
      body: { target_url: bundle.targetUrl, event: eventType },
    });
    return response.data.data;
  };
}

/** Deletes the subscription made by `subscribeTo`; a subscription already gone counts as done. */
export async function unsubscribe(z: ZObject, bundle: Bundle): Promise<{ id: string; deleted: boolean }> {
  const id = (bundle.subscribeData as Partial<Subscription> | undefined)?.id;
  if (!id) throw new z.errors.Error('This Zap has no qrflow webhook to remove.', 'missing_subscription', 400);
  const response = await z.request<Envelope<{ id: string; deleted: boolean }>>({
    method: 'DELETE',
    url: apiUrl(bundle, `/webhooks/${segment(id)}`),
    skipThrowForStatus: true,
  });
  if (response.status === 404) return { id, deleted: true };
  return response.data.data;
}

/** Reads recent events of one type from the events feed, shaped exactly like a delivered hook's `data`. */
export function listRecent<T>(eventType: string) {
  return async (z: ZObject, bundle: Bundle): Promise<T[]> => {
    const response = await z.request<Page<QrflowEvent<T>>>({
      url: apiUrl(bundle, '/events'),
      params: { type: eventType, limit: 20 },
    });
    return response.data.data.filter((event) => event.type === eventType).map((event) => event.data);
  };
}

/**
 * Unwraps a delivered event into the one item the Zap runs on. When the subscription's secret and the raw
 * request are at hand, the `QRflow-Signature` is checked first and forged or mistyped deliveries are dropped.
 */
export function receive<T>(eventType: string) {
  return async (z: ZObject, bundle: Bundle): Promise<T[]> => {
    const event = bundle.cleanedRequest as Partial<QrflowEvent<T>> | undefined;
    if (!event?.data || (event.type && event.type !== eventType)) return [];

    const secret = (bundle.subscribeData as Partial<Subscription> | undefined)?.secret;
    const rawBody = bundle.rawRequest?.content;
    if (secret && typeof rawBody === 'string') {
      const signature = findHeader(bundle.rawRequest?.headers, 'qrflow-signature');
      if (!signature || !isValidSignature(secret, rawBody, signature)) {
        z.console.log('Dropped a webhook delivery whose QRflow-Signature did not match this subscription.');
        return [];
      }
    }
    return [event.data];
  };
}

// Zapier passes inbound headers with an "Http-" prefix and its own capitalisation, so match on the tail.
function findHeader(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    const normalized = key.toLowerCase().replace(/_/g, '-');
    if (normalized === name || normalized.endsWith(`-${name}`)) return value;
  }
  return undefined;
}

/** Checks `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` as qrflow signs its deliveries. */
export function isValidSignature(secret: string, rawBody: string, header: string): boolean {
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const [name, ...rest] = piece.trim().split('=');
    if (!name || !rest.length) continue;
    parts.set(name, [...(parts.get(name) ?? []), rest.join('=')]);
  }
  const timestamp = parts.get('t')?.[0];
  if (!timestamp) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
