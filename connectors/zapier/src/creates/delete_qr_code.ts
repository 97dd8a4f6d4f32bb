import { defineCreate, defineInputFields, type CreatePerform, type InferInputData } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope } from '../common/api.js';
import { qrIdInputField } from '../common/qr-fields.js';

const inputFields = defineInputFields([qrIdInputField
]);

const perform = (async (z, bundle) => {
  const response = await z.request<Envelope<{ id: string; deleted: boolean }>>({
    method: 'DELETE',
    url: apiUrl(bundle, `/qr/${segment(bundle.inputData.qr_id)}`),
  });
  return response.data.data;
}) satisfies CreatePerform<InferInputData<typeof inputFields>, { id: string; deleted: boolean }>;

export default defineCreate({
  key: 'delete_qr_code',
  noun: 'QR Code',
  display: {
    label: 'Delete QR Code',
    description: 'Deletes a QR code. A deleted dynamic code stops redirecting; this cannot be undone.',
  },
  operation: {
    inputFields,
    perform,
    sample: { id: 'qr_8fK2mP0aZx91', deleted: true },
    outputFields: [
      { key: 'id', label: 'QR Code ID', type: 'string' },
      { key: 'deleted', label: 'Deleted', type: 'boolean' },
    ],
  },
});
