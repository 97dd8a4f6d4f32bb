import { describe, expect, it } from 'vitest';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, useNock } from '../test-support/harness.js';

useNock();

const perform = app.searches.find_qr_code.operation.perform;
const page = (data: unknown[]) => ({ data, pagination: { limit: 100, has_more: false, next_cursor: null } });

describe('Find QR Code', () => {
  it('finds a code by ID', async () => {
    api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: qrCodeSample });
    expect(await run(perform, { authData, inputData: { id: 'qr_8fK2mP0aZx91' } })).toEqual([qrCodeSample]);
  });

  it('answers "nothing found" for an unknown ID instead of failing', async () => {
    api().get('/api/v1/qr/qr_nope').reply(404, { error: { code: 'not_found', message: 'QR code not found.' }, request_id: 'req_1' });
    expect(await run(perform, { authData, inputData: { id: 'qr_nope' } })).toEqual([]);
  });

  it('finds by name through search= and keeps only exact (case-insensitive) matches', async () => {
    api()
      .get('/api/v1/qr')
      .query({ search: 'Spring Flyer', limit: '100' })
      .reply(
        200,
        page([
          { ...qrCodeSample, id: 'qr_2', name: 'Spring flyer v2' },
          { ...qrCodeSample, id: 'qr_1', name: 'spring flyer' },
        ]),
      );
    const results = await run(perform, { authData, inputData: { name: ' Spring Flyer ' } });
    expect(results).toEqual([{ ...qrCodeSample, id: 'qr_1', name: 'spring flyer' }]);
  });

  it('answers "nothing found" when only partial name matches exist, so search-or-create creates', async () => {
    api().get('/api/v1/qr').query(true).reply(200, page([{ ...qrCodeSample, name: 'Spring flyer v2' }]));
    expect(await run(perform, { authData, inputData: { name: 'Spring flyer' } })).toEqual([]);
  });

  it('asks for an ID or a name', async () => {
    await expect(run(perform, { authData, inputData: {} })).rejects.toThrow(/QR Code ID or a Name/);
  });

  it('is paired with Create QR Code as a search-or-create', () => {
    expect(app.searchOrCreates.find_qr_code).toMatchObject({ search: 'find_qr_code', create: 'create_qr_code' });
  });
});
