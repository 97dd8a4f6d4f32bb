import { describe, expect, it } from 'vitest';

import { app, api, run, authData, serverError, useNock } from '../test-support/harness.js';
import { signDelivery } from '../test-support/signing.js';
import { scanSample } from './qr_code_scanned.js';

useNock();

const operation = app.triggers.qr_code_scanned.operation;
const secret = 'whsec_test_0123456789abcdef';
const subscription = {
  id: 'wh_123',
  url: 'https://hooks.zapier.com/hooks/standard/1/abc/',
  events: ['qr.scanned'],
  status: 'active',
  disabled_reason: null,
  created_at: '2026-11-23T10:00:00.000Z',
  secret,
};
const event = { id: 'evt_1', type: 'qr.scanned', created_at: '2026-11-23T10:15:42.000Z', data: scanSample };

function delivery(body: unknown, signature?: string) {
  const content = JSON.stringify(body);
  return {
    authData,
    subscribeData: subscription,
    cleanedRequest: JSON.parse(content),
    rawRequest: {
      method: 'POST' as const,
      content,
      headers: { 'Http-Content-Type': 'application/json', 'Http-Qrflow-Signature': signature ?? signDelivery(secret, content) },
    },
  };
}

describe('QR Code Scanned trigger (REST hook)', () => {
  it('subscribes Zapier’s URL to qr.scanned with the target_url/event aliases', async () => {
    api()
      .post('/api/v1/webhooks', { target_url: subscription.url, event: 'qr.scanned' })
      .reply(201, { data: subscription });
    const result = await run(operation.performSubscribe, { authData, targetUrl: subscription.url });
    expect(result).toMatchObject({ id: 'wh_123', secret });
  });

  it('unsubscribes by deleting the webhook made at subscribe time', async () => {
    api().delete('/api/v1/webhooks/wh_123').reply(200, { data: { id: 'wh_123', deleted: true } });
    const result = await run(operation.performUnsubscribe, { authData, subscribeData: subscription });
    expect(result).toEqual({ id: 'wh_123', deleted: true });
  });

  it('treats an already-deleted webhook as unsubscribed', async () => {
    api().delete('/api/v1/webhooks/wh_123').reply(404, serverError('not_found', 'Webhook not found.'));
    const result = await run(operation.performUnsubscribe, { authData, subscribeData: subscription });
    expect(result).toEqual({ id: 'wh_123', deleted: true });
  });

  it('turns a signed delivery into one scan', async () => {
    const results = await run(operation.perform, delivery(event));
    expect(results).toEqual([scanSample]);
  });

  it('drops a delivery whose signature does not match the subscription secret', async () => {
    const forged = delivery(event, signDelivery('whsec_someone_else', JSON.stringify(event)));
    expect(await run(operation.perform, forged)).toEqual([]);
  });

  it('drops a delivery with no signature', async () => {
    const unsigned = delivery(event);
    unsigned.rawRequest.headers = { 'Http-Content-Type': 'application/json' } as never;
    expect(await run(operation.perform, unsigned)).toEqual([]);
  });

  it('ignores an event of another type sent to this hook', async () => {
    const other = { ...event, type: 'qr.updated' };
    expect(await run(operation.perform, delivery(other))).toEqual([]);
  });

  it('lists recent scans from the events feed in the same shape as a delivery', async () => {
    api()
      .get('/api/v1/events')
      .query({ type: 'qr.scanned', limit: '20' })
      .reply(200, { data: [event, { ...event, id: 'evt_0', data: { ...scanSample, id: 'scn_0' } }], pagination: { limit: 20, has_more: false, next_cursor: null } });
    const listed = (await run(operation.performList, { authData })) as unknown[];
    const delivered = (await run(operation.perform, delivery(event))) as unknown[];
    expect(listed).toHaveLength(2);
    expect(listed[0]).toEqual(delivered[0]);
    expect(Object.keys(listed[0] as object).sort()).toEqual(Object.keys(operation.sample as object).sort());
  });
});
