import type { Authentication, Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, normalizeBaseUrl, type Envelope } from './common/api.js';

/** What `GET /api/v1/me` answers for an API key. */
export interface Identity {
  workspace: { id: string; name: string; plan: string; plan_status: string };
  key: { id: string; name: string; prefix: string; scopes: string[]; mode?: 'live' | 'test' } | null;
  user: { id: string; email: string; role: string } | null;
  /** `test` for a test-mode key (`qr_test_…`), which sees only the workspace's test data. */
  mode?: 'live' | 'test';
}

const test = async (z: ZObject, bundle: Bundle): Promise<Identity> => {
  try {
    normalizeBaseUrl(bundle.authData.base_url);
  } catch (error) {
    throw new z.errors.Error((error as Error).message, 'invalid_base_url', 400);
  }
  const response = await z.request<Envelope<Identity>>({ url: apiUrl(bundle, '/me') });
  return response.data.data;
};

// Names only: the key's secret never appears in Zapier's account list.
const connectionLabel = async (_z: ZObject, bundle: Bundle<Partial<Identity>>): Promise<string> => {
  const workspace = bundle.inputData.workspace?.name ?? 'qrflow';
  const key = bundle.inputData.key?.name;
  const label = key ? `${workspace} (key: ${key})` : workspace;
  return bundle.inputData.mode === 'test' ? `${label} (test mode)` : label;
};

export default {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'Server URL',
      placeholder: 'https://qr.example.com',
      type: 'string',
      required: true,
      helpText:
        'The https address of your qrflow server, for example `https://qr.example.com`. ' +
        'Self-hosted? Enter your own server’s address. A trailing slash or `/api/v1` is fine; both are removed.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'An API key that starts with `qr_live_` (or `qr_test_` for a test-mode key, which sees only test data). Create one in qrflow under **API Settings**, ' +
        'or on the server with `npx qrflow keys create`. Use one key per integration, named for it ' +
        '(for example "Zapier-Integration"), so you can pause or revoke Zapier alone and see its usage.',
    },
  ],
  test,
  connectionLabel,
} satisfies Authentication;
