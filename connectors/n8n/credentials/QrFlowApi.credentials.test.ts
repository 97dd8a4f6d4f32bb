import { NodeHelpers, type IHttpRequestOptions, type IN8nHttpFullResponse, type INodeProperties } from 'n8n-workflow';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../test/harness/contexts';
import { evaluateDeep } from '../test/harness/expressions';
import { api, API_KEY, BASE_URL, errorBody, useNock } from '../test/harness/fixtures';
import { httpRequest } from '../test/harness/http';
import { QrFlowApi } from './QrFlowApi.credentials';

const credential = new QrFlowApi();
useNock();

/** What n8n's "Test connection" does: the test request, authenticated with the entered values. */
async function testConnection(apiKey: string) {
	const request = evaluateDeep(credential.test.request, { parameters: {}, credentials: { baseUrl: BASE_URL } });
	const options = authenticate({ apiKey, baseUrl: BASE_URL }, {
		...(request as IHttpRequestOptions),
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	});
	return (await httpRequest(options)) as IN8nHttpFullResponse;
}

describe('QRflow API credentials', () => {
	it('keeps the API key in a password field', () => {
		const apiKey = credential.properties.find((property) => property.name === 'apiKey');
		expect(apiKey?.typeOptions?.password).toBe(true);
	});

	it('authenticates with a Bearer header built from the API key', () => {
		const options = authenticate({ apiKey: 'qr_live_example', baseUrl: 'https://qr.example.com' }, { url: '/x' });
		expect(options.headers).toEqual({ Authorization: 'Bearer qr_live_example' });
	});

	it('tests the connection with GET /api/v1/me on the configured base URL', () => {
		const request = evaluateDeep(credential.test.request, {
			parameters: {},
			credentials: { baseUrl: 'https://qr.example.com' },
		});
		expect(request).toEqual({ baseURL: 'https://qr.example.com', url: '/api/v1/me', method: 'GET' });
	});

	it('Test connection succeeds with a working key', async () => {
		api().get('/api/v1/me').reply(200, { data: { workspace: { id: 'ws_1', name: 'Acme', plan: 'team' }, key: null, user: null } });
		expect((await testConnection(API_KEY)).statusCode).toBe(200);
	});

	it('shows "Test mode" beside a qr_test_ key, and nothing beside a live key', () => {
		const notice = credential.properties.find((property) => property.name === 'testModeNotice') as INodeProperties;
		expect(notice.type).toBe('notice');
		expect(notice.displayName).toMatch(/^Test mode: /);
		const shown = (apiKey: string) => NodeHelpers.displayParameter({ apiKey, baseUrl: BASE_URL }, notice, null);
		expect(shown(`qr_test_${'a'.repeat(32)}`)).toBe(true);
		expect(shown(API_KEY)).toBe(false);
		expect(shown('')).toBe(false);
	});

	it('Test connection succeeds with a test-mode key, whose /me answers mode "test"', async () => {
		const testKey = `qr_test_${'b'.repeat(32)}`;
		nock(BASE_URL, { reqheaders: { authorization: `Bearer ${testKey}` } })
			.get('/api/v1/me')
			.reply(200, { data: { workspace: { id: 'ws_1', name: 'Acme', plan: 'team' }, key: { id: 'key_1', name: 'n8n', prefix: 'qr_test_bbbb', scopes: [], mode: 'test' }, user: null, mode: 'test' } });
		const response = await testConnection(testKey);
		expect(response.statusCode).toBe(200);
		expect((response.body as { data: { mode: string } }).data.mode).toBe('test');
	});

	it('Test connection reports a revoked key as 401', async () => {
		api().get('/api/v1/me').reply(401, errorBody('api_key_revoked', 'This API key was revoked.'));
		expect((await testConnection(API_KEY)).statusCode).toBe(401);
	});
});
