import { defineCreate, defineInputFields, type Bundle, type CreatePerform, type InferInputData, type ZObject } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope, type QrCode } from '../common/api.js';
import { removeLogo, uploadLogo } from '../common/logo.js';
import {
  buildContent,
  buildStyle,
  contentInputFields,
  hasContentInput,
  logoInputField,
  present,
  qrCodeOutputFields,
  qrCodeSample,
  qrIdInputField,
  styleInputFields,
  toTags,
} from '../common/qr-fields.js';
import { buildSmartBody, SMART_GROUP, smartInputFields } from '../common/smart-fields.js';

async function getQrCode(z: ZObject, bundle: Bundle, id: unknown): Promise<QrCode> {
  const response = await z.request<Envelope<QrCode>>({ url: apiUrl(bundle, `/qr/${segment(id)}`) });
  return response.data.data;
}

const inputFields = defineInputFields([
  { ...qrIdInputField, altersDynamicFields: true },
  { key: 'name', label: 'Name', type: 'string', required: false, helpText: 'A new name. Leave empty to keep the current one.' },
  {
    key: 'destination_url',
    label: 'Destination URL',
    type: 'string',
    required: false,
    helpText: 'Where scans of a dynamic code go from now on; printed codes follow at once. Leave empty to keep the current one.',
  },
  {
    key: 'status',
    label: 'Status',
    type: 'string',
    required: false,
    choices: { active: 'Active', paused: 'Paused' },
    helpText: 'Pause a dynamic code to stop it redirecting, or make it active again. Leave empty to keep the current status.',
  },
  {
    key: 'tags',
    label: 'Tags',
    type: 'string',
    list: true,
    required: false,
    helpText: 'Replaces all of the code’s tags. Leave empty to keep the current tags.',
  },
  ...styleInputFields,
  { ...logoInputField, helpText: `${logoInputField.helpText} Replaces the current logo; leave empty to keep it.` as string },
  {
    key: 'remove_logo',
    label: 'Remove Logo',
    type: 'boolean',
    required: false,
    helpText: 'Yes takes the logo out of the code. Ignored when a new Logo is given.',
  },
  ...smartInputFields({ forUpdate: true }),
  // The content fields depend on the picked code's type, which only the server knows.
  async (z: ZObject, bundle: Bundle) => {
    const id = bundle.inputData.qr_id;
    if (typeof id !== 'string' || !id.startsWith('qr_')) return [];
    try {
      const code = await getQrCode(z, bundle, id);
      return contentInputFields(code.type, { forUpdate: true });
    } catch {
      return []; // a mapped ID is not resolvable while the Zap is being edited
    }
  },

]);

const perform = (async (z, bundle) => {
  const input = bundle.inputData as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  if (present(input.name)) body.name = input.name;
  if (present(input.destination_url)) body.destination_url = input.destination_url;
  if (present(input.status)) body.status = input.status;
  const tags = toTags(input.tags);
  if (tags) body.tags = tags;
  const style = buildStyle(input);
  if (style) body.style = style;
  if (hasContentInput(input)) {
    // Content is one object on the server: merge the changed fields into what is there now.
    const current = await getQrCode(z, bundle, input.qr_id);
    body.content = { ...(current.content ?? {}), ...buildContent(current.type, input) };
  }
  Object.assign(body, buildSmartBody(z, input, { forUpdate: true }));

  const id = String(input.qr_id ?? '').trim();
  const logoChange = present(input.logo) ? 'set' : isYes(input.remove_logo) ? 'remove' : undefined;
  // A step that only changes the logo sends no empty PATCH (which would still emit a qr.updated event).
  let code: QrCode | undefined;
  if (Object.keys(body).length || !logoChange) {
    const response = await z.request<Envelope<QrCode>>({ method: 'PATCH', url: apiUrl(bundle, `/qr/${segment(id)}`), body });
    code = response.data.data;
  }
  if (logoChange === 'set') return uploadLogo(z, bundle, code?.id ?? id, input.logo);
  if (logoChange === 'remove') return removeLogo(z, bundle, code?.id ?? id);
  return code as QrCode;
}) satisfies CreatePerform<InferInputData<typeof inputFields>, QrCode>;

function isYes(value: unknown): boolean {
  return value === true || ['true', 'yes', '1'].includes(String(value ?? '').trim().toLowerCase());
}

export default defineCreate({
  key: 'update_qr_code',
  noun: 'QR Code',
  display: {
    label: 'Update QR Code',
    description:
      'Changes a QR code: re-target a dynamic code, rename, pause, re-tag or restyle it, change its logo, redirect rules, A/B split, schedule, scan limit, password or UTM parameters.',
  },
  operation: {
    inputFields,
    inputFieldGroups: [SMART_GROUP],
    perform,
    sample: { ...qrCodeSample, destination_url: 'https://example.com/summer', updated_at: '2026-11-24T08:30:00.000Z' },
    outputFields: qrCodeOutputFields,
  },
});
