import { createRequire } from 'node:module';

import zapier, { defineApp } from 'zapier-platform-core';

import authentication from './authentication.js';
import createQrCode from './creates/create_qr_code.js';
import createQrCodesBulk from './creates/create_qr_codes_bulk.js';
import deleteQrCode from './creates/delete_qr_code.js';
import getQrCodeAnalytics from './creates/get_qr_code_analytics.js';
import getQrCodeImage from './creates/get_qr_code_image.js';
import updateQrCode from './creates/update_qr_code.js';
import hydrators from './hydrators.js';
import { afters, befores } from './middleware.js';
import findQrCode from './searches/find_qr_code.js';
import domainList from './triggers/domain_list.js';
import newQrCode from './triggers/new_qr_code.js';
import qrCodeList from './triggers/qr_code_list.js';
import qrCodeScanned from './triggers/qr_code_scanned.js';
import qrCodeUpdated from './triggers/qr_code_updated.js';

// package.json sits outside src/ and dist/ alike, so it is read at run time rather than compiled in.
const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

export default defineApp({
  version: packageJson.version,
  platformVersion: zapier.version,

  authentication,
  beforeRequest: [...befores],
  afterResponse: [...afters],
  // 429s must reach afterResponse: a spent monthly quota halts, only a per-minute limit is worth a retry.
  flags: { throwForThrottlingEarly: false },

  hydrators,

  triggers: {
    [newQrCode.key]: newQrCode,
    [qrCodeScanned.key]: qrCodeScanned,
    [qrCodeUpdated.key]: qrCodeUpdated,
    [qrCodeList.key]: qrCodeList,
    [domainList.key]: domainList,
  },
  creates: {
    [createQrCode.key]: createQrCode,
    [createQrCodesBulk.key]: createQrCodesBulk,
    [updateQrCode.key]: updateQrCode,
    [deleteQrCode.key]: deleteQrCode,
    [getQrCodeImage.key]: getQrCodeImage,
    [getQrCodeAnalytics.key]: getQrCodeAnalytics,
  },
  searches: {
    [findQrCode.key]: findQrCode,
  },
  searchOrCreates: {
    [findQrCode.key]: {
      key: findQrCode.key,
      display: {
        label: 'Find or Create QR Code',
        description: 'Finds a QR code by ID or exact name, and creates it when there is none.',
      },
      search: findQrCode.key,
      create: createQrCode.key,
    },
  },
});
