import type { DataMatcherMap } from 'nock';
import { describe, expect, it } from 'vitest';
import type { PlainInputField } from 'zapier-platform-core';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, serverError, useNock } from '../test-support/harness.js';

useNock();

const operation = app.creates.create_qr_code.operation;

/** Records the Idempotency-Key of each create request. */
function expectCreate(body: DataMatcherMap, keys: string[], reply = qrCodeSample) {
  return api()
    .post('/api/v1/qr', body)
    .reply(201, function () {
      keys.push(String(this.req.headers['idempotency-key']));
      return { data: reply };
    });
}

describe('Create QR Code', () => {
  it('creates a dynamic URL code by default, with tags and style', async () => {
    const keys: string[] = [];
    expectCreate(
      {
        name: 'Spring flyer',
        type: 'url',
        mode: 'dynamic',
        destination_url: 'https://example.com/spring',
        tags: ['spring', 'print'],
        style: { foreground: '#112233', margin: 2, error_correction: 'H' },
      },
      keys,
    );
    const result = await run(operation.perform, {
      authData,
      inputData: {
        name: 'Spring flyer',
        type: 'url',
        destination_url: 'https://example.com/spring',
        tags: ['spring', 'print'],
        style_foreground: '#112233',
        style_margin: 2,
        style_error_correction: 'H',
      },
    });
    expect(result).toEqual(qrCodeSample);
    expect(keys[0]).toMatch(/^zapier-create_qr_code-[0-9a-f]{64}$/);
  });

  it('creates a static Wi-Fi code from the type-specific fields', async () => {
    const keys: string[] = [];
    expectCreate(
      { name: 'Guest Wi-Fi', type: 'wifi', mode: 'static', content: { ssid: 'Guests', password: 'hunter22', encryption: 'WPA', hidden: false } },
      keys,
    );
    await run(operation.perform, {
      authData,
      inputData: { name: 'Guest Wi-Fi', type: 'wifi', wifi_ssid: 'Guests', wifi_password: 'hunter22', wifi_encryption: 'WPA', wifi_hidden: 'false' },
    });
    expect(keys).toHaveLength(1);
  });

  it('sends the same Idempotency-Key when Zapier retries the same step', async () => {
    const keys: string[] = [];
    const inputData = { name: 'Menu', type: 'text', text: 'Soup of the day' };
    expectCreate({ name: 'Menu', type: 'text', mode: 'static', content: { text: 'Soup of the day' } }, keys);
    expectCreate({ name: 'Menu', type: 'text', mode: 'static', content: { text: 'Soup of the day' } }, keys);
    await run(operation.perform, { authData, inputData });
    await run(operation.perform, { authData, inputData: { text: 'Soup of the day', type: 'text', name: 'Menu' } });
    expect(keys[0]).toBe(keys[1]);
  });

  it('sends different keys for different input, and uses a mapped Idempotency Key as given', async () => {
    const keys: string[] = [];
    expectCreate({ name: 'A', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/a' }, keys);
    expectCreate({ name: 'B', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/a' }, keys);
    expectCreate({ name: 'B', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/a' }, keys);
    await run(operation.perform, { authData, inputData: { name: 'A', type: 'url', destination_url: 'https://example.com/a' } });
    await run(operation.perform, { authData, inputData: { name: 'B', type: 'url', destination_url: 'https://example.com/a' } });
    await run(operation.perform, {
      authData,
      inputData: { name: 'B', type: 'url', destination_url: 'https://example.com/a', idempotency_key: 'row-42' },
    });
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('zapier-create_qr_code-row-42');
  });

  it('shows the server’s invalid fields when it rejects the input', async () => {
    api()
      .post('/api/v1/qr')
      .reply(400, serverError('validation_error', 'Invalid.', [{ field: 'destination_url', message: 'must be an http(s) URL' }]));
    await expect(
      run(operation.perform, { authData, inputData: { name: 'Bad', type: 'url', destination_url: 'notaurl' } }),
    ).rejects.toThrow(/destination_url: must be an http\(s\) URL/);
  });

  it('asks for the destination for URL codes and for the type’s own fields otherwise', async () => {
    const dynamicFields = async (type: string) => {
      const fields = (await run(app.creates.create_qr_code.operation.inputFields[3], {
        authData,
        inputData: { type },
      })) as PlainInputField[];
      return fields.map((field) => `${field.key}${field.required ? '*' : ''}`);
    };
    expect(await dynamicFields('url')).toEqual(['destination_url*']);
    expect(await dynamicFields('sms')).toEqual(['sms_number*', 'sms_message']);
    expect(await dynamicFields('vcard')).toContain('vcard_first_name*');
  });
});
