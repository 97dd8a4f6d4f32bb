import { describe, expect, it } from 'vitest';
import type { PlainInputField } from 'zapier-platform-core';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, useNock } from '../test-support/harness.js';

useNock();

const operation = app.creates.update_qr_code.operation;

describe('Update QR Code', () => {
  it('patches only the fields that were filled in', async () => {
    const updated = { ...qrCodeSample, destination_url: 'https://example.com/summer', status: 'paused' };
    api()
      .patch('/api/v1/qr/qr_8fK2mP0aZx91', { destination_url: 'https://example.com/summer', status: 'paused', tags: ['summer'] })
      .reply(200, { data: updated });
    const result = await run(operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', destination_url: 'https://example.com/summer', status: 'paused', tags: 'summer', name: '' },
    });
    expect(result).toEqual(updated);
  });

  it('merges changed content fields into the code’s current content', async () => {
    const current = { ...qrCodeSample, id: 'qr_sms', type: 'sms', mode: 'static', content: { number: '+15550001111', message: 'Hi' } };
    api().get('/api/v1/qr/qr_sms').reply(200, { data: current });
    api()
      .patch('/api/v1/qr/qr_sms', { content: { number: '+15550001111', message: 'Hello again' } })
      .reply(200, { data: { ...current, content: { number: '+15550001111', message: 'Hello again' } } });
    const result = await run(operation.perform, { authData, inputData: { qr_id: 'qr_sms', sms_message: 'Hello again' } });
    expect(result).toMatchObject({ content: { message: 'Hello again' } });
  });

  it('offers the picked code’s content fields, all optional', async () => {
    api()
      .get('/api/v1/qr/qr_wifi')
      .reply(200, { data: { ...qrCodeSample, id: 'qr_wifi', type: 'wifi', mode: 'static' } });
    const contentFields = operation.inputFields.at(-1);
    const fields = (await run(contentFields, { authData, inputData: { qr_id: 'qr_wifi' } })) as PlainInputField[];
    expect(fields.map((field) => field.key)).toEqual(['wifi_ssid', 'wifi_password', 'wifi_encryption', 'wifi_hidden']);
    expect(fields.every((field) => field.required === false)).toBe(true);
  });

  it('uses the QR code dropdown and reloads fields when the code changes', () => {
    expect(operation.inputFields[0]).toMatchObject({ key: 'qr_id', dynamic: 'qr_code_list.id.name', altersDynamicFields: true });
  });
});
