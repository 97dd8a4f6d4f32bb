import { describe, expect, it } from 'vitest';

import { app, api, run, authData, serverError, useNock } from '../test-support/harness.js';

useNock();

const analytics = {
  qr_id: 'qr_8fK2mP0aZx91',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-11-23T00:00:00.000Z',
  interval: 'week',
  tz: 'Europe/Berlin',
  total_scans: 3,
  unique_scans: 2,
  timeseries: [{ period: '2026-11-16', scans: 3, unique_scans: 2 }],
  countries: [{ value: 'DE', scans: 3 }],
  devices: [],
  os: [],
  browsers: [],
  referrers: [],
};

describe('Get QR Code Analytics', () => {
  it('asks for the period, interval, time zone and bot filter given', async () => {
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/analytics')
      .query({ from: analytics.from, to: analytics.to, interval: 'week', tz: 'Europe/Berlin', include_bots: 'true' })
      .reply(200, { data: analytics });
    const result = await run(app.creates.get_qr_code_analytics.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', from: analytics.from, to: analytics.to, interval: 'week', tz: 'Europe/Berlin', include_bots: true },
    });
    expect(result).toEqual({ id: 'qr_8fK2mP0aZx91', ...analytics });
  });

  it('falls back to the Zap’s time zone and the server’s default range', async () => {
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/analytics')
      .query({ tz: 'America/New_York' })
      .reply(200, { data: { ...analytics, tz: 'America/New_York' } });
    const result = await run(app.creates.get_qr_code_analytics.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91' },
      meta: { timezone: 'America/New_York' },
    });
    expect(result).toMatchObject({ tz: 'America/New_York', total_scans: 3 });
  });

  it('passes the smart-code breakdowns (variants, regions, cities) through and declares them as output fields', async () => {
    const smart = {
      ...analytics,
      variants: [{ value: 'https://example.com/a', scans: 2 }, { value: 'https://example.com/b', scans: 1 }],
      regions: [{ value: 'Bavaria', scans: 3 }],
      cities: [{ value: 'Munich', scans: 3 }],
    };
    api().get('/api/v1/qr/qr_8fK2mP0aZx91/analytics').query(true).reply(200, { data: smart });
    const result = await run(app.creates.get_qr_code_analytics.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91' } });
    expect(result).toMatchObject({ variants: smart.variants, regions: smart.regions, cities: smart.cities });
    const keys = (app.creates.get_qr_code_analytics.operation.outputFields ?? []).map((field) => field.key);
    expect(keys).toEqual(expect.arrayContaining(['variants[]value', 'variants[]scans', 'regions[]value', 'regions[]scans', 'cities[]value', 'cities[]scans']));
  });

  it('explains a plan that does not include analytics', async () => {
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/analytics')
      .reply(403, serverError('plan_upgrade_required', 'Analytics need the Team plan.'));
    await expect(
      run(app.creates.get_qr_code_analytics.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91' } }),
    ).rejects.toThrow(/Analytics need the Team plan\. Your qrflow plan does not include this feature/);
  });
});
