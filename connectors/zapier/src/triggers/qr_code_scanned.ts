import {
  defineTrigger,
  type WebhookTriggerPerform,
  type WebhookTriggerPerformList,
  type WebhookTriggerPerformSubscribe,
  type WebhookTriggerPerformUnsubscribe,
} from 'zapier-platform-core';

import { listRecent, receive, subscribeTo, unsubscribe } from '../common/rest-hook.js';

const EVENT = 'qr.scanned';

/** The `data` of a `qr.scanned` event. */
export type Scan = {
  id: string;
  qr_id: string;
  qr_name: string;
  scanned_at: string;
  country: string | null;
  device: string | null;
  os: string | null;
  browser: string | null;
  referrer: string | null;
  is_bot: boolean;
};

export const scanSample: Scan = {
  id: 'scn_4Hq9TzP1mK7c',
  qr_id: 'qr_8fK2mP0aZx91',
  qr_name: 'Spring flyer',
  scanned_at: '2026-11-23T10:15:42.000Z',
  country: 'US',
  device: 'mobile',
  os: 'iOS',
  browser: 'Mobile Safari',
  referrer: null,
  is_bot: false,
};

export default defineTrigger({
  key: 'qr_code_scanned',
  noun: 'Scan',
  display: {
    label: 'QR Code Scanned',
    description: 'Triggers when someone scans a dynamic QR code, instantly.',
  },
  operation: {
    type: 'hook',
    performSubscribe: subscribeTo(EVENT) satisfies WebhookTriggerPerformSubscribe,
    performUnsubscribe: unsubscribe satisfies WebhookTriggerPerformUnsubscribe,
    perform: receive<Scan>(EVENT) satisfies WebhookTriggerPerform<[], Scan>,
    performList: listRecent<Scan>(EVENT) satisfies WebhookTriggerPerformList<[], Scan>,
    sample: scanSample,
    outputFields: [
      { key: 'id', label: 'Scan ID', type: 'string' },
      { key: 'qr_id', label: 'QR Code ID', type: 'string' },
      { key: 'qr_name', label: 'QR Code Name', type: 'string' },
      { key: 'scanned_at', label: 'Scanned At', type: 'datetime' },
      { key: 'country', label: 'Country Code', type: 'string' },
      { key: 'device', label: 'Device Type', type: 'string' },
      { key: 'os', label: 'Operating System', type: 'string' },
      { key: 'browser', label: 'Browser', type: 'string' },
      { key: 'referrer', label: 'Referrer', type: 'string' },
      { key: 'is_bot', label: 'Is Bot', type: 'boolean' },
    ],
  },
});
