import { describe, expect, it } from 'vitest';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, useNock } from '../test-support/harness.js';

useNock();

const create = app.creates.create_qr_code.operation;
const update = app.creates.update_qr_code.operation;

/** Captures the JSON body of the next call to `method path`. */
function capture(method: 'post' | 'patch', path: string) {
  const sent: { body?: Record<string, unknown> } = {};
  api()
    [method](path, (body) => {
      sent.body = body as Record<string, unknown>;
      return true;
    })
    .reply(method === 'post' ? 201 : 200, { data: qrCodeSample });
  return sent;
}

const base = { name: 'Spring flyer', type: 'url', destination_url: 'https://example.com/spring' };

describe('smart-code fields on Create QR Code', () => {
  it('turns the simple rule lines into rules in order, with the API’s spellings', async () => {
    const sent = capture('post', '/api/v1/qr');
    await run(create.perform, {
      authData,
      inputData: {
        ...base,
        rules: [
          { rule_condition: 'device', rule_values: 'Mobile, TABLET', rule_url: 'https://example.com/app' },
          { rule_condition: 'country', rule_values: 'de,at', rule_url: 'https://example.com/de' },
          { rule_condition: 'os', rule_values: ['iOS'], rule_url: 'https://example.com/ios' },
          { rule_condition: 'language', rule_values: 'FR', rule_url: 'https://example.com/fr' },
        ],
      },
    });
    expect(sent.body?.redirect_rules).toEqual([
      { url: 'https://example.com/app', conditions: [{ type: 'device', in: ['mobile', 'tablet'] }] },
      { url: 'https://example.com/de', conditions: [{ type: 'country', in: ['DE', 'AT'] }] },
      { url: 'https://example.com/ios', conditions: [{ type: 'os', in: ['iOS'] }] },
      { url: 'https://example.com/fr', conditions: [{ type: 'language', in: ['fr'] }] },
    ]);
  });

  it('sends the advanced JSON rules as given, and variants, schedule, scan limit, password and UTM', async () => {
    const rules = [{ url: 'https://example.com/office', conditions: [{ type: 'time', from: '09:00', to: '17:00', tz: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5] }] }];
    const sent = capture('post', '/api/v1/qr');
    await run(create.perform, {
      authData,
      inputData: {
        ...base,
        redirect_rules_json: JSON.stringify(rules),
        variants: [
          { variant_url: 'https://example.com/a', variant_weight: '70' },
          { variant_url: 'https://example.com/b', variant_weight: 30 },
        ],
        valid_from: '2026-12-01T09:00:00+01:00',
        valid_until: '2026-12-31T23:59:59+01:00',
        max_scans: '500',
        expired_url: 'https://example.com/over',
        password: 'open-sesame',
        utm_source: 'flyer',
        utm_campaign: 'spring',
      },
    });
    expect(sent.body).toMatchObject({
      ...base,
      mode: 'dynamic',
      redirect_rules: rules,
      variants: [
        { url: 'https://example.com/a', weight: 70 },
        { url: 'https://example.com/b', weight: 30 },
      ],
      valid_from: '2026-12-01T08:00:00.000Z',
      valid_until: '2026-12-31T22:59:59.000Z',
      max_scans: 500,
      expired_url: 'https://example.com/over',
      password: 'open-sesame',
      utm: { source: 'flyer', campaign: 'spring' },
    });
  });

  it('sends none of them when they are left empty', async () => {
    const sent = capture('post', '/api/v1/qr');
    await run(create.perform, { authData, inputData: { ...base, rules: [{ rule_condition: '', rule_values: '', rule_url: '' }], utm_source: '' } });
    expect(sent.body).toEqual({ ...base, mode: 'dynamic' });
  });

  it.each([
    [{ rules: [{ rule_condition: 'device', rule_values: 'mobile' }] }, /Redirect rule 1 needs a condition/],
    [{ rules: [{ rule_condition: 'query', rule_values: 'x', rule_url: 'https://e.com' }] }, /Redirect rule 1 needs a condition/],
    [{ redirect_rules_json: '{not json' }, /not valid JSON/],
    [{ redirect_rules_json: '{"url": "https://e.com"}' }, /must be a JSON list/],
    [
      { redirect_rules_json: '[]', rules: [{ rule_condition: 'os', rule_values: 'iOS', rule_url: 'https://e.com' }] },
      /either Redirect Rules or Redirect Rules \(Advanced JSON\)/,
    ],
    [{ max_scans: 'lots' }, /Scan Limit must be a whole number/],
    [{ valid_until: 'next tuesday-ish' }, /Valid Until is not a date/],
  ])('refuses %j before calling the server', async (extra, message) => {
    await expect(run(create.perform, { authData, inputData: { ...base, ...extra } })).rejects.toThrow(message);
  });

  it('offers the password as a password field, the rules as line items and everything in the smart group', () => {
    const fields = create.inputFields as { key?: string; type?: string; group?: string; children?: { key: string }[] }[];
    const byKey = (key: string) => fields.find((field) => field.key === key);
    expect(byKey('password')).toMatchObject({ type: 'password', group: 'smart' });
    expect(byKey('rules')?.children?.map((child) => child.key)).toEqual(['rule_condition', 'rule_values', 'rule_url']);
    expect(byKey('variants')?.children?.map((child) => child.key)).toEqual(['variant_url', 'variant_weight']);
    expect(byKey('logo')).toMatchObject({ type: 'file' });
    expect(create.sample).toMatchObject({ state: 'live', password_protected: false });
    expect((create.outputFields ?? []).map((field) => field.key)).toEqual(expect.arrayContaining(['state', 'password_protected', 'valid_until', 'utm__source', 'domain']));
  });
});

describe('smart-code fields on Update QR Code', () => {
  it('sends changed settings and null for each removed one', async () => {
    const sent = capture('patch', '/api/v1/qr/qr_8fK2mP0aZx91');
    await run(update.perform, {
      authData,
      inputData: {
        qr_id: 'qr_8fK2mP0aZx91',
        max_scans: 1000,
        rules: [{ rule_condition: 'device', rule_values: 'desktop', rule_url: 'https://example.com/web' }],
        remove_settings: ['password', 'valid_until', 'max_scans', 'not_a_setting'],
      },
    });
    expect(sent.body).toEqual({
      redirect_rules: [{ url: 'https://example.com/web', conditions: [{ type: 'device', in: ['desktop'] }] }],
      max_scans: null,
      password: null,
      valid_until: null,
    });
  });

  it('changes the UTM parameters and variants alone', async () => {
    const sent = capture('patch', '/api/v1/qr/qr_8fK2mP0aZx91');
    await run(update.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', utm_medium: 'print', variant_url: 'https://example.com/a', variant_weight: 1 },
    });
    expect(sent.body).toEqual({ utm: { medium: 'print' }, variants: [{ url: 'https://example.com/a', weight: 1 }] });
  });
});
