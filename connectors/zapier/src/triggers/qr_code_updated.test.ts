import { describe, expect, it } from 'vitest';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, useNock } from '../test-support/harness.js';
import { signDelivery } from '../test-support/signing.js';

useNock();

const operation = app.triggers.qr_code_updated.operation;
const secret = 'whsec_updated_secret';
const updated = { ...qrCodeSample, destination_url: 'https://example.com/summer' };
const event = { id: 'evt_9', type: 'qr.updated', created_at: '2026-11-24T08:30:00.000Z', data: updated };

describe('QR Code Updated trigger (REST hook)', () => {
  it('subscribes to qr.updated', async () => {
    api()
      .post('/api/v1/webhooks', { target_url: 'https://hooks.zapier.com/x', event: 'qr.updated' })
      .reply(201, { data: { id: 'wh_9', url: 'https://hooks.zapier.com/x', events: ['qr.updated'], status: 'active', secret } });
    const result = await run(operation.performSubscribe, { authData, targetUrl: 'https://hooks.zapier.com/x' });
    expect(result).toMatchObject({ id: 'wh_9' });
  });

  it('unsubscribes', async () => {
    api().delete('/api/v1/webhooks/wh_9').reply(200, { data: { id: 'wh_9', deleted: true } });
    expect(await run(operation.performUnsubscribe, { authData, subscribeData: { id: 'wh_9' } })).toEqual({
      id: 'wh_9',
      deleted: true,
    });
  });

  it('returns the updated QR code from a signed delivery', async () => {
    const content = JSON.stringify(event);
    const results = await run(operation.perform, {
      authData,
      subscribeData: { id: 'wh_9', secret },
      cleanedRequest: event,
      rawRequest: { content, headers: { 'Http-Qrflow-Signature': signDelivery(secret, content) } },
    });
    expect(results).toEqual([updated]);
  });

  it('lists recent updates from the events feed as QR code objects', async () => {
    api()
      .get('/api/v1/events')
      .query({ type: 'qr.updated', limit: '20' })
      .reply(200, { data: [event], pagination: { limit: 20, has_more: false, next_cursor: null } });
    expect(await run(operation.performList, { authData })).toEqual([updated]);
  });
});
