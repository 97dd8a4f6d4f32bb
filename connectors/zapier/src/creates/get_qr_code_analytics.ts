import { defineCreate, defineInputFields, type CreatePerform, type InferInputData } from 'zapier-platform-core';

import { apiUrl, segment, type Envelope } from '../common/api.js';
import { present, qrIdInputField } from '../common/qr-fields.js';

const inputFields = defineInputFields([
  qrIdInputField,
  {
    key: 'from',
    label: 'From',
    type: 'datetime',
    required: false,
    helpText: 'Start of the period. Leave empty for the last 30 days.',
  },
  { key: 'to', label: 'To', type: 'datetime', required: false, helpText: 'End of the period. Leave empty for now.' },
  {
    key: 'interval',
    label: 'Interval',
    type: 'string',
    required: false,
    default: 'day',
    choices: { day: 'Day', week: 'Week', month: 'Month' },
    helpText: 'How the scan counts over time are grouped.',
  },
  {
    key: 'tz',
    label: 'Time Zone',
    type: 'string',
    required: false,
    helpText: 'IANA time zone the periods start in, e.g. `Europe/Berlin`. Leave empty for your Zapier time zone (or UTC).',
  },
  {
    key: 'include_bots',
    label: 'Include Bots',
    type: 'boolean',
    required: false,
    default: 'false',
    helpText: 'Count scans by crawlers and link previews too. Off by default.',
  },

]);

interface Breakdown {
  value: string;
  scans: number;
}

export interface Analytics {
  qr_id: string;
  from: string;
  to: string;
  interval: string;
  tz: string;
  total_scans: number;
  unique_scans: number;
  timeseries: { period: string; scans: number; unique_scans: number }[];
  countries: Breakdown[];
  devices: Breakdown[];
  os: Breakdown[];
  browsers: Breakdown[];
  referrers: Breakdown[];
  /** Smart codes: scans per A/B variant, and by region and city where the GeoIP database knows them. */
  variants?: Breakdown[];
  regions?: Breakdown[];
  cities?: Breakdown[];
}

const perform = (async (z, bundle) => {
  const input = bundle.inputData;
  const params: Record<string, string> = {};
  if (present(input.from)) params.from = String(input.from);
  if (present(input.to)) params.to = String(input.to);
  if (present(input.interval)) params.interval = String(input.interval);
  const tz = present(input.tz) ? String(input.tz) : bundle.meta?.timezone;
  if (tz) params.tz = tz;
  if (present(input.include_bots)) params.include_bots = String(input.include_bots === true || String(input.include_bots) === 'true');

  const response = await z.request<Envelope<Analytics>>({
    url: apiUrl(bundle, `/qr/${segment(input.qr_id)}/analytics`),
    params,
  });
  // Returned as `id` too, so Zapier has a stable key for the result.
  return { id: response.data.data.qr_id, ...response.data.data };
}) satisfies CreatePerform<InferInputData<typeof inputFields>, Analytics & { id: string }>;

export default defineCreate({
  key: 'get_qr_code_analytics',
  noun: 'QR Code Analytics',
  display: {
    label: 'Get QR Code Analytics',
    description:
      'Gets scan totals of a QR code for a period, over time and by country, region, city, device, OS, browser, referrer and A/B variant.',
  },
  operation: {
    inputFields,
    perform,
    sample: {
      id: 'qr_8fK2mP0aZx91',
      qr_id: 'qr_8fK2mP0aZx91',
      from: '2026-10-24T00:00:00.000Z',
      to: '2026-11-23T10:00:00.000Z',
      interval: 'day',
      tz: 'UTC',
      total_scans: 3,
      unique_scans: 2,
      timeseries: [{ period: '2026-11-01', scans: 3, unique_scans: 2 }],
      countries: [{ value: 'US', scans: 3 }],
      devices: [{ value: 'mobile', scans: 3 }],
      os: [{ value: 'iOS', scans: 3 }],
      browsers: [{ value: 'Mobile Safari', scans: 3 }],
      referrers: [],
      variants: [
        { value: '0', scans: 2 },
        { value: '1', scans: 1 },
      ],
      regions: [{ value: 'California', scans: 3 }],
      cities: [{ value: 'San Francisco', scans: 3 }],
    },
    outputFields: [
      { key: 'id', label: 'ID', type: 'string' },
      { key: 'qr_id', label: 'QR Code ID', type: 'string' },
      { key: 'from', label: 'From', type: 'datetime' },
      { key: 'to', label: 'To', type: 'datetime' },
      { key: 'interval', label: 'Interval', type: 'string' },
      { key: 'tz', label: 'Time Zone', type: 'string' },
      { key: 'total_scans', label: 'Total Scans', type: 'integer' },
      { key: 'unique_scans', label: 'Unique Scans', type: 'integer' },
      { key: 'timeseries[]period', label: 'Period', type: 'string' },
      { key: 'timeseries[]scans', label: 'Scans in Period', type: 'integer' },
      { key: 'timeseries[]unique_scans', label: 'Unique Scans in Period', type: 'integer' },
      { key: 'countries[]value', label: 'Country Code', type: 'string' },
      { key: 'countries[]scans', label: 'Scans from Country', type: 'integer' },
      { key: 'devices[]value', label: 'Device Type', type: 'string' },
      { key: 'devices[]scans', label: 'Scans from Device Type', type: 'integer' },
      { key: 'os[]value', label: 'Operating System', type: 'string' },
      { key: 'os[]scans', label: 'Scans from Operating System', type: 'integer' },
      { key: 'browsers[]value', label: 'Browser', type: 'string' },
      { key: 'browsers[]scans', label: 'Scans from Browser', type: 'integer' },
      { key: 'referrers[]value', label: 'Referrer', type: 'string' },
      { key: 'referrers[]scans', label: 'Scans from Referrer', type: 'integer' },
      { key: 'variants[]value', label: 'A/B Variant (Index)', type: 'string' },
      { key: 'variants[]scans', label: 'Scans of A/B Variant', type: 'integer' },
      { key: 'regions[]value', label: 'Region', type: 'string' },
      { key: 'regions[]scans', label: 'Scans from Region', type: 'integer' },
      { key: 'cities[]value', label: 'City', type: 'string' },
      { key: 'cities[]scans', label: 'Scans from City', type: 'integer' },
    ],
  },
});
