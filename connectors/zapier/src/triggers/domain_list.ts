import { defineTrigger, type PollingTriggerPerform } from 'zapier-platform-core';

import { apiUrl, type Domain, type Envelope } from '../common/api.js';

// Feeds the "Custom Domain" dropdown (`dynamic: 'domain_list.hostname.hostname'`): only verified domains can
// carry a code, so pending ones are left out. The list is short (the plan caps it), so it has no paging.
const perform = (async (z, bundle) => {
  const response = await z.request<Envelope<Domain[]>>({ url: apiUrl(bundle, '/domains') });
  return response.data.data.filter((domain) => domain.status === 'verified');
}) satisfies PollingTriggerPerform<[], Domain>;

export default defineTrigger({
  key: 'domain_list',
  noun: 'Domain',
  display: {
    label: 'Domain List',
    description: 'Triggers when a custom domain is listed; powers the custom domain dropdown.',
    hidden: true,
  },
  operation: {
    type: 'polling',
    perform,
    sample: { id: 'dom_3kT9aQ2mZ0pL1x', hostname: 'go.example.com', status: 'verified', created_at: '2026-11-23T10:00:00.000Z', verified_at: '2026-11-23T10:05:00.000Z' },
    outputFields: [
      { key: 'id', label: 'Domain ID', type: 'string' },
      { key: 'hostname', label: 'Hostname', type: 'string' },
      { key: 'status', label: 'Status', type: 'string' },
    ],
  },
});
