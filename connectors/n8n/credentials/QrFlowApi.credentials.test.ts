import type { IHttpRequestOptions, IN8nHttpFullResponse } from 'n8n-workflow';
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

	it('Test connection reports a revoked key as 401', async () => {
		api().get('/api/v1/me').reply(401, errorBody('api_key_revoked', 'This API key was revoked.'));
		expect((await testConnection(API_KEY)).statusCode).toBe(401);
	});
});
