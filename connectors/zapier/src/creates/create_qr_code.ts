import { defineCreate, defineInputFields, type Bundle, type CreatePerform, type InferInputData, type PlainInputField, type ZObject } from 'zapier-platform-core';

import { apiUrl, type Envelope, type QrCode } from '../common/api.js';
import { idempotencyKey } from '../common/idempotency.js';
import { uploadLogo } from '../common/logo.js';
import {
  buildContent,
  buildStyle,
  contentInputFields,
  domainInputField,
  logoInputField,
  present,
  qrCodeOutputFields,
  qrCodeSample,
  styleInputFields,
  toTags,
} from '../common/qr-fields.js';
import { buildSmartBody, SMART_GROUP, smartInputFields } from '../common/smart-fields.js';

const inputFields = defineInputFields([
  { key: 'name', label: 'Name', type: 'string', required: true, helpText: 'A name to find the code by in qrflow, e.g. "Spring flyer".' },
  {
    key: 'type',
    label: 'Type',
    type: 'string',
    required: true,
    default: 'url',
    altersDynamicFields: true,
    choices: { url: 'Website URL', text: 'Plain Text', email: 'Email', phone: 'Phone Call', sms: 'SMS', wifi: 'Wi-Fi Network', vcard: 'Contact Card (vCard)' },
    helpText: 'What a scan does. Only Website URL codes can be dynamic.',
  },
  {
    key: 'mode',
    label: 'Mode',
    type: 'string',
    required: false,
    choices: { dynamic: 'Dynamic (editable, counts scans)', static: 'Static (content printed in the code)' },
    helpText:
      'Dynamic codes point at a short link you can re-target later and whose scans are counted; only Website URL codes can be dynamic. ' +
      'Leave empty for dynamic URL codes and static codes of every other type.',
  },
  (_z: ZObject, bundle: Bundle) =>
    (bundle.inputData.type ?? 'url') === 'url'
      ? ([
          {
            key: 'destination_url',
            label: 'Destination URL',
            type: 'string',
            required: true,
            helpText: 'Where a scan goes, starting with https:// (or http://).',
          },
        ] satisfies PlainInputField[])
      : contentInputFields(bundle.inputData.type),
  domainInputField,
  {
    key: 'tags',
    label: 'Tags',
    type: 'string',
    list: true,
    required: false,
    helpText: 'Labels to group codes by, e.g. a campaign name.',
  },
  {
    key: 'status',
    label: 'Status',
    type: 'string',
    required: false,
    choices: { active: 'Active', paused: 'Paused' },
    helpText: 'A paused dynamic code does not redirect. Defaults to Active.',
  },
  ...styleInputFields,
  logoInputField,
  ...smartInputFields(),
  {
    key: 'idempotency_key',
    label: 'Idempotency Key',
    type: 'string',
    required: false,
    helpText:
      'Optional. Map a value unique to the trigger item (e.g. a row or order ID). A retry of this step with the same key returns ' +
      'the code made the first time instead of a second one. Left empty, a hash of this step’s input is used, so identical ' +
      'input within 24 hours also returns the first code.',
  },

]);

const perform = (async (z, bundle) => {
  const input = bundle.inputData as Record<string, unknown>;
  const type = String(input.type ?? 'url');
  const body: Record<string, unknown> = {
    name: input.name,
    type,
    mode: present(input.mode) ? input.mode : type === 'url' ? 'dynamic' : 'static',
  };
  if (type === 'url') body.destination_url = input.destination_url;
  else body.content = buildContent(type, input) ?? {};
  const tags = toTags(input.tags);
  if (tags) body.tags = tags;
  if (present(input.status)) body.status = input.status;
  const style = buildStyle(input);
  if (style) body.style = style;
  if (present(input.domain)) body.domain = String(input.domain).trim();
  Object.assign(body, buildSmartBody(z, input));

  const response = await z.request<Envelope<QrCode>>({
    method: 'POST',
    url: apiUrl(bundle, '/qr'),
    headers: { 'Idempotency-Key': idempotencyKey('create_qr_code', bundle) },
    body,
  });
  const code = response.data.data;
  // A retried step gets the same code back (Idempotency-Key) and puts the same logo on it again: no harm done.
  return present(input.logo) ? uploadLogo(z, bundle, code.id, input.logo) : code;
}) satisfies CreatePerform<InferInputData<typeof inputFields>, QrCode>;

export default defineCreate({
  key: 'create_qr_code',
  noun: 'QR Code',
  display: {
    label: 'Create QR Code',
    description:
      'Creates a dynamic or static QR code: a website link, text, email, phone, SMS, Wi-Fi or contact card; dynamic codes can have a custom domain, redirect rules, an A/B split, a schedule, a scan limit, a password and UTM parameters.',
  },
  operation: {
    inputFields,
    inputFieldGroups: [SMART_GROUP],
    perform,
    sample: qrCodeSample,
    outputFields: qrCodeOutputFields,
  },
});
