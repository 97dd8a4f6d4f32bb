import { describe, expect, it } from 'vitest';

import { app, api, run, authData, serverError, useNock } from '../test-support/harness.js';

useNock();

describe('Delete QR Code', () => {
  it('deletes the picked code', async () => {
    api().delete('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: { id: 'qr_8fK2mP0aZx91', deleted: true } });
    const result = await run(app.creates.delete_qr_code.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91' } });
    expect(result).toEqual({ id: 'qr_8fK2mP0aZx91', deleted: true });
  });

  it('fails clearly when the code is already gone', async () => {
    api().delete('/api/v1/qr/qr_gone').reply(404, serverError('not_found', 'QR code not found.'));
    await expect(
      run(app.creates.delete_qr_code.operation.perform, { authData, inputData: { qr_id: 'qr_gone' } }),
    ).rejects.toThrow(/QR code not found\..*still exists/);
  });
});
