import { describe, expect, it } from 'vitest';

import { app, api, run, authData, useNock } from '../test-support/harness.js';

useNock();

const domain = (hostname: string, status: 'pending' | 'verified') => ({
  id: `dom_${hostname.replace(/\W/g, '')}`,
  hostname,
  status,
  verification: { type: 'TXT', name: `_qrflow.${hostname}`, value: 'qrflow-verify=abc' },
  created_at: '2026-11-23T10:00:00.000Z',
  verified_at: status === 'verified' ? '2026-11-23T10:05:00.000Z' : null,
});

describe('Custom domain dropdown (hidden trigger)', () => {
  it('lists only the verified domains, which are the ones a code can use', async () => {
    api()
      .get('/api/v1/domains')
      .reply(200, { data: [domain('go.acme.com', 'verified'), domain('new.acme.com', 'pending'), domain('links.acme.com', 'verified')] });
    const results = await run<{ hostname: string }[]>(app.triggers.domain_list.operation.perform, { authData, meta: { isFillingDynamicDropdown: true } });
    expect(results.map((item) => item.hostname)).toEqual(['go.acme.com', 'links.acme.com']);
  });

  it('is hidden and feeds the Custom Domain field of Create QR Code and the bulk action by hostname', () => {
    expect(app.triggers.domain_list.display.hidden).toBe(true);
    for (const action of [app.creates.create_qr_code, app.creates.create_qr_codes_bulk]) {
      const field = action.operation.inputFields.find((candidate) => (candidate as { key?: string }).key === 'domain');
      expect(field).toMatchObject({ dynamic: 'domain_list.hostname.hostname', required: false });
    }
  });
});
