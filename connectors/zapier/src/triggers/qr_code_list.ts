import { defineTrigger, type PollingTriggerPerform } from 'zapier-platform-core';

import type { QrCode } from '../common/api.js';
import { fetchPage } from '../common/paging.js';
import { qrCodeOutputFields, qrCodeSample } from '../common/qr-fields.js';

// Feeds the "QR Code" dropdown of the actions (`dynamic: 'qr_code_list.id.name'`); users never pick it as a trigger.
const perform = (async (z, bundle) => {
  return fetchPage<QrCode>(z, bundle, '/qr', { limit: 100 });
}) satisfies PollingTriggerPerform<[], QrCode>;

export default defineTrigger({
  key: 'qr_code_list',
  noun: 'QR Code',
  display: {
    label: 'QR Code List',
    description: 'Triggers when a QR code is listed; powers the QR code dropdowns.',
    hidden: true,
  },
  operation: {
    type: 'polling',
    canPaginate: true,
    perform,
    sample: qrCodeSample,
    outputFields: qrCodeOutputFields,
  },
});
