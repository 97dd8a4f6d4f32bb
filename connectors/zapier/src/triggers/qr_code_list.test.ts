import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { app, api, run, authData, fakeZapierRpc, useNock } from '../test-support/harness.js';
import type { QrCode } from '../common/api.js';
import { qrCodeSample } from '../common/qr-fields.js';

useNock();

describe('QR code dropdown (hidden trigger)', () => {
  beforeEach(() => {
    fakeZapierRpc();
  });
  afterEach(() => {
    delete process.env.ZAPIER_DEPLOY_KEY;
  });

  it('lists codes with id and name for the dynamic dropdowns', async () => {
    api()
      .get('/api/v1/qr')
      .query({ limit: '100' })
      .reply(200, {
        data: [
          { ...qrCodeSample, id: 'qr_a', name: 'Menu' },
          { ...qrCodeSample, id: 'qr_b', name: 'Flyer' },
        ],
        pagination: { limit: 100, has_more: false, next_cursor: null },
      });
    const results = await run<QrCode[]>(app.triggers.qr_code_list.operation.perform, {
      authData,
      meta: { page: 0, isFillingDynamicDropdown: true },
    });
    expect(results.map((item) => [item.id, item.name])).toEqual([
      ['qr_a', 'Menu'],
      ['qr_b', 'Flyer'],
    ]);
  });

  it('is hidden and referenced by every QR code picker', () => {
    expect(app.triggers.qr_code_list.display.hidden).toBe(true);
    const pickers = Object.values(app.creates).flatMap((create) =>
      (create.operation.inputFields ?? []).filter((field) => (field as { key?: string } | null)?.key === 'qr_id'),
    );
    expect(pickers.length).toBeGreaterThanOrEqual(4);
    for (const picker of pickers) expect(picker).toMatchObject({ dynamic: 'qr_code_list.id.name' });
  });
});
