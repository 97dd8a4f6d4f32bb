import {
  defineTrigger,
  type WebhookTriggerPerform,
  type WebhookTriggerPerformList,
  type WebhookTriggerPerformSubscribe,
  type WebhookTriggerPerformUnsubscribe,
} from 'zapier-platform-core';

import type { QrCode } from '../common/api.js';
import { qrCodeOutputFields, qrCodeSample } from '../common/qr-fields.js';
import { listRecent, receive, subscribeTo, unsubscribe } from '../common/rest-hook.js';

const EVENT = 'qr.updated';

export default defineTrigger({
  key: 'qr_code_updated',
  noun: 'QR Code',
  display: {
    label: 'QR Code Updated',
    description: 'Triggers when a QR code is changed (name, destination, status, tags, style or content), instantly.',
  },
  operation: {
    type: 'hook',
    performSubscribe: subscribeTo(EVENT) satisfies WebhookTriggerPerformSubscribe,
    performUnsubscribe: unsubscribe satisfies WebhookTriggerPerformUnsubscribe,
    perform: receive<QrCode>(EVENT) satisfies WebhookTriggerPerform<[], QrCode>,
    performList: listRecent<QrCode>(EVENT) satisfies WebhookTriggerPerformList<[], QrCode>,
    sample: { ...qrCodeSample, name: 'Spring flyer (v2)', updated_at: '2026-11-24T08:30:00.000Z' },
    outputFields: qrCodeOutputFields,
  },
});
