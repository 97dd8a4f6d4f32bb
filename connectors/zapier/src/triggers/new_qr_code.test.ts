import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { app, api, run, authData, fakeZapierRpc, useNock } from '../test-support/harness.js';
import type { QrCode } from '../common/api.js';
import { qrCodeSample } from '../common/qr-fields.js';

useNock();

const perform = app.triggers.new_qr_code.operation.perform;
const code = (id: string) => ({ ...qrCodeSample, id });
let rpc: ReturnType<typeof fakeZapierRpc>;

describe('New QR Code trigger', () => {
  beforeEach(() => {
    rpc = fakeZapierRpc();
  });
  afterEach(() => {
    delete process.env.ZAPIER_DEPLOY_KEY;
  });

  it('polls GET /api/v1/qr newest first and returns the codes as they are', async () => {
    api()
      .get('/api/v1/qr')
      .query({ limit: '100' })
      .reply(200, { data: [code('qr_new'), code('qr_old')], pagination: { limit: 100, has_more: false, next_cursor: null } });
    const results = await run<QrCode[]>(perform, { authData, meta: { page: 0 } });
    expect(results.map((item) => item.id)).toEqual(['qr_new', 'qr_old']);
  });

  it('passes the optional tag and mode filters', async () => {
    api()
      .get('/api/v1/qr')
      .query({ limit: '100', tag: 'spring', mode: 'dynamic' })
      .reply(200, { data: [code('qr_1')], pagination: { limit: 100, has_more: false, next_cursor: null } });
    const results = await run<QrCode[]>(perform, { authData, inputData: { tag: 'spring', mode: 'dynamic' }, meta: { page: 0 } });
    expect(results).toHaveLength(1);
  });

  it('pages with the server cursor kept in Zapier’s cursor store', async () => {
    api()
      .get('/api/v1/qr')
      .query({ limit: '100' })
      .reply(200, { data: [code('qr_3'), code('qr_2')], pagination: { limit: 100, has_more: true, next_cursor: 'cur_page2' } });
    api()
      .get('/api/v1/qr')
      .query({ limit: '100', cursor: 'cur_page2' })
      .reply(200, { data: [code('qr_1')], pagination: { limit: 100, has_more: false, next_cursor: null } });

    const first = await run<QrCode[]>(perform, { authData, meta: { page: 0 } });
    const second = await run<QrCode[]>(perform, { authData, meta: { page: 1 } });
    const third = await run<QrCode[]>(perform, { authData, meta: { page: 2 } });

    expect(first.map((item) => item.id)).toEqual(['qr_3', 'qr_2']);
    expect(second.map((item) => item.id)).toEqual(['qr_1']);
    expect(third).toEqual([]); // the second page had no next cursor, so there is no third page to ask for
    expect(rpc.calls).toEqual(['set_cursor', 'get_cursor', 'set_cursor', 'get_cursor']);
  });

  it('declares cursor paging, a sample with an id and labelled, typed output fields', () => {
    const trigger = app.triggers.new_qr_code;
    expect(trigger.operation.canPaginate).toBe(true);
    expect(trigger.operation.sample).toHaveProperty('id');
    expect(trigger.display.description).toMatch(/^Triggers when/);
  });
});
