import { defineTrigger, defineInputFields, type PollingTriggerPerform } from 'zapier-platform-core';

import type { QrCode } from '../common/api.js';
import { fetchPage } from '../common/paging.js';
import { qrCodeOutputFields, qrCodeSample } from '../common/qr-fields.js';

const inputFields = defineInputFields([
  {
    key: 'tag',
    label: 'Tag',
    type: 'string',
    required: false,
    helpText: 'Only trigger for QR codes with this tag. Leave empty for every new code.',
  },
  {
    key: 'mode',
    label: 'Mode',
    type: 'string',
    required: false,
    choices: { dynamic: 'Dynamic', static: 'Static' },
    helpText: 'Only trigger for dynamic (editable, tracked) or static codes. Leave empty for both.',
  },

]);

const perform = (async (z, bundle) => {
  return fetchPage<QrCode>(z, bundle, '/qr', {
    limit: 100,
    tag: bundle.inputData.tag,
    mode: bundle.inputData.mode,
  });
}) satisfies PollingTriggerPerform<typeof inputFields, QrCode>;

export default defineTrigger({
  key: 'new_qr_code',
  noun: 'QR Code',
  display: {
    label: 'New QR Code',
    description: 'Triggers when a QR code is created in your qrflow workspace.',
  },
  operation: {
    type: 'polling',
    canPaginate: true,
    inputFields,
    perform,
    sample: qrCodeSample,
    outputFields: qrCodeOutputFields,
  },
});
