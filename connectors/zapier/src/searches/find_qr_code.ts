import { defineSearch, defineInputFields, type InferInputData, type SearchPerform } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type Page, type QrCode } from '../common/api.js';
import { present, qrCodeOutputFields, qrCodeSample } from '../common/qr-fields.js';

const inputFields = defineInputFields([
  {
    key: 'id',
    label: 'QR Code ID',
    type: 'string',
    required: false,
    helpText: 'The ID of the code (it starts with `qr_`). Takes precedence over Name.',
  },
  {
    key: 'name',
    label: 'Name',
    type: 'string',
    required: false,
    helpText: 'The exact name of the code (not case-sensitive). When several codes share it, the newest is used.',
  },

]);

const perform = (async (z, bundle) => {
  const { id, name } = bundle.inputData;
  if (present(id)) {
    const response = await z.request<Envelope<QrCode>>({
      url: apiUrl(bundle, `/qr/${segment(id)}`),
      skipThrowForStatus: true,
    });
    return response.status === 404 ? [] : [response.data.data];
  }
  if (!present(name)) {
    throw new z.errors.Error('Enter a QR Code ID or a Name to search for.', 'missing_search_input', 400);
  }
  const wanted = String(name).trim().toLowerCase();
  const response = await z.request<Page<QrCode>>({
    url: apiUrl(bundle, '/qr'),
    params: { search: String(name).trim(), limit: 100 },
  });
  // The server's search also matches parts of names; a search-or-create must only reuse an exact match.
  return response.data.data.filter((code) => code.name.trim().toLowerCase() === wanted);
}) satisfies SearchPerform<InferInputData<typeof inputFields>, QrCode>;

export default defineSearch({
  key: 'find_qr_code',
  noun: 'QR Code',
  display: {
    label: 'Find QR Code',
    description: 'Finds a QR code by its ID or its exact name.',
  },
  operation: {
    inputFields,
    perform,
    sample: qrCodeSample,
    outputFields: qrCodeOutputFields,
  },
});
